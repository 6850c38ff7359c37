"""Comparisons pair the right runs: same everything but the compared factor, same seed and fold."""
import numpy as np
import pandas as pd
import pytest

from ferstudy.evaluate.comparisons import compare

OPTS = {"metrics": ["accuracy"], "test": "wilcoxon", "resamples": 500, "level": 0.95, "seed": 0,
        "alpha": 0.05}


def row(dataset, init, seed, fold, acc, *, test_set=None, kind="in", augment="none"):
    return {"run": f"{dataset}/vgg3d/supervised/{init}/{augment}/full/seed{seed}/fold{fold}",
            "dataset": dataset, "arch": "vgg3d", "method": "supervised", "init": init,
            "augment": augment, "protocol": "full", "seed": seed, "fold": fold,
            "test_set": test_set or dataset, "kind": kind, "shared_classes": "anger;fear",
            "n_classes": 2, "accuracy": acc, "macro_f1": acc, "n_test": 10}


def test_ft_vs_ri_pairs_matching_seed_and_fold_only():
    rng = np.random.default_rng(0)
    rows, deltas = [], []
    for seed in range(3):
        for fold in range(2):
            base = 0.4 + 0.1 * seed + rng.uniform(0, 0.05)
            delta = 0.05 * (fold + 1) + 0.01 * seed
            deltas.append(delta)
            rows += [row("ckplus", "ri", seed, fold, base), row("ckplus", "ft", seed, fold, base + delta)]
    rows.append(row("ckplus", "ft", 9, 0, 0.99))       # no ri partner: must not be used
    rows.append(row("mug", "ri", 0, 0, 0.1))           # other dataset, no ft partner
    out = compare(pd.DataFrame(rows), questions=["ft_vs_ri"], **OPTS)
    assert len(out) == 1
    got = out.iloc[0]
    assert got["dataset"] == "ckplus" and got["init"] == "ft vs ri"
    assert (got["a"], got["b"]) == ("ft", "ri")
    assert got["n_pairs"] == 6
    assert got["pairs"] == "s0f0;s0f1;s1f0;s1f1;s2f0;s2f1"
    assert got["mean_diff"] == pytest.approx(np.mean(deltas))
    assert got["p_value"] == pytest.approx(2 / 2 ** 6)   # all six differences positive


def test_merged_is_compared_with_each_member_on_its_own_fold_and_held_out_set():
    rows = [row("ckplus", "ri", s, 0, 0.70 + s / 100) for s in range(2)]
    rows += [row("mug", "ri", s, 0, 0.50 + s / 100) for s in range(2)]
    rows += [row("ckplus", "ri", s, 0, 0.30, test_set="oulu", kind="cross") for s in range(2)]
    for s in range(2):
        rows += [row("merged-ckplus+mug", "ri", s, 0, 0.65, test_set="ckplus", kind="member"),
                 row("merged-ckplus+mug", "ri", s, 0, 0.60, test_set="mug", kind="member"),
                 row("merged-ckplus+mug", "ri", s, 0, 0.40, test_set="oulu", kind="lodo"),
                 row("merged-ckplus+mug", "ri", s, 0, 0.62)]
    out = compare(pd.DataFrame(rows), questions=["merged_vs_single"], **OPTS)
    got = out.set_index(["test_set", "b"])["mean_diff"]
    assert got[("ckplus", "ckplus")] == pytest.approx(0.65 - 0.705)
    assert got[("mug", "mug")] == pytest.approx(0.60 - 0.505)
    assert got[("oulu", "ckplus")] == pytest.approx(0.40 - 0.30)
    assert ("ckplus", "mug") not in got.index       # never a member's fold vs the other member
    assert (out["n_pairs"] == 2).all()


def test_in_vs_cross_is_the_drop_per_run():
    rows = []
    for s in range(3):
        rows += [row("ckplus", "ft", s, 0, 0.8), row("ckplus", "ft", s, 0, 0.4, test_set="mug", kind="cross"),
                 row("ckplus", "ft", s, 0, 0.2 + s / 10, test_set="oulu", kind="cross")]
    out = compare(pd.DataFrame(rows), questions=["in_vs_cross"], **OPTS).iloc[0]
    expected = np.mean([0.8 - (0.4 + 0.2 + s / 10) / 2 for s in range(3)])
    assert out["mean_diff"] == pytest.approx(expected) and out["n_pairs"] == 3
    assert out["exceeds_spread"]


def test_absent_arms_give_an_empty_table_with_columns():
    out = compare(pd.DataFrame([row("ckplus", "ri", 0, 0, 0.5)]),
                  questions=["da_vs_none", "method_vs_supervised"], **OPTS)
    assert out.empty and {"mean_diff", "cohens_dz", "p_value", "exceeds_spread"} <= set(out.columns)
