"""One verdict per study question and scope: ``results/tables/verdicts.csv`` (+ ``.md``).

Questions (A vs B): FT vs RI; DA, SD, DA+SD vs none; merged vs single (on the member's own
test fold); in- vs cross-dataset; SCN, Ada-CM, curriculum vs supervised; and the "more
variance" claims: seed spread of FT vs RI and of SD vs none. Rows are on each run's own test
fold (kind ``in``) unless the question says otherwise; a question whose arms the grid lacks gets
one row marked ``not in this study``.

Scopes: ``overall``, ``dataset <d>``, ``arch family <f>`` (and ``protocol <p>`` for the method
questions: SCN per noise level, Ada-CM per label budget), each only where it differs from
``overall``. Within a scope, seeds are averaged per configuration and fold; then

- a scope inside one dataset pairs **folds** (configurations averaged per fold): corrected
  resampled t and Bayesian correlated t-test (``comparisons.fold_stats``);
- a scope spanning datasets pairs **datasets** (each dataset's mean over configurations and
  folds): t over datasets, Wilcoxon p, Bayesian signed-rank test (``stats.across_datasets``).

p-values are adjusted within each question (Holm or BH), the verdict word follows
``decision.verdict``, and undecided rows get the folds x seeds (or datasets) needed to decide a
``power_difference``-point difference (``power``).
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from ferstudy.evaluate.comparisons import (add_verdicts, fold_stats, pair_factor, pair_in_cross,
                                           pair_merged, pooled_sd, seed_averaged,
                                           with_test_train_ratio)
from ferstudy.evaluate.decision import NOT_IN_STUDY
from ferstudy.evaluate.power import datasets_needed, detectable_difference, folds_seeds_needed
from ferstudy.evaluate.stats import across_datasets, sd_ratio_test

# id -> (label, A, B, how the pairs are made)
QUESTIONS = {
    "ft_vs_ri": ("FT vs RI", "ft", "ri", ("init", "ft", "ri")),
    "da_vs_none": ("DA vs none", "da", "none", ("augment", "da", "none")),
    "sd_vs_none": ("SD vs none", "sd", "none", ("augment", "sd", "none")),
    "dasd_vs_none": ("DA+SD vs none", "da+sd", "none", ("augment", "da+sd", "none")),
    "merged_vs_single": ("merged vs single", "merged", "single", "merged"),
    "in_vs_cross": ("in- vs cross-dataset", "in-dataset", "cross-dataset", "in_cross"),
    "scn_vs_supervised": ("SCN vs supervised", "scn", "supervised", ("method", "scn", "supervised")),
    "adacm_vs_supervised": ("Ada-CM vs supervised", "adacm", "supervised",
                            ("method", "adacm", "supervised")),
    "curriculum_vs_supervised": ("curriculum vs supervised", "curriculum", "supervised",
                                 ("method", "curriculum", "supervised")),
    "seed_sd_ft_vs_ri": ("seed spread FT vs RI", "ft", "ri", ("init", "ft", "ri")),
    "seed_sd_sd_vs_none": ("seed spread SD vs none", "sd", "none", ("augment", "sd", "none")),
}
SPREAD_QUESTIONS = ("seed_sd_ft_vs_ri", "seed_sd_sd_vs_none")
CONFIG_KEYS = ("dataset", "arch", "method", "init", "augment", "protocol", "test_set", "b")
COLUMNS = ("question", "label", "scope", "a", "b", "effect", "ci_low", "ci_high", "unit",
           "n_units", "n_datasets", "n_folds", "n_seeds", "p_value", "p_adjusted", "p_wilcoxon",
           "p_a_better", "p_equivalent", "p_b_better", "verdict", "reason", "detectable", "needed",
           "seed_sd_a", "seed_sd_b", "fold_sd_a", "fold_sd_b", "mean_a", "mean_b")


def arch_family(arch: str) -> str:
    """The pitfalls study's architecture families (``ferstudy.archs.zoo``)."""
    for suffix, family in (("2d_lstm", "2D-CNN+LSTM"), ("3d_lstm", "3D-CNN+LSTM"), ("3d", "3D-CNN")):
        if arch.endswith(suffix):
            return family
    return "frame-level"


