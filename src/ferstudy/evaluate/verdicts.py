"""One verdict per study question and scope: ``results/studies/<study>/tables/verdicts.csv`` (+ ``.md``).

Questions (A vs B): FT vs RI; DA, SD, DA+SD vs none; merged vs single (on the member's own
test fold); in- vs cross-dataset; SCN, Ada-CM, curriculum vs supervised; and the "more
variance" claims: seed spread of FT vs RI and of SD vs none. Rows are on each run's own test
fold (kind ``in``) unless the question says otherwise; a question whose arms the grid lacks gets
one row marked ``not in this study``.

Scopes: ``overall``, ``dataset <d>``, ``arch family <f>`` (and ``protocol <p>`` for the method
questions: SCN per noise level, Ada-CM per label budget), each only where it differs from
``overall``. Datasets are the independent units across datasets, so a merged set
(``merged-a+b``), whose folds are unions of its members' folds, gets its own scope and is never
pooled with single datasets; merged vs single is judged per merged set (members averaged per
fold, one fold-level row) and per member (``member <m> (<merged set>)``); its overall row pools
merged sets. Within a scope, seeds are averaged per configuration and fold; then

- a scope inside one dataset pairs **folds** (configurations averaged per fold): corrected
  resampled t and Bayesian correlated t-test (``comparisons.fold_stats``);
- a scope spanning datasets combines each dataset's corrected estimate and standard error in a
  random-effects meta-analysis (``stats.random_effects``: Paule-Mandel tau^2, Hartung-Knapp t),
  and decides only from at least 3 independent datasets with a usable estimate
  (``decision.MIN_DATASETS``); with fewer the row is ``undecided`` and points at the
  per-dataset rows.

Every row of a question is one family: its interval has level 1 - alpha / m (m = the rows that
can decide) and the verdict is read off it (``decision``); undecided rows get the folds x
seeds (or datasets) needed to decide a ``power_difference``-point difference under the row's
own model (``power``). Seed-spread rows compare seed standard deviations within (dataset,
configuration, fold) cells: an F test within one dataset, a random-effects meta-analysis of
per-dataset log sd ratios across datasets.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ferstudy.config import dataset_members
from ferstudy.evaluate.comparisons import (decide_family, fold_stats, pair_factor, pair_in_cross,
                                           pair_merged, pooled_sd, seed_averaged,
                                           with_test_train_ratio)
from ferstudy.evaluate.decision import MIN_DATASETS, NOT_IN_STUDY, family_level
from ferstudy.evaluate.power import datasets_needed, detectable_difference, folds_seeds_needed
from ferstudy.evaluate.spread import decide_spread_family, spread_row
from ferstudy.evaluate.stats import MODEL_RE, correlated_posterior, random_effects

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
COLUMNS = ("question", "label", "scope", "a", "b", "effect", "ci_low", "ci_high", "ci_level",
           "model", "unit", "n_units", "n_datasets", "n_folds", "n_seeds", "tau2", "i2",
           "p_value", "p_adjusted", "p_a_better", "p_equivalent", "p_b_better", "verdict",
           "reason", "detectable", "needed", "seed_sd_a", "seed_sd_b", "fold_sd_a", "fold_sd_b",
           "mean_a", "mean_b")
MODEL_FOLD = "corrected resampled t (Nadeau-Bengio) over folds"


def arch_family(arch: str) -> str:
    """The pitfalls study's architecture families (``ferstudy.archs.zoo``)."""
    for suffix, family in (("2d_lstm", "2D-CNN+LSTM"), ("3d_lstm", "3D-CNN+LSTM"), ("3d", "3D-CNN")):
        if arch.endswith(suffix):
            return family
    return "frame-level"


def is_merged(dataset: str) -> bool:
    return len(dataset_members(dataset)) > 1


