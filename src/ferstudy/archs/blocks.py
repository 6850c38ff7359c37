"""Building blocks shared by the 2D (per-frame) and 3D (clip) backbones.

Every block takes ``dim`` (2 or 3) so that one definition serves both families: a 2D block
sees ``(N, C, H, W)``, a 3D block ``(N, C, T, H, W)``. Every convolution is followed by batch
norm (the multi-scale attention net asks for it; the VGG/ResNet variants use it to train from
scratch on small data).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

CONV = {2: nn.Conv2d, 3: nn.Conv3d}
BN = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
MAXPOOL = {2: nn.MaxPool2d, 3: nn.MaxPool3d}
AVGPOOL = {2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d}


def channels(base: int, width: float, minimum: int = 4) -> int:
    """A layer's channel count at channel multiplier ``width`` (never below ``minimum``)."""
    return max(minimum, int(round(base * width)))


def kernel(dim: int, k: int, kt: int | None = None) -> tuple[int, ...]:
    """``(k, k)`` in 2D; ``(kt, k, k)`` in 3D (temporal size ``kt``, default ``k``)."""
    return (k, k) if dim == 2 else (k if kt is None else kt, k, k)


def conv_bn_relu(dim: int, cin: int, cout: int, k: int = 3, *, stride: Sequence[int] | int = 1,
                 dilation: Sequence[int] | int = 1, kt: int | None = None) -> nn.Sequential:
    """Conv -> BN -> ReLU with 'same' padding (per axis: dilation * (kernel - 1) / 2)."""
    ks = kernel(dim, k, kt)
    dil = (dilation,) * dim if isinstance(dilation, int) else tuple(dilation)
    pad = tuple(d * (s - 1) // 2 for d, s in zip(dil, ks))
    return nn.Sequential(
        CONV[dim](cin, cout, ks, stride=stride, padding=pad, dilation=dil, bias=False),
        BN[dim](cout),
        nn.ReLU(inplace=True),
    )


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convs + identity / 1x1 projection shortcut).

    Attribute names follow torchvision's ResNet (``conv1, bn1, conv2, bn2, downsample.0/1``)
    so that ImageNet / Kinetics weights map onto it by name (``ferstudy.train.pretrained``).
    """

    def __init__(self, dim: int, cin: int, cout: int, stride: tuple[int, ...]):
        super().__init__()
        ks = kernel(dim, 3)
        self.conv1 = CONV[dim](cin, cout, ks, stride=stride, padding=1, bias=False)
        self.bn1 = BN[dim](cout)
        self.conv2 = CONV[dim](cout, cout, ks, padding=1, bias=False)
        self.bn2 = BN[dim](cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if cin != cout or any(s != 1 for s in stride):
            self.downsample = nn.Sequential(
                CONV[dim](cin, cout, 1, stride=stride, bias=False), BN[dim](cout))

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class SqueezeExcitation(nn.Module):
    """Channel attention: squeeze (global average) -> excitation (bottleneck MLP + sigmoid)
    -> scale the input's channels. (N, C, *S) -> (N, C, *S)."""

    def __init__(self, dim: int, channels_: int, reduction: int = 4):
        super().__init__()
        hidden = max(2, channels_ // reduction)
        self.squeeze = AVGPOOL[dim](1)
        self.excite = nn.Sequential(
            CONV[dim](channels_, hidden, 1), nn.ReLU(inplace=True),
            CONV[dim](hidden, channels_, 1), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.excite(self.squeeze(x))


class MultiScaleBlock(nn.Module):
    """Inception-style block of the multi-scale attention net (cited in
    ``ferstudy.archs.backbones``).

    Parallel branches over the same input: a 1x1 conv, and 3x3 convs at several dilation
    rates (receptive fields 3, 5, 7, ... without extra parameters); their outputs are
    concatenated, fused by a 1x1 conv, re-weighted by squeeze-and-excitation, and added to a
    (projected) shortcut. In 3D the dilation is spatial only: the temporal windows are short.
    (N, cin, *S) -> (N, cout, *S).
    """

    def __init__(self, dim: int, cin: int, cout: int, rates: Sequence[int] = (1, 2, 3)):
        super().__init__()
        branch = max(2, cout // (len(rates) + 1))
        self.branches = nn.ModuleList([conv_bn_relu(dim, cin, branch, 1)])
        for r in rates:
            dil = r if dim == 2 else (1, r, r)
            self.branches.append(conv_bn_relu(dim, cin, branch, 3, dilation=dil))
        self.fuse = nn.Sequential(
            CONV[dim](branch * (len(rates) + 1), cout, 1, bias=False), BN[dim](cout))
        self.attention = SqueezeExcitation(dim, cout)
        self.shortcut = (nn.Identity() if cin == cout else
                         nn.Sequential(CONV[dim](cin, cout, 1, bias=False), BN[dim](cout)))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        multi = self.fuse(torch.cat([b(x) for b in self.branches], dim=1))
        return self.relu(self.attention(multi) + self.shortcut(x))

