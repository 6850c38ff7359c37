"""Mixing synthetic (GAN) clips into a training split at a fixed synthetic : real ratio.

Only the training engine calls this, and only on the training split: synthetic clips never
reach validation or test. Per class c of the real split, ``round(ratio * n_real(c))`` synthetic
clips of class c are drawn without replacement, so the mixed set keeps the real class balance
and the ratio holds class by class.
"""
from __future__ import annotations

import numpy as np

from ferstudy.clipstore import ClipSet, concat


def _flag(cs: ClipSet) -> np.ndarray:
    if "synthetic" not in cs.index.columns:
        return np.zeros(len(cs), dtype=int)
    return cs.index["synthetic"].astype(int).to_numpy()


def mix_synthetic(train: ClipSet, synthetic: ClipSet, ratio: float,
                  rng: np.random.Generator) -> ClipSet:
    """The real training clips followed by the drawn synthetic ones (``synthetic`` column 0/1).

    Raises ValueError when ``synthetic`` holds a clip without ``synthetic == 1`` (a real clip
    must never come in through this door), when ``train`` already holds synthetic clips, when
    the shapes differ, or when a class has too few synthetic clips for the ratio.
    """
    if ratio < 0:
        raise ValueError(f"augment.sd.ratio must be >= 0, got {ratio}")
    if len(synthetic) and not (_flag(synthetic) == 1).all():
        raise ValueError("mix_synthetic: the synthetic set holds clips without synthetic=1; "
                         "pass the results/synthetic/{dataset}/fold{fold} store")
    if (_flag(train) == 1).any():
        raise ValueError("mix_synthetic: the training split already holds synthetic clips")
    if len(synthetic) and synthetic.shape != train.shape:
        raise ValueError(f"synthetic clips have shape {synthetic.shape} but the training clips "
                         f"{train.shape}; regenerate with the current align settings")
    picks: list[np.ndarray] = []
    syn_labels = synthetic.index["label"].astype(str).to_numpy()
    real_counts = train.index["label"].astype(str).value_counts()
    for label in sorted(real_counts.index):
        want = int(round(ratio * int(real_counts[label])))
        if label == "" or want == 0:   # unlabelled clips (semi-supervised protocols) get none
            continue
        pool = np.flatnonzero(syn_labels == label)
        if len(pool) < want:
            raise ValueError(
                f"synthetic set has {len(pool)} clips of class {label!r}, the ratio {ratio} "
                f"needs {want}; raise augment.sd.clips_per_class or lower augment.sd.ratio")
        picks.append(rng.choice(pool, size=want, replace=False))
    real = train.subset(np.arange(len(train)))
    real.index["synthetic"] = 0
    if not picks:
        return real
    drawn = synthetic.subset(np.sort(np.concatenate(picks)))
    drawn.index["synthetic"] = 1
    return concat([real, drawn])
