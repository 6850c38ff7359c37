"""mix_synthetic: exact per-class ratio, synthetic flag enforced, real rows untouched."""
import numpy as np
import pandas as pd
import pytest

from ferstudy.augment.mixing import mix_synthetic
from ferstudy.clipstore import ClipSet


def _set(labels, synthetic=None, value=0, shape=(2, 4, 4, 1)):
    n = len(labels)
    index = pd.DataFrame({"row": range(n), "clip_id": [f"c{i}" for i in range(n)],
                          "dataset": "d", "subject": [f"S{i % 3}" for i in range(n)],
                          "label": labels, "fold": 0, "detection_rate": 1.0, "intensity": 0.5})
    if synthetic is not None:
        index["synthetic"] = synthetic
    clips = np.full((n, *shape), value, dtype=np.uint8)
    return ClipSet(clips, np.zeros((n, shape[0]), np.float32), index)


def test_ratio_exact_per_class_and_only_train_classes():
    train = _set(["anger"] * 10 + ["happiness"] * 4)
    syn = _set(["anger"] * 20 + ["happiness"] * 20 + ["fear"] * 20, synthetic=1, value=7)
    mixed = mix_synthetic(train, syn, 0.5, np.random.default_rng(0))
    flag = mixed.index["synthetic"].to_numpy()
    assert (flag[:14] == 0).all() and (flag[14:] == 1).all()
    counts = mixed.index[flag == 1]["label"].value_counts().to_dict()
    assert counts == {"anger": 5, "happiness": 2}
    assert (mixed.clips[flag == 1] == 7).all() and (mixed.clips[flag == 0] == 0).all()
    assert list(mixed.index["clip_id"][:14]) == list(train.index["clip_id"])
    again = mix_synthetic(train, syn, 0.5, np.random.default_rng(0))
    assert list(again.index["clip_id"]) == list(mixed.index["clip_id"])
    assert len(mix_synthetic(train, syn, 0.0, np.random.default_rng(0))) == 14


def test_rejects_real_clips_and_too_few_synthetic():
    train = _set(["anger"] * 10)
    with pytest.raises(ValueError, match="synthetic=1"):
        mix_synthetic(train, _set(["anger"] * 10, synthetic=0), 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="'anger'.*clips_per_class"):
        mix_synthetic(train, _set(["anger"] * 3, synthetic=1), 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        mix_synthetic(train, _set(["anger"] * 10, synthetic=1, shape=(3, 4, 4, 1)), 0.5,
                      np.random.default_rng(0))
