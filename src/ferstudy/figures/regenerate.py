"""The ``figures`` target: every table and figure again, from the run outputs that exist.

Reads ``results/runs/*`` (and ``results/eval/*/cross.csv`` where a run was evaluated); never
trains, never re-runs a model. Writes the same files as gather_results + plot_figures.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from ferstudy.evaluate.diagnostics import write_diagnostics
from ferstudy.evaluate.gather import gather_results
from ferstudy.evaluate.tables import collect_existing
from ferstudy.figures.draw import draw_figures
from ferstudy.figures.qc import collect_sheets

log = logging.getLogger("ferstudy.figures")


def table_files(results: str | Path) -> dict[str, str]:
    tables = Path(results) / "tables"
    return {"runs_csv": str(tables / "runs.csv"), "runs_parquet": str(tables / "runs.parquet"),
            "summary": str(tables / "summary.csv"), "comparisons": str(tables / "comparisons.csv"),
            "verdicts": str(tables / "verdicts.csv"), "verdicts_md": str(tables / "verdicts.md"),
            "diagnostics": str(tables / "diagnostics.csv")}


def regenerate(results: str | Path, datasets: Sequence[str], questions: Sequence[str],
               settings: Mapping, methods: Sequence[str] = ()) -> None:
    """datasets: the study's training datasets (figures are drawn for each, and for any other
    training set found among the runs); questions: those with a forest figure
    (``catalog.answerable``); methods: the study's methods (diagnostics figures)."""
    results = Path(results)
    runs = collect_existing(results)
    if runs.empty:
        raise FileNotFoundError(f"no finished runs under {results / 'runs'} (no metrics.json): "
                                "train first, e.g. `snakemake --cores all`")
    files = table_files(results)
    _, comparisons, verdicts = gather_results(runs, settings, files)
    diagnostics = write_diagnostics((results / "runs" / r for r in runs["run"].unique()),
                                    files["diagnostics"])
    found = [d for d in dict.fromkeys(runs["dataset"]) if d not in datasets]
    draw_figures(runs, comparisons, verdicts, results / "runs", results / "figures",
                 [*datasets, *found], questions, settings, methods, diagnostics)
    sheets = collect_sheets(results, results / "figures" / "qc")
    log.info("%d runs; figures for %d training sets; %d QC sheets", runs["run"].nunique(),
             len(datasets) + len(found), len(sheets))
