"""How many folds x seeds (or datasets) a comparison needs to decide a given difference.

For an ``undecided`` row: if the true difference a - b were ``delta`` (percentage points, the
``evaluate.stats.power_difference`` setting), how likely is the verdict rule to say ``A better``?
The rule needs P(a - b > rope) >= ``decide`` under the Student posterior, i.e.
(mean - rope) / se >= t_{decide, df}; with the estimate's noise that statistic follows a
noncentral t with df = J - 1 and noncentrality (delta - rope) / se (analytic; multiplicity
ignored, so a lower bound on what is needed).

Fold-level rows: the variance of a fold difference is split into a fold component and a seed
component (``seed_var`` / seeds); J folds of a J-fold CV give the corrected variance
(1 / J + 1 / (J - 1)) (fold_var + seed_var / S) (n_test / n_train = 1 / (J - 1) in J-fold CV).
Dataset-level rows: datasets are independent, se^2 = dataset_var / n.
"""
from __future__ import annotations

import math

MAX_FOLDS, MAX_SEEDS, MAX_DATASETS = 30, 10, 50


def decision_power(se: float, df: int, *, delta: float, rope: float, decide: float) -> float:
    """P(the rule decides ``A better``) when the true difference is ``delta``."""
    from scipy import stats

    if delta <= rope:
        return 0.0
    if se == 0:
        return 1.0
    return float(stats.nct.sf(stats.t.ppf(decide, df), df, (delta - rope) / se))


def folds_seeds_needed(fold_var: float, seed_var: float, *, delta: float, rope: float,
                       decide: float, power: float) -> tuple[int, int] | None:
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
                              decide=decide) >= power:
                best = (folds, s)
                break
    return best


def datasets_needed(dataset_var: float, *, delta: float, rope: float, decide: float,
                    power: float) -> int | None:
    """The fewest datasets whose power reaches ``power``; None beyond 50."""
    for n in range(2, MAX_DATASETS + 1):
        if decision_power(math.sqrt(dataset_var / n), n - 1, delta=delta, rope=rope,
                          decide=decide) >= power:
            return n
    return None


def detectable_difference(se: float, df: int, *, rope: float, decide: float,
                          power: float) -> float:
    """The smallest true difference the rule decides (``A better``) with probability ``power``
    at the observed standard error ``se`` and ``df``: what the data at hand can resolve."""
    from scipy import optimize, stats

    if math.isnan(se) or df < 1:
        return math.nan
    if se == 0:
        return rope
    t_crit = stats.t.ppf(decide, df)
    ncp = optimize.brentq(lambda c: stats.nct.sf(t_crit, df, c) - power, 0.0, 1e3)
    return rope + ncp * se
