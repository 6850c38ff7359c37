"""Mechanism diagnostics of many runs: each run's ``diagnostics.csv`` -> one tidy table.

A run folder's ``diagnostics.csv`` (``method, unit, step, metric, value``; written by
``ferstudy.train.run``, see ``ferstudy.methods.base``) gains the run id and its grid axes;
``gather_diagnostics`` stacks those of a list of run folders (folders without the file, e.g.
runs made before it existed, are skipped), ``headline`` keeps the few numbers a summary table
shows per configuration.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ferstudy.runkey import AXES, CONFIG_AXES, RunKey

COLUMNS = ("run", *AXES, "unit", "step", "metric", "value")

# method -> ((metric, how a run's per-step values become one number, headline name), ...)
HEADLINES = {
    "scn": (("weight_auc", "last", "weight_auc"), ("relabel_precision", "last", "relabel_precision"),
            ("relabel_recall", "last", "relabel_recall"),
            ("relabelled_clips", "last", "relabelled_clips")),
    "adacm": (("confident_frac", "mean", "confident_frac"),
              ("pseudo_label_accuracy", "mean", "pseudo_label_accuracy"),
              ("unlabelled_confidence", "last", "unlabelled_confidence"),
              ("threshold_mean", "last", "threshold_mean")),
    "curriculum": (("epochs", "count", "stages"), ("first_epoch", "last", "last_stage_from_epoch"),
                   ("val_acc", "last", "last_stage_val_acc")),
}


def read_run_diagnostics(run_dir: str | Path) -> pd.DataFrame:
    """One run's diagnostics with ``run`` and the grid axes (empty when there is no file)."""
    run_dir = Path(run_dir)
    path = run_dir / "diagnostics.csv"
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame(columns=list(COLUMNS))
    frame = pd.read_csv(path)
    key = RunKey.parse(run_dir)
    frame = frame.drop(columns=["method"], errors="ignore")
    for axis, value in reversed(list(key.as_dict().items())):
        frame.insert(0, axis, value)
    frame.insert(0, "run", str(key))
    return frame[list(COLUMNS)]


def gather_diagnostics(run_dirs: Iterable[str | Path]) -> pd.DataFrame:
    """The diagnostics of every run folder in ``run_dirs``, stacked (``COLUMNS``)."""
    frames = [f for f in (read_run_diagnostics(d) for d in run_dirs) if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    table = pd.concat(frames, ignore_index=True)
    table["step"] = table["step"].astype(int)
    table["value"] = table["value"].astype(float)
    return table


def write_diagnostics(run_dirs: Iterable[str | Path], path: str | Path) -> pd.DataFrame:
    """``gather_diagnostics`` written atomically to ``path`` (the study's diagnostics.csv)."""
    from ferstudy.atomic import write_csv

    table = gather_diagnostics(run_dirs)
    write_csv(path, table)
    return table


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """Per configuration (``CONFIG_AXES``) and headline (``HEADLINES``): the mean and sample
    std over runs of each run's number (its last step, its mean over steps, or its number of
    steps: the curriculum's stages reached), and ``n_runs``. ``metric`` is the headline name."""
    rows = []
    for method, metrics in HEADLINES.items():
        part = table[table["method"] == method]
        for metric, how, name in metrics:
            sub = part[part["metric"] == metric].sort_values("step")
            if sub.empty:
                continue
            per_run = sub.groupby([*CONFIG_AXES, "run"])["value"]
            values = {"last": per_run.last, "mean": per_run.mean, "count": per_run.count}[how]()
            for config, runs in values.groupby(level=list(range(len(CONFIG_AXES)))):
                vals = runs.to_numpy(dtype=float)
                rows.append({**dict(zip(CONFIG_AXES, config)), "metric": name, "how": how,
                             "mean": float(np.nanmean(vals)) if np.isfinite(vals).any() else np.nan,
                             "std": float(np.nanstd(vals, ddof=1)) if np.isfinite(vals).sum() > 1
                             else np.nan, "n_runs": len(vals)})
    return pd.DataFrame(rows, columns=[*CONFIG_AXES, "metric", "how", "mean", "std", "n_runs"])
