"""Seed-spread rows of verdicts.csv: is one arm's seed-to-seed standard deviation larger?

Seeds are compared within (dataset, configuration, fold) cells where both arms have at least 2
seeds, A's and B's seed variances from the same cells. Within one dataset the cells' pooled
variances give an F test (``stats.sd_ratio_test``); across datasets each dataset's log sd ratio
and its standard error (``stats.log_sd_ratio``) go into the same random-effects meta-analysis
as the difference rows, never one pooled population, and decide only from at least 3 datasets.
The verdict is read off the interval at the family level like every other row (A better =
steadier: the interval of sd_A / sd_B lies below 1 / ``sd_ratio_rope``).
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ferstudy.evaluate.decision import MIN_DATASETS, family_level, read_interval, reason, t_bounds
from ferstudy.evaluate.stats import (MODEL_RE, correlated_posterior, log_sd_ratio, random_effects,
                                     sd_ratio_test)

MODEL_SPREAD_F = "F test of seed variances over (configuration, fold) cells"


def spread_row(folds: pd.DataFrame, settings: Mapping) -> dict:
    """Seed spread of A vs B from (configuration, fold) cells where both arms have >= 2 seeds:
    within one dataset the F test of the cells' pooled seed variances; across datasets a
    random-effects meta-analysis of the per-dataset log sd ratios. ``bounds(level)`` gives
    the row's interval at a family level."""
    cells = folds[(folds["n_seeds"] >= 2) & folds["seed_var_a"].notna() & folds["seed_var_b"].notna()]
    per = {}
    for d, part in cells.groupby("scope_dataset", sort=True):
        df = float((part["n_seeds"] - 1).sum())
        per[d] = (float(((part["n_seeds"] - 1) * part["seed_var_a"]).sum() / df), df,
                  float(((part["n_seeds"] - 1) * part["seed_var_b"]).sum() / df), df)
    rope = settings["sd_ratio_rope"]
    base = {"unit": "seed", "n_units": int(folds["n_seeds"].min()),
            "n_datasets": int(folds["scope_dataset"].nunique()),
            "n_folds": int(folds["fold"].nunique()), "n_seeds": int(folds["n_seeds"].min()),
            "fold_sd_a": math.nan, "fold_sd_b": math.nan, "mean_a": float(folds["score_a"].mean()),
            "mean_b": float(folds["score_b"].mean()), "power_model": ("none", math.nan, math.nan),
            "seed_sd_a": math.sqrt(np.mean([p[0] for p in per.values()])) if per else math.nan,
            "seed_sd_b": math.sqrt(np.mean([p[2] for p in per.values()])) if per else math.nan}
    degenerate = [d for d, p in per.items() if not (p[0] > 0 and p[2] > 0)]
    if not per:
        return {**base, "model": MODEL_SPREAD_F, "effect": math.nan, "p_value": math.nan,
                "why_not": "no configuration x fold cell with 2 seeds of both arms"}
    if folds["scope_dataset"].nunique() == 1:
        var_a, df_a, var_b, df_b = next(iter(per.values()))
        s = sd_ratio_test(var_a, df_a, var_b, df_b, level=settings["ci_level"], rope=rope)
        why = "a zero seed variance: no ratio" if degenerate else ""
        return {**base, "model": MODEL_SPREAD_F, "effect": s["ratio"], "why_not": why,
                "p_value": s["p"], "p_a_better": s["p_a"], "p_equivalent": s["p_rope"],
                "p_b_better": s["p_b"],
                "bounds": lambda lv: _f_bounds(var_a, df_a, var_b, df_b, lv, rope)}
    logs = {d: log_sd_ratio(*p) for d, p in per.items() if d not in degenerate}
    m = random_effects([e for e, _ in logs.values()], [se ** 2 for _, se in logs.values()],
                       level=settings["ci_level"])
    k = len(logs)
    why = "" if k >= MIN_DATASETS else f"{k} dataset{'s' * (k != 1)}: see per-dataset rows"
    probs = (correlated_posterior(-m["effect"], m["se"], m["df"], math.log(rope))
             if not why and m["se"] > 0 else (math.nan,) * 3)
    return {**base, "unit": "dataset", "n_units": k, "model": MODEL_RE + " of log sd ratios",
            "effect": math.exp(m["effect"]) if k > 1 else math.nan, "why_not": why,
            "tau2": m["tau2"], "i2": m["i2"], "p_value": m["p"], "p_a_better": probs[0],
            "p_equivalent": probs[1], "p_b_better": probs[2],
            "bounds": lambda lv: tuple(np.exp(t_bounds(m["effect"], m["se"], m["df"], lv)))}


def _f_bounds(var_a, df_a, var_b, df_b, level, rope) -> tuple[float, float]:
    s = sd_ratio_test(var_a, df_a, var_b, df_b, level=level, rope=rope)
    return s["ci_low"], s["ci_high"]


def decide_spread_family(table: pd.DataFrame, settings: Mapping) -> pd.DataFrame:
    """The rule on the sd-ratio scale: A (steadier) better iff the interval lies below 1 / r."""
    table = table.copy()
    ok = (table["why_not"] == "").to_numpy()
    level = float(family_level(int(ok.sum()), settings["alpha"]))
    r = settings["sd_ratio_rope"]
    lows, highs, words, reasons = [], [], [], []
    for row, good in zip(table.itertuples(), ok):
        low, high = row.bounds(level) if good else (math.nan, math.nan)
        # A's advantage = sd_B / sd_A, the interval (1 / high, 1 / low); ROPE (1 / r, r)
        word = read_interval(1 / high, 1 / low, rope=(1 / r, r)) if good else "undecided"
        lows.append(low)
        highs.append(high)
        words.append(word)
        reasons.append(reason(word, level, 1 / high, 1 / low, zero=1.0) if good else row.why_not)
    return table.assign(ci_low=lows, ci_high=highs, ci_level=np.where(ok, level, np.nan),
                        verdict=words, reason=reasons, p_adjusted=math.nan)
