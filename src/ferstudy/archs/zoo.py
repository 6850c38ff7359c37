"""The registered architectures: three families x three backbones, plus the frame-level MSA net.

| name | family | what runs |
|---|---|---|
| ``vgg2d_lstm``, ``resnet2d_lstm``, ``msa2d_lstm`` | 2D-CNN + LSTM | 2D backbone per frame, LSTM over frames |
| ``vgg3d``, ``resnet3d``, ``msa3d`` | 3D-CNN | 3D backbone on the whole clip |
| ``vgg3d_lstm``, ``resnet3d_lstm``, ``msa3d_lstm`` | 3D-CNN + LSTM | 3D backbone per 4-frame window, LSTM over windows |
| ``msanet`` | frame-level | multi-scale attention net per frame, averaged over time |
| ``resnet2d`` | frame-level | ResNet-18 per frame, averaged over time (on a still, T = 1: the SCN / Ada-CM papers' image classifier) |

Builders import torch lazily so that registering names (config validation, Snakefile parsing)
stays cheap. ``width`` scales every channel count (1.0 = full size); the LSTM's hidden size is
``256 * width`` (at least 16). The optional ``onset_diff`` (default False) feeds each frame's
difference from the first frame as extra channels (see ``ferstudy.archs.video``); it is
recorded in a run's ``arch_kwargs`` so ``load_run_model`` rebuilds the same net.

Frame-level archs (``FRAME_LEVEL``) take clips of any length T, stills (T = 1) included; the
others are built for a fixed T (``frames``), and a still-image store (T = 1) is repeated to
that T when they load it (``ferstudy.clipstore.ClipSet.with_frames``). ``build_model`` records
the T a model was built for as ``model.frames``.
"""
from __future__ import annotations

from ferstudy.registry import Registry

ARCHS = Registry("architecture")

WINDOW = 4   # frames per window of the 3D-CNN + LSTM family


def _hidden(width: float) -> int:
    return max(16, int(round(256 * width)))


def _frame_lstm(kind: str):
    def build(*, num_classes: int, in_channels: int, frames: int, size: int, width: float,
              onset_diff: bool = False):
        from ferstudy.archs.backbones import BACKBONES
        from ferstudy.archs.video import FrameLSTM

        backbone = _make(BACKBONES[kind], 2, _cin(in_channels, onset_diff), width, 1, size)
        return _mark(FrameLSTM(backbone, num_classes, _hidden(width)), onset_diff)

    build.__doc__ = f"2D {kind} backbone per frame + LSTM over the T frames."
    return build


def _clip3d(kind: str):
    def build(*, num_classes: int, in_channels: int, frames: int, size: int, width: float,
              onset_diff: bool = False):
        from ferstudy.archs.backbones import BACKBONES
        from ferstudy.archs.video import Clip3D

        backbone = _make(BACKBONES[kind], 3, _cin(in_channels, onset_diff), width, frames, size)
        return _mark(Clip3D(backbone, num_classes), onset_diff)

    build.__doc__ = f"3D {kind} backbone over the whole clip."
    return build


def _window_lstm(kind: str):
    def build(*, num_classes: int, in_channels: int, frames: int, size: int, width: float,
              onset_diff: bool = False):
        from ferstudy.archs.backbones import BACKBONES
        from ferstudy.archs.video import WindowLSTM

        window = min(WINDOW, frames)
        backbone = _make(BACKBONES[kind], 3, _cin(in_channels, onset_diff), width, window, size)
        return _mark(WindowLSTM(backbone, num_classes, _hidden(width), window), onset_diff)

    build.__doc__ = f"3D {kind} backbone per {WINDOW}-frame window + LSTM over windows."
    return build


def _cin(in_channels: int, onset_diff: bool) -> int:
    return in_channels * 2 if onset_diff else in_channels


def _mark(model, onset_diff: bool):
    model.onset_diff = bool(onset_diff)
    return model


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
def msanet(*, num_classes: int, in_channels: int, frames: int, size: int, width: float,
              onset_diff: bool = False):
    """Multi-scale attention net (cited in ``ferstudy.archs.backbones``) per frame; clip
    embedding = frame average."""
    from ferstudy.archs.backbones import MSA
    from ferstudy.archs.video import FrameAverage

    backbone = MSA(2, in_channels=_cin(in_channels, onset_diff), width=width, size=size)
    return _mark(FrameAverage(backbone, num_classes), onset_diff)


@ARCHS.register("resnet2d")
def resnet2d(*, num_classes: int, in_channels: int, frames: int, size: int, width: float,
             onset_diff: bool = False):
    """ResNet-18 per frame (torchvision's parameter names, so ``train.pretrain.torchvision``
    loads its ImageNet weights at width 1.0); clip embedding = frame average."""
    from ferstudy.archs.backbones import BACKBONES
    from ferstudy.archs.video import FrameAverage

    backbone = _make(BACKBONES["resnet"], 2, _cin(in_channels, onset_diff), width, 1, size)
    return _mark(FrameAverage(backbone, num_classes), onset_diff)


FRAME_LEVEL = ("msanet", "resnet2d")   # any T, stills included: frames averaged


def clip_frames(arch: str, stored: int, wanted: int | None) -> int:
    """The T an ``arch`` trains on from a store of ``stored`` frames per clip: a still store
    (T = 1) is repeated to ``wanted`` (``align.frames``) for an arch built for a fixed T; a
    frame-level arch takes the store as it is."""
    if stored == 1 and wanted and arch not in FRAME_LEVEL:
        return int(wanted)
    return stored


def build_model(arch: str, *, num_classes: int, in_channels: int, frames: int, size: int,
                width: float, onset_diff: bool = False, head_dropout: float | None = None,
                feature_norm: bool = False):
    """The one factory: unknown names fail with the list of registered architectures.
    ``head_dropout`` / ``feature_norm``: the head's dropout rate (default 0.3) and whether the
    classifier sees the L2-normalised embedding (Ada-CM's official head); no new tensors."""
    model = ARCHS.get(arch)(num_classes=num_classes, in_channels=in_channels, frames=frames,
                            size=size, width=width, onset_diff=onset_diff)
    if head_dropout is not None:
        model.dropout.p = float(head_dropout)
    model.feature_norm = bool(feature_norm)
    model.frames = int(frames)
    return model
