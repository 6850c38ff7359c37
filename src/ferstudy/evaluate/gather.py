"""The ``gather_results`` stage: cross.csv files -> runs / summary / comparisons tables."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from ferstudy.evaluate.comparisons import compare
from ferstudy.evaluate.tables import read_cross_tables, summarise, write_tables

log = logging.getLogger("ferstudy.evaluate")


def build_tables(runs: pd.DataFrame, settings: Mapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, comparisons) of a tidy runs table; settings = the config's ``evaluate``."""
    common = {"resamples": settings["bootstrap_resamples"], "level": settings["ci_level"],
              "seed": settings["seed"]}
    summary = summarise(runs, metrics=settings["metrics"], **common)
    comparisons = compare(runs, questions=settings["comparisons"], metrics=settings["metrics"],
                          test=settings["paired_test"], alpha=settings["alpha"], **common)
    return summary, comparisons


def gather_results(runs: pd.DataFrame, settings: Mapping,
                   out: Mapping[str, str | Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write ``out["runs_csv"|"runs_parquet"|"summary"|"comparisons"]`` from the runs table;
    returns (summary, comparisons)."""
    summary, comparisons = build_tables(runs, settings)
    write_tables(runs, summary, comparisons, runs_csv=out["runs_csv"],
                 runs_parquet=out["runs_parquet"], summary_csv=out["summary"],
                 comparisons_csv=out["comparisons"])
    flagged = comparisons[comparisons["exceeds_spread"]] if len(comparisons) else comparisons
    log.info("%d rows from %d runs; %d configurations; %d comparisons (%d exceed the spread)",
             len(runs), runs["run"].nunique(), len(summary), len(comparisons), len(flagged))
    return summary, comparisons


def gather_cross_files(paths: Iterable[str | Path], settings: Mapping,
                       out: Mapping[str, str | Path],
                       hashes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``hashes``: run -> settings_hash (provenance.json), runs.csv's ``settings_hash`` column."""
    runs = read_cross_tables(paths)
    if hashes is not None:
        runs.insert(1, "settings_hash", runs["run"].map(hashes))
    gather_results(runs, settings, out)
    return runs
