"""The weak / strong views that methods ask for (``ctx.augment(x, strength)``).

Weak = Ada-CM / FixMatch's shift + mirror (an affine draw, ``affine``); strong = clip-consistent
RandAugment (``randaugment``) then the weak view, as the Ada-CM code orders them. Kept apart from both so that neither
imports the other's user. Shapes: ``x`` float ``(B, C, T, H, W)`` in [0, 1] -> same.
"""
from __future__ import annotations

from typing import Any

import torch

from ferstudy.augment.affine import clip_affine
from ferstudy.augment.randaugment import rand_augment

# Ada-CM's weak view: random crop with padding (a translation of up to 1/8) + mirror.
WEAK: dict[str, Any] = {"rotation_deg": 0.0, "translate_frac": 0.125, "scale_range": [1.0, 1.0],
                        "flip": True, "brightness": 0.0, "contrast": 0.0, "padding": "reflection"}


def weak_view(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Ada-CM / FixMatch weak view: shift up to 1/8 (crop-with-padding) + mirror, per clip."""
    return clip_affine(x, generator, WEAK)


def strong_view(x: torch.Tensor, generator: torch.Generator, n_ops: int = 3,
                magnitude: float = 5.0) -> torch.Tensor:
    """Strong view: RandAugment(n_ops, magnitude) applied clip-consistently, then the weak view
    (the Ada-CM code's order: RandAugment first in its strong transform; see
    ``ferstudy.augment.randaugment``; magnitude on RandAugment's 0..10 scale)."""
    return weak_view(rand_augment(x, generator, n_ops=n_ops, magnitude=magnitude), generator)


def augment_view(x: torch.Tensor, strength: str, generator: torch.Generator) -> torch.Tensor:
    """``ctx.augment(x, strength)`` for methods: ``"weak"`` | ``"strong"`` | ``"none"``."""
    if strength == "weak":
        return weak_view(x, generator)
    if strength == "strong":
        return strong_view(x, generator)
    if strength == "none":
        return x
    raise ValueError(f"unknown augmentation strength {strength!r}; allowed: weak, strong, none")
