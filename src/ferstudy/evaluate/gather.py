"""The ``gather_results`` stage: cross.csv files -> runs / summary / comparisons / verdicts."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from ferstudy.evaluate.comparisons import compare
from ferstudy.evaluate.tables import attach_train_sizes, read_cross_tables, summarise, write_tables
from ferstudy.evaluate.verdicts import verdict_table, verdicts_markdown

log = logging.getLogger("ferstudy.evaluate")


def stats_settings(settings: Mapping) -> dict:
    """The statistics settings: ``evaluate.stats`` plus the interval level and seed."""
    return {**settings["stats"], "ci_level": settings["ci_level"], "seed": settings["seed"]}


def build_tables(runs: pd.DataFrame, settings: Mapping
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(summary, comparisons, verdicts) of a tidy runs table (with ``n_train``); settings =
    the config's ``evaluate``."""
    summary = summarise(runs, metrics=settings["metrics"], resamples=settings["bootstrap_resamples"],
                        level=settings["ci_level"], seed=settings["seed"])
    stats = stats_settings(settings)
    comparisons = compare(runs, questions=settings["comparisons"], metrics=settings["metrics"],
                          settings=stats)
    return summary, comparisons, verdict_table(runs, stats)


def gather_results(runs: pd.DataFrame, settings: Mapping,
                   out: Mapping[str, str | Path]
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Write ``out["runs_csv"|"runs_parquet"|"summary"|"comparisons"|"verdicts"|
    "verdicts_md"]`` from the runs table; returns (summary, comparisons, verdicts)."""
    from ferstudy.atomic import write_csv, write_text

    summary, comparisons, verdicts = build_tables(runs, settings)
    write_tables(runs, summary, comparisons, runs_csv=out["runs_csv"],
                 runs_parquet=out["runs_parquet"], summary_csv=out["summary"],
                 comparisons_csv=out["comparisons"])
    write_csv(out["verdicts"], verdicts)
    write_text(out["verdicts_md"], verdicts_markdown(verdicts, stats_settings(settings)))
    decided = verdicts["verdict"].isin(["A better", "B better", "equivalent"]).sum()
    log.info("%d rows from %d runs; %d configurations; %d comparisons; %d verdict rows "
             "(%d decided)", len(runs), runs["run"].nunique(), len(summary), len(comparisons),
             len(verdicts), decided)
    return summary, comparisons, verdicts


def gather_cross_files(paths: Iterable[str | Path], metrics: Iterable[str | Path],
                       settings: Mapping, out: Mapping[str, str | Path],
                       hashes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """paths: every run's cross.csv; metrics: every run's metrics.json (training sizes);
    ``hashes``: run -> settings_hash (provenance.json), runs.csv's ``settings_hash`` column."""
    runs = attach_train_sizes(read_cross_tables(paths), metrics)
    if hashes is not None:
        runs.insert(1, "settings_hash", runs["run"].map(hashes))
    gather_results(runs, settings, out)
    return runs
