"""Every figure of the study from the tidy runs table and the run folders, at fixed paths.

``catalog.figure_files`` is the single list of outputs (the Snakemake rule declares exactly
these); ``draw_figures`` writes them all, PNG + PDF.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ferstudy.figures import style
from ferstudy.figures.catalog import figure_files
from ferstudy.figures.confusion import plot_confusions
from ferstudy.figures.curves import plot_curves
from ferstudy.figures.diagnostics import plot_diagnostics
from ferstudy.figures.heatmap import plot_cross_heatmap
from ferstudy.figures.tsne import pick_run, plot_tsne
from ferstudy.figures.variance import plot_variance
from ferstudy.figures.verdict_plot import plot_question, plot_verdicts

log = logging.getLogger("ferstudy.figures")


def draw_figures(runs: pd.DataFrame, comparisons: pd.DataFrame, verdicts: pd.DataFrame,
                 runs_root: str | Path, figures_dir: str | Path, datasets: Sequence[str],
                 questions: Sequence[str], settings: Mapping, methods: Sequence[str] = (),
                 diagnostics: pd.DataFrame | None = None) -> list[str]:
    """Draw every figure of ``figure_files``; returns the PNG paths written.

    runs / comparisons / verdicts: the tidy tables; questions: those with a forest figure;
    settings: the config's ``evaluate`` section (``figures``, ``tsne``, ``stats`` used);
    methods: the study's methods (one diagnostics figure each that has diagnostics);
    diagnostics: the gathered diagnostics table (read from the run folders when None).
    """
    dpi = settings["figures"]["dpi"]
    metric = settings["figures"]["metric"]
    stats = settings["stats"]
    tsne = settings["tsne"]
    files = figure_files(figures_dir, datasets, questions, methods)
    if diagnostics is None and any(n.startswith("diagnostics/") for n in files):
        from ferstudy.evaluate.diagnostics import gather_diagnostics

        diagnostics = gather_diagnostics(Path(runs_root) / r for r in runs["run"].unique())
    for name, paths in files.items():
        kind, _, dataset = name.partition("/")
        log.info("drawing %s", paths["png"])
        if kind == "verdicts":
            fig = plot_verdicts(verdicts, rope=stats["rope"], sd_ratio_rope=stats["sd_ratio_rope"],
                                metric=stats["metric"])
        elif kind == "variance":
            fig = plot_variance(runs, metric=metric, order=datasets)
        elif kind == "comparisons":
            fig = plot_question(comparisons, dataset, metric=stats["metric"], rope=stats["rope"])
        elif kind == "cross_dataset":
            fig = plot_cross_heatmap(runs, metric=metric, order=datasets)
        elif kind == "confusion":
            fig = plot_confusions(runs, runs_root, dataset)
        elif kind == "curves":
            fig = plot_curves(runs, runs_root, dataset)
        elif kind == "diagnostics":
            fig = plot_diagnostics(diagnostics, dataset)
        else:
            key = pick_run(runs, dataset)
            fig = (style.message_figure(f"t-SNE: {dataset}", "no runs on this dataset yet")
                   if key is None else
                   plot_tsne(Path(runs_root) / str(key), perplexity=tsne["perplexity"],
                             seed=tsne["seed"], max_points=tsne["max_points"]))
        style.save_figure(fig, paths["png"], paths["pdf"], dpi=dpi)
    return [p["png"] for p in files.values()]


def draw_from_tables(tables: Mapping[str, str | Path], results: str | Path,
                     study_dir: str | Path, datasets: Sequence[str], questions: Sequence[str],
                     settings: Mapping, qc_dir: str | Path, methods: Sequence[str] = ()) -> None:
    """The ``plot_figures`` stage: every figure from the tables (``tables["runs"|"comparisons"|
    "verdicts"]``, and ``"diagnostics"`` when given) + the run folders under ``results/runs``
    into ``study_dir/figures``, the verdict page ``study_dir/verdicts.html``, and the QC sheets
    of other stages (under ``results``) copied into ``qc_dir``."""
    from ferstudy.evaluate.tables import (read_comparisons_table, read_runs_table,
                                          read_verdicts_table)
    from ferstudy.figures.qc import collect_sheets

    results, study_dir = Path(results), Path(study_dir)
    verdicts = read_verdicts_table(tables["verdicts"])
    diagnostics = pd.read_csv(tables["diagnostics"]) if tables.get("diagnostics") else None
    draw_figures(read_runs_table(tables["runs"]), read_comparisons_table(tables["comparisons"]),
                 verdicts, results / "runs", study_dir / "figures", datasets, questions, settings,
                 methods, diagnostics)
    write_verdict_page(verdicts, study_dir)
    collect_sheets(results, qc_dir)


PAGE_NOTE = ("effect = A - B in points of the metric (seed-spread rows: ratio of seed standard "
             "deviations) with the interval the verdict is read from, at the question's family "
             "level (1 - alpha / rows): A better iff it lies above +ROPE, B better iff below "
             "-ROPE, equivalent iff inside +-ROPE; the full table (model, tau^2, I^2, "
             "probabilities) is tables/verdicts.csv, the rules are in its caption.")


def write_verdict_page(verdicts: pd.DataFrame, study_dir: str | Path) -> Path:
    """``study_dir/verdicts.html``: the verdict table and figure (``figures/verdicts.png``)."""
    from ferstudy.figures.verdict_page import verdict_page

    study_dir = Path(study_dir)
    out = study_dir / "verdicts.html"
    verdict_page(verdicts, study_dir / "figures" / "verdicts.png", out,
                 title=f"Verdicts of study {study_dir.name}", note=PAGE_NOTE)
    return out
