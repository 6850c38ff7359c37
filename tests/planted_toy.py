"""A planted toy for the mechanism tests: the answer each method should find is known.

Class k of K lights quadrant k of a small image (T identical frames); a clip's contrast is
its ``intensity`` (high = easy), spread identically within every class. A tiny frame-level
net (mean over frames -> one hidden layer) learns it in a few dozen steps on one CPU thread.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from ferstudy.archs.video import VideoClassifier
from ferstudy.clipstore import ClipSet

PLANTED_CLASSES = ("anger", "happiness", "surprise")


def planted_clipset(*, subjects: int = 24, clips_per_class: int = 2, size: int = 8,
                    frames: int = 1, folds: int = 4, seed: int = 0) -> ClipSet:
    """``subjects * 3 * clips_per_class`` clips (N, frames, size, size, 1) uint8."""
    rng = np.random.default_rng(seed)
    half = size // 2
    n_per_class = subjects * clips_per_class
    contrasts = np.linspace(0.15, 0.6, n_per_class)       # the same spread in every class
    clips, rows = [], []
    for k, label in enumerate(PLANTED_CLASSES):
        order = rng.permutation(n_per_class)
        for i in range(n_per_class):
            s, c = divmod(i, clips_per_class)
            contrast = float(contrasts[order[i]])
            img = np.full((size, size), 0.4)
            r, q = divmod(k, 2)
            img[r * half:(r + 1) * half, q * half:(q + 1) * half] += contrast
            img = img + rng.normal(0, 0.12, img.shape)
            clip = np.repeat(img[None, :, :, None], frames, axis=0)
            clips.append(np.clip(clip * 255, 0, 255).astype(np.uint8))
            rows.append({"clip_id": f"planted_S{s:03d}_{label}_{c}", "dataset": "planted",
                         "subject": f"S{s:03d}", "label": label, "fold": s % folds,
                         "detection_rate": 1.0, "intensity": contrast})
    index = pd.DataFrame(rows)
    index.insert(0, "row", np.arange(len(index)))
    arr = np.stack(clips)
    return ClipSet(arr, np.zeros(arr.shape[:2], np.float32), index)


class FlatNet(VideoClassifier):
    """Frame mean -> flatten -> linear -> ReLU: (B, C, T, H, W) -> (logits, emb (B, 16))."""

    def __init__(self, num_classes: int = 3, pixels: int = 64, hidden: int = 16):
        super().__init__(hidden, num_classes)
        self.body = nn.Sequential(nn.Linear(pixels, hidden), nn.ReLU())

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.mean(2).flatten(1))


def flat_net(seed: int = 0, **options) -> FlatNet:
    torch.manual_seed(seed)
    net = FlatNet()
    if "head_dropout" in options:
        net.dropout.p = options["head_dropout"]
    net.feature_norm = bool(options.get("feature_norm", False))
    return net
