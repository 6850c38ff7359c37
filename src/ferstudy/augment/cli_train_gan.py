"""``ferstudy train-gan``: train the SD clip GAN of one training set and fold, outside Snakemake."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True,
                        help="training set: a dataset name or a merged set (merged-a+b)")
    parser.add_argument("--fold", type=int, required=True, help="the test fold to hold out")
    parser.add_argument("--out", default=None,
                        help="output folder (default: <results>/gan/<dataset>/fold<fold>)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the resolved augment.sd options and exit")


def run(args: argparse.Namespace) -> None:
    import json

    from ferstudy.augment.gan.stage import sd_options, train_gan_stage
    from ferstudy.command_config import load_config
    from ferstudy.logs import logged

    config = load_config(args, need_study=False)   # one stage: no study-grid checks
    if args.dry_run:
        print(json.dumps(sd_options(config), indent=2, sort_keys=True))
        return
    out = Path(args.out or Path(config["results"]) / "gan" / args.dataset / f"fold{args.fold}")
    with logged():
        train_gan_stage(config, args.dataset, args.fold, out)
