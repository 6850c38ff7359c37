"""The GAN's training set: one fold's training subjects of one (possibly merged) dataset,
minus the subjects every run of that fold validates on (``ferstudy.train.data.
validation_subjects``, a function of the clips, the fold, ``train.val_fraction`` and the
classes only, never of a run seed), so an SD run does not pick its epoch on subjects its GAN saw.

Only the index table is consulted to choose rows; the clip and intensity arrays are then read
at the chosen positions only (``ClipSet.subset``), so the test fold's clips are never touched.
Frames are resized to the GAN's working size and intensities normalised to [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from ferstudy.clipstore import ClipSet


@dataclass
class GanData:
    clips: torch.Tensor        # uint8 (N, C, T, S, S) at the GAN's working size S
    labels: torch.Tensor       # int64 (N,) indices into ``classes``
    t: torch.Tensor            # float32 (N, T) intensity in [0, 1] (0 = neutral)
    classes: tuple[str, ...]
    scale: float               # store intensity units per unit of t
    store_shape: tuple[int, int, int, int]   # (T, H, W, C) of the source store
    subjects_per_clip: tuple[str, ...]
    clip_ids: tuple[str, ...]

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.subjects_per_clip)))

    def __len__(self) -> int:
        return len(self.labels)


def select_training_rows(clipset: ClipSet, *, name: str, test_fold: int,
                         classes: list[str] | tuple[str, ...], batch: int,
                         val_fraction: float = 0.0) -> np.ndarray:
    """Positions of the labelled clips of ``classes`` outside ``test_fold`` and outside the
    fold's validation subjects (``val_fraction``: the engine's ``train.val_fraction``).

    Raises ValueError naming the set and the class when a class has no clip or when the set
    is smaller than one batch.
    """
    index = clipset.index
    folds = index["fold"].astype(int).to_numpy()
    if test_fold not in set(folds.tolist()):
        raise ValueError(f"training set {name!r}: fold {test_fold} does not exist "
                         f"(folds: {sorted(set(folds.tolist()))})")
    labels = index["label"].astype(str).to_numpy()
    if "synthetic" in index.columns and (index["synthetic"].astype(int) == 1).any():
        raise ValueError(f"training set {name!r} holds synthetic clips; a GAN trains on real clips only")
    train = folds != test_fold
    if val_fraction > 0:
        from ferstudy.train.data import validation_subjects

        held = validation_subjects(clipset, fold=test_fold, val_fraction=val_fraction,
                                   study_classes=classes)
        train &= ~index["subject"].astype(str).isin(held).to_numpy()
    for cls in classes:
        if not np.any(train & (labels == cls)):
            raise ValueError(
                f"training set {name!r} (fold {test_fold} held out) has no clip of class {cls!r}; "
                f"drop {cls!r} from study.classes or add clips of it")
    rows = np.flatnonzero(train & np.isin(labels, list(classes)))
    if len(rows) < batch:
        counts = {c: int(np.sum(labels[rows] == c)) for c in classes}
        raise ValueError(
            f"training set {name!r} (fold {test_fold} held out) has {len(rows)} clips "
            f"({counts}), fewer than augment.sd.batch={batch}; lower the batch")
    return rows


def intensity_scale(intensity: np.ndarray) -> float:
    """Store intensity that maps to t = 1: the 95th percentile of the clips' peak intensity,
    so that weak and strong expressions keep their difference (a per-clip max would erase it)."""
    peaks = np.nanmax(np.where(np.isfinite(intensity), intensity, np.nan), axis=1)
    peaks = peaks[np.isfinite(peaks)]
    scale = float(np.percentile(peaks, 95)) if len(peaks) else 0.0
    return scale if scale > 1e-6 else 1.0


def normalise_intensity(intensity: np.ndarray, scale: float) -> np.ndarray:
    """``(N, T)`` store intensity -> t in [0, 1]; a clip without usable intensity gets a ramp
    from neutral to apex (the alignment stage orders frames onset -> apex)."""
    t = np.clip(np.asarray(intensity, dtype=np.float32) / scale, 0.0, 1.0)
    bad = ~np.isfinite(t).all(axis=1)
    t[bad] = np.linspace(0.0, 1.0, t.shape[1], dtype=np.float32)
    return t


def resize_clips(clips: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """uint8 ``(N, T, H, W, C)`` -> uint8 ``(N, C, T, size, size)`` (area filter when shrinking)."""
    x = torch.as_tensor(np.asarray(clips)).permute(0, 4, 1, 2, 3)
    n, c, t, h, w = x.shape
    if (h, w) == (size, size):
        return x.contiguous()
    flat = x.reshape(n, c * t, h, w).float()
    mode = "area" if h >= size else "bilinear"
    out = F.interpolate(flat, size=(size, size), mode=mode)
    return out.round().clamp(0, 255).to(torch.uint8).reshape(n, c, t, size, size)


def build_gan_data(clipset: ClipSet, *, name: str, test_fold: int,
                   classes: list[str] | tuple[str, ...], batch: int, size: int,
                   val_fraction: float = 0.0) -> GanData:
    rows = select_training_rows(clipset, name=name, test_fold=test_fold, classes=classes,
                                batch=batch, val_fraction=val_fraction)
    train = clipset.subset(rows)          # reads only the training rows' clips
    scale = intensity_scale(train.intensity)
    lookup = {c: i for i, c in enumerate(classes)}
    return GanData(
        clips=resize_clips(train.clips, size),
        labels=torch.tensor([lookup[c] for c in train.index["label"].astype(str)]),
        t=torch.from_numpy(normalise_intensity(train.intensity, scale)),
        classes=tuple(classes), scale=scale, store_shape=tuple(int(v) for v in clipset.shape),
        subjects_per_clip=tuple(train.index["subject"].astype(str)),
        clip_ids=tuple(train.index["clip_id"].astype(str)))
