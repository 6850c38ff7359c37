"""Spread statistics over seeds x folds, and paired tests between matched runs.

- ``bootstrap_ci``: percentile bootstrap of the mean. The generator is re-seeded for every
  group (``numpy.random.default_rng(seed)``), so a group's interval does not depend on which
  other groups are in the table.
- ``corrected_ttest``: Nadeau & Bengio's (2003) corrected resampled t-test over the fold-level
  differences of two arms. CV folds share most of their training data, so the fold differences
  are positively correlated and the plain t-test's variance s^2 / J is too small; the corrected
  variance is (1 / J + n_test / n_train) s^2, with the ratio taken from the actual folds.
- ``correlated_posterior``: Benavoli et al.'s (JMLR 2017) Bayesian correlated t-test, the
  Student posterior of the mean difference with that same variance, as ``baycomp`` computes it;
  returns P(A better), P(within the ROPE), P(B better).
- ``across_datasets``: datasets are independent units: a paired t-test over the per-dataset
  differences (uncorrected), the Wilcoxon signed-rank p (Demsar 2006) for the record, and
  ``baycomp``'s Bayesian signed-rank test for the three probabilities.
- ``sd_ratio_test``: is one arm's seed-to-seed spread larger? F test of pooled within-fold seed
  variances, and the posterior of the ratio under Jeffreys priors.
- ``adjust_pvalues``: Holm or Benjamini-Hochberg over one family (``statsmodels``).
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


def _clean(values: Sequence[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def corrected_ttest(diffs: Sequence[float], ratio: float, *, level: float) -> dict[str, float]:
    """Corrected resampled t over J fold-level differences (one value per fold, seeds averaged).

    ratio: n_test / n_train of the folds (0 = independent units: the ordinary one-sample t).
    Returns n, mean, sd, se (corrected), t, df = J - 1, two-sided p and the ``level`` interval
    mean +- t_{df} se. NaN where J < 2; zero spread gives p = 0 (or 1 for a zero mean).
    """
    from scipy import stats

    d = _clean(diffs)
    n = int(d.size)
    out = {"n": n, "mean": float(d.mean()) if n else math.nan, "sd": math.nan, "se": math.nan,
           "t": math.nan, "df": float(n - 1) if n else math.nan, "p": math.nan,
           "ci_low": math.nan, "ci_high": math.nan}
    if n < 2:
        return out
    sd = float(d.std(ddof=1))
    if sd <= 1e-12 * max(1.0, abs(out["mean"])):
        sd = 0.0  # constant differences (up to rounding)
    se = math.sqrt((1.0 / n + ratio) * sd * sd)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se
    out.update(sd=sd, se=se, ci_low=out["mean"] - half, ci_high=out["mean"] + half)
    if se == 0.0:
        out.update(t=math.copysign(math.inf, out["mean"]) if out["mean"] else 0.0,
                   p=0.0 if out["mean"] else 1.0)
    else:
        out["t"] = out["mean"] / se
        out["p"] = float(2 * stats.t.sf(abs(out["t"]), n - 1))
    return out


def correlated_posterior(mean: float, se: float, df: float, rope: float) -> tuple[float, float, float]:
    """(P(A better), P(equivalent), P(B better)) of the Bayesian correlated t-test: baycomp's
    Student posterior of the difference a - b with scale ``se`` (the corrected standard error
    of ``corrected_ttest``) and ``df`` degrees of freedom; "better" means by more than ``rope``."""
    from baycomp.single import Posterior

    if math.isnan(se) or df < 1:
        return (math.nan, math.nan, math.nan)
    # baycomp's (p_left, p_rope, p_right) are P(a - b < -rope), ..., P(a - b > rope)
    p_left, p_rope, p_right = Posterior(mean, se * se, df, rope).probs()
    return (float(p_right), float(p_rope), float(p_left))


def across_datasets(a: Sequence[float], b: Sequence[float], *, rope: float, level: float,
                    seed: int, samples: int = 20000) -> dict[str, float]:
    """Datasets as the paired unit (one mean score per dataset and arm): the uncorrected t over
    the differences (``corrected_ttest`` with ratio 0), the exact Wilcoxon signed-rank p, and
    baycomp's Bayesian signed-rank test (seeded Monte Carlo) for the three probabilities."""
    from baycomp import SignedRankTest
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = corrected_ttest(a - b, 0.0, level=level)
    out.update(p_wilcoxon=math.nan, p_a=math.nan, p_rope=math.nan, p_b=math.nan)
    if out["n"] < 2:
        return out
    diff = a - b
    if np.allclose(diff, 0.0, rtol=0.0, atol=1e-12):
        out["p_wilcoxon"] = 1.0
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns on ties / tiny n
            out["p_wilcoxon"] = float(stats.wilcoxon(diff, zero_method="wilcox").pvalue)
    # baycomp: p_left = P(first argument better)
    p_a, p_rope, p_b = SignedRankTest.probs(a, b, rope=rope, nsamples=samples, random_state=seed)
    out.update(p_a=float(p_a), p_rope=float(p_rope), p_b=float(p_b))
    return out


def sd_ratio_test(var_a: float, df_a: float, var_b: float, df_b: float, *, level: float,
                  rope: float) -> dict[str, float]:
    """Seed spread of arm A vs arm B: effect = sd_A / sd_B of pooled within-fold seed variances
    with df_a / df_b degrees of freedom. Two-sided F-test p, the ``level`` interval of the ratio,
    and (Jeffreys priors: sigma^2 ~ df s^2 / chi2_df) P(sd_A < sd_B / rope) = "A better"
    (steadier), P(within a factor ``rope``), P(sd_A > sd_B * rope) = "B better"."""
    from scipy import stats

    nan = {"ratio": math.nan, "p": math.nan, "ci_low": math.nan, "ci_high": math.nan,
           "p_a": math.nan, "p_rope": math.nan, "p_b": math.nan}
    if not (df_a >= 1 and df_b >= 1 and var_a >= 0 and var_b > 0):
        return nan
    f = var_a / var_b
    tail = (1 - level) / 2
    p = 2 * min(stats.f.cdf(f, df_a, df_b), stats.f.sf(f, df_a, df_b))
    low = math.sqrt(f / stats.f.ppf(1 - tail, df_a, df_b))
    high = math.sqrt(f / stats.f.ppf(tail, df_a, df_b))
    # posterior var ratio rho = f / F', F' ~ F(df_a, df_b)
    p_a = float(stats.f.sf(f * rope ** 2, df_a, df_b))   # rho < 1 / rope^2
    p_b = float(stats.f.cdf(f / rope ** 2, df_a, df_b))  # rho > rope^2
    return {"ratio": math.sqrt(f), "p": float(min(1.0, p)), "ci_low": low, "ci_high": high,
            "p_a": p_a, "p_rope": 1.0 - p_a - p_b, "p_b": p_b}


def adjust_pvalues(pvalues: Sequence[float], method: str) -> np.ndarray:
    """Holm (``holm``) or Benjamini-Hochberg (``bh``) adjusted p-values of one family; NaNs
    (untestable rows) stay NaN and do not count as tests."""
    from statsmodels.stats.multitest import multipletests

    methods = {"holm": "holm", "bh": "fdr_bh"}
    if method not in methods:
        raise ValueError(f"unknown p-value adjustment {method!r}; use 'holm' or 'bh'")
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, math.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method=methods[method])[1]
    return out
