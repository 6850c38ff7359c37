"""``ferstudy figures``: every table and figure again from the run outputs under results/."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> None:
    from ferstudy.command_config import load_config
    from ferstudy.figures.catalog import answerable
    from ferstudy.figures.regenerate import regenerate
    from ferstudy.logs import logged
    from ferstudy.study_dirs import study_dir
    from ferstudy.train.plan import official_split_datasets, study_runs

    config = load_config(args, need_study=False)   # one stage: no study-grid checks
    with logged():
        regenerate(config["results"], study_dir(config),
                   study_runs(config["study"], official_split_datasets(config)),
                   config["study"]["datasets"],
                   answerable(config["evaluate"]["comparisons"], config["study"]), config["evaluate"],
                   config["study"]["methods"])
