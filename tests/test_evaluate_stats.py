"""Spread statistics: mean/std/bootstrap CI per configuration and paired comparisons, checked
against values computed here independently (by hand, or by exact enumeration)."""
import math

import numpy as np
import pandas as pd
import pytest

from scipy import stats

from ferstudy.evaluate.stats import (adjust_pvalues, binomial_floor, bootstrap_ci,
                                    corrected_ttest, correlated_posterior, log_sd_ratio,
                                    random_effects, sd_ratio_test)
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
    values = [0.6, 0.7, 0.8, 0.9]    # run i: seed i // 2, fold i % 2
    table = _table({"ft": values, "ri": [0.5, 0.5, 0.5, 0.5]})
    summary = summarise(table, metrics=["accuracy", "macro_f1"], **SETTINGS).set_index("init")
    ft = summary.loc["ft"]
    mean = sum(values) / 4
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)
    assert ft["n_runs"] == 4 and ft["n_folds"] == 2 and ft["seeds"] == "0;1" and ft["folds"] == "0;1"
    assert ft["accuracy_mean"] == pytest.approx(mean)
    assert ft["accuracy_std"] == pytest.approx(std)       # spread over runs, for the record
    assert ft["macro_f1_mean"] == pytest.approx(mean / 2)
    # the interval resamples the 2 seed-averaged folds (0.7 and 0.8), never the 4 runs:
    # means 0.7, 0.75, 0.8 with probabilities 1/4, 1/2, 1/4
    assert (ft["accuracy_ci_low"], ft["accuracy_ci_high"]) == (pytest.approx(0.7), pytest.approx(0.8))
    # no spread, no interval width
    ri = summary.loc["ri"]
    assert ri["accuracy_std"] == 0 and ri["accuracy_ci_low"] == ri["accuracy_ci_high"] == 0.5


def test_summary_interval_ignores_seed_spread_within_a_fold():
    # seeds disagree a lot within each fold, the fold means agree: runs resampled as if
    # independent would give a wide interval, folds give none
    table = _table({"ft": [0.2, 0.2, 0.8, 0.8]})   # fold 0: seeds 0.2, 0.8; fold 1: the same
    row = summarise(table, metrics=["accuracy"], **SETTINGS).iloc[0]
    assert row["accuracy_std"] > 0.3
    assert row["accuracy_ci_low"] == row["accuracy_ci_high"] == pytest.approx(0.5)
    one_fold = summarise(_table({"ft": [0.2, 0.8]}).assign(fold=0), metrics=["accuracy"],
                         **SETTINGS).iloc[0]
    assert one_fold["n_folds"] == 1 and math.isnan(one_fold["accuracy_ci_low"])


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


def _paule_mandel_hartung_knapp(y, v, level):
    """An independent implementation: tau^2 solves sum w (y - mu)^2 = k - 1 (bisection,
    0 when even tau^2 = 0 gives less), then the Hartung-Knapp variance and a t_{k-1} interval."""
    k = len(y)

    def q(tau2):
        w = 1 / (v + tau2)
        mu = (w * y).sum() / w.sum()
        return (w * (y - mu) ** 2).sum() - (k - 1)

    tau2 = 0.0
    if q(0.0) > 0:
        lo, hi = 0.0, 1.0
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if q(mid) > 0 else (lo, mid)
        tau2 = (lo + hi) / 2
    w = 1 / (v + tau2)
    mu = (w * y).sum() / w.sum()
    se = math.sqrt((w * (y - mu) ** 2).sum() / ((k - 1) * w.sum()))
    half = stats.t.ppf(0.5 + level / 2, k - 1) * se
    return mu, se, tau2, mu - half, mu + half


def test_random_effects_is_paule_mandel_with_the_hartung_knapp_interval():
    y = np.array([0.12, 0.20, 0.27, 0.31, 0.51])     # FT - RI on 5 datasets, as on the demo
    v = np.array([0.01, 0.02, 0.015, 0.01, 0.03]) ** 2
    out = random_effects(y, v, level=0.99)
    mu, se, tau2, low, high = _paule_mandel_hartung_knapp(y, v, 0.99)
    assert out["k"] == 5 and out["df"] == 4
    assert out["effect"] == pytest.approx(mu, abs=1e-5) and out["tau2"] == pytest.approx(tau2, rel=1e-3)
    assert out["se"] == pytest.approx(se, rel=1e-3)
    assert (out["ci_low"], out["ci_high"]) == (pytest.approx(low, rel=1e-3), pytest.approx(high, rel=1e-3))
    assert out["i2"] > 0.9                          # datasets differ far beyond their precision
    # homogeneous estimates: tau^2 = 0, I^2 = 0 (floored), HK scale from the small dispersion
    same = random_effects(np.array([0.05, 0.051, 0.049]), np.full(3, 1e-4), level=0.95)
    mu, se, tau2, low, high = _paule_mandel_hartung_knapp(np.array([0.05, 0.051, 0.049]),
                                                          np.full(3, 1e-4), 0.95)
    assert same["tau2"] == 0 and same["i2"] == 0 and same["se"] == pytest.approx(se)
    assert math.isnan(random_effects([0.1], [1e-4], level=0.95)["ci_low"])


def test_log_sd_ratio_and_its_standard_error():
    from scipy.special import polygamma

    est, se = log_sd_ratio(4e-4, 6, 1e-4, 6)
    assert est == pytest.approx(0.5 * math.log(4.0))          # equal df: no bias term
    assert se == pytest.approx(0.5 * math.sqrt(2 * polygamma(1, 3)))
    # unequal df: unbiased for the log sd ratio (Monte Carlo over chi-square variances)
    rng = np.random.default_rng(0)
    var_a = rng.chisquare(2, 100000) / 2 * 4.0      # sigma_a^2 = 4, 2 df
    var_b = rng.chisquare(10, 100000) / 10          # sigma_b^2 = 1, 10 df
    ests = [log_sd_ratio(a, 2, b, 10)[0] for a, b in zip(var_a[:8000], var_b[:8000])]
    assert np.mean(ests) == pytest.approx(math.log(2.0), abs=0.02)
    assert np.std(ests) == pytest.approx(log_sd_ratio(1, 2, 1, 10)[1], rel=0.05)


def test_binomial_floor_and_a_floored_corrected_t():
    # A and B disagree on at least |d| of the clips: var >= |d| (1 - |d|) / n
    assert binomial_floor([0.1, -0.1], [10, 10]) == pytest.approx(0.09 / 10)
    assert binomial_floor([0.0, 0.0], [10, 10]) == 0.0
    out = corrected_ttest([0.1, 0.1001], 1.0, level=0.95, var_floor=0.009)
    assert out["floored"] and out["se"] == pytest.approx(math.sqrt((1 / 2 + 1) * 0.009))


def test_sd_ratio_test_against_the_f_distribution():
    out = sd_ratio_test(4e-4, 8, 1e-4, 8, level=0.95, rope=1.25)
    assert out["ratio"] == pytest.approx(2.0)
    assert out["p"] == pytest.approx(2 * stats.f.sf(4.0, 8, 8))
    assert out["ci_low"] == pytest.approx(math.sqrt(4.0 / stats.f.ppf(0.975, 8, 8)))
    assert out["p_b"] > out["p_a"] and out["p_a"] + out["p_rope"] + out["p_b"] == pytest.approx(1)
    assert math.isnan(sd_ratio_test(4e-4, 0, 1e-4, 8, level=0.95, rope=1.25)["p"])
