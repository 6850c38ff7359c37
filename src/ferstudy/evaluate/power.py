"""How many folds x seeds (or datasets) a comparison needs to decide a given difference.

For an ``undecided`` row: if the true difference a - b were ``delta`` (percentage points, the
``evaluate.stats.power_difference`` setting), how likely is the row's own rule
(``evaluate.decision``) to say ``A better``? The rule needs the lower bound of the row's
interval, at the row's family level, above the ROPE: (mean - rope) / se > t_{df, (1 + level) / 2};
with the estimate's noise that statistic follows a noncentral t with the row's df and
noncentrality (delta - rope) / se (analytic), the same model as the row's interval:

- fold-level rows (corrected resampled t): the variance of a fold difference is split into a
  fold component and a seed component (``seed_var`` / seeds); J folds of a J-fold CV give the
  corrected variance (1 / J + 1 / (J - 1)) (fold_var + seed_var / S) with J - 1 df;
- dataset-level rows (random effects, Hartung-Knapp): n datasets like the observed ones give
  se^2 = (within_var + tau^2) / n with n - 1 df, and no verdict below 3 datasets.
"""
from __future__ import annotations

import math

from ferstudy.evaluate.decision import MIN_DATASETS

MAX_FOLDS, MAX_SEEDS, MAX_DATASETS = 30, 10, 50


def decision_power(se: float, df: float, *, delta: float, rope: float, level: float) -> float:
    """P(the rule decides ``A better``) when the true difference is ``delta``."""
    from scipy import stats

    if delta <= rope:
        return 0.0
    if se == 0:
        return 1.0
    return float(stats.nct.sf(stats.t.ppf(0.5 + level / 2, df), df, (delta - rope) / se))


def folds_seeds_needed(fold_var: float, seed_var: float, *, delta: float, rope: float,
                       level: float, power: float) -> tuple[int, int] | None:
    """The fewest runs per arm (J folds x S seeds, fewer folds first on a tie) whose power
    reaches ``power``; None when even 30 folds x 10 seeds do not. seed_var NaN (one seed
    observed): all spread is taken as fold spread and S stays 1."""
    seeds = range(1, 2) if math.isnan(seed_var) else range(1, MAX_SEEDS + 1)
    seed_var = 0.0 if math.isnan(seed_var) else seed_var
    best = None
    for folds in range(2, MAX_FOLDS + 1):
        for s in seeds:
            if best is not None and folds * s >= best[0] * best[1]:
                break
            var = (1 / folds + 1 / (folds - 1)) * (fold_var + seed_var / s)
            if decision_power(math.sqrt(var), folds - 1, delta=delta, rope=rope,
                              level=level) >= power:
                best = (folds, s)
                break
    return best


def datasets_needed(within_var: float, tau2: float, *, delta: float, rope: float, level: float,
                    power: float) -> int | None:
    """The fewest datasets (at least 3) whose random-effects power reaches ``power``, each
    with the estimate variance ``within_var`` and between-dataset variance ``tau2``; None
    beyond 50."""
    for n in range(MIN_DATASETS, MAX_DATASETS + 1):
        if decision_power(math.sqrt((within_var + tau2) / n), n - 1, delta=delta, rope=rope,
                          level=level) >= power:
            return n
    return None


def detectable_difference(se: float, df: float, *, rope: float, level: float,
                          power: float) -> float:
    """The smallest true difference the rule decides (``A better``) with probability ``power``
    at the observed standard error ``se`` and ``df``: what the data at hand can resolve."""
    from scipy import optimize, stats

    if math.isnan(se) or not df >= 1:
        return math.nan
    if se == 0:
        return rope
    t_crit = stats.t.ppf(0.5 + level / 2, df)
    ncp = optimize.brentq(lambda c: stats.nct.sf(t_crit, df, c) - power, 0.0, 1e3)
    return rope + ncp * se
