"""``ferstudy render-demo``: render the demo datasets of a config outside Snakemake."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", action="append", default=[], metavar="NAME",
                        help="render only this demo dataset (repeatable; default: every "
                             "dataset with demo: true)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="datasets rendered in parallel (default: %(default)s)")


def run(args: argparse.Namespace) -> None:
    from ferstudy.command_config import load_config
    from ferstudy.demo.render import render_all
    from ferstudy.logs import logged

    config = load_config(args, need_study=False)   # one stage: no study-grid checks
    with logged():
        for summary in render_all(config, args.dataset or None, jobs=args.jobs):
            print(f"{summary['dataset']}: {summary['subjects']} subjects, {summary['clips']} clips, "
                  f"{summary['frames']} frames in {summary['seconds']} s -> {summary['root']}")
