"""Run folders: the grid point a path encodes, and reading what a training run wrote.

A run lives at ``results/runs/{run}/`` with
``{run} = {dataset}/{arch}/{method}/{init}/{augment}/{protocol}/seed{seed}/fold{fold}``
(docs/architecture.md). The evaluation output of the same run is ``results/eval/{run}/``.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

AXES = ("dataset", "arch", "method", "init", "augment", "protocol", "seed", "fold")
CONFIG_AXES = ("dataset", "arch", "method", "init", "augment", "protocol")  # a configuration
_SEED_RE = re.compile(r"^seed(\d+)$")
_FOLD_RE = re.compile(r"^fold(\d+)$")


@dataclass(frozen=True)
class RunKey:
    """One grid point; ``str(key)`` is the ``{run}`` path fragment."""

    dataset: str
    arch: str
    method: str
    init: str
    augment: str
    protocol: str
    seed: int
    fold: int

    def __str__(self) -> str:
        return (f"{self.dataset}/{self.arch}/{self.method}/{self.init}/{self.augment}/"
                f"{self.protocol}/seed{self.seed}/fold{self.fold}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def parse(cls, run: str | Path) -> "RunKey":
        """``"ckplus/resnet3d/supervised/ft/da/full/seed0/fold1"`` (the last 8 parts of a path)."""
        parts = Path(run).parts[-8:]
        seed = _SEED_RE.match(parts[6]) if len(parts) == 8 else None
        fold = _FOLD_RE.match(parts[7]) if len(parts) == 8 else None
        if not (seed and fold):
            raise ValueError(
                f"{run!s} is not a run path: expected "
                "{dataset}/{arch}/{method}/{init}/{augment}/{protocol}/seed{N}/fold{K}"
            )
        return cls(*parts[:6], int(seed.group(1)), int(fold.group(1)))


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
