"""Tidy tables: one row per (run, test set), and mean/std/CI per configuration.

``runs.csv`` columns: ``run`` + every grid axis (``dataset, arch, method, init, augment,
protocol, seed, fold``) + ``test_set, kind, shared_classes, n_classes, accuracy, macro_f1,
n_test, accuracy_optimistic`` (the last only for runs on a release's own split, e.g. RAF-DB
official: best epoch chosen on test, as the papers' code does; labelled optimistic, never
summarised or used by verdicts). ``dataset`` is the training set; ``kind`` is ``in | member | cross | lodo | seen``
(``seen``: a foreign dataset that was in the run's ft pretraining pool, not an unseen domain;
``overlap``: a foreign dataset sharing people with the training set, see evaluate/overlap.py).
``runs.csv`` also holds ``n_train``: the real clips of the run's training folds it drew on
(train + validation, synthetic clips not counted), from metrics.json; n_test / n_train of the
``in`` row is the Nadeau-Bengio correction of the fold-level tests.
``summary.csv``: one row per configuration x test set with the number of runs (seeds x folds)
and of folds, and for each metric the mean (of the fold means), the sample std over runs and
the bootstrap CI of the mean. Seeds share a fold's test set and folds share training data, so
runs are not independent draws: the bootstrap resamples the seed-averaged folds, not the runs.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from ferstudy.evaluate.cross import COLUMNS, own_rows
from ferstudy.evaluate.runs import AXES, CONFIG_AXES, RunKey, discover_runs
from ferstudy.evaluate.stats import bootstrap_ci

log = logging.getLogger("ferstudy.evaluate")
RUN_COLUMNS = ("run", *AXES, *COLUMNS)
GROUP_COLUMNS = (*CONFIG_AXES, "test_set", "kind")
KINDS = ("in", "member", "cross", "lodo", "seen", "overlap")  # row order within a run


def _read(path: str | Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"shared_classes": str, "clip_id": str}, keep_default_na=False,
                        na_values={"accuracy": [""], "macro_f1": [""], "accuracy_optimistic": [""]})
    if "accuracy_optimistic" not in frame.columns and "kind" in frame.columns:
        frame["accuracy_optimistic"] = float("nan")     # tables written before the column
    return frame


def read_runs_table(path: str | Path) -> pd.DataFrame:
    """``runs.csv`` as written by gather_results."""
    frame = _read(path)
    missing = set(RUN_COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"{path} lacks column(s) {', '.join(sorted(missing))}; rerun gather_results")
    return frame


def read_comparisons_table(path: str | Path) -> pd.DataFrame:
    """``comparisons.csv`` (or ``verdicts.csv``) as written by gather_results (NaNs restored)."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""],
                       dtype={"dataset": str, "test_set": str, "folds": str, "needed": str})


