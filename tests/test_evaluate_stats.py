"""Spread statistics: mean/std/bootstrap CI per configuration and paired comparisons, checked
against values computed here independently (by hand, or by exact enumeration)."""
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from scipy import stats

from ferstudy.evaluate.stats import (across_datasets, adjust_pvalues, bootstrap_ci,
                                    corrected_ttest, correlated_posterior, sd_ratio_test)
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


def test_corrected_ttest_matches_hand_computation():
    # four fold differences, test/train ratio 1/3 (4-fold CV): variance (1/4 + 1/3) s^2
    d = [0.02, 0.04, 0.03, 0.07]
    mean = sum(d) / 4
    s2 = sum((x - mean) ** 2 for x in d) / 3
    se = math.sqrt((1 / 4 + 1 / 3) * s2)
    out = corrected_ttest(d, 1 / 3, level=0.95)
    assert out["n"] == 4 and out["df"] == 3
    assert out["se"] == pytest.approx(se)
    assert out["t"] == pytest.approx(mean / se)
    # t_{0.975, 3} = 3.182446305
    assert out["ci_low"] == pytest.approx(mean - 3.182446305 * se, rel=1e-6)
    assert out["ci_high"] == pytest.approx(mean + 3.182446305 * se, rel=1e-6)
    # the corrected interval is wider than the naive one (s / sqrt(J))
    assert out["se"] > math.sqrt(s2 / 4)
    assert out["p"] == pytest.approx(2 * stats.t.sf(mean / se, 3))
    # ratio 0: the ordinary one-sample t
    assert corrected_ttest(d, 0.0, level=0.95)["p"] == pytest.approx(stats.ttest_1samp(d, 0).pvalue)
    # one fold: nothing to test; constant differences: p = 0
    assert math.isnan(corrected_ttest([0.05], 0.3, level=0.95)["p"])
    const = corrected_ttest([0.05] * 3, 0.5, level=0.95)
    assert const["p"] == 0.0 and const["ci_low"] == const["ci_high"] == pytest.approx(0.05)


def test_correlated_posterior_is_baycomps_correlated_t_test():
    """baycomp's CorrelatedTTest corrects with n_test/n_train = 1/(k-1) for one k-fold CV
    (``runs=1``); our posterior with that ratio must give its three probabilities."""
    from baycomp import CorrelatedTTest

    rng = np.random.default_rng(3)
    for k in (3, 5, 10):
        a = 0.7 + rng.normal(0, 0.02, k)
        b = a - 0.012 + rng.normal(0, 0.01, k)
        t = corrected_ttest(a - b, 1 / (k - 1), level=0.95)
        mine = correlated_posterior(t["mean"], t["se"], t["df"], 0.01)
        theirs = CorrelatedTTest.probs(a, b, rope=0.01, runs=1)  # (P(a better), rope, P(b better))
        assert mine == pytest.approx(tuple(theirs), abs=1e-12)
        assert sum(mine) == pytest.approx(1.0)


def test_holm_and_bh_match_statsmodels_and_the_hand_rule():
    from statsmodels.stats.multitest import multipletests

    p = [0.01, 0.04, 0.03, 0.005]
    # Holm by hand: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, then running maximum
    assert adjust_pvalues(p, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert adjust_pvalues(p, "holm") == pytest.approx(multipletests(p, method="holm")[1])
    assert adjust_pvalues(p, "bh") == pytest.approx(multipletests(p, method="fdr_bh")[1])
    # untestable rows stay NaN and are not counted as tests
    out = adjust_pvalues([0.01, math.nan, 0.04], "holm")
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and out[2] == pytest.approx(0.04)
    with pytest.raises(ValueError, match="unknown p-value adjustment"):
        adjust_pvalues(p, "bonferroni-ish")


def test_across_datasets_uses_datasets_as_independent_units():
    a = np.array([0.80, 0.75, 0.70, 0.90, 0.85])
    b = a - np.array([0.05, 0.06, 0.04, 0.07, 0.05])
    out = across_datasets(a, b, rope=0.01, level=0.95, seed=0, samples=5000)
    assert out["n"] == 5 and out["p"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert out["p_wilcoxon"] == pytest.approx(2 / 2 ** 5)   # exact: all five positive
    assert out["p_a"] > 0.95 and out["p_b"] == pytest.approx(0.0)
    # seeded Monte Carlo: the same numbers twice
    assert across_datasets(a, b, rope=0.01, level=0.95, seed=0, samples=5000) == out


def test_sd_ratio_test_against_the_f_distribution():
    out = sd_ratio_test(4e-4, 8, 1e-4, 8, level=0.95, rope=1.25)
    assert out["ratio"] == pytest.approx(2.0)
    assert out["p"] == pytest.approx(2 * stats.f.sf(4.0, 8, 8))
    assert out["ci_low"] == pytest.approx(math.sqrt(4.0 / stats.f.ppf(0.975, 8, 8)))
    assert out["p_b"] > out["p_a"] and out["p_a"] + out["p_rope"] + out["p_b"] == pytest.approx(1)
    assert math.isnan(sd_ratio_test(4e-4, 0, 1e-4, 8, level=0.95, rope=1.25)["p"])