def question_pairs(question: str, runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Seed x fold pairs of a question with ``scope_dataset`` (the dataset it is judged on)."""
    how = QUESTIONS[question][3]
    if how == "merged":
        pairs = pair_merged(runs, metric)
        pairs = pairs[pairs["kind"] == "member"] if len(pairs) else pairs
        scope = pairs["test_set"] if len(pairs) else None
    elif how == "in_cross":
        pairs = pair_in_cross(runs, metric)
        scope = pairs["dataset"] if len(pairs) else None
    else:
        pairs = pair_factor(runs, *how, metric)
        pairs = pairs[pairs["kind"] == "in"]
        scope = pairs["dataset"]
    if pairs.empty:
        return pd.DataFrame()
    return pairs.assign(scope_dataset=scope.to_numpy(), family=pairs["arch"].map(arch_family))


def scopes(folds: pd.DataFrame, question: str) -> list[tuple[str, pd.DataFrame]]:
    """(scope label, fold-level rows) for overall and each subset that differs from it."""
    out = [("overall", folds)]
    columns = [("scope_dataset", "dataset"), ("family", "arch family")]
    if QUESTIONS[question][3][:1] == ("method",):
        columns.append(("protocol", "protocol"))
    for column, name in columns:
        values = sorted(folds[column].unique())
        if len(values) > 1:
            out += [(f"{name} {v}", folds[folds[column] == v]) for v in values]
    return out


def difference_row(folds: pd.DataFrame, settings: Mapping) -> dict:
    """Effect (points) and tests of one scope; fold or dataset as the unit (module doc)."""
    datasets = folds["scope_dataset"].unique()
    n_seeds = int(folds["n_seeds"].min())
    common = {"n_datasets": len(datasets), "n_folds": int(folds["fold"].nunique()),
              "n_seeds": n_seeds, "seed_sd_a": pooled_sd(folds["seed_var_a"]),
              "seed_sd_b": pooled_sd(folds["seed_var_b"])}
    if len(datasets) > 1:
        per = folds.groupby("scope_dataset")[["score_a", "score_b"]].mean()
        s = across_datasets(per["score_a"], per["score_b"], rope=settings["rope"] / 100,
                            level=settings["ci_level"], seed=settings["seed"])
        need = datasets_needed(s["sd"] ** 2, **_power(settings)) if s["n"] > 1 else None
        return {**common, "unit": "dataset", "n_units": s["n"], "effect": s["mean"],
                "detectable": _detectable(s["se"], s["n"] - 1, settings),
                "ci_low": s["ci_low"], "ci_high": s["ci_high"], "p_value": s["p"],
                "p_wilcoxon": s["p_wilcoxon"], "p_a_better": s["p_a"], "p_equivalent": s["p_rope"],
                "p_b_better": s["p_b"], "fold_sd_a": math.nan, "fold_sd_b": math.nan,
                "mean_a": float(per["score_a"].mean()), "mean_b": float(per["score_b"].mean()),
                "needed": f"{need} datasets" if need else "more than 50 datasets"}
    # one dataset: configurations averaged per fold, folds paired
    per_fold = folds.groupby("fold", as_index=False).agg(
        score_a=("score_a", "mean"), score_b=("score_b", "mean"), ratio=("ratio", "mean"), n_seeds=("n_seeds", "min"),
        seed_var_a=("seed_var_a", "mean"), seed_var_b=("seed_var_b", "mean"),
        seed_var_d=("seed_var_d", "mean"))
    s = fold_stats(per_fold, settings)
    need = "unknown: one fold gives no variance estimate"
    if s["n_folds"] > 1:
        seed_var = s["seed_sd_diff"] ** 2
        fold_var = s["fold_sd_diff"] ** 2 - (0 if math.isnan(seed_var) else seed_var / n_seeds)
        need = folds_seeds_needed(max(fold_var, 0.0), seed_var, **_power(settings))
        need = (f"{need[0]} folds x {need[1]} seed{'s' * (need[1] > 1)}" if need
                else "more than 30 folds x 10 seeds")
    return {**common, "unit": "fold", "n_units": s["n_folds"], "effect": s["mean_diff"],
            "detectable": _detectable(s["se"], s["n_folds"] - 1, settings),
            "ci_low": s["diff_ci_low"], "ci_high": s["diff_ci_high"], "p_value": s["p_value"],
            "p_wilcoxon": math.nan, "p_a_better": s["p_a_better"], "p_equivalent": s["p_equivalent"],
            "p_b_better": s["p_b_better"], "fold_sd_a": s["fold_sd_a"], "fold_sd_b": s["fold_sd_b"],
            "mean_a": s["mean_a"], "mean_b": s["mean_b"], "needed": need}


def _detectable(se: float, df: int, settings: Mapping) -> float:
    return detectable_difference(se, df, rope=settings["rope"] / 100, decide=settings["decide"],
                                 power=settings["power"])


def _power(settings: Mapping) -> dict:
    return {"delta": settings["power_difference"] / 100, "rope": settings["rope"] / 100,
            "decide": settings["decide"], "power": settings["power"]}


def spread_row(folds: pd.DataFrame, settings: Mapping) -> dict:
    """Seed spread of A vs B: pooled within-(configuration, fold) seed variances, F test."""
    df = float((folds["n_seeds"] - 1).clip(lower=0).sum())
    var_a, var_b = folds["seed_var_a"].dropna().mean(), folds["seed_var_b"].dropna().mean()
    s = sd_ratio_test(var_a, df, var_b, df, level=settings["ci_level"],
                      rope=settings["sd_ratio_rope"])
    return {"unit": "seed", "n_units": int(folds["n_seeds"].min()),
            "n_datasets": int(folds["scope_dataset"].nunique()),
            "n_folds": int(folds["fold"].nunique()), "n_seeds": int(folds["n_seeds"].min()),
            "effect": s["ratio"], "ci_low": s["ci_low"], "ci_high": s["ci_high"],
            "p_value": s["p"], "p_wilcoxon": math.nan, "p_a_better": s["p_a"],
            "p_equivalent": s["p_rope"], "p_b_better": s["p_b"],
            "seed_sd_a": math.sqrt(var_a) if var_a == var_a else math.nan,
            "seed_sd_b": math.sqrt(var_b) if var_b == var_b else math.nan,
            "fold_sd_a": math.nan, "fold_sd_b": math.nan, "mean_a": float(folds["score_a"].mean()),
            "mean_b": float(folds["score_b"].mean()), "detectable": math.nan, "needed": ""}


def verdict_table(runs: pd.DataFrame, settings: Mapping) -> pd.DataFrame:
    """Every question x scope row (module doc); settings: ``ci_level``, ``seed`` and the
    ``evaluate.stats`` keys."""
    runs = with_test_train_ratio(runs)
    metric = settings["metric"]
    tables = []
    for question, (label, a, b, _) in QUESTIONS.items():
        pairs = question_pairs(question, runs, metric)
        head = {"question": question, "label": label, "a": a, "b": b}
        spread = question in SPREAD_QUESTIONS
        if pairs.empty or (spread and pairs.groupby(["fold", *_config(pairs)])["seed"].nunique().max() < 2):
            why = "one seed: no seed spread" if not pairs.empty else f"the grid has no {a} / {b} pairs"
            tables.append(pd.DataFrame([{**head, "scope": "overall", "verdict": NOT_IN_STUDY,
                                         "reason": why}]))
            continue
        folds = seed_averaged(pairs, [*_config(pairs), "scope_dataset", "family"])
        rows = [{**head, "scope": scope, **(spread_row(part, settings) if spread else
                                            difference_row(part, settings))}
                for scope, part in scopes(folds, question)]
        table = add_verdicts(pd.DataFrame(rows), "n_units", settings)
        table.loc[table["verdict"] != "undecided", ["needed", "detectable"]] = ["", math.nan]
        tables.append(table)
    return pd.concat(tables, ignore_index=True).reindex(columns=list(COLUMNS))


def _config(pairs: pd.DataFrame) -> list[str]:
    return [c for c in CONFIG_KEYS if c in pairs.columns]


def _fmt_effect(row: pd.Series) -> str:
    if pd.isna(row["effect"]):
        return ""
    if row["question"] in SPREAD_QUESTIONS:
        return f"sd ratio {row['effect']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
    low, high = (f"{100 * row[c]:+.1f}" if pd.notna(row[c]) else "?" for c in ("ci_low", "ci_high"))
    return f"{100 * row['effect']:+.1f} [{low}, {high}]"


def verdicts_markdown(table: pd.DataFrame, settings: Mapping) -> str:
    """The verdict table as Markdown: one line per question x scope."""
    lines = [f"# Verdicts ({settings['metric']}; ROPE +-{settings['rope']:g} points; "
             f"decide at P >= {settings['decide']:g}; p adjusted by {settings['adjust']} within "
             "each question)", "",
             "| question | scope | A - B, points [95% CI] | P(A) / P(=) / P(B) | p adj. | "
             "units | seeds | verdict | decidable now, points | needed to decide "
             f"{settings['power_difference']:g} points |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        probs = ("" if pd.isna(r["p_a_better"]) else
                 f"{r['p_a_better']:.2f} / {r['p_equivalent']:.2f} / {r['p_b_better']:.2f}")
        units = "" if pd.isna(r["n_units"]) else f"{int(r['n_units'])} {r['unit']}s"
        seeds = "" if pd.isna(r["n_seeds"]) else str(int(r["n_seeds"]))
        p_adj = "" if pd.isna(r["p_adjusted"]) else f"{r['p_adjusted']:.3g}"
        word = r["verdict"] if r["verdict"] != "not in this study" else f"{r['verdict']} ({r['reason']})"
        detectable = "" if pd.isna(r["detectable"]) else f"{100 * r['detectable']:.1f}"
        lines.append(f"| {r['label']} ({r['a']} vs {r['b']}) | {r['scope']} | {_fmt_effect(r)} | "
                     f"{probs} | {p_adj} | {units} | {seeds} | **{word}** | {detectable} | "
                     f"{r['needed'] if isinstance(r['needed'], str) else ''} |")
    lines += ["", "A better / B better: by more than the ROPE with posterior probability >= "
              "decide and adjusted p < alpha; equivalent: inside the ROPE with probability >= "
              "decide; otherwise undecided (rules: ferstudy.evaluate.decision). Undecided rows: the "
              f"smallest difference these data would decide with probability {settings['power']:g}, "
              "and the folds x seeds (datasets) that would decide "
              f"{settings['power_difference']:g} points. Seed-spread rows: A better = smaller seed "
              "standard deviation.", ""]
    return "\n".join(lines)
