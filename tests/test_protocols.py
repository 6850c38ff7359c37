"""Training-label protocols: noise rate, class-flip mapping, label budgets, parsing."""
import numpy as np
import pytest

from ferstudy.protocols import (ProtocolError, apply_protocol, flip_mapping, parse_protocol,
                                write_protocol_file)

K = 6
CLASSES = ["anger", "disgust", "fear", "happiness", "sadness", "surprise"]


def _labels(n_per_class=(40, 25, 12, 60, 30, 33), seed=0):
    rng = np.random.default_rng(seed)
    return rng.permutation(np.repeat(np.arange(len(n_per_class)), n_per_class))


@pytest.mark.parametrize("name,kind,amount", [
    ("full", "full", 0), ("noisesym20", "noise", 20), ("noiseflip30", "noise", 30),
    ("labels10", "labels", 10), ("frac25", "frac", 25)])
def test_parse_protocol(name, kind, amount):
    proto = parse_protocol(name)
    assert (proto.kind, proto.amount) == (kind, amount)


@pytest.mark.parametrize("bad", ["noise20", "labels0", "frac0", "frac101", "noisesym100", ""])
def test_parse_protocol_rejects(bad):
    with pytest.raises(ProtocolError, match="protocol"):
        parse_protocol(bad)


@pytest.mark.parametrize("pct", [10, 20, 30])
def test_symmetric_noise_hits_rate_and_never_keeps_class(pct):
    labels = _labels()
    res = apply_protocol(f"noisesym{pct}", labels, K, np.random.default_rng(1))
    flipped = res.train_labels != labels
    assert abs(res.actual_noise_rate - pct / 100) <= 1 / len(labels)
    assert flipped.mean() == pytest.approx(res.actual_noise_rate)
    assert np.array_equal(res.clean_labels, labels)
    assert res.labelled_mask.all()
    assert ((res.train_labels >= 0) & (res.train_labels < K)).all()


def test_symmetric_noise_is_uniform_over_other_classes():
    labels = np.zeros(6000, dtype=np.int64)            # all class 0 -> targets 1..5
    res = apply_protocol("noisesym50", labels, K, np.random.default_rng(2))
    targets = res.train_labels[res.train_labels != 0]
    counts = np.bincount(targets, minlength=K)
    assert counts[0] == 0
    assert np.all(np.abs(counts[1:] / len(targets) - 0.2) < 0.03)


def test_class_flip_uses_fixed_confusable_partner():
    mapping = flip_mapping(K, CLASSES)
    named = {CLASSES[i]: CLASSES[j] for i, j in enumerate(mapping)}
    assert named == {"anger": "disgust", "disgust": "anger", "fear": "surprise",
                     "surprise": "fear", "sadness": "fear", "happiness": "surprise"}
    labels = _labels()
    res = apply_protocol("noiseflip20", labels, K, np.random.default_rng(3), classes=CLASSES)
    moved = res.train_labels != labels
    assert np.array_equal(res.train_labels[moved], mapping[labels[moved]])
    assert abs(res.actual_noise_rate - 0.2) <= 1 / len(labels)
    assert np.array_equal(flip_mapping(4), [1, 2, 3, 0])


def test_noise_is_deterministic_in_seed_and_leaves_caller_arrays_alone():
    labels = _labels()
    val, test = labels[:50].copy(), labels[50:90].copy()
    before = labels.copy(), val.copy(), test.copy()
    a = apply_protocol("noisesym30", labels, K, np.random.default_rng(7))
    b = apply_protocol("noisesym30", labels, K, np.random.default_rng(7))
    c = apply_protocol("noisesym30", labels, K, np.random.default_rng(8))
    assert np.array_equal(a.train_labels, b.train_labels)
    assert not np.array_equal(a.train_labels, c.train_labels)
    for now, then in zip((labels, val, test), before):
        assert np.array_equal(now, then)


def test_label_budget_exact_per_class_rest_unlabelled():
    labels = _labels()
    res = apply_protocol("labels10", labels, K, np.random.default_rng(0))
    per_class = np.bincount(labels[res.labelled_mask], minlength=K)
    assert per_class.tolist() == [10] * K
    assert (res.train_labels[~res.labelled_mask] == -1).all()
    assert np.array_equal(res.train_labels[res.labelled_mask], labels[res.labelled_mask])
    assert res.actual_noise_rate == 0.0 and res.shortfall == {}


def test_label_budget_shortfall_reported():
    labels = _labels((40, 25, 3, 60, 30, 33))
    res = apply_protocol("labels5", labels, K, np.random.default_rng(0))
    assert res.shortfall == {2: 3}
    assert np.bincount(labels[res.labelled_mask], minlength=K).tolist() == [5, 5, 3, 5, 5, 5]


def test_labelled_fraction_stratified():
    labels = _labels()
    res = apply_protocol("frac25", labels, K, np.random.default_rng(0))
    counts = np.bincount(labels, minlength=K)
    got = np.bincount(labels[res.labelled_mask], minlength=K)
    assert got.tolist() == [max(1, round(0.25 * c)) for c in counts]


def test_bad_labels_rejected():
    with pytest.raises(ProtocolError, match="0..5"):
        apply_protocol("full", np.array([0, 6]), K, np.random.default_rng(0))
    with pytest.raises(ProtocolError, match="integer"):
        apply_protocol("full", np.array([0.0, 1.0]), K, np.random.default_rng(0))


def test_protocol_file(tmp_path):
    labels = _labels()
    res = apply_protocol("labels3", labels, K, np.random.default_rng(0))
    ids = [f"c{i}" for i in range(len(labels))]
    write_protocol_file(tmp_path / "p.csv", ids, res, CLASSES)
    import pandas as pd

    frame = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    assert frame["labelled"].sum() == 3 * K
    assert (frame.loc[frame["labelled"] == 0, "train_label"] == "").all()
    assert list(frame["clean_label"]) == [CLASSES[i] for i in labels]
