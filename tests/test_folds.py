"""Subject-independent stratified folds: disjoint subjects, balanced classes, seeded."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ferstudy.datasets.folds import assign_folds

CLASSES = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "contempt"]


def synthetic_manifest(n_subjects: int = 60, seed: int = 1) -> pd.DataFrame:
    """Subjects with 1-6 clips each, uneven classes (contempt rare), some unlabelled clips."""
    rng = np.random.default_rng(seed)
    rows = []
    probs = np.array([3, 2, 2, 4, 3, 4, 0.5])
    for s in range(n_subjects):
        for c in range(int(rng.integers(1, 7))):
            label = rng.choice(CLASSES, p=probs / probs.sum()) if rng.random() > 0.1 else ""
            rows.append({"clip_id": f"S{s:03d}_{c}", "subject": f"S{s:03d}", "label": label})
    return pd.DataFrame(rows)


def test_subjects_never_straddle_folds():
    m = synthetic_manifest()
    folds = assign_folds(m, 10, seed=0)
    assert folds.groupby(m["subject"]).nunique().max() == 1
    assert set(folds) == set(range(10))


def test_stratified_within_tolerance():
    m = synthetic_manifest(120)
    k = 5
    folds = assign_folds(m, k, seed=0)
    labelled = m["label"] != ""
    table = pd.crosstab(folds[labelled], m.loc[labelled, "label"])
    share = table / table.sum(axis=0)
    for cls in ["anger", "happiness", "surprise"]:        # common classes: close to 1/k each
        assert (share[cls] - 1 / k).abs().max() < 0.08, (cls, share[cls].round(3).tolist())
    sizes = folds.value_counts()
    assert sizes.max() - sizes.min() <= 0.25 * len(m) / k
    assert (table["contempt"] > 0).sum() >= min(k, int(table["contempt"].sum()))  # rare class spread


def test_deterministic_in_seed_and_different_across_seeds():
    m = synthetic_manifest()
    a = assign_folds(m, 5, seed=3)
    assert a.equals(assign_folds(m, 5, seed=3))
    assert assign_folds(m.sample(frac=1, random_state=0), 5, seed=3).sort_index().equals(a)
    assert not a.equals(assign_folds(m, 5, seed=4))


def test_too_few_subjects_names_the_key():
    m = synthetic_manifest(4)
    with pytest.raises(ValueError, match=r"4 subjects cannot fill 5 .*register.folds"):
        assign_folds(m, 5, seed=0, dataset="tiny")