def question_pairs(question: str, runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Seed x fold pairs of a question with ``scope_dataset`` (the unit it is judged on: the
    training set; for merged vs single, the merged set, its member in ``test_set``)."""
    how = QUESTIONS[question][3]
    if how == "merged":
        pairs = pair_merged(runs, metric)
        pairs = pairs[pairs["kind"] == "member"] if len(pairs) else pairs
    elif how == "in_cross":
        pairs = pair_in_cross(runs, metric)
    else:
        pairs = pair_factor(runs, *how, metric)
        pairs = pairs[pairs["kind"] == "in"]
    if pairs.empty:
        return pd.DataFrame()
    return pairs.assign(scope_dataset=pairs["dataset"].to_numpy(),
                        family=pairs["arch"].map(arch_family))


def independent(folds: pd.DataFrame) -> pd.DataFrame:
    """The rows of independent datasets: merged sets are left out when single ones exist."""
    single = ~folds["scope_dataset"].map(is_merged)
    return folds[single] if single.any() else folds


def scopes(folds: pd.DataFrame, question: str) -> list[tuple[str, pd.DataFrame]]:
    """(scope label, fold-level rows) for overall and each subset that differs from it."""
    merged_question = QUESTIONS[question][3] == "merged"
    overall = folds if merged_question else independent(folds)
    out = [("overall", overall)]
    units = set(overall["scope_dataset"])
    for d in sorted(folds["scope_dataset"].unique()):
        if {d} != units:
            out.append((f"dataset {d}", folds[folds["scope_dataset"] == d]))
    if merged_question:
        for (d, member), part in folds.groupby(["scope_dataset", "test_set"], sort=True):
            out.append((f"member {member} ({d})", part))
    columns = [("family", "arch family")]
    if QUESTIONS[question][3][:1] == ("method",):
        columns.append(("protocol", "protocol"))
    for column, name in columns:
        values = sorted(folds[column].unique())
        if len(values) > 1:
            for v in values:
                part = folds[folds[column] == v]
                out.append((f"{name} {v}", part if merged_question else independent(part)))
    return out


def _per_fold(folds: pd.DataFrame) -> pd.DataFrame:
    """Configurations (and merged-set members) averaged per fold."""
    return folds.groupby("fold", as_index=False).agg(
        score_a=("score_a", "mean"), score_b=("score_b", "mean"), ratio=("ratio", "mean"),
        n_test=("n_test", "mean"), n_seeds=("n_seeds", "min"), seed_var_a=("seed_var_a", "mean"),
        seed_var_b=("seed_var_b", "mean"), seed_var_d=("seed_var_d", "mean"))


def fold_row(folds: pd.DataFrame, settings: Mapping) -> dict:
    """A scope inside one dataset: folds paired (``comparisons.fold_stats``)."""
    s = fold_stats(_per_fold(folds), settings)
    seed_var = s["seed_sd_diff"] ** 2
    fold_var = max(s["fold_sd_diff"] ** 2, s["var_floor"]) - (
        0 if math.isnan(seed_var) else seed_var / s["n_seeds"])
    return {"model": MODEL_FOLD, "unit": "fold", "n_units": s["n_folds"], "effect": s["mean_diff"],
            "se": s["se"], "df": s["df"], "why_not": s["why_not"], "floored": s["floored"],
            "p_value": s["p_value"], "p_a_better": s["p_a_better"],
            "p_equivalent": s["p_equivalent"], "p_b_better": s["p_b_better"],
            "fold_sd_a": s["fold_sd_a"], "fold_sd_b": s["fold_sd_b"], "mean_a": s["mean_a"],
            "mean_b": s["mean_b"], "power_model": ("folds", max(fold_var, 0.0), seed_var)}


def pooled_row(effects, variances, *, level: float) -> dict:
    """The dataset-level row from the usable datasets' estimates and variances (se^2):
    random effects (``stats.random_effects``) and whether it can decide (``why_not``: at
    least 3 datasets, some spread between them). The unit the calibration benchmark drives."""
    y, v = np.asarray(effects, dtype=float), np.asarray(variances, dtype=float)
    k = int(y.size)
    m = random_effects(y, v, level=level)
    why_not = "" if k >= MIN_DATASETS else f"{k} dataset{'s' * (k != 1)}: see per-dataset rows"
    if not why_not and not m["se"] > 0:
        why_not = "every dataset gives the same difference: no spread to estimate the error from"
    effect = m["effect"] if k > 1 else (float(y[0]) if k else math.nan)
    return {**m, "effect": effect, "why_not": why_not,
            "model": MODEL_RE if k >= 2 else "none"}


def dataset_row(folds: pd.DataFrame, settings: Mapping) -> dict:
    """A scope across datasets: per-dataset corrected estimates and se, random effects."""
    per = {d: fold_row(part, settings) for d, part in folds.groupby("scope_dataset", sort=True)}
    usable = {d: r for d, r in per.items() if not r["why_not"]}
    left_out = "; ".join(f"{d} left out ({r['why_not'].split(':')[0]})"
                         for d, r in per.items() if r["why_not"])
    v = np.array([r["se"] ** 2 for r in usable.values()])
    m = pooled_row([r["effect"] for r in usable.values()], v, level=settings["ci_level"])
    if not usable:
        m["effect"] = float(np.mean([r["effect"] for r in per.values()]))
    why_not = "; ".join(w for w in (m["why_not"], left_out) if w) if m["why_not"] else ""
    members = [name for d in per for name in dataset_members(d)]
    if not why_not and len(members) != len(set(members)):
        why_not = "the merged sets share members, so they are not independent: see per-set rows"
    probs = (correlated_posterior(m["effect"], m["se"], m["df"], settings["rope"] / 100)
             if not why_not else (math.nan,) * 3)
    return {"model": m["model"], "unit": "dataset", "n_units": m["k"], "effect": m["effect"],
            "se": m["se"], "df": m["df"], "why_not": why_not, "note": left_out,
            "tau2": m["tau2"], "i2": m["i2"], "p_value": m["p"], "p_a_better": probs[0],
            "p_equivalent": probs[1], "p_b_better": probs[2], "fold_sd_a": math.nan,
            "fold_sd_b": math.nan,
            "mean_a": float(folds.groupby("scope_dataset")["score_a"].mean().mean()),
            "mean_b": float(folds.groupby("scope_dataset")["score_b"].mean().mean()),
            "power_model": ("datasets", float(v.mean()) if len(v) else math.nan, m["tau2"])}


def difference_row(folds: pd.DataFrame, settings: Mapping) -> dict:
    """Effect (fraction) and tests of one scope; fold or dataset as the unit (module doc)."""
    datasets = folds["scope_dataset"].unique()
    row = (dataset_row if len(datasets) > 1 else fold_row)(folds, settings)
    return {**row, "n_datasets": len(datasets), "n_folds": int(folds["fold"].nunique()),
            "n_seeds": int(folds["n_seeds"].min()), "seed_sd_a": pooled_sd(folds["seed_var_a"]),
            "seed_sd_b": pooled_sd(folds["seed_var_b"])}


def _power_columns(table: pd.DataFrame, settings: Mapping) -> pd.DataFrame:
    """``detectable`` and ``needed`` of undecided rows, at the row's family level."""
    kw = {"delta": settings["power_difference"] / 100, "rope": settings["rope"] / 100,
          "power": settings["power"]}
    level = float(family_level(max(1, int(table["ci_level"].notna().sum())), settings["alpha"]))
    detectable, needed = [], []
    for r in table.itertuples():
        kind, var, other = r.power_model
        if r.verdict != "undecided":
            detectable.append(math.nan)
            needed.append("")
            continue
        too_few = kind == "datasets" and r.n_units < MIN_DATASETS   # no verdict at any size
        ok_se = r.se if r.se == r.se and r.se > 0 and r.df >= 1 and not too_few else math.nan
        detectable.append(detectable_difference(ok_se, r.df, rope=kw["rope"], level=level,
                                                power=kw["power"]))
        if kind == "folds":
            if r.n_units < 2:
                needed.append("unknown: one fold gives no variance estimate")
                continue
            need = folds_seeds_needed(var, other, level=level, **kw)
            needed.append(f"{need[0]} folds x {need[1]} seed{'s' * (need[1] > 1)}" if need
                          else "more than 30 folds x 10 seeds")
        elif var == var and other == other:
            need = datasets_needed(var, other, level=level, **kw)
            needed.append(f"{need} datasets" if need else "more than 50 datasets")
        else:
            needed.append("unknown: fewer than 2 datasets with a variance estimate")
    return table.assign(detectable=detectable, needed=needed)


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
        table = pd.DataFrame(rows)
        if spread:
            table = decide_spread_family(table, settings)
        else:
            table = _power_columns(decide_family(table, settings, effect="effect", low="ci_low",
                                                 high="ci_high"), settings)
        tables.append(table)
    return pd.concat(tables, ignore_index=True).reindex(columns=list(COLUMNS))


def _config(pairs: pd.DataFrame) -> list[str]:
    return [c for c in CONFIG_KEYS if c in pairs.columns]


def _fmt_effect(row: pd.Series) -> str:
    if pd.isna(row["effect"]):
        return ""
    if row["question"] in SPREAD_QUESTIONS:
        low, high = (f"{row[c]:.2f}" if pd.notna(row[c]) else "-" for c in ("ci_low", "ci_high"))
        return f"sd ratio {row['effect']:.2f} [{low}, {high}]"
    if pd.isna(row["ci_low"]):
        return f"{100 * row['effect']:+.1f} (no interval)"
    return f"{100 * row['effect']:+.1f} [{100 * row['ci_low']:+.1f}, {100 * row['ci_high']:+.1f}]"


def verdict_text(row: pd.Series) -> str:
    """The verdict word, with the reason where the row could not decide at all."""
    if row["verdict"] == NOT_IN_STUDY or (row["verdict"] == "undecided" and pd.isna(row["ci_level"])):
        return f"{row['verdict']} ({row['reason']})"
    return row["verdict"]


def verdicts_markdown(table: pd.DataFrame, settings: Mapping) -> str:
    """The verdict table as Markdown: one line per question x scope."""
    lines = [f"# Verdicts ({settings['metric']}; ROPE +-{settings['rope']:g} points; each row's "
             f"interval at level 1 - {settings['alpha']:g} / m, m = the question's rows that can "
             "decide; the verdict is read off that interval)", "",
             "| question | scope | A - B, points [interval] | level | model | P(A) / P(=) / P(B) | "
             "units | seeds | verdict | decidable now, points | needed to decide "
             f"{settings['power_difference']:g} points |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        probs = ("" if pd.isna(r["p_a_better"]) else
                 f"{r['p_a_better']:.2f} / {r['p_equivalent']:.2f} / {r['p_b_better']:.2f}")
        units = "" if pd.isna(r["n_units"]) else f"{int(r['n_units'])} {r['unit']}s"
        seeds = "" if pd.isna(r["n_seeds"]) else str(int(r["n_seeds"]))
        level = "" if pd.isna(r["ci_level"]) else f"{100 * r['ci_level']:.4g}%"
        model = r["model"] if isinstance(r["model"], str) else ""
        if isinstance(r["tau2"], float) and not math.isnan(r["tau2"]) and r["unit"] == "dataset":
            scale = 1 if r["question"] in SPREAD_QUESTIONS else 100
            model += f"; tau {scale * math.sqrt(r['tau2']):.2g}, I^2 {100 * r['i2']:.0f}%"
        detectable = "" if pd.isna(r["detectable"]) else f"{100 * r['detectable']:.1f}"
        lines.append(f"| {r['label']} ({r['a']} vs {r['b']}) | {r['scope']} | {_fmt_effect(r)} | "
                     f"{level} | {model} | {probs} | {units} | {seeds} | **{verdict_text(r)}** | "
                     f"{detectable} | {r['needed'] if isinstance(r['needed'], str) else ''} |")
    lines += ["", "A better iff the interval's lower bound is above +ROPE, B better iff its upper "
              "bound is below -ROPE, equivalent iff it lies inside the ROPE, otherwise undecided "
              "(ferstudy.evaluate.decision). The level is Bonferroni-corrected over the question's "
              "rows (its family). Across datasets: random-effects meta-analysis of the per-dataset "
              "corrected estimates (Paule-Mandel tau^2, Hartung-Knapp t interval), at least "
              f"{MIN_DATASETS} independent datasets; merged sets are their own scope. "
              "P(A) / P(=) / P(B): Student posteriors of the same model, for the record. Undecided "
              f"rows: the smallest difference these data would decide with probability "
              f"{settings['power']:g}, and the folds x seeds (datasets) that would decide "
              f"{settings['power_difference']:g} points. Seed-spread rows: A better = smaller seed "
              "standard deviation (interval below 1 / sd_ratio_rope).", ""]
    return "\n".join(lines)
