"""The one rule that turns a row's interval into its verdict word (README "Statistics").

Every decidable row of a question gets the same two-sided interval level, corrected for the
question's family: the family is every row of the question that can decide (in verdicts.csv:
all its scopes; in comparisons.csv: all its configurations of one metric), m rows, and each
row's interval has level 1 - alpha / m (Bonferroni). The verdict is read off that printed
interval, with ``rope`` = the region of practical equivalence (lo, hi):

- ``A better``    iff its lower bound > hi
- ``B better``    iff its upper bound < lo
- ``equivalent``  iff it lies inside [lo, hi]
- ``undecided``   otherwise (the interval reaches into the ROPE, or spans it and beyond)

A row claims "A better" falsely only when its true value lies below its own interval, which
happens with probability at most alpha / (2m); over the family at most alpha / 2 for each
direction, whatever the rows' dependence. ``benchmarks/verdict_calibration.py`` checks the
rule by simulation. Rows that cannot decide (one fold; every fold identical; fewer than 3
independent datasets) are ``undecided`` with their reason, carry no interval and are not
counted in m. The Bayesian probabilities of the tables are reported beside, not used.
"""
from __future__ import annotations

import math

import numpy as np

VERDICTS = ("A better", "B better", "equivalent", "undecided")
NOT_IN_STUDY = "not in this study"
MIN_DATASETS = 3   # no dataset-level verdict from fewer independent datasets


def fold_can_decide(n_folds, sd):
    """A fold-level row can decide with at least 2 folds whose differences are not all the
    same (zero spread leaves nothing to estimate the error from); elementwise."""
    return (np.asarray(n_folds) >= 2) & (np.asarray(sd, dtype=float) > 0)


def family_level(m, alpha: float):
    """Two-sided interval level of each of m rows of a family (Bonferroni): 1 - alpha / m."""
    return 1.0 - alpha / np.maximum(np.asarray(m, dtype=float), 1.0)


def t_bounds(effect, se, df, level):
    """effect -+ t_{df, (1 + level) / 2} se, elementwise (df = inf: the normal quantile)."""
    from scipy import stats

    crit = stats.t.ppf(0.5 + np.asarray(level, dtype=float) / 2, df)
    effect, se = np.asarray(effect, dtype=float), np.asarray(se, dtype=float)
    return effect - crit * se, effect + crit * se


def read_interval(low, high, *, rope: tuple[float, float]):
    """The verdict word(s) of interval(s) [low, high] (module doc); NaN bounds: undecided."""
    lo, hi = rope
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    with np.errstate(invalid="ignore"):
        words = np.select([low > hi, high < lo, (low >= lo) & (high <= hi)],
                          ["A better", "B better", "equivalent"], "undecided")
    return words if words.ndim else str(words)


def family_decisions(effect, se, df, ok, *, alpha: float, rope: float):
    """The rule over families of difference rows (last axis = the rows of one family; any
    leading axes are separate families, e.g. simulated studies): Student intervals
    effect -+ t_{df} se at the family's level. ``ok`` marks the rows that can decide.
    Returns (level, low, high, words), NaN bounds and ``undecided`` where not ok."""
    ok = np.asarray(ok, dtype=bool)
    level = family_level(ok.sum(axis=-1), alpha)
    low, high = t_bounds(effect, np.where(ok, se, np.nan), np.where(ok, df, 1.0),
                         np.expand_dims(level, -1))
    return level, low, high, read_interval(low, high, rope=(-rope, rope))


def reason(word: str, level: float, low: float, high: float, *, zero: float = 0.0) -> str:
    """Why a decided row got its word, naming its interval."""
    name = f"the {100 * level:.4g}% interval"
    if word == "A better":
        return f"{name} lies above the ROPE"
    if word == "B better":
        return f"{name} lies below the ROPE"
    if word == "equivalent":
        return f"{name} lies inside the ROPE"
    if math.isnan(low):
        return "no interval"
    if low > zero or high < zero:
        return f"{name} excludes a zero difference but reaches into the ROPE"
    return f"{name} spans the ROPE and beyond"
