"""``ferstudy register``: the register stage outside Snakemake."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, help="dataset name (a key of 'datasets')")
    parser.add_argument("--workers", type=int, default=1,
                        help="threads that decode and hash clips (default: %(default)s)")


def run(args: argparse.Namespace) -> None:
    from ferstudy.command_config import load_config
    from ferstudy.datasets.register import register
    from ferstudy.logs import logged

    config = load_config(args, need_study=False)   # only the dataset's section is needed
    if args.dataset not in config["datasets"]:
        raise ValueError(f"dataset {args.dataset!r} is not declared under 'datasets'; "
                         f"declared: {', '.join(config['datasets'])}")
    out = Path(config["results"]) / "registry"
    with logged():
        register(args.dataset, config["datasets"][args.dataset], out / f"{args.dataset}.csv",
                 out / f"{args.dataset}.rejected.csv", folds=config["register"]["folds"],
                 seed=config["register"]["fold_seed"], strict=config["register"]["strict"],
                 workers=args.workers)
