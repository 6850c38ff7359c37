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
    from ferstudy.evaluate.overlap import write_overlap
    from ferstudy.evaluate.plan import (declared_overlap, eval_stores, foreign_sets, overlap_csv,
                                        pool_sources)
    from ferstudy.evaluate.runs import RunKey
    from ferstudy.logs import logged

    config = load_config(args)
    key = RunKey.parse(args.run)
    settings = config["evaluate"]
    out = args.out or Path(config["results"]) / "eval" / str(key) / "cross.csv"
    study, results = config["study"], config["results"]
    with logged():
        # the identity-overlap check of rule check_overlap, from the registered datasets
        overlap = overlap_csv(key.dataset, results)
        pool = pool_sources(key.dataset, config)
        write_overlap(key.dataset, foreign_sets(key.dataset, study), Path(results) / "registry",
                      declared_overlap(key.dataset, study, config["datasets"], pool), overlap,
                      pool=pool)
        frame = write_cross(args.run, eval_stores(key.dataset, study, results),
                            out, device=settings["device"], batch_clips=settings["batch_clips"],
                            min_shared=settings["min_shared_classes"], overlap_csv=overlap)
    print(frame.drop(columns=["run"]).to_string(index=False))
