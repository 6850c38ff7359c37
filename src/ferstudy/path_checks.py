"""The paths a config names, checked before anything runs (``ferstudy check-config``).

A dataset root must exist, be a readable folder and hold its adapter's layout at its top
level; a demo root is rendered and a download root fetched by the workflow, so those are only
reported when they exist and are unreadable. Files the config points at (face models folder,
ft checkpoint without placeholders) must be readable too. Problems are returned, one line
each, naming the config key, the path and the fix; nothing is created or changed.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _unreadable(path: Path, *, folder: bool) -> str | None:
    if not path.exists():
        return "does not exist"
    if folder and not path.is_dir():
        return "is not a folder"
    if not os.access(path, os.R_OK | (os.X_OK if folder else 0)):
        return "is not readable by this user"
    return None


def dataset_root_problem(name: str, entry: Mapping[str, Any]) -> str | None:
    """One line on what is wrong with ``datasets.<name>.root``, or None."""
    from ferstudy.datasets.base import DatasetError
    from ferstudy.datasets.register import check_layout

    root = Path(str(entry["root"]))
    key = f"datasets.{name}.root"
    if entry.get("demo") or entry.get("download"):
        problem = _unreadable(root, folder=True) if root.exists() else None
        return f"{key}: {root} {problem}" if problem else None
    problem = _unreadable(root, folder=True)
    if problem:
        return (f"{key}: {root} {problem}; point it at your copy of the release "
                f"(--set {key}=/path/to/{name})")
    try:
        check_layout(name, dict(entry))
    except DatasetError as err:
        return f"{key}: {err}"
    return None


def config_path_problems(config: Mapping[str, Any]) -> list[str]:
    """Every unreadable path of ``config`` (the study's datasets and merged members first,
    then the other declared datasets, then input files), one line each."""
    from ferstudy.config import dataset_members

    study = config.get("study") or {}
    used = [m for d in study.get("datasets", []) for m in dataset_members(d)]
    names = list(dict.fromkeys([*used, *config.get("datasets", {})]))
    problems = [p for n in names if n in config["datasets"]
                if (p := dataset_root_problem(n, config["datasets"][n]))]
    models = (config.get("face_models") or {}).get("path")
    if models and (problem := _unreadable(Path(models), folder=True)):
        problems.append(f"face_models.path: {models} {problem}")
    checkpoint = ((config.get("train") or {}).get("pretrain") or {}).get("checkpoint")
    if checkpoint and "{" not in checkpoint and (problem := _unreadable(Path(checkpoint),
                                                                        folder=False)):
        problems.append(f"train.pretrain.checkpoint: {checkpoint} {problem}")
    return problems
