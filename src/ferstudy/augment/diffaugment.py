"""DiffAugment (Zhao et al., NeurIPS 2020) for clips: differentiable, batch-wise, clip-consistent.

The same augmentation pipeline is applied to real and generated clips, in both the
discriminator and the generator step, so the discriminator cannot overfit the few real clips
while the generator still learns the un-augmented distribution. Each clip gets its own random
parameters, shared by all its frames (a per-frame shift would look like camera shake, which the
video critic would then learn to expect). A policy string picks the transforms, e.g.
``"color,translation,cutout"``; values follow the official code (translation 1/8, cutout 1/2).

Shapes: ``x`` float ``(B, C, T, H, W)`` in [0, 1] -> same shape (values may leave [0, 1], as in
the original; the discriminator does not care).
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _rand(generator: torch.Generator, *shape: int, device: torch.device) -> torch.Tensor:
    return torch.rand(*shape, generator=generator, device=generator.device).to(device)


def color(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Brightness +-0.5, saturation x[0, 2] (colour clips only), contrast x[0.5, 1.5]."""
    b, c = x.shape[:2]
    r = _rand(generator, b, 3, device=x.device).to(x.dtype).reshape(b, 3, 1, 1, 1, 1)
    x = x + (r[:, 0] - 0.5)
    if c > 1:   # grey clips have no saturation; the draw is still made to keep streams aligned
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (r[:, 1] * 2) + mean
    mean = x.mean(dim=(1, 2, 3, 4), keepdim=True)
    return (x - mean) * (r[:, 2] + 0.5) + mean


def translation(x: torch.Tensor, generator: torch.Generator,
                ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """Shift each clip by up to ``ratio`` of its size (integer pixels, zero fill)."""
    b, c, t, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    u = _rand(generator, b, 2, device=x.device)
    dy = (u[:, 0] * (2 * sh + 1)).long() - sh
    dx = (u[:, 1] * (2 * sw + 1)).long() - sw
    ys = (torch.arange(h, device=x.device).reshape(1, h) - dy.reshape(b, 1) + sh).clamp(0, h + 2 * sh - 1)
    xs = (torch.arange(w, device=x.device).reshape(1, w) - dx.reshape(b, 1) + sw).clamp(0, w + 2 * sw - 1)
    padded = F.pad(x.reshape(b, c * t, h, w), (sw, sw, sh, sh))
    bi = torch.arange(b, device=x.device).reshape(b, 1, 1)
    # padded: (B, CT, H', W') -> gather rows then columns per clip
    out = padded.permute(0, 2, 3, 1)[bi, ys.reshape(b, h, 1), xs.reshape(b, 1, w)]
    return out.permute(0, 3, 1, 2).reshape(b, c, t, h, w)


def cutout(x: torch.Tensor, generator: torch.Generator, ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """Zero one square of ``ratio`` x the size at a random place, the same in every frame."""
    b, _, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    u = _rand(generator, b, 2, device=x.device)
    oy = (u[:, 0] * (h + 1 - ch % 2)).long() - ch // 2
    ox = (u[:, 1] * (w + 1 - cw % 2)).long() - cw // 2
    ys = torch.arange(h, device=x.device).reshape(1, h)
    xs = torch.arange(w, device=x.device).reshape(1, w)
    in_y = (ys >= oy.reshape(b, 1)) & (ys < oy.reshape(b, 1) + ch)
    in_x = (xs >= ox.reshape(b, 1)) & (xs < ox.reshape(b, 1) + cw)
    keep = ~(in_y[:, :, None] & in_x[:, None, :])
    return x * keep[:, None, None].to(x.dtype)


AUGMENTATIONS = {"color": color, "translation": translation, "cutout": cutout}


def parse_policy(policy: str) -> list[str]:
    """``"color,translation"`` -> names, checked; ``""`` = no augmentation."""
    names = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [n for n in names if n not in AUGMENTATIONS]
    if unknown:
        raise ValueError(f"augment.sd.diffaugment: unknown transform(s) {unknown}; "
                         f"allowed: {', '.join(AUGMENTATIONS)} (comma-separated)")
    return names


def diff_augment(x: torch.Tensor, policy: str, generator: torch.Generator) -> torch.Tensor:
    """Apply the policy's transforms in order to a batch of clips ``(B, C, T, H, W)``."""
    for name in parse_policy(policy):
        x = AUGMENTATIONS[name](x, generator)
    return x