def read_cross_tables(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Concatenate ``cross.csv`` files, checking each has the documented columns."""
    frames = []
    for path in paths:
        frame = _read(path)
        missing = set(RUN_COLUMNS) - set(frame.columns)
        if missing:
            raise ValueError(f"{path} lacks column(s) {', '.join(sorted(missing))}; "
                             "delete it and rerun evaluate_cross")
        frames.append(frame[list(RUN_COLUMNS)])
    if not frames:
        return pd.DataFrame(columns=list(RUN_COLUMNS))
    return tidy(pd.concat(frames, ignore_index=True))


def train_size(metrics_json: str | Path) -> int:
    """Real clips of a run's training folds (train + val - synthetic), from its metrics.json."""
    from ferstudy.evaluate.runs import read_metrics

    metrics = read_metrics(Path(metrics_json).parent)
    missing = {"n_train", "n_val"} - set(metrics)
    if missing:
        raise ValueError(f"{metrics_json} has no {', '.join(sorted(missing))}: it predates the "
                         "statistics that need training sizes; rerun its train job")
    return int(metrics["n_train"]) + int(metrics["n_val"]) - int(metrics.get("n_synthetic", 0))


def attach_train_sizes(runs: pd.DataFrame, metrics_files: Iterable[str | Path]) -> pd.DataFrame:
    """``runs`` with column ``n_train`` (``train_size``) from each run's metrics.json; the run
    is named by the file's last 8 folders (``{dataset}/.../seed{s}/fold{k}``)."""
    sizes = {}
    for path in metrics_files:
        sizes[str(RunKey.parse(Path(path).parent))] = train_size(path)
    missing = set(runs["run"]) - set(sizes)
    if missing:
        raise ValueError(f"no metrics.json given for run(s) {', '.join(sorted(missing)[:3])}")
    return runs.assign(n_train=runs["run"].map(sizes).astype(int))


def collect_existing(results: str | Path, study_dir: str | Path | None = None,
                     study_runs: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows for every finished run under ``results/runs`` (of ``study_runs`` only, when
    given): its ``cross.csv`` (under ``study_dir/eval``, default ``results/eval``) when
    evaluated, otherwise its own in-dataset (and member) rows, so tables never need a model
    re-run."""
    results = Path(results)
    evals = Path(study_dir or results) / "eval"
    wanted = None if study_runs is None else set(study_runs)
    paths, frames, unevaluated = [], [], []
    for key in discover_runs(results / "runs"):
        if wanted is not None and str(key) not in wanted:
            continue
        cross = evals / str(key) / "cross.csv"
        if cross.exists():
            paths.append(cross)
            continue
        unevaluated.append(str(key))
        rows = pd.DataFrame(own_rows(key, results / "runs" / str(key), {}), columns=list(COLUMNS))
        for axis, value in reversed(list(key.as_dict().items())):
            rows.insert(0, axis, value)
        rows.insert(0, "run", str(key))
        frames.append(rows)
    if unevaluated:
        log.warning("%d run(s) have no cross.csv yet (rule evaluate_cross): in-dataset rows only "
                    "for %s", len(unevaluated), ", ".join(unevaluated[:5]) +
                    (", ..." if len(unevaluated) > 5 else ""))
    table = read_cross_tables(paths)
    table = tidy(pd.concat([table, *frames], ignore_index=True)) if frames else table
    metrics = [results / "runs" / run / "metrics.json" for run in table["run"].unique()]
    return attach_train_sizes(table, metrics)


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Stable dtypes and order (by run, then test set)."""
    frame = frame.astype({"seed": int, "fold": int, "n_classes": int, "n_test": int,
                          "accuracy": float, "macro_f1": float, "accuracy_optimistic": float})
    frame["shared_classes"] = frame["shared_classes"].astype(str)
    order = frame["kind"].map({k: i for i, k in enumerate(KINDS)}).fillna(len(KINDS))
    frame = frame.assign(_order=order).sort_values(["run", "_order", "test_set"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def summarise(runs: pd.DataFrame, *, metrics: Sequence[str], resamples: int, level: float,
              seed: int) -> pd.DataFrame:
    """Per configuration x test set: n_runs, n_folds and, for each metric, the mean of the
    seed-averaged folds, the sample std over runs (seeds x folds) and the bootstrap CI of the
    mean over folds (NaN with one fold)."""
    rows = []
    for key, group in runs.groupby(list(GROUP_COLUMNS), sort=True):
        row = dict(zip(GROUP_COLUMNS, key))
        row["n_runs"] = len(group)
        row["n_folds"] = int(group["fold"].nunique())
        row["seeds"] = ";".join(map(str, sorted(group["seed"].unique())))
        row["folds"] = ";".join(map(str, sorted(group["fold"].unique())))
        row["shared_classes"] = group["shared_classes"].iloc[0]
        row["n_test_mean"] = float(group["n_test"].mean())
        for metric in metrics:
            folds = group.groupby("fold")[metric].mean().dropna()
            values = group[metric].dropna()
            low, high = bootstrap_ci(folds, resamples=resamples, level=level, seed=seed)
            row[f"{metric}_mean"] = float(folds.mean()) if len(folds) else float("nan")
            row[f"{metric}_std"] = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
            row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = low, high
        rows.append(row)
    columns = [*GROUP_COLUMNS, "n_runs", "n_folds", "seeds", "folds", "shared_classes", "n_test_mean"]
    columns += [f"{m}_{s}" for m in metrics for s in ("mean", "std", "ci_low", "ci_high")]
    return pd.DataFrame(rows, columns=columns)


read_verdicts_table = read_comparisons_table


def write_tables(runs: pd.DataFrame, summary: pd.DataFrame, comparisons: pd.DataFrame, *,
                 runs_csv: str | Path, runs_parquet: str | Path, summary_csv: str | Path,
                 comparisons_csv: str | Path) -> None:
    from ferstudy.atomic import atomic_path, write_csv

    write_csv(runs_csv, runs)
    with atomic_path(runs_parquet, suffix=".parquet") as tmp:
        runs.to_parquet(tmp, index=False)
    write_csv(summary_csv, summary)
    write_csv(comparisons_csv, comparisons)


def run_keys(runs: pd.DataFrame) -> list[RunKey]:
    first = runs.drop_duplicates("run")
    return [RunKey(*(row[a] for a in AXES)) for _, row in first.iterrows()]
