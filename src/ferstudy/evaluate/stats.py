"""Spread statistics over seeds x folds, and paired tests between matched runs.

- ``bootstrap_ci``: percentile bootstrap of the mean. The generator is re-seeded for every
  group (``numpy.random.default_rng(seed)``), so a group's interval does not depend on which
  other groups are in the table. ``summary.csv`` resamples seed-averaged folds, not runs.
- ``corrected_ttest``: Nadeau & Bengio's (2003) corrected resampled t-test over the fold-level
  differences of two arms. CV folds share most of their training data, so the fold differences
  are positively correlated and the plain t-test's variance s^2 / J is too small; the corrected
  variance is (1 / J + n_test / n_train) s^2, with the ratio taken from the actual folds.
  ``binomial_floor``: s^2 is never taken below the test-set sampling variance of a paired
  difference (two folds at +10 points each do not make a zero-variance certainty).
- ``correlated_posterior``: Benavoli et al.'s (JMLR 2017) Bayesian correlated t-test, the
  Student posterior of the mean difference with that same variance, as ``baycomp`` computes it;
  returns P(A better), P(within the ROPE), P(B better).
- ``random_effects``: datasets are independent units that each know their own precision: a
  random-effects meta-analysis of the per-dataset corrected estimates and their standard errors
  (statsmodels ``combine_effects``: Paule-Mandel tau^2, Hartung-Knapp t-interval with k - 1
  degrees of freedom), with tau^2 and I^2.
- ``sd_ratio_test``: is one arm's seed-to-seed spread larger, within one dataset? F test of
  within-(configuration, fold) seed variances, and the posterior of the ratio under Jeffreys
  priors; ``log_sd_ratio``: the same ratio on the log scale with its standard error, the unit a
  random-effects meta-analysis across datasets combines.
- ``adjust_pvalues``: Holm or Benjamini-Hochberg over one family (``statsmodels``).
"""
from __future__ import annotations

import math
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


def _clean(values: Sequence[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def binomial_floor(diffs, n_test):
    """The smallest variance a fold's paired difference a - b can have from test-set sampling
    alone: A and B disagree on at least |d| of the n_test clips, so the variance of d is at
    least |d| (1 - |d|) / n_test; averaged over the folds (last axis; 0 where n_test is
    unknown). A float for one row of folds, an array for stacked rows."""
    d = np.abs(np.asarray(diffs, dtype=float))
    n = np.broadcast_to(np.asarray(n_test, dtype=float), d.shape)
    ok = (n > 0) & ~np.isnan(d)
    floor = np.where(ok, d * (1 - np.minimum(d, 1.0)) / np.where(ok, n, 1.0), 0.0)
    out = floor.mean(axis=-1) if d.shape[-1] else np.zeros(d.shape[:-1])
    return float(out) if np.ndim(out) == 0 else out


def corrected_se(diffs: np.ndarray, ratio, var_floor=0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised core of ``corrected_ttest`` over the last axis (J folds, no NaNs):
    (mean, corrected se, sd); the variance is floored at ``var_floor``, and a spread that is
    zero up to rounding stays exactly 0 when the floor is 0."""
    d = np.asarray(diffs, dtype=float)
    n = d.shape[-1]
    mean = d.mean(axis=-1)
    sd = d.std(axis=-1, ddof=1) if n > 1 else np.full(mean.shape, np.nan)
    sd = np.where(sd <= 1e-12 * np.maximum(1.0, np.abs(mean)), 0.0, sd)
    var = np.maximum(sd * sd, var_floor)
    return mean, np.sqrt((1.0 / n + np.asarray(ratio, dtype=float)) * var), sd


def corrected_ttest(diffs: Sequence[float], ratio: float, *, level: float,
                    var_floor: float = 0.0) -> dict[str, float]:
    """Corrected resampled t over J fold-level differences (one value per fold, seeds averaged).

    ratio: n_test / n_train of the folds (0 = independent units: the ordinary one-sample t).
    var_floor: the smallest fold variance believed (``binomial_floor``); ``floored`` says
    whether it was used. Returns n, mean, sd, se (corrected), t, df = J - 1, two-sided p and
    the ``level`` interval mean +- t_{df} se. NaN where J < 2; zero spread (and no floor)
    gives p = 0 (or 1 for a zero mean): the verdict rules call such a row undecided.
    """
    from scipy import stats

    d = _clean(diffs)
    n = int(d.size)
    out = {"n": n, "mean": float(d.mean()) if n else math.nan, "sd": math.nan, "se": math.nan,
           "t": math.nan, "df": float(n - 1) if n else math.nan, "p": math.nan,
           "ci_low": math.nan, "ci_high": math.nan, "floored": False}
    if n < 2:
        return out
    _, se, sd = (float(v) for v in corrected_se(d, ratio, var_floor))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se
    out.update(sd=sd, se=se, ci_low=out["mean"] - half, ci_high=out["mean"] + half,
               floored=bool(var_floor > sd * sd))
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


MODEL_RE = "random effects (Paule-Mandel tau^2, Hartung-Knapp t)"


def random_effects(effects: Sequence[float], variances: Sequence[float], *,
                   level: float) -> dict[str, float]:
    """Random-effects meta-analysis of k per-dataset estimates with their variances (se^2):
    statsmodels ``combine_effects(method_re="iterated", use_t=True)``, i.e. Paule-Mandel tau^2
    and the Hartung-Knapp(-Sidik-Jonkman) standard error with a t_{k-1} interval at ``level``.
    Returns k, effect, se, df, ci_low, ci_high, p (two-sided, against 0), tau2 and i2
    (I^2, floored at 0). NaN (but k) with fewer than 2 estimates."""
    from scipy import stats
    from statsmodels.stats.meta_analysis import combine_effects

    y, v = np.asarray(effects, dtype=float), np.asarray(variances, dtype=float)
    k = int(y.size)
    out = {"k": k, "effect": math.nan, "se": math.nan, "df": float(k - 1), "ci_low": math.nan,
           "ci_high": math.nan, "p": math.nan, "tau2": math.nan, "i2": math.nan}
    if k < 2:
        return out
    res = combine_effects(y, v, method_re="iterated", use_t=True)
    low, high = res.conf_int(alpha=1 - level, use_t=True)[3]   # [3]: random effects, HK scale
    se = float(res.sd_eff_w_re_hksj)
    effect = float(res.mean_effect_re)
    p = (float(2 * stats.t.sf(abs(effect) / se, k - 1)) if se > 0 else
         (0.0 if effect else 1.0))
    out.update(effect=effect, se=se, ci_low=float(low), ci_high=float(high), p=p,
               tau2=float(res.tau2), i2=float(max(0.0, res.i2)) if k > 1 else math.nan)
    return out


def log_sd_ratio(var_a: float, df_a: float, var_b: float, df_b: float) -> tuple[float, float]:
    """ln(sd_A / sd_B) from two seed variances (df degrees of freedom each), unbiased for
    unequal df (E ln(s^2 / sigma^2) = digamma(df / 2) - ln(df / 2)), and its standard error
    (var ln s^2 = trigamma(df / 2)): one dataset's estimate for ``random_effects``."""
    from scipy.special import digamma, polygamma

    bias_a = digamma(df_a / 2) - math.log(df_a / 2)
    bias_b = digamma(df_b / 2) - math.log(df_b / 2)
    est = 0.5 * (math.log(var_a) - bias_a - math.log(var_b) + bias_b)
    se = 0.5 * math.sqrt(float(polygamma(1, df_a / 2) + polygamma(1, df_b / 2)))
    return est, se


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
