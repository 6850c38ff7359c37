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

    config = load_config(args)
    with logged():
        regenerate(config["results"], config["study"]["datasets"],
                   answerable(config["evaluate"]["comparisons"], config["study"]), config["evaluate"],
                   config["study"]["methods"])
