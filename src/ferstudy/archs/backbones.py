"""The three backbones of the study, each in a 2D (per-frame) and a 3D (clip) variant.

A backbone maps ``(N, C, H, W)`` (dim 2) or ``(N, C, T, H, W)`` (dim 3) to a pooled feature
``(N, out_dim)``. Channel counts are the usual ones (64..512) times ``width``, so ``width=1``
gives the full-size nets of the literature and ``width=0.25`` a CPU-sized demo net.

- ``VGG``: VGG-11-like stacks of 3x3 convs and max-pools (3D: C3D-style, the first pool is
  spatial only so early layers keep temporal detail).
- ``ResNet``: ResNet-18 (2D, torchvision layout) / R3D-18 (3D, torchvision.models.video
  layout: (3, 7, 7) stem with spatial stride only, no max-pool).
- ``MSA``: the multi-scale attention net of Zhang Peng, Kong Weiwei and Teng Jinbao
  (Computer Engineering and Applications 58(1), 2022): two conv layers for shallow features,
  then Inception-style multi-scale blocks with parallel dilated convs and SE attention.

Temporal strides are only taken while the clip still has >= 2 frames, so the same 3D backbone
runs on whole clips (16 frames) and on the short windows of the 3D-CNN+LSTM family (4 frames).
"""
from __future__ import annotations

from torch import Tensor, nn

from ferstudy.archs.blocks import (AVGPOOL, BN, CONV, MAXPOOL, BasicBlock, MultiScaleBlock,
                                   channels, conv_bn_relu)


class _Temporal:
    """Tracks the temporal length through a 3D stack to pick strides that keep T >= 1."""

    def __init__(self, dim: int, frames: int):
        self.dim, self.t = dim, max(1, frames)

    def stride(self, s: int, *, temporal: bool = True) -> tuple[int, ...]:
        if self.dim == 2:
            return (s, s)
        st = s if temporal and self.t >= 2 else 1
        self.t = (self.t + st - 1) // st
        return (st, s, s)


class Backbone(nn.Module):
    """Base: ``features`` then global average pooling; subclasses fill ``features``."""

    out_dim: int

    def __init__(self, dim: int):
        super().__init__()
        if dim not in (2, 3):
            raise ValueError(f"backbone dim must be 2 or 3, got {dim}")
        self.dim = dim
        self.pool = AVGPOOL[dim](1)

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.features(x)).flatten(1)

    def features(self, x: Tensor) -> Tensor:
        raise NotImplementedError


class VGG(Backbone):
    STAGES = ((64, 1), (128, 1), (256, 2), (512, 2))   # (channels, convs) per stage

    def __init__(self, dim: int, *, in_channels: int, width: float, frames: int = 1):
        super().__init__(dim)
        temporal = _Temporal(dim, frames)
        layers: list[nn.Module] = []
        cin = in_channels
        for i, (base, n) in enumerate(self.STAGES):
            cout = channels(base, width)
            for _ in range(n):
                layers.append(conv_bn_relu(dim, cin, cout, 3))
                cin = cout
            stride = temporal.stride(2, temporal=i > 0)
            layers.append(MAXPOOL[dim](stride, stride))
        self.body = nn.Sequential(*layers)
        self.out_dim = cin

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)


class ResNet(Backbone):
    LAYERS = (64, 128, 256, 512)

    def __init__(self, dim: int, *, in_channels: int, width: float, frames: int = 1,
                 blocks: int = 2):
        super().__init__(dim)
        temporal = _Temporal(dim, frames)
        stem = channels(64, width)
        if dim == 2:
            self.conv1 = nn.Conv2d(in_channels, stem, 7, stride=2, padding=3, bias=False)
            self.maxpool: nn.Module = nn.MaxPool2d(3, stride=2, padding=1)
        else:
            stride = temporal.stride(2, temporal=False)
            self.conv1 = nn.Conv3d(in_channels, stem, (3, 7, 7), stride=stride,
                                   padding=(1, 3, 3), bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = BN[dim](stem)
        self.relu = nn.ReLU(inplace=True)
        cin = stem
        for i, base in enumerate(self.LAYERS, start=1):
            cout = channels(base, width)
            stride = temporal.stride(1 if i == 1 else 2)
            layer = [BasicBlock(dim, cin, cout, stride)]
            layer += [BasicBlock(dim, cout, cout, (1,) * dim) for _ in range(blocks - 1)]
            setattr(self, f"layer{i}", nn.Sequential(*layer))
            cin = cout
        self.out_dim = cin

    def features(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class MSA(Backbone):
    """Multi-scale attention backbone: conv-conv-pool, then ``blocks`` multi-scale blocks
    (dilation ``rates``), each followed by a pool. At >= 96 px the first conv strides by 2 so
    that the full-size (112 px) net does not run its shallow layers at full resolution."""

    def __init__(self, dim: int, *, in_channels: int, width: float, frames: int = 1,
                 size: int = 48, blocks: int = 2, rates: tuple[int, ...] = (1, 2, 3)):
        super().__init__(dim)
        temporal = _Temporal(dim, frames)
        c1, c2 = channels(32, width), channels(64, width)
        first = temporal.stride(2 if size >= 96 else 1, temporal=False)
        layers: list[nn.Module] = [conv_bn_relu(dim, in_channels, c1, 3, stride=first),
                                   conv_bn_relu(dim, c1, c2, 3)]
        pool = temporal.stride(2, temporal=False)
        layers.append(MAXPOOL[dim](pool, pool))
        cin = c2
        for i in range(blocks):
            cout = channels(128 * 2 ** i, width)
            layers.append(MultiScaleBlock(dim, cin, cout, rates))
            pool = temporal.stride(2)
            layers.append(MAXPOOL[dim](pool, pool))
            cin = cout
        self.body = nn.Sequential(*layers)
        self.out_dim = cin

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)


BACKBONES = {"vgg": VGG, "resnet": ResNet, "msa": MSA}

__all__ = ["BACKBONES", "Backbone", "VGG", "ResNet", "MSA", "CONV"]
