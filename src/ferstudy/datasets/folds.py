"""Subject-independent, label-stratified folds: no subject is ever in two folds."""
from __future__ import annotations

import numpy as np
import pandas as pd


def assign_folds(manifest: pd.DataFrame, k: int, seed: int, dataset: str = "") -> pd.Series:
    """Return a fold number (0..k-1) per manifest row, the same for every clip of a subject.

    Greedy stratified group assignment (as StratifiedGroupKFold does, but it works with rare
    classes, e.g. CK+ contempt): subjects are visited in a seeded order, largest first, and
    each goes to the fold whose per-class counts stay closest to an even share. Unlabelled
    clips count towards fold size only. Deterministic in ``seed``.
    """
    subjects = manifest["subject"].astype(str)
    n_subjects = subjects.nunique()
    if n_subjects < k:
        raise ValueError(
            f"dataset {dataset!r}: {n_subjects} subjects cannot fill {k} subject-independent "
            f"folds; lower 'register.folds'"
        )
    labels = manifest["label"].astype(str).where(manifest["label"].astype(str) != "", "<none>")
    counts = pd.crosstab(subjects, labels)                     # subject x class clip counts
    names = counts.index.to_numpy()
    order = np.random.default_rng(seed).permutation(len(names))
    order = sorted(order, key=lambda i: -counts.iloc[i].sum())  # stable: ties keep seeded order
    totals = counts.sum(axis=0).to_numpy(dtype=float)
    weights = np.where(counts.columns == "<none>", 0.1, 1.0)    # unlabelled: balance size only
    fold_counts = np.zeros((k, counts.shape[1]))
    fold_of: dict[str, int] = {}
    for i in order:
        row = counts.iloc[i].to_numpy(dtype=float)
        cost = [(((fold_counts + np.eye(k)[f][:, None] * row) / np.maximum(totals, 1) - 1 / k) ** 2
                 * weights).sum() for f in range(k)]
        best = int(np.argmin(cost))
        fold_counts[best] += row
        fold_of[names[i]] = best
    return subjects.map(fold_of).astype(int)
