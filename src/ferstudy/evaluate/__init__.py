"""Evaluation: cross-dataset tests of trained runs, tidy tables, spread and paired comparisons.

- ``cross``: one run -> ``results/eval/{run}/cross.csv`` (in-dataset, member, cross, lodo rows)
- ``tables``: cross.csv files -> the tidy runs table; summary (mean/std/bootstrap CI)
- ``comparisons``: the study's questions as paired tests over matched seeds/folds
- ``gather``: the ``gather_results`` stage writing all tables
"""
from ferstudy.evaluate.cross import evaluate_run, write_cross  # noqa: F401
from ferstudy.evaluate.gather import build_tables, gather_cross_files, gather_results  # noqa: F401
from ferstudy.evaluate.runs import RunKey, discover_runs  # noqa: F401
