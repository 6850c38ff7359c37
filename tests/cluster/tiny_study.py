"""Write the tiny study that the SLURM test runs twice (through SLURM, then locally).

    python tests/cluster/tiny_study.py WORKDIR [--resources RESOURCES]

WORKDIR gets ``config.yaml`` (two demo datasets in the CK+ and MUG layouts, one small
architecture, one seed and fold, cross-dataset evaluation on) and ``resources/`` holding copies
(not links: a job must never write into the checkout) of the already fetched face models and
face media, so that no job needs the network (cluster nodes often have none). Every stage of the demo runs: render_demo, register_dataset,
align_shard, gather_aligned, train_model, evaluate_cross, gather_results, plot_figures.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]

CONFIG = {
    "datasets": {
        "ckplus": {"root": "resources/demo/ckplus", "demo": True},
        "mug": {"root": "resources/demo/mug", "demo": True},
    },
    "demo": {"datasets": {
        "ckplus": {"subjects": 4, "frames": [6, 8], "size": [192, 144], "unlabelled": 0},
        "mug": {"subjects": 4, "frames": [6, 8], "size": [192, 144]},
    }},
    "register": {"folds": 2},
    "align": {"size": 32, "frames": 4, "shards": 2},
    "study": {
        "datasets": ["ckplus", "mug"], "archs": ["resnet3d"], "methods": ["supervised"],
        "inits": ["ri"], "augments": ["none"], "protocols": ["full"], "seeds": [0, 1],
        "folds": [0], "classes": ["anger", "happiness", "surprise"], "cross_dataset": True,
    },
    "train": {"epochs": 2, "batch_size": 4, "width": 0.125, "patience": 2},
}


def write(work: Path, resources: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    missing = [p for p in ("models/face_detection_short_range.tflite", "media/pyfeat")
               if not (resources / p).exists()]
    if missing:
        sys.exit(f"tiny_study: {resources} lacks {', '.join(missing)}; run `make resources` first")
    res = work / "resources"
    res.mkdir(exist_ok=True)
    for name in ("models", "media"):
        if not (res / name).exists():
            shutil.copytree(resources / name, res / name)   # copy2: keeps the fetch times
    config = work / "config.yaml"
    config.write_text("# tiny study of tests/cluster (see tiny_study.py)\n"
                      + yaml.safe_dump(CONFIG, sort_keys=False))
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--resources", type=Path, default=REPO / "resources",
                        help="folder holding the fetched models/ and media/ (default: repo's)")
    args = parser.parse_args()
    print(write(args.workdir, args.resources))


if __name__ == "__main__":
    main()
