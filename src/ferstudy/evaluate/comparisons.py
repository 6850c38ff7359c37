"""The study's questions as paired comparisons, one row per configuration, folds as the unit.

Every question pairs two arms that differ in exactly one thing and agree on everything else,
including the seed and the test fold:

- ``ft_vs_ri``: init ft vs ri;  ``da_vs_none`` / ``sd_vs_none`` / ``dasd_vs_none``: augment
  da / sd / da+sd vs none;  ``method_vs_supervised``: every other method vs supervised.
- ``merged_vs_single``: a run on ``merged-a+b`` scored on member a's test fold vs the run on
  ``a`` alone scored on the same fold (kind ``member`` vs ``in``); and on a held-out dataset c,
  merged (``lodo``) vs each member alone (``cross``).
- ``in_vs_cross``: per run, in-dataset score vs its mean score on foreign datasets (kinds
  ``cross`` and ``lodo`` only: ``seen``, ``overlap`` and any other kind are excluded, since
  those test sets are not unseen domains).

Seeds share a fold's test set, so they are averaged within each fold first; the paired unit is
the fold, tested with the corrected resampled t (``stats.corrected_ttest``, n_test / n_train
of the actual folds, the fold variance floored at the test-set sampling bound
``stats.binomial_floor``) and the Bayesian correlated t-test (probabilities for the record),
p-values adjusted within each question (Holm or BH, for the record). Each row gets its
interval at the family level (family = the question's rows of one metric, Bonferroni) and the
verdict read off it (``decision``); one fold, or every fold giving the same difference, is
``undecided`` with no interval.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ferstudy.config import dataset_members
from ferstudy.evaluate.decision import family_decisions, fold_can_decide, reason
from ferstudy.evaluate.overlap import fair_tests
from ferstudy.evaluate.runs import CONFIG_AXES
from ferstudy.evaluate.stats import (adjust_pvalues, binomial_floor, correlated_posterior,
                                    corrected_ttest)

QUESTIONS = ("ft_vs_ri", "da_vs_none", "sd_vs_none", "dasd_vs_none", "method_vs_supervised",
             "merged_vs_single", "in_vs_cross")
FACTORS = {"ft_vs_ri": ("init", "ft", "ri"), "da_vs_none": ("augment", "da", "none"),
           "sd_vs_none": ("augment", "sd", "none"), "dasd_vs_none": ("augment", "da+sd", "none")}
CROSS_KINDS = ("cross", "lodo")  # unseen foreign test sets; every other kind is excluded
LABEL_COLUMNS = ("question", "metric", *CONFIG_AXES, "test_set", "kind", "factor", "a", "b")
PAIR_KEYS = ("seed", "fold")
STAT_COLUMNS = ("folds", "n_folds", "n_seeds", "mean_a", "mean_b", "mean_diff", "diff_ci_low",
                "diff_ci_high", "ci_level", "se", "df", "t", "p_value", "p_adjusted", "p_a_better",
                "p_equivalent", "p_b_better", "verdict", "reason", "seed_sd_a", "seed_sd_b",
                "fold_sd_a", "fold_sd_b", "test_train_ratio")


def with_test_train_ratio(runs: pd.DataFrame) -> pd.DataFrame:
    """Add ``nb_ratio`` = n_test / n_train of each run's own split (its ``in`` row), the
    Nadeau-Bengio correction term; ``n_train`` comes from the run's metrics.json."""
    if "n_train" not in runs.columns:
        raise ValueError("the runs table has no n_train column (training clips per run, from "
                         "metrics.json); rerun gather_results")
    own = runs[runs["kind"] == "in"].set_index("run")
    ratio = (own["n_test"] / own["n_train"]).replace([np.inf], np.nan)
    return runs.assign(nb_ratio=runs["run"].map(ratio))


def _arm(frame: pd.DataFrame, keys: list[str], metric: str, side: str) -> pd.DataFrame:
    return frame[[*keys, metric, "nb_ratio", "n_test"]].rename(
        columns={metric: f"value_{side}", "nb_ratio": f"ratio_{side}", "n_test": f"n_test_{side}"})


def _finish(pairs: pd.DataFrame) -> pd.DataFrame:
    """One ratio per pair: the larger (more conservative) of the two arms'; one test size:
    the smaller."""
    pairs["ratio"] = pairs[["ratio_a", "ratio_b"]].max(axis=1)
    pairs["n_test"] = pairs[["n_test_a", "n_test_b"]].min(axis=1)
    return pairs.drop(columns=["ratio_a", "ratio_b", "n_test_a", "n_test_b"])


