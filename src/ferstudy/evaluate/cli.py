"""``ferstudy evaluate``: the cross-dataset test of one finished run, outside Snakemake."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True,
                        help="run folder, results/runs/{dataset}/{arch}/{method}/{init}/"
                             "{augment}/{protocol}/seed{N}/fold{K}")
    parser.add_argument("--out", default=None,
                        help="cross.csv to write (default: results/eval/{run}/cross.csv)")


def run(args: argparse.Namespace) -> None:
    from ferstudy.command_config import load_config
    from ferstudy.evaluate.cross import write_cross
    from ferstudy.evaluate.plan import eval_stores
    from ferstudy.evaluate.runs import RunKey
    from ferstudy.logs import logged

    config = load_config(args)
    key = RunKey.parse(args.run)
    settings = config["evaluate"]
    out = args.out or Path(config["results"]) / "eval" / str(key) / "cross.csv"
    with logged():
        frame = write_cross(args.run, eval_stores(key.dataset, config["study"], config["results"]),
                            out, device=settings["device"], batch_clips=settings["batch_clips"],
                            min_shared=settings["min_shared_classes"])
    print(frame.drop(columns=["run"]).to_string(index=False))
