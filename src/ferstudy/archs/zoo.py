"""The registered architectures: three families x three backbones, plus the frame-level MSA net.

| name | family | what runs |
|---|---|---|
| ``vgg2d_lstm``, ``resnet2d_lstm``, ``msa2d_lstm`` | 2D-CNN + LSTM | 2D backbone per frame, LSTM over frames |
| ``vgg3d``, ``resnet3d``, ``msa3d`` | 3D-CNN | 3D backbone on the whole clip |
| ``vgg3d_lstm``, ``resnet3d_lstm``, ``msa3d_lstm`` | 3D-CNN + LSTM | 3D backbone per 4-frame window, LSTM over windows |
| ``msanet`` | frame-level | multi-scale attention net per frame, averaged over time |

Builders import torch lazily so that registering names (config validation, Snakefile parsing)
stays cheap. ``width`` scales every channel count (1.0 = full size); the LSTM's hidden size is
``256 * width`` (at least 16).
"""
from __future__ import annotations

from ferstudy.archs import ARCHS

WINDOW = 4   # frames per window of the 3D-CNN + LSTM family


def _hidden(width: float) -> int:
    return max(16, int(round(256 * width)))


def _frame_lstm(kind: str):
    def build(*, num_classes: int, in_channels: int, frames: int, size: int, width: float):
        from ferstudy.archs.backbones import BACKBONES
        from ferstudy.archs.video import FrameLSTM

        backbone = _make(BACKBONES[kind], 2, in_channels, width, 1, size)
        return FrameLSTM(backbone, num_classes, _hidden(width))

    build.__doc__ = f"2D {kind} backbone per frame + LSTM over the T frames."
    return build


def _clip3d(kind: str):
    def build(*, num_classes: int, in_channels: int, frames: int, size: int, width: float):
        from ferstudy.archs.backbones import BACKBONES
        from ferstudy.archs.video import Clip3D

        return Clip3D(_make(BACKBONES[kind], 3, in_channels, width, frames, size), num_classes)

    build.__doc__ = f"3D {kind} backbone over the whole clip."
    return build


def _window_lstm(kind: str):
    def build(*, num_classes: int, in_channels: int, frames: int, size: int, width: float):
        from ferstudy.archs.backbones import BACKBONES
        from ferstudy.archs.video import WindowLSTM

        window = min(WINDOW, frames)
        backbone = _make(BACKBONES[kind], 3, in_channels, width, window, size)
        return WindowLSTM(backbone, num_classes, _hidden(width), window)

    build.__doc__ = f"3D {kind} backbone per {WINDOW}-frame window + LSTM over windows."
    return build


def _make(cls, dim: int, in_channels: int, width: float, frames: int, size: int):
    kwargs = {"in_channels": in_channels, "width": width, "frames": frames}
    if cls.__name__ == "MSA":
        kwargs["size"] = size
    return cls(dim, **kwargs)


for _kind in ("vgg", "resnet", "msa"):
    ARCHS.register(f"{_kind}2d_lstm")(_frame_lstm(_kind))
    ARCHS.register(f"{_kind}3d")(_clip3d(_kind))
    ARCHS.register(f"{_kind}3d_lstm")(_window_lstm(_kind))


@ARCHS.register("msanet")
def msanet(*, num_classes: int, in_channels: int, frames: int, size: int, width: float):
    """Multi-scale attention net (PAPERS.md 2b) per frame; clip embedding = frame average."""
    from ferstudy.archs.backbones import MSA
    from ferstudy.archs.video import FrameAverage

    return FrameAverage(MSA(2, in_channels=in_channels, width=width, size=size), num_classes)


def build_model(arch: str, *, num_classes: int, in_channels: int, frames: int, size: int,
                width: float):
    """The one factory: unknown names fail with the list of registered architectures."""
    return ARCHS.get(arch)(num_classes=num_classes, in_channels=in_channels, frames=frames,
                           size=size, width=width)
