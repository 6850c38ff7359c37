"""``ferstudy align``: the align stage outside Snakemake, for one dataset (all shards, then
the store) or one shard only (``--shard``, as one cluster job would)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, help="dataset name (a key of 'datasets')")
    parser.add_argument("--shard", type=int, default=None,
                        help="align only this shard (0..align.shards-1) and do not gather")


def temporal_of(config: dict[str, Any], dataset: str) -> str:
    """The dataset adapter's TEMPORAL (onset_apex | onset_apex_offset | static)."""
    from ferstudy.datasets import DATASETS

    entry = config["datasets"][dataset]
    return DATASETS.get(entry.get("adapter", dataset)).TEMPORAL


def shard_path(results: str | Path, dataset: str, shard: int) -> Path:
    return Path(results) / "aligned" / dataset / "shards" / f"{shard}.npz"


def run(args: argparse.Namespace) -> None:
    from ferstudy.command_config import load_config
    from ferstudy.faces.shards import align_shard, gather_aligned
    from ferstudy.logs import logged
    from ferstudy.resources import models_dir

    config = load_config(args, need_study=False)   # one stage: no study-grid checks
    if args.dataset not in config["datasets"]:
        raise ValueError(f"dataset {args.dataset!r} is not declared under 'datasets'; "
                         f"declared: {', '.join(config['datasets'])}")
    cfg, results = config["align"], config["results"]
    manifest = Path(results) / "registry" / f"{args.dataset}.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest}: no manifest; run `ferstudy register "
                                f"--dataset {args.dataset}` first")
    shards = [args.shard] if args.shard is not None else list(range(cfg["shards"]))
    with logged():
        for shard in shards:
            align_shard(manifest, shard_path(results, args.dataset, shard), cfg,
                        models_dir(config), temporal_of(config, args.dataset), shard)
        if args.shard is None:
            out = Path(results) / "aligned" / args.dataset
            gather_aligned(manifest, [shard_path(results, args.dataset, s) for s in shards],
                           out, cfg, out / "contact_sheet.png")
