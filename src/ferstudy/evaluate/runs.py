"""Run folders: the grid point a path encodes, and reading what a training run wrote.

A run lives at ``results/runs/{run}/`` with
``{run} = {dataset}/{arch}/{method}/{init}/{augment}/{protocol}/seed{seed}/fold{fold}``
(docs/architecture.md). The evaluation output of the same run is ``results/eval/{run}/``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ferstudy.runkey import AXES, CONFIG_AXES, RunKey  # noqa: F401 (re-exported)

def discover_runs(runs_root: str | Path) -> list[RunKey]:
    """Every finished run under ``runs_root`` (a run is finished when metrics.json exists)."""
    root = Path(runs_root)
    keys = []
    for metrics in sorted(root.glob("*/*/*/*/*/*/seed*/fold*/metrics.json")):
        try:
            keys.append(RunKey.parse(metrics.parent.relative_to(root)))
        except ValueError:
            continue  # a stray folder that only looks like a run
    return keys


def read_metrics(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / "metrics.json"
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing: the run did not finish; rerun its train job") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); delete it and rerun the train job") from None
    for key in ("classes", "accuracy"):
        if key not in metrics:
            raise ValueError(f"{path} has no {key!r} key; it does not follow docs/architecture.md")
    return metrics


def read_predictions(run_dir: str | Path):
    """The run's test-fold predictions (``clip_id, subject, dataset, label, pred, prob_<c>...``)."""
    import pandas as pd

    path = Path(run_dir) / "predictions.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the run did not finish; rerun its train job")
    frame = pd.read_csv(path, dtype={"clip_id": str, "subject": str, "label": str, "pred": str},
                        keep_default_na=False)
    missing = {"clip_id", "dataset", "label", "pred"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path} lacks column(s) {', '.join(sorted(missing))}")
    return frame
