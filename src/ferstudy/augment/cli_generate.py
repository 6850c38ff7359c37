"""``ferstudy generate``: sample a synthetic clip store from a trained clip GAN."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, help="training set the GAN was trained on")
    parser.add_argument("--fold", type=int, required=True, help="its held-out test fold")
    parser.add_argument("--clips-per-class", type=int, default=None,
                        help="default: augment.sd.clips_per_class")
    parser.add_argument("--out", default=None,
                        help="output store (default: <results>/synthetic/<dataset>/fold<fold>)")


def run(args: argparse.Namespace) -> None:
    from ferstudy.augment.gan.stage import generate_stage, sd_options
    from ferstudy.command_config import load_config
    from ferstudy.logs import logged

    config = load_config(args, need_study=False)   # one stage: no study-grid checks
    sd = sd_options(config)
    results = Path(config["results"])
    generator = results / "gan" / args.dataset / f"fold{args.fold}" / "generator.pt"
    if not generator.is_file():
        raise FileNotFoundError(f"{generator}: no trained generator; run `ferstudy train-gan "
                                f"--dataset {args.dataset} --fold {args.fold}` first")
    out = Path(args.out or results / "synthetic" / args.dataset / f"fold{args.fold}")
    with logged():
        generate_stage(generator, out, clips_per_class=args.clips_per_class or sd["clips_per_class"],
                       seed=sd["seed"])
