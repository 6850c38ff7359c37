"""The ``figures`` target: every table and figure again, from the run outputs that exist.

Reads the study's runs under ``results/runs/*`` (and ``<study dir>/eval/*/cross.csv`` where a
run was evaluated); never trains, never re-runs a model. Writes the same files as
gather_results + plot_figures, under the study's folder.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from ferstudy.evaluate.diagnostics import write_diagnostics
from ferstudy.evaluate.gather import gather_results
from ferstudy.evaluate.tables import collect_existing
from ferstudy.figures.draw import draw_figures, write_verdict_page
from ferstudy.figures.qc import collect_sheets
from ferstudy.study_dirs import table_files

log = logging.getLogger("ferstudy.figures")


def regenerate(results: str | Path, study_dir: str | Path, study_runs: Sequence[str],
               datasets: Sequence[str], questions: Sequence[str], settings: Mapping,
               methods: Sequence[str] = ()) -> None:
    """study_runs: the study's grid (``{run}`` strings): only those of its finished runs are
    read (other studies' runs share ``results/runs``); datasets: the study's training datasets
    (figures are drawn for each); questions: those with a forest figure
    (``catalog.answerable``); methods: the study's methods (diagnostics figures)."""
    results, study_dir = Path(results), Path(study_dir)
    runs = collect_existing(results, study_dir, study_runs)
    if runs.empty:
        raise FileNotFoundError(f"no finished run of study {study_dir.name} under "
                                f"{results / 'runs'} (no metrics.json): train first, e.g. "
                                "`snakemake --cores all`")
    files = table_files(study_dir)
    _, comparisons, verdicts = gather_results(runs, settings, files)
    diagnostics = write_diagnostics((results / "runs" / r for r in runs["run"].unique()),
                                    files["diagnostics"])
    draw_figures(runs, comparisons, verdicts, results / "runs", study_dir / "figures",
                 datasets, questions, settings, methods, diagnostics)
    write_verdict_page(verdicts, study_dir)
    sheets = collect_sheets(results, study_dir / "figures" / "qc")
    log.info("%d runs; figures for %d training sets; %d QC sheets", runs["run"].nunique(),
             len(datasets), len(sheets))
