"""Drawn expression clips (cartoon faces) for the augment tests and the GAN benchmark.

Real aligned stores need the demo media and the face pipeline; these clips need nothing, yet
have what the GAN must learn: per-subject identity (face shape, tone, eye spacing), six
class-specific expressions (mouth, brows, eyes) that grow from neutral with a per-clip
intensity curve. Returned in the aligned-store format (``ClipSet``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ferstudy.clipstore import INDEX_COLUMNS, ClipSet
from ferstudy.labels import BASIC6

# per class at t = 1: mouth curve (+ smile), mouth open, mouth width, brow raise, brow slant
# (+ inner ends down), eye openness
_EXPR = {
    "anger": (-0.1, 0.0, -0.25, -0.6, 1.0, -0.3),
    "disgust": (-0.5, 0.15, 0.0, -0.3, 0.3, -0.6),
    "fear": (-0.2, 0.5, 0.3, 0.8, -0.6, 0.6),
    "happiness": (1.0, 0.25, 0.35, 0.1, 0.0, -0.3),
    "sadness": (-0.9, 0.0, -0.1, 0.2, -1.0, -0.2),
    "surprise": (0.0, 1.0, -0.1, 1.0, 0.0, 0.8),
}


def _soft(d: np.ndarray, width: float = 0.6) -> np.ndarray:
    """1 inside (d < 0), 0 outside, a smooth edge of ``width`` pixels."""
    return 1.0 / (1.0 + np.exp(np.clip(d / width, -30, 30)))


def draw_face(identity: np.ndarray, expr: np.ndarray, size: int = 48) -> np.ndarray:
    """One float frame ``(size, size)`` in [0, 1]; ``identity`` (5,), ``expr`` (6,) scaled by t."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    s = size / 48.0
    cx, cy = size / 2, size / 2 + identity[3] * s
    tone, fw, eye_dx = 0.55 + 0.25 * identity[0], (15 + 2 * identity[1]) * s, (7 + identity[2]) * s
    curve, open_, width, brow_up, slant, eye_open = expr
    img = 0.15 + 0.1 * identity[4] * (yy / size)                       # background
    face = _soft(np.sqrt(((xx - cx) / fw) ** 2 + ((yy - cy) / (fw * 1.25)) ** 2) * fw - fw)
    img = img * (1 - face) + tone * face
    for side in (-1, 1):
        ex, ey = cx + side * eye_dx, cy - 5 * s
        eh = max(0.4, 1.6 * s * (1 + 0.6 * eye_open))
        eye = _soft(np.sqrt(((xx - ex) / (2.4 * s)) ** 2 + ((yy - ey) / eh) ** 2) * 2.4 * s - 2.4 * s)
        img = img * (1 - 0.8 * eye)
        # brow: a short thick line above the eye, raised and slanted by the expression
        bx = xx - ex
        # slant > 0 lowers the inner ends (towards the nose: -side * bx > 0) as in a frown
        by = ey - (4.5 - 2.5 * brow_up) * s + slant * 0.25 * (-side * bx)
        brow = _soft(np.abs(yy - by) - 0.8 * s) * _soft(np.abs(bx) - 3.5 * s)
        img = img * (1 - 0.7 * brow)
    mx, my = cx, cy + 8 * s
    mw = (6 + 2.5 * width) * s
    mxr = (xx - mx) / mw
    line = my - curve * 2.5 * s * (mxr ** 2) + curve * 0.8 * s
    half_open = 0.7 * s + 3.0 * s * max(open_, 0.0) * np.sqrt(np.clip(1 - mxr ** 2, 0, 1))
    mouth = _soft(np.abs(yy - line) - half_open) * _soft(np.abs(mxr) * mw - mw)
    img = img * (1 - 0.75 * mouth)
    return np.clip(img, 0, 1)


def cartoon_clipset(*, subjects: int = 8, clips_per_subject: int = 6, frames: int = 8,
                    size: int = 48, folds: int = 4, seed: int = 0, dataset: str = "cartoon",
                    classes: tuple[str, ...] = BASIC6) -> ClipSet:
    """``subjects x clips_per_subject`` grey clips (classes cycled), subject-wise folds."""
    rng = np.random.default_rng(seed)
    clips, curves, rows = [], [], []
    for s in range(subjects):
        identity = rng.uniform(-1, 1, 5)
        for j in range(clips_per_subject):
            label = classes[(s + j) % len(classes)]
            peak = rng.uniform(0.6, 1.0)
            t = peak * np.linspace(0, 1, frames) ** rng.uniform(0.7, 1.6)
            base = np.asarray(_EXPR[label])
            frame_list = [draw_face(identity, base * tk, size) for tk in t]
            clip = np.stack(frame_list) + rng.normal(0, 0.02, (frames, size, size))
            clips.append((np.clip(clip, 0, 1) * 255).round().astype(np.uint8)[..., None])
            curves.append((0.3 * t).astype(np.float32))
            rows.append({"clip_id": f"{dataset}-S{s:03d}-{j}", "dataset": dataset,
                         "subject": f"S{s:03d}", "label": label, "fold": s % folds,
                         "detection_rate": 1.0, "intensity": float(0.3 * t.max())})
    index = pd.DataFrame(rows)
    index.insert(0, "row", np.arange(len(index)))
    return ClipSet(np.stack(clips), np.stack(curves), index[INDEX_COLUMNS])
