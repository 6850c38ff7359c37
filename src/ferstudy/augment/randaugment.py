"""RandAugment for clips, batch-wise and clip-consistent (the strong view of Ada-CM/FixMatch).

Each clip draws ``n_ops`` operations from ``OPS`` (uniformly, with replacement) and a sign per
operation; an operation's strength follows RandAugment's magnitude scale 0..10. Whatever an
operation does, it does it identically to all frames of the clip (statistics such as the
histogram or the min/max are taken over the whole clip). Pure tensor code on ``x.device``;
all randomness from the caller's ``torch.Generator``.

Shapes: ``x`` float ``(B, C, T, H, W)`` in [0, 1] -> same.
"""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ferstudy.augment.affine import affine_theta, warp_clips

_DIMS = (1, 2, 3, 4)   # all of a clip: channels, frames, rows, columns


def _per_clip(v: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, 1, 1, 1, 1)


def _geometric(x, m, s, kind: str) -> torch.Tensor:
    b = x.shape[0]
    zero, one = torch.zeros(b, device=x.device), torch.ones(b, device=x.device)
    if kind == "rotate":
        theta = affine_theta(s * m * math.radians(30.0), zero, zero, one, zero.bool())
    elif kind in ("translate_x", "translate_y"):
        shift = s * m * 0.3
        theta = affine_theta(zero, shift if kind == "translate_x" else zero,
                             shift if kind == "translate_y" else zero, one, zero.bool())
    else:  # shear: x' = x + k y (or y' = y + k x); theta maps output -> input, hence -k
        k = -s * m * 0.3
        theta = torch.zeros(b, 2, 3, device=x.device)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, 0, 1] = k if kind == "shear_x" else 0.0
        theta[:, 1, 0] = k if kind == "shear_y" else 0.0
    return warp_clips(x, theta, "zeros")


def _blur(x: torch.Tensor) -> torch.Tensor:
    """PIL's SMOOTH kernel (centre weight 5, neighbours 1) on every frame."""
    b, c, t, h, w = x.shape
    k = torch.ones(1, 1, 3, 3, device=x.device, dtype=x.dtype)
    k[0, 0, 1, 1] = 5.0
    flat = x.reshape(b * c * t, 1, h, w)
    out = F.conv2d(F.pad(flat, (1, 1, 1, 1), mode="replicate"), k / k.sum())
    return out.reshape(b, c, t, h, w)


def _equalize(x: torch.Tensor) -> torch.Tensor:
    """Histogram equalisation with one 256-bin histogram per clip."""
    b = x.shape[0]
    q = (x * 255).round().long().clamp(0, 255).reshape(b, -1)
    hist = torch.zeros(b, 256, device=x.device).scatter_add_(1, q, torch.ones_like(q, dtype=torch.float))
    cdf = hist.cumsum(1)
    cdf = (cdf - cdf[:, :1]) / (cdf[:, -1:] - cdf[:, :1]).clamp_min(1.0)
    return cdf.gather(1, q).reshape(x.shape).to(x.dtype)


def _cutout(x: torch.Tensor, m: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Grey out one square of side ``m/10 * H/2`` at a random place, the same in every frame."""
    b, _, _, h, w = x.shape
    centre = torch.rand(b, 2, generator=generator, device=generator.device).to(x.device)
    half = (m * 0.25 * h).reshape(-1, 1)
    ys = torch.arange(h, device=x.device).reshape(1, -1)
    xs = torch.arange(w, device=x.device).reshape(1, -1)
    inside_y = (ys - centre[:, :1] * h).abs() < half
    inside_x = (xs - centre[:, 1:] * w).abs() < half
    mask = (inside_y[:, :, None] & inside_x[:, None, :])[:, None, None]
    return torch.where(mask, torch.full_like(x, 0.5), x)


def _apply(op: str, x: torch.Tensor, m: torch.Tensor, s: torch.Tensor,
           generator: torch.Generator) -> torch.Tensor:
    """One op on a sub-batch; ``m`` in [0, 1] (magnitude / 10), ``s`` = +-1, both ``(b,)``."""
    pm, ps = _per_clip(m), _per_clip(s)
    if op == "identity":
        return x
    if op == "autocontrast":
        lo, hi = x.amin(dim=_DIMS, keepdim=True), x.amax(dim=_DIMS, keepdim=True)
        return (x - lo) / (hi - lo).clamp_min(1e-3)
    if op == "equalize":
        return _equalize(x)
    if op == "solarize":
        thr = 1.0 - pm
        return torch.where(x >= thr, 1.0 - x, x)
    if op == "posterize":
        levels = 2.0 ** (8 - (pm * 4).round())          # 8 bits down to 4 bits
        return (x * (levels - 1)).round() / (levels - 1)
    if op == "contrast":
        mean = x.mean(dim=_DIMS, keepdim=True)
        return ((x - mean) * (1 + ps * pm * 0.9) + mean).clamp(0, 1)
    if op == "brightness":
        return (x * (1 + ps * pm * 0.9)).clamp(0, 1)
    if op == "sharpness":
        blurred = _blur(x)
        return (blurred + (x - blurred) * (1 + ps * pm * 0.9)).clamp(0, 1)
    if op == "cutout":
        return _cutout(x, m, generator)
    return _geometric(x, m, s, op)


OPS = ("identity", "autocontrast", "equalize", "rotate", "solarize", "posterize", "contrast",
       "brightness", "sharpness", "shear_x", "shear_y", "translate_x", "translate_y", "cutout")


def rand_augment(x: torch.Tensor, generator: torch.Generator, n_ops: int = 3,
                 magnitude: float = 5.0) -> torch.Tensor:
    """Apply ``n_ops`` random operations per clip at RandAugment ``magnitude`` (0..10)."""
    if not 0 <= magnitude <= 10:
        raise ValueError(f"RandAugment magnitude must lie in 0..10, got {magnitude}")
    b = x.shape[0]
    dev = generator.device
    choice = torch.randint(len(OPS), (n_ops, b), generator=generator, device=dev).to(x.device)
    sign = (torch.rand(n_ops, b, generator=generator, device=dev) < 0.5).to(x.device)
    sign = sign.to(x.dtype) * 2 - 1
    m = torch.full((b,), magnitude / 10.0, device=x.device, dtype=x.dtype)
    out = x
    for slot in range(n_ops):
        new = out.clone()
        for k, op in enumerate(OPS):
            idx = torch.nonzero(choice[slot] == k).flatten()
            if idx.numel():
                new[idx] = _apply(op, out[idx], m[idx], sign[slot, idx], generator).to(out.dtype)
        out = new
    return out.clamp(0.0, 1.0)