def pair_factor(runs: pd.DataFrame, axis: str, a: str, b: str, metric: str) -> pd.DataFrame:
    """Rows matched on every axis but ``axis`` (seed and fold included): value_a, value_b."""
    keys = [c for c in (*CONFIG_AXES, "test_set", "kind", *PAIR_KEYS) if c != axis]
    left = _arm(runs[runs[axis] == a], keys, metric, "a")
    pairs = left.merge(_arm(runs[runs[axis] == b], keys, metric, "b"), on=keys, how="inner")
    pairs[axis] = f"{a} vs {b}"
    pairs["factor"], pairs["a"], pairs["b"] = axis, a, b
    return _finish(pairs)


def pair_merged(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Merged runs vs each member alone, on the member's fold and on held-out datasets."""
    same = [c for c in CONFIG_AXES if c != "dataset"] + list(PAIR_KEYS)
    merged = runs[runs["kind"].isin(["member", "lodo"])].copy()
    if merged.empty:
        return pd.DataFrame()
    merged["single"] = merged["dataset"].map(dataset_members)
    merged = merged.explode("single")
    # on a member's fold, compare with that member only; held-out sets: with every member
    merged = merged[(merged["kind"] == "lodo") | (merged["single"] == merged["test_set"])]
    merged["single_kind"] = merged["kind"].map({"member": "in", "lodo": "cross"})
    left = _arm(merged, [*same, "dataset", "single", "test_set", "kind", "single_kind"], metric, "a")
    right = _arm(runs, [*same, "dataset", "test_set", "kind"], metric, "b").rename(
        columns={"dataset": "single", "kind": "single_kind"})
    pairs = left.merge(right, on=[*same, "single", "test_set", "single_kind"], how="inner")
    pairs["factor"], pairs["a"], pairs["b"] = "dataset", pairs["dataset"], pairs["single"]
    return _finish(pairs.drop(columns=["single", "single_kind"]))


def pair_in_cross(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per run: in-dataset score (a) vs mean score over its unseen foreign test sets (b)."""
    keys = [*CONFIG_AXES, *PAIR_KEYS]
    own = _arm(runs[runs["kind"] == "in"], keys, metric, "a")
    foreign = runs[runs["kind"].isin(CROSS_KINDS)].groupby(keys, as_index=False)[metric].mean()
    pairs = own.merge(foreign.rename(columns={metric: "value_b"}), on=keys, how="inner")
    pairs["ratio_b"], pairs["n_test_b"] = pairs["ratio_a"], pairs["n_test_a"]
    pairs["test_set"], pairs["kind"] = "foreign (mean)", "cross"
    pairs["factor"], pairs["a"], pairs["b"] = "test_set", "in-dataset", "cross-dataset"
    return _finish(pairs)


def pairs_for(question: str, runs: pd.DataFrame, metric: str) -> list[pd.DataFrame]:
    if question in FACTORS:
        return [pair_factor(runs, *FACTORS[question], metric)]
    if question == "method_vs_supervised":
        return [pair_factor(runs, "method", m, "supervised", metric)
                for m in sorted(runs["method"].unique()) if m != "supervised"]
    if question == "merged_vs_single":
        return [pair_merged(runs, metric)]
    if question == "in_vs_cross":
        return [pair_in_cross(runs, metric)]
    raise ValueError(f"unknown comparison {question!r}; known: {', '.join(QUESTIONS)}")


def seed_averaged(pairs: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """One row per ``keys`` x fold: arms averaged over seeds (``score_a``, ``score_b``, ``ratio``,
    ``n_test``), the
    number of seeds, and the within-fold seed variances of a, b and a - b (NaN for one seed)."""
    frame = pairs.assign(diff=pairs["value_a"] - pairs["value_b"]).dropna(
        subset=["value_a", "value_b"])
    grouped = frame.groupby([*keys, "fold"], sort=True, dropna=False)
    out = grouped.agg(score_a=("value_a", "mean"), score_b=("value_b", "mean"), ratio=("ratio", "mean"),
                      n_test=("n_test", "mean"), n_seeds=("seed", "nunique"), seed_var_a=("value_a", "var"),
                      seed_var_b=("value_b", "var"), seed_var_d=("diff", "var"))
    return out.reset_index()


def pooled_sd(variances: pd.Series) -> float:
    """sqrt of the mean within-fold variance (NaN when no fold has 2 seeds)."""
    v = variances.dropna()
    return float(np.sqrt(v.mean())) if len(v) else float("nan")


def fold_stats(folds: pd.DataFrame, settings: Mapping) -> dict:
    """Statistics of one comparison from its fold-level rows (columns of ``seed_averaged``):
    corrected t over the fold differences (variance floored at ``binomial_floor``), posterior
    probabilities, variance components; ``why_not`` says why the row cannot decide ("" when
    it can). The interval and verdict come later, at the family level (``decide_family``)."""
    diffs = (folds["score_a"] - folds["score_b"]).to_numpy()
    ratio = float(folds["ratio"].mean()) if folds["ratio"].notna().any() else float("nan")
    if np.isnan(ratio):
        raise ValueError("no n_test / n_train ratio for a compared run (metrics.json lacks "
                         "n_train?); rerun its train job")
    floor = binomial_floor(diffs, folds["n_test"])
    t = corrected_ttest(diffs, ratio, level=settings["ci_level"], var_floor=floor)
    why_not = ""
    if t["n"] < 2:
        why_not = f"n = {t['n']} fold: one split cannot decide"
    elif not fold_can_decide(t["n"], t["sd"]):
        why_not = "every fold gives the same difference: no spread to estimate the error from"
    p_a, p_rope, p_b = (correlated_posterior(t["mean"], t["se"], t["df"], settings["rope"] / 100)
                        if not why_not else (np.nan, np.nan, np.nan))
    return {"folds": ";".join(map(str, sorted(folds["fold"].unique()))),
            "n_folds": t["n"], "n_seeds": int(folds["n_seeds"].min()),
            "mean_a": float(folds["score_a"].mean()), "mean_b": float(folds["score_b"].mean()),
            "mean_diff": t["mean"], "se": t["se"], "df": t["df"], "t": t["t"], "p_value": t["p"],
            "p_a_better": p_a, "p_equivalent": p_rope, "p_b_better": p_b,
            "seed_sd_a": pooled_sd(folds["seed_var_a"]), "seed_sd_b": pooled_sd(folds["seed_var_b"]),
            "seed_sd_diff": pooled_sd(folds["seed_var_d"]),
            "fold_sd_a": float(folds["score_a"].std(ddof=1)),
            "fold_sd_b": float(folds["score_b"].std(ddof=1)),
            "fold_sd_diff": float(np.std(diffs, ddof=1)) if len(diffs) > 1 else float("nan"),
            "test_train_ratio": ratio, "floored": t["floored"], "var_floor": floor,
            "why_not": why_not}


def decide_family(rows: pd.DataFrame, settings: Mapping, *, effect: str = "mean_diff",
                  low: str = "diff_ci_low", high: str = "diff_ci_high") -> pd.DataFrame:
    """One family of difference rows (``effect``, ``se``, ``df``, ``why_not``): p adjusted
    (Holm / BH, for the record), the interval at the family level (``low``, ``high``,
    ``ci_level``) and the verdict read off it, with its reason (``evaluate.decision``)."""
    rows = rows.copy()
    rows["p_adjusted"] = adjust_pvalues(rows["p_value"], settings["adjust"])
    ok = (rows["why_not"] == "").to_numpy()
    level, lows, highs, words = family_decisions(
        rows[effect].to_numpy(float), rows["se"].to_numpy(float), rows["df"].to_numpy(float),
        ok, alpha=settings["alpha"], rope=settings["rope"] / 100)
    rows[low], rows[high], rows["ci_level"] = lows, highs, np.where(ok, level, np.nan)
    rows["verdict"] = words
    reasons = []
    for r, good, lo, hi, word in zip(rows.itertuples(), ok, lows, highs, words):
        if not good:
            reasons.append(r.why_not)
            continue
        why = reason(word, float(level), lo, hi)
        flag = getattr(r, "floored", False)
        if isinstance(flag, (bool, np.bool_)) and flag:
            why += " (fold sd floored at the test-set sampling bound)"
        note = getattr(r, "note", "")
        reasons.append(f"{why}; {note}" if isinstance(note, str) and note else why)
    rows["reason"] = reasons
    return rows


def compare(runs: pd.DataFrame, *, questions: Sequence[str], metrics: Sequence[str],
            settings: Mapping) -> pd.DataFrame:
    """The comparisons table (empty, with its columns, when no arms match).

    settings: ``ci_level`` and the ``evaluate.stats`` keys (rope, adjust, alpha)."""
    runs = with_test_train_ratio(fair_tests(runs))   # no test on people or labels the model met
    group_cols = [c for c in LABEL_COLUMNS if c not in ("question", "metric")]
    tables = []
    for question in questions:
        for metric in metrics:
            rows = []
            for pairs in pairs_for(question, runs, metric):
                if pairs.empty:
                    continue
                for key, folds in seed_averaged(pairs, group_cols).groupby(group_cols, sort=True):
                    rows.append({"question": question, "metric": metric,
                                 **dict(zip(group_cols, key)), **fold_stats(folds, settings)})
            if rows:
                tables.append(decide_family(pd.DataFrame(rows), settings))
    columns = [*LABEL_COLUMNS, *STAT_COLUMNS]
    if not tables:
        return pd.DataFrame(columns=columns)
    table = pd.concat(tables, ignore_index=True).drop(columns=["why_not", "floored", "var_floor"])
    return table[[*columns, *[c for c in table.columns if c not in columns]]]
