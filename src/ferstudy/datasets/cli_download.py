"""``ferstudy download``: the download_ravdess rule outside Snakemake."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default="ravdess",
                        help="download set, a key of the 'download' config section (default: %(default)s)")


def run(args: argparse.Namespace) -> None:
    from ferstudy.command_config import load_config
    from ferstudy.datasets.download import download_set
    from ferstudy.logs import logged

    config = load_config(args, need_study=False)   # one stage: no study-grid checks
    sets = config.get("download", {})
    if args.name not in sets:
        raise ValueError(f"download set {args.name!r} is not in the 'download' config section; "
                         f"known: {', '.join(sets) or '(none)'}")
    resources = Path(config["resources"])
    with logged():
        download_set(args.name, sets[args.name], resources / sets[args.name]["dest"],
                     resources / "downloads" / args.name, resources / "downloads" / f"{args.name}.csv")
