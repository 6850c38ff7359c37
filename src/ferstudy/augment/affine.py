"""Clip-consistent classic augmentation (DA): one random affine + jitter per clip.

Every frame of a clip gets the *same* rotation, translation, scale, flip and brightness /
contrast change (a per-frame transform would add jitter no camera produces and destroy the
neutral -> apex motion the video models learn from); different clips get different draws.
All work is batch-wise on the tensor's device (``affine_grid`` + ``grid_sample``, so it runs on
the GPU inside the training loop) and every random number comes from the caller's
``torch.Generator``, so the same seed gives the same batches.

Shapes: ``x`` is float ``(B, C, T, H, W)`` in [0, 1]; the output has the same shape and range.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch.nn import functional as F

# Config keys (config ``augment.da``) and their defaults: the usual "classic" FER augmentation
# (small rotations, a few percent of translation and zoom, mirror, mild photometric jitter).
DA_DEFAULTS: dict[str, Any] = {
    "rotation_deg": 10.0,        # rotation drawn uniformly from [-r, r] degrees
    "translate_frac": 0.08,      # shift drawn from [-f, f] x image size, per axis
    "scale_range": [0.9, 1.1],   # zoom factor drawn uniformly from [lo, hi]
    "flip": True,                # mirror half of the clips left-right
    "brightness": 0.1,           # additive offset drawn from [-b, b]
    "contrast": 0.1,             # contrast factor drawn from [1 - c, 1 + c], about the clip mean
    "padding": "border",         # what fills pixels moved in from outside: border|zeros|reflection
}

# Ada-CM's weak view: random crop with padding (a translation of up to 1/8) + mirror.
WEAK: dict[str, Any] = {"rotation_deg": 0.0, "translate_frac": 0.125, "scale_range": [1.0, 1.0],
                        "flip": True, "brightness": 0.0, "contrast": 0.0, "padding": "reflection"}


def _uniform(lo: torch.Tensor | float, hi: torch.Tensor | float, u: torch.Tensor) -> torch.Tensor:
    return lo + (hi - lo) * u


def sample_affine(batch: int, generator: torch.Generator, params: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Per-clip transform parameters, each ``(B,)`` on the generator's device.

    Always draws the same number of random values (B x 7), whatever the ranges, so switching a
    range to zero does not shift the random stream of everything that follows.
    """
    p = {**DA_DEFAULTS, **params}
    u = torch.rand(batch, 7, generator=generator, device=generator.device)
    lo, hi = (float(v) for v in p["scale_range"])
    if not 0 < lo <= hi:
        raise ValueError(f"augment.da.scale_range must be 0 < lo <= hi, got {p['scale_range']}")
    r, t = float(p["rotation_deg"]), float(p["translate_frac"])
    b, c = float(p["brightness"]), float(p["contrast"])
    return {
        "angle": _uniform(-r, r, u[:, 0]) * math.pi / 180.0,         # radians
        "tx": _uniform(-t, t, u[:, 1]), "ty": _uniform(-t, t, u[:, 2]),  # fraction of W / H
        "scale": _uniform(lo, hi, u[:, 3]),
        "flip": (u[:, 4] < 0.5) if p["flip"] else torch.zeros_like(u[:, 4], dtype=torch.bool),
        "brightness": _uniform(-b, b, u[:, 5]),
        "contrast": _uniform(1.0 - c, 1.0 + c, u[:, 6]),
    }


def affine_theta(angle: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor, scale: torch.Tensor,
                 flip: torch.Tensor) -> torch.Tensor:
    """``(B, 2, 3)`` matrices for ``affine_grid``: output coords -> input coords (normalised).

    The forward map moves an input point p to ``scale * R(angle) * F p + t`` (F mirrors x when
    ``flip``; t in normalised units, 2 = the full image), so ``theta`` is its inverse.
    """
    cos, sin = torch.cos(angle), torch.sin(angle)
    fx = 1.0 - 2.0 * flip.to(angle.dtype)                         # -1 mirrors, +1 keeps
    inv_s = 1.0 / scale
    # inverse of (s R F) is F^-1 R^T / s; F is its own inverse (diag(fx, 1)).
    a11, a12 = fx * cos * inv_s, fx * sin * inv_s
    a21, a22 = -sin * inv_s, cos * inv_s
    t1, t2 = 2.0 * tx, 2.0 * ty
    theta = torch.stack([
        torch.stack([a11, a12, -(a11 * t1 + a12 * t2)], dim=1),
        torch.stack([a21, a22, -(a21 * t1 + a22 * t2)], dim=1),
    ], dim=1)
    return theta


def warp_clips(x: torch.Tensor, theta: torch.Tensor, padding: str = "border") -> torch.Tensor:
    """Warp every frame of clip b with ``theta[b]``: ``(B, C, T, H, W)`` -> same shape.

    Frames are folded into channels so one grid per clip is used for all its frames: the
    transform is clip-consistent by construction.
    """
    b, c, t, h, w = x.shape
    flat = x.reshape(b, c * t, h, w)
    grid = F.affine_grid(theta.to(x.dtype), [b, c * t, h, w], align_corners=False)
    out = F.grid_sample(flat, grid, mode="bilinear", padding_mode=padding, align_corners=False)
    return out.reshape(b, c, t, h, w)


def jitter_clips(x: torch.Tensor, brightness: torch.Tensor, contrast: torch.Tensor) -> torch.Tensor:
    """``(x - m) * contrast + m + brightness`` with m the clip's mean over all its frames."""
    shape = (-1, 1, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3, 4), keepdim=True)
    out = (x - mean) * contrast.reshape(shape) + mean + brightness.reshape(shape)
    return out.clamp(0.0, 1.0)


def clip_affine(x: torch.Tensor, generator: torch.Generator, params: dict[str, Any]) -> torch.Tensor:
    """The DA transform: ``(B, C, T, H, W)`` in [0, 1] -> same, one random draw per clip.

    ``params`` is the config block ``augment.da`` (missing keys take ``DA_DEFAULTS``).
    Random numbers come from ``generator`` (any device) and are moved to ``x.device``.
    """
    if x.ndim != 5:
        raise ValueError(f"clip_affine expects (B, C, T, H, W) clips, got shape {tuple(x.shape)}")
    p = {**DA_DEFAULTS, **params}
    d = {k: v.to(x.device) for k, v in sample_affine(x.shape[0], generator, p).items()}
    theta = affine_theta(d["angle"], d["tx"], d["ty"], d["scale"], d["flip"])
    out = warp_clips(x, theta, p["padding"])
    return jitter_clips(out, d["brightness"].to(x.dtype), d["contrast"].to(x.dtype))


def weak_view(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Ada-CM / FixMatch weak view: shift up to 1/8 (crop-with-padding) + mirror, per clip."""
    return clip_affine(x, generator, WEAK)


def strong_view(x: torch.Tensor, generator: torch.Generator, n_ops: int = 3,
                magnitude: float = 5.0) -> torch.Tensor:
    """Strong view: RandAugment(n_ops, magnitude) applied clip-consistently, then the weak view
    (the Ada-CM code's order: RandAugment first in its strong transform; see
    ``ferstudy.augment.randaugment``; magnitude on RandAugment's 0..10 scale)."""
    from ferstudy.augment.randaugment import rand_augment

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
