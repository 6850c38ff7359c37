"""Video FER architectures, registered by config name (``study.archs``).

Contract of every registered builder::

    build(*, num_classes: int, in_channels: int, frames: int, size: int, width: float) -> nn.Module

and of the module it returns::

    forward(x: Tensor[B, C, T, H, W] float32 in [0, 1]) -> (logits [B, num_classes], embedding [B, D])
    module.embed_dim == D
"""
from ferstudy.archs.zoo import ARCHS, build_model  # noqa: F401  (importing zoo registers them)
