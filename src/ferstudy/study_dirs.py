"""Where a study's own outputs live: ``<results>/studies/<study.name>/``.

Registrations, aligned stores, pretraining, GANs, synthetic stores and runs are shared by
every study of a results tree (``<results>/registry``, ``aligned``, ``pretrain``, ``gan``,
``synthetic``, ``runs``) and reused when their settings match (``ferstudy.claims`` stops a
study whose settings would replace another's). What depends on the study's grid is its own:
``eval/{run}/cross.csv`` (the test sets are the study's), ``overlap/``, ``tables/``
(verdicts, comparisons, summary, runs, diagnostics), ``figures/``, ``logs/`` of those rules,
``claims.json`` and the report ``report.html``. ``<results>/index.html`` lists the studies.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

STUDIES = "studies"
_TABLE_NAMES = {"runs_csv": "runs.csv", "runs_parquet": "runs.parquet",
                "summary": "summary.csv", "comparisons": "comparisons.csv",
                "verdicts": "verdicts.csv", "verdicts_md": "verdicts.md",
                "diagnostics": "diagnostics.csv"}


def study_name(config: Mapping[str, Any]) -> str:
    return config["study"]["name"]


def study_dir(config: Mapping[str, Any]) -> str:
    """``<results>/studies/<name>`` (a string, for rule paths)."""
    return f"{config['results']}/{STUDIES}/{study_name(config)}"


def table_files(folder: str | Path) -> dict[str, str]:
    """The tables gather_results writes, by output name, under ``<study dir>/tables``."""
    tables = Path(folder) / "tables"
    return {key: str(tables / name) for key, name in _TABLE_NAMES.items()}


def report_path(config: Mapping[str, Any]) -> str:
    return f"{study_dir(config)}/report.html"


def study_folders(results: str | Path) -> list[Path]:
    """Every study folder of a results tree, by name."""
    root = Path(results) / STUDIES
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
