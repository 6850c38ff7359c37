"""``provenance.json`` of a run, and the check that a results table mixes no stale runs.

A run records the settings it was made with (``ferstudy.settings.run_lineage``: its own slice
and its upstream jobs'), their short ``settings_hash``, the software versions, the workflow's
git commit when known, the device, and the sha256 of its input manifests (registry manifest,
aligned store index, synthetic store index, pretrained weights), and (a record only, hashed by
nothing) its start-up timing, ``startup`` (ferstudy.train.startup). ``gather_results`` compares
each run's hash with the one the current config implies and refuses stale runs, naming them
and the command that reruns them.
"""
from __future__ import annotations

import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from ferstudy import atomic
from ferstudy.resources import sha256_file
from ferstudy.settings import settings_hash

FILE = "provenance.json"
PACKAGES = ("torch", "numpy", "mediapipe", "snakemake")
REPO = Path(__file__).resolve().parents[2]


def software_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(repo: Path = REPO) -> str | None:
    """HEAD of the workflow's checkout (``-dirty`` with uncommitted changes); None outside git."""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=20)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty else "")


def write_provenance(run_dir: str | Path, lineage: Mapping[str, Any], *, device: str,
                     inputs: Iterable[str | Path],
                     startup: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``startup``: the job's start-up timing (ferstudy.train.startup), a record only: no
    hash or table reads it."""
    record = {
        "settings_hash": settings_hash(lineage),
        "settings": dict(lineage),
        "software": software_versions(),
        "git_commit": git_commit(),
        "device": device,
        "inputs": {str(p): sha256_file(p) for p in sorted(map(str, inputs)) if Path(p).is_file()},
    }
    if startup is not None:
        record["startup"] = dict(startup)
    atomic.write_json(Path(run_dir) / FILE, record)
    return record


def recorded_hash(run_dir: str | Path) -> str | None:
    path = Path(run_dir) / FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("settings_hash")


def stale_runs(expected: Mapping[str, str], runs_dir: str | Path) -> dict[str, str]:
    """run -> why it is stale, for every run whose recorded settings_hash is not ``expected``."""
    stale = {}
    for run, want in expected.items():
        have = recorded_hash(Path(runs_dir) / run)
        if have != want:
            stale[run] = (f"no {FILE}" if have is None
                          else f"settings_hash {have}, the config implies {want}")
    return stale


def check_fresh(expected: Mapping[str, str], runs_dir: str | Path) -> None:
    """Raise (naming the runs and the command that reruns them) if any run is stale."""
    stale = stale_runs(expected, runs_dir)
    if not stale:
        return
    runs_dir = Path(runs_dir)
    listed = "\n  ".join(f"{run}: {why}" for run, why in list(stale.items())[:20])
    more = f"\n  ... and {len(stale) - 20} more" if len(stale) > 20 else ""
    targets = (" ".join(str(runs_dir / run / "model.pt") for run in stale) if len(stale) <= 10
               else "train_model")
    raise RuntimeError(
        f"{len(stale)} run(s) were made under settings that differ from the current config; "
        f"their results would be mixed with fresh ones:\n  {listed}{more}\n"
        f"rerun them (and their evaluation), then gather again:\n"
        f"  snakemake --cores all --forcerun {targets}")
