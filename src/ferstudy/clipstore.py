"""The aligned clip store: uint8 clips, per-frame intensity and an index table per dataset.

Layout (one folder per dataset, see docs/architecture.md)::

    clips.npy      uint8 (N, T, H, W, C), memory-mappable
    intensity.npy  float32 (N, T)
    index.csv      row, clip_id, dataset, subject, label, fold, detection_rate, intensity[, synthetic]

A still-image dataset (every clip ``kind = image``: RAF-DB, image folders) is stored with
T = 1. ``ClipSet.with_frames`` repeats such a store's frame to the T an architecture is built
for, as a read-only view (no copy until a subset or a batch is taken), and ``concat`` repeats
a T = 1 member to the other members' T: the storage holds each still once.

Merged training sets (``merged-a+b``) are built here by concatenating the members' stores;
subjects are prefixed with their dataset (``a:S005``) so that no two datasets share a subject
id and folds stay subject-safe (fold k of the merge = union of the members' fold k).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ferstudy import atomic
from ferstudy.config import dataset_members, is_merged

INDEX_COLUMNS = ["row", "clip_id", "dataset", "subject", "label", "fold",
                 "detection_rate", "intensity"]
_DTYPES = {"clip_id": str, "dataset": str, "subject": str, "label": str}


@dataclass
class ClipSet:
    clips: np.ndarray       # uint8 (N, T, H, W, C); a memmap when read from disk
    intensity: np.ndarray   # float32 (N, T)
    index: pd.DataFrame     # one row per clip, row i <-> clips[i]

    def __len__(self) -> int:
        return len(self.index)

    def __post_init__(self) -> None:
        if not (len(self.clips) == len(self.intensity) == len(self.index)):
            raise ValueError(f"clip store out of step: {len(self.clips)} clips, "
                             f"{len(self.intensity)} intensity rows, {len(self.index)} index rows")

    def subset(self, mask: np.ndarray | pd.Series) -> ClipSet:
        """Rows where ``mask`` holds (boolean) or the given positions (integers), in memory."""
        positions = np.flatnonzero(np.asarray(mask)) if np.asarray(mask).dtype == bool \
            else np.asarray(mask, dtype=int)
        index = self.index.iloc[positions].reset_index(drop=True)
        index["row"] = np.arange(len(index))
        return ClipSet(np.asarray(self.clips[positions]), np.asarray(self.intensity[positions]),
                       index)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.clips.shape[1:])   # (T, H, W, C)

    def with_frames(self, frames: int) -> ClipSet:
        """This set at ``frames`` frames per clip: itself when it has them; a still store
        (T = 1) repeated to ``frames`` (a broadcast view, intensity likewise); anything else
        is an error (a video store is never resampled here)."""
        n, t = len(self.clips), self.clips.shape[1]
        if t == frames:
            return self
        if t != 1:
            raise ValueError(f"clips of {t} frames cannot be repeated to {frames}; only a "
                             f"still-image store (T = 1) is, at load time")
        clips = np.broadcast_to(self.clips, (n, frames, *self.clips.shape[2:]))
        intensity = np.broadcast_to(np.asarray(self.intensity)[:, :1], (n, frames))
        return ClipSet(clips, intensity, self.index)


def write_store(folder: str | Path, clips: np.ndarray, intensity: np.ndarray,
                index: pd.DataFrame) -> None:
    """Write a store atomically: each file goes to a temp name first, the index last, so a
    folder with an ``index.csv`` is always complete."""
    folder = Path(folder)
    index = index.reset_index(drop=True).copy()
    index["row"] = np.arange(len(index))
    ClipSet(clips, intensity, index)  # shape check before anything is written
    columns = INDEX_COLUMNS + [c for c in index.columns if c not in INDEX_COLUMNS]
    atomic.write_npy(folder / "clips.npy", np.ascontiguousarray(clips, dtype=np.uint8))
    atomic.write_npy(folder / "intensity.npy", np.asarray(intensity, dtype=np.float32))
    atomic.write_csv(folder / "index.csv", index[columns])


def read_store(folder: str | Path, mmap: bool = True) -> ClipSet:
    folder = Path(folder)
    if not (folder / "index.csv").is_file():
        raise FileNotFoundError(f"{folder}: no aligned clip store (index.csv missing); run the "
                                f"align stage for this dataset first")
    index = pd.read_csv(folder / "index.csv", dtype=_DTYPES, keep_default_na=False)
    clips = np.load(folder / "clips.npy", mmap_mode="r" if mmap else None)
    intensity = np.load(folder / "intensity.npy")
    return ClipSet(clips, intensity, index)


def concat(sets: list[ClipSet]) -> ClipSet:
    """Stack clip sets; still (T = 1) sets are repeated to the others' T (module docstring)."""
    longest = max((s.shape[0] for s in sets if len(s)), default=1)
    sets = [s.with_frames(longest) if len(s) and s.shape[0] == 1 else s for s in sets]
    shapes = {s.shape for s in sets if len(s)}
    if len(shapes) > 1:
        raise ValueError(f"cannot stack clip stores of different shapes {sorted(shapes)}; "
                         f"align every dataset with the same align.size/frames/color")
    index = pd.concat([s.index for s in sets], ignore_index=True)
    index["row"] = np.arange(len(index))
    return ClipSet(np.concatenate([np.asarray(s.clips) for s in sets]),
                   np.concatenate([s.intensity for s in sets]), index)


def aligned_dir(results: str | Path, dataset: str) -> Path:
    return Path(results) / "aligned" / dataset


def load_dataset(results: str | Path, name: str, mmap: bool = True,
                 frames: int | None = None) -> ClipSet:
    """A dataset's aligned clips, or a merged set's members stacked subject-safely; with
    ``frames``, a still store (T = 1) is repeated to that T (``ClipSet.with_frames``)."""
    if not is_merged(name):
        out = read_store(aligned_dir(results, name), mmap=mmap)
    else:
        parts = []
        for member in dataset_members(name):
            part = read_store(aligned_dir(results, member), mmap=False)
            part.index["subject"] = member + ":" + part.index["subject"].astype(str)
            parts.append(part)
        out = concat(parts)
    return out.with_frames(frames) if frames and out.shape[0] == 1 else out
