"""Small learnable clip sets in the aligned-store format, for tests and benchmarks.

Each class is a drifting oriented grating whose contrast ramps up over the clip (a stand-in
for neutral -> apex), on per-subject brightness and noise, so classes are learnable but a
model has to look at more than one frame's mean. Subjects are assigned to folds round-robin.
Not a dataset: the demo study uses the rendered face datasets (``ferstudy.demo``).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ferstudy.clipstore import ClipSet

TOY_CLASSES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")


def toy_clipset(*, subjects: int = 8, classes: Sequence[str] = TOY_CLASSES,
                clips_per_class: int = 1, frames: int = 8, size: int = 32, channels: int = 1,
                folds: int = 4, seed: int = 0, dataset: str = "toy") -> ClipSet:
    """A ClipSet of ``subjects * len(classes) * clips_per_class`` uint8 clips
    (N, frames, size, size, channels)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    clips, rows = [], []
    for s in range(subjects):
        base, noise = rng.uniform(0.3, 0.6), rng.uniform(0.03, 0.08)
        for k, label in enumerate(classes):
            angle = np.pi * k / len(classes)
            for c in range(clips_per_class):
                phase = rng.uniform(0, 2 * np.pi)
                ramp = np.linspace(0.05, 0.35, frames)
                wave = np.stack([np.sin(2 * np.pi * 4 * (np.cos(angle) * xx + np.sin(angle) * yy)
                                        + phase + 0.4 * t) for t in range(frames)])
                clip = base + ramp[:, None, None] * wave + rng.normal(0, noise, wave.shape)
                clip = np.repeat(clip[..., None], channels, axis=-1)
                clips.append(np.clip(clip * 255, 0, 255).astype(np.uint8))
                rows.append({"clip_id": f"{dataset}_S{s:03d}_{label}_{c}", "dataset": dataset,
                             "subject": f"S{s:03d}", "label": label, "fold": s % folds,
                             "detection_rate": 1.0, "intensity": float(ramp[-1])})
    index = pd.DataFrame(rows)
    index.insert(0, "row", np.arange(len(index)))
    clips_arr = np.stack(clips)
    intensity = np.repeat(np.linspace(0, 1, frames)[None], len(clips_arr), 0).astype(np.float32)
    return ClipSet(clips_arr, intensity, index)
