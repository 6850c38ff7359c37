"""Comparisons pair the right runs (same everything but the compared factor, same seed and
fold), average seeds within a fold, and test over folds with the corrected t."""
import math

import numpy as np
import pandas as pd
import pytest

from ferstudy.evaluate.comparisons import compare

STATS = {"ci_level": 0.95, "seed": 0, "rope": 1.0, "alpha": 0.05, "adjust": "holm",
         "metric": "accuracy", "sd_ratio_rope": 1.25, "power_difference": 2.0,
         "power": 0.8}
OPTS = {"metrics": ["accuracy"], "settings": STATS}


def row(dataset, init, seed, fold, acc, *, test_set=None, kind="in", augment="none"):
    return {"run": f"{dataset}/vgg3d/supervised/{init}/{augment}/full/seed{seed}/fold{fold}",
            "dataset": dataset, "arch": "vgg3d", "method": "supervised", "init": init,
            "augment": augment, "protocol": "full", "seed": seed, "fold": fold,
            "test_set": test_set or dataset, "kind": kind, "shared_classes": "anger;fear",
            "n_classes": 2, "accuracy": acc, "macro_f1": acc, "n_test": 1000, "n_train": 3000}


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
    # the unit is the fold: 3 seeds averaged within each of 2 folds
    assert got["n_folds"] == 2 and got["n_seeds"] == 3 and got["folds"] == "0;1"
    assert got["mean_diff"] == pytest.approx(np.mean(deltas))
    fold_means = [np.mean(deltas[f::2]) for f in range(2)]  # deltas are in seed-major order
    sd = np.std(fold_means, ddof=1)
    se = math.sqrt((1 / 2 + 10 / 30) * sd ** 2)   # n_test / n_train = 1000 / 3000
    assert got["se"] == pytest.approx(se) and got["t"] == pytest.approx(np.mean(fold_means) / se)
    assert got["test_train_ratio"] == pytest.approx(1 / 3)
    # seed spread within a fold, fold spread of the seed means: reported apart
    assert got["seed_sd_a"] > 0 and got["fold_sd_a"] >= 0


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
    assert (out["n_folds"] == 1).all() and (out["n_seeds"] == 2).all()
    assert (out["verdict"] == "undecided").all()      # one fold: never decided


def test_in_vs_cross_is_the_drop_per_run():
    rows = []
    for s in range(3):
        rows += [row("ckplus", "ft", s, 0, 0.8), row("ckplus", "ft", s, 0, 0.4, test_set="mug", kind="cross"),
                 row("ckplus", "ft", s, 0, 0.2 + s / 10, test_set="oulu", kind="cross")]
    out = compare(pd.DataFrame(rows), questions=["in_vs_cross"], **OPTS).iloc[0]
    expected = np.mean([0.8 - (0.4 + 0.2 + s / 10) / 2 for s in range(3)])
    assert out["mean_diff"] == pytest.approx(expected) and out["n_seeds"] == 3


def test_in_vs_cross_ignores_seen_and_overlap_test_sets():
    rows = []
    for f in range(3):
        rows += [row("ckplus", "ft", 0, f, 0.8), row("ckplus", "ft", 0, f, 0.4, test_set="mug", kind="cross"),
                 row("ckplus", "ft", 0, f, 0.79, test_set="oulu", kind="seen"),
                 row("ckplus", "ft", 0, f, 0.78, test_set="mmi", kind="overlap")]
    out = compare(pd.DataFrame(rows), questions=["in_vs_cross"], **OPTS).iloc[0]
    assert out["mean_b"] == pytest.approx(0.4) and out["n_folds"] == 3


def test_absent_arms_give_an_empty_table_with_columns():
    out = compare(pd.DataFrame([row("ckplus", "ri", 0, 0, 0.5)]),
                  questions=["da_vs_none", "method_vs_supervised"], **OPTS)
    assert out.empty and {"mean_diff", "p_value", "p_adjusted", "verdict"} <= set(out.columns)


def test_runs_without_training_sizes_are_refused():
    frame = pd.DataFrame([row("ckplus", "ri", 0, 0, 0.5)]).drop(columns="n_train")
    with pytest.raises(ValueError, match="n_train"):
        compare(frame, questions=["ft_vs_ri"], **OPTS)


def _two_configs(shift_of, folds=4, n_test=1000):
    """ft vs ri on two architectures x ``folds`` folds; ft - ri = shift_of(arch, fold)."""
    rows = []
    for arch in ("vgg3d", "resnet3d"):
        for f in range(folds):
            for init, acc in (("ri", 0.5), ("ft", 0.5 + shift_of(arch, f))):
                r = row("ckplus", init, 0, f, acc)
                r.update(arch=arch, run=r["run"].replace("vgg3d", arch), n_test=n_test,
                         n_train=3 * n_test)
                rows.append(r)
    return pd.DataFrame(rows)


def test_each_row_prints_its_family_interval_and_the_verdict_reads_it():
    from ferstudy.evaluate.decision import read_interval

    jitter = [0.004, -0.004, 0.002, -0.002]
    out = compare(_two_configs(lambda a, f: (0.05 if a == "vgg3d" else 0.004) + jitter[f]),
                  questions=["ft_vs_ri"], **OPTS).set_index("arch")
    # family = the question's 2 rows: each interval at 1 - 0.05 / 2, t with 3 df
    assert out["ci_level"].to_numpy() == pytest.approx([0.975, 0.975])
    vgg = out.loc["vgg3d"]
    half = stats_t_ppf(1 - 0.025 / 2, 3) * vgg["se"]
    assert vgg["diff_ci_low"] == pytest.approx(vgg["mean_diff"] - half)
    assert vgg["verdict"] == "A better" and "97.5% interval lies above the ROPE" in vgg["reason"]
    for _, r in out.iterrows():
        assert r["verdict"] == read_interval(r["diff_ci_low"], r["diff_ci_high"], rope=(-0.01, 0.01))
    assert out.loc["resnet3d", "verdict"] == "undecided"   # +0.4 points: inside the ROPE, but wide


def stats_t_ppf(q, df):
    from scipy import stats

    return float(stats.t.ppf(q, df))


def test_identical_folds_are_undecided_and_a_tiny_spread_is_floored_by_the_test_size():
    # two folds at +10 points each: zero variance, no interval, no verdict
    same = compare(_two_configs(lambda a, f: 0.10, folds=2), questions=["ft_vs_ri"], **OPTS)
    assert (same["verdict"] == "undecided").all() and same["diff_ci_low"].isna().all()
    assert same["reason"].str.contains("every fold gives the same difference").all()
    # +10 points +- 0.01 on 10-clip test folds: the spread is below what 10 clips allow
    tiny = compare(_two_configs(lambda a, f: 0.10 + 0.0001 * (-1) ** f, folds=4, n_test=10),
                   questions=["ft_vs_ri"], **OPTS).iloc[0]
    floor_sd = math.sqrt(0.1 * 0.9 / 10)    # |d| (1 - |d|) / n_test, d ~ 0.1
    assert tiny["se"] == pytest.approx(math.sqrt(1 / 4 + 1 / 3) * floor_sd, rel=1e-2)
    assert tiny["verdict"] == "undecided" and "floored" in tiny["reason"]
