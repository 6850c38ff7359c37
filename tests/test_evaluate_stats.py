"""Spread statistics: mean/std/bootstrap CI per configuration and paired comparisons, checked
against values computed here independently (by hand, or by exact enumeration)."""
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from ferstudy.evaluate.stats import bootstrap_ci, paired_stats
from ferstudy.evaluate.tables import summarise

SETTINGS = {"resamples": 20000, "level": 0.95, "seed": 7}


def _table(values_by_config):
    rows = []
    for (init, values) in values_by_config.items():
        for i, v in enumerate(values):
            rows.append({"run": f"ckplus/vgg3d/supervised/{init}/none/full/seed{i // 2}/fold{i % 2}",
                         "dataset": "ckplus", "arch": "vgg3d", "method": "supervised", "init": init,
                         "augment": "none", "protocol": "full", "seed": i // 2, "fold": i % 2,
                         "test_set": "ckplus", "kind": "in", "shared_classes": "anger;happiness",
                         "n_classes": 2, "accuracy": v, "macro_f1": v / 2, "n_test": 10})
    return pd.DataFrame(rows)


def test_summary_mean_std_and_ci_match_hand_computation():
    values = [0.6, 0.7, 0.8, 0.9]
    table = _table({"ft": values, "ri": [0.5, 0.5, 0.5, 0.5]})
    summary = summarise(table, metrics=["accuracy", "macro_f1"], **SETTINGS).set_index("init")
    ft = summary.loc["ft"]
    mean = sum(values) / 4
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)
    assert ft["n_runs"] == 4 and ft["seeds"] == "0;1" and ft["folds"] == "0;1"
    assert ft["accuracy_mean"] == pytest.approx(mean)
    assert ft["accuracy_std"] == pytest.approx(std)
    assert ft["macro_f1_mean"] == pytest.approx(mean / 2)
    # exact bootstrap distribution: all 4^4 equally likely resamples of the four values
    exact = [np.mean([values[i] for i in idx]) for idx in itertools.product(range(4), repeat=4)]
    low, high = np.quantile(exact, [0.025, 0.975])
    assert ft["accuracy_ci_low"] == pytest.approx(low, abs=0.026)
    assert ft["accuracy_ci_high"] == pytest.approx(high, abs=0.026)
    assert ft["accuracy_ci_low"] < mean < ft["accuracy_ci_high"]
    # no spread, no interval width
    ri = summary.loc["ri"]
    assert ri["accuracy_std"] == 0 and ri["accuracy_ci_low"] == ri["accuracy_ci_high"] == 0.5


def test_bootstrap_of_two_values_spans_both_and_is_seeded():
    # resampling {a, b}: means a, (a+b)/2, b with probabilities 1/4, 1/2, 1/4
    assert bootstrap_ci([0.2, 0.6], resamples=5000, level=0.95, seed=1) == (pytest.approx(0.2),
                                                                           pytest.approx(0.6))
    x = [0.1, 0.4, 0.35, 0.8, 0.5]
    assert bootstrap_ci(x, resamples=500, level=0.9, seed=3) == bootstrap_ci(x, resamples=500,
                                                                             level=0.9, seed=3)
    assert all(math.isnan(v) for v in bootstrap_ci([0.5], resamples=100, level=0.95, seed=0))


def test_summary_of_a_group_does_not_depend_on_other_groups():
    alone = summarise(_table({"ft": [0.6, 0.7, 0.8, 0.9]}), metrics=["accuracy"], **SETTINGS)
    both = summarise(_table({"ft": [0.6, 0.7, 0.8, 0.9], "ri": [0.1, 0.4, 0.3, 0.2]}),
                     metrics=["accuracy"], **SETTINGS)
    assert alone.iloc[0]["accuracy_ci_low"] == both.set_index("init").loc["ft", "accuracy_ci_low"]


def test_single_run_has_no_std_or_interval():
    row = summarise(_table({"ft": [0.6]}), metrics=["accuracy"], **SETTINGS).iloc[0]
    assert row["n_runs"] == 1 and row["accuracy_mean"] == 0.6
    assert math.isnan(row["accuracy_std"]) and math.isnan(row["accuracy_ci_low"])


def test_paired_stats_effect_size_and_tests():
    b = np.array([0.50, 0.55, 0.60, 0.52, 0.58])
    diff = np.array([0.10, 0.12, 0.08, 0.11, 0.09])
    out = paired_stats(b + diff, b, test="wilcoxon", resamples=2000, level=0.95, seed=0, alpha=0.1)
    sd = math.sqrt(sum((d - diff.mean()) ** 2 for d in diff) / 4)
    assert out["n_pairs"] == 5
    assert out["mean_diff"] == pytest.approx(diff.mean())
    assert out["cohens_dz"] == pytest.approx(diff.mean() / sd)
    # all 5 differences positive: exact two-sided signed-rank p = 2 / 2^5
    assert out["p_value"] == pytest.approx(2 / 32)
    assert out["significant"]  # alpha 0.1
    # 0.1 difference vs ~0.04 spread of either arm: beyond the spread
    assert out["exceeds_spread"]
    t = paired_stats(b + diff, b, test="ttest", resamples=2000, level=0.95, seed=0, alpha=0.05)
    assert t["statistic"] == pytest.approx(diff.mean() / (sd / math.sqrt(5)))


def test_small_difference_within_spread_is_not_flagged():
    a = np.array([0.40, 0.80, 0.55, 0.70])
    b = a - np.array([0.02, -0.01, 0.03, 0.0])
    out = paired_stats(a, b, test="wilcoxon", resamples=1000, level=0.95, seed=0, alpha=0.05)
    assert not out["exceeds_spread"] and not out["significant"]
    with pytest.raises(ValueError, match="unknown paired test"):
        paired_stats(a, b, test="anova", resamples=10, level=0.95, seed=0, alpha=0.05)
