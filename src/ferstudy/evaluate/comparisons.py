"""The study's questions as paired comparisons over matched seeds and folds.

Every question pairs two arms that differ in exactly one thing and agree on everything else,
including the seed and the test fold, so that run-to-run noise shared by both arms cancels:

- ``ft_vs_ri``: init ft vs ri;  ``da_vs_none`` / ``sd_vs_none`` / ``dasd_vs_none``: augment
  da / sd / da+sd vs none;  ``method_vs_supervised``: every other method vs supervised.
- ``merged_vs_single``: a run on ``merged-a+b`` scored on member a's test fold vs the run on
  ``a`` alone scored on the same fold (kind ``member`` vs ``in``); and on a held-out dataset c,
  merged (``lodo``) vs each member alone (``cross``).
- ``in_vs_cross``: per run, in-dataset score vs its mean score on foreign datasets: the drop
  across datasets.

One output row per question x metric x matched group; statistics from ``stats.paired_stats``.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ferstudy.config import dataset_members
from ferstudy.evaluate.overlap import fair_tests
from ferstudy.evaluate.runs import CONFIG_AXES
from ferstudy.evaluate.stats import paired_stats

QUESTIONS = ("ft_vs_ri", "da_vs_none", "sd_vs_none", "dasd_vs_none", "method_vs_supervised",
             "merged_vs_single", "in_vs_cross")
FACTORS = {"ft_vs_ri": ("init", "ft", "ri"), "da_vs_none": ("augment", "da", "none"),
           "sd_vs_none": ("augment", "sd", "none"), "dasd_vs_none": ("augment", "da+sd", "none")}
LABEL_COLUMNS = ("question", "metric", *CONFIG_AXES, "test_set", "kind", "factor", "a", "b")
PAIR_KEYS = ("seed", "fold")


def pair_factor(runs: pd.DataFrame, axis: str, a: str, b: str, metric: str) -> pd.DataFrame:
    """Rows matched on every axis but ``axis`` (seed and fold included): value_a, value_b."""
    keys = [c for c in (*CONFIG_AXES, "test_set", "kind", *PAIR_KEYS) if c != axis]
    left = runs.loc[runs[axis] == a, [*keys, metric]].rename(columns={metric: "value_a"})
    right = runs.loc[runs[axis] == b, [*keys, metric]].rename(columns={metric: "value_b"})
    pairs = left.merge(right, on=keys, how="inner")
    pairs[axis] = f"{a} vs {b}"
    pairs["factor"], pairs["a"], pairs["b"] = axis, a, b
    return pairs


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
    left = merged[[*same, "dataset", "single", "test_set", "kind", "single_kind", metric]]
    left = left.rename(columns={metric: "value_a"})
    right = runs[[*same, "dataset", "test_set", "kind", metric]].rename(
        columns={"dataset": "single", "kind": "single_kind", metric: "value_b"})
    pairs = left.merge(right, on=[*same, "single", "test_set", "single_kind"], how="inner")
    pairs["factor"], pairs["a"], pairs["b"] = "dataset", pairs["dataset"], pairs["single"]
    return pairs.drop(columns=["single", "single_kind"])


def pair_in_cross(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per run: in-dataset score (a) vs mean score over its foreign test sets (b)."""
    keys = [*CONFIG_AXES, *PAIR_KEYS]
    own = runs[runs["kind"] == "in"][[*keys, metric]].rename(columns={metric: "value_a"})
    foreign = runs[runs["kind"].isin(["cross", "lodo"])].groupby(keys, as_index=False)[metric]
    pairs = own.merge(foreign.mean().rename(columns={metric: "value_b"}), on=keys, how="inner")
    pairs["test_set"], pairs["kind"] = "foreign (mean)", "cross"
    pairs["factor"], pairs["a"], pairs["b"] = "test_set", "in-dataset", "cross-dataset"
    return pairs


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


def compare(runs: pd.DataFrame, *, questions: Sequence[str], metrics: Sequence[str], test: str,
            resamples: int, level: float, seed: int, alpha: float) -> pd.DataFrame:
    """The comparisons table (empty, with its columns, when no arms match)."""
    runs = fair_tests(runs)   # no test on people or labels the model met (overlap.py)
    rows = []
    for question in questions:
        for metric in metrics:
            for pairs in pairs_for(question, runs, metric):
                if pairs.empty:
                    continue
                group_cols = [c for c in LABEL_COLUMNS if c not in ("question", "metric")]
                for key, group in pairs.groupby(group_cols, sort=True):
                    group = group.sort_values(list(PAIR_KEYS))
                    row = {"question": question, "metric": metric, **dict(zip(group_cols, key))}
                    row["pairs"] = ";".join(f"s{s}f{f}" for s, f in zip(group["seed"], group["fold"]))
                    row.update(paired_stats(group["value_a"], group["value_b"], test=test,
                                            resamples=resamples, level=level, seed=seed, alpha=alpha))
                    rows.append(row)
    stat_cols = list(paired_stats([], [], test=test, resamples=10, level=level, seed=seed,
                                  alpha=alpha))
    return pd.DataFrame(rows, columns=[*LABEL_COLUMNS, "pairs", *stat_cols])
