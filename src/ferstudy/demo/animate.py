"""Time courses of a clip: expression intensity, head motion and sensor noise.

``intensity_curve`` gives the expression strength per frame in [0, 1]: neutral -> apex
(CK+ and Oulu-CASIA sequences end at the apex) or neutral -> apex -> neutral (MMI and MUG),
with per-clip onset, hold and offset timing. ``head_motion`` gives a smooth small rigid motion
per frame (a sum of slow random sinusoids), so consecutive frames are coherent.
"""
from __future__ import annotations

import numpy as np

TEMPORAL = ("onset_apex", "onset_apex_offset")


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def intensity_curve(frames: int, temporal: str, rng: np.random.Generator, apex: float = 1.0) -> np.ndarray:
    """(frames,) float32 in [0, apex]. First frame neutral; last frame the apex for
    ``onset_apex``, neutral again for ``onset_apex_offset``."""
    if temporal not in TEMPORAL:
        raise ValueError(f"unknown temporal profile {temporal!r}; known: {', '.join(TEMPORAL)}")
    t = np.linspace(0.0, 1.0, frames)
    if temporal == "onset_apex":
        start = rng.uniform(0.05, 0.3)
        peak = rng.uniform(0.7, 0.95)
        curve = _smoothstep((t - start) / max(peak - start, 1e-3))
        curve[-1] = 1.0
    else:
        start = rng.uniform(0.03, 0.15)
        rise = rng.uniform(0.2, 0.35)
        hold = rng.uniform(0.1, 0.3)
        fall = rng.uniform(0.2, 0.35)
        up = _smoothstep((t - start) / rise)
        down = 1.0 - _smoothstep((t - start - rise - hold) / fall)
        curve = np.minimum(up, down)
        curve[0] = curve[-1] = 0.0
    curve[0] = 0.0
    return (apex * curve).astype(np.float32)


def head_motion(frames: int, rng: np.random.Generator, amount: float) -> np.ndarray:
    """(frames, 4) float32: roll (degrees), dx, dy (fractions of the IOD), log scale; smooth
    in time, ``amount`` = 1 gives about +-1.5 degrees and +-4% IOD."""
    t = np.linspace(0.0, 1.0, frames)[:, None]
    freq = rng.uniform(0.3, 1.2, (1, 4))
    phase = rng.uniform(0, 2 * np.pi, (1, 4))
    scale = np.float32([1.5, 0.04, 0.04, 0.015]) * amount
    drift = rng.uniform(-0.5, 0.5, (1, 4)) * t
    return ((np.sin(2 * np.pi * freq * t + phase) - np.sin(phase) + drift) * scale).astype(np.float32)


def sensor_noise(shape: tuple[int, ...], rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Zero-mean Gaussian noise (float32) of the given shape and standard deviation (grey levels)."""
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma)
