"""Spread statistics over seeds x folds, and paired tests between matched runs.

- ``bootstrap_ci``: percentile bootstrap of the mean. The generator is re-seeded for every
  group (``numpy.random.default_rng(seed)``), so a group's interval does not depend on which
  other groups are in the table.
- ``paired_stats``: difference a - b over matched pairs (same seed and fold), its mean,
  bootstrap CI, paired Cohen's d (d_z = mean / sd of the differences) and a paired test:
  the Wilcoxon signed-rank test (exact for small n, no normality assumption) or the paired
  t-test, as configured.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np


def bootstrap_ci(values: Sequence[float], *, resamples: int, level: float, seed: int) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of ``values`` (NaN when fewer than 2 values)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return (float(low), float(high))


def describe(values: Sequence[float], *, resamples: int, level: float, seed: int) -> dict[str, float]:
    """n, mean, sample std (ddof=1) and bootstrap CI of the mean."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    low, high = bootstrap_ci(x, resamples=resamples, level=level, seed=seed)
    return {"n": int(x.size), "mean": float(x.mean()) if x.size else math.nan,
            "std": float(x.std(ddof=1)) if x.size > 1 else math.nan,
            "ci_low": low, "ci_high": high}


def cohens_dz(diff: np.ndarray) -> float:
    """Paired effect size: mean difference over the sd of the differences."""
    if diff.size < 2:
        return math.nan
    sd = diff.std(ddof=1)
    if sd <= 1e-12 * max(1.0, abs(diff.mean())):  # constant differences (up to rounding)
        return 0.0 if diff.mean() == 0 else math.copysign(math.inf, diff.mean())
    return float(diff.mean() / sd)


def paired_test(a: np.ndarray, b: np.ndarray, test: str) -> tuple[float, float]:
    """(statistic, two-sided p) of ``wilcoxon`` or ``ttest`` on pairs; NaN when n < 2.

    All-zero differences give p = 1 (no evidence of any difference).
    """
    from scipy import stats

    diff = a - b
    if diff.size < 2:
        return (math.nan, math.nan)
    if np.allclose(diff, 0.0, rtol=0.0, atol=1e-12):
        return (0.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on ties / tiny n; the p-value says it all
        if test == "wilcoxon":
            res = stats.wilcoxon(a, b, zero_method="wilcox", alternative="two-sided")
        elif test == "ttest":
            res = stats.ttest_rel(a, b)
        else:
            raise ValueError(f"unknown paired test {test!r}; use 'wilcoxon' or 'ttest'")
    return (float(res.statistic), float(res.pvalue))


def paired_stats(a: Sequence[float], b: Sequence[float], *, test: str, resamples: int,
                 level: float, seed: int, alpha: float) -> dict[str, float | bool | int]:
    """Everything a comparison row reports for matched samples ``a[i] <-> b[i]``.

    ``exceeds_spread``: |mean difference| is larger than the seed x fold standard deviation of
    both arms, i.e. the effect is bigger than the run-to-run variation a single run shows.
    ``significant``: the paired test's p < alpha.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    diff = a - b
    low, high = bootstrap_ci(diff, resamples=resamples, level=level, seed=seed)
    statistic, p = paired_test(a, b, test)
    std_a = float(a.std(ddof=1)) if a.size > 1 else math.nan
    std_b = float(b.std(ddof=1)) if b.size > 1 else math.nan
    mean_diff = float(diff.mean()) if diff.size else math.nan
    spread = max(std_a, std_b) if a.size > 1 else math.nan
    return {
        "n_pairs": int(diff.size),
        "mean_a": float(a.mean()) if a.size else math.nan, "std_a": std_a,
        "mean_b": float(b.mean()) if b.size else math.nan, "std_b": std_b,
        "mean_diff": mean_diff, "diff_ci_low": low, "diff_ci_high": high,
        "cohens_dz": cohens_dz(diff), "test": test, "statistic": statistic, "p_value": p,
        "significant": bool(p < alpha) if not math.isnan(p) else False,
        "exceeds_spread": bool(abs(mean_diff) > spread) if not math.isnan(spread) else False,
    }
