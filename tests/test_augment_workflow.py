"""SD through Snakemake: train_gan + generate_clips on a merged set from aligned stores in a tmp
dir (upstream stages not run); the synthetic store then mixes into a training split."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from cartoon_clips import cartoon_clipset
from ferstudy.augment.mixing import mix_synthetic
from ferstudy.clipstore import load_dataset, read_store, write_store
from ferstudy.train.data import validation_subjects

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
SET = "merged-ckplus+mug"


def test_gan_and_synthetic_store_through_snakemake(tmp_path):
    for i, name in enumerate(["ckplus", "mug"]):
        cs = cartoon_clipset(subjects=8, clips_per_subject=6, frames=4, size=32, folds=4, seed=i,
                             dataset=name)
        write_store(tmp_path / "results" / "aligned" / name, cs.clips, cs.intensity, cs.index)
    config = {
        "datasets": {"ckplus": {"root": str(tmp_path / "no_ckplus")},
                     "mug": {"root": str(tmp_path / "no_mug")}},
        "register": {"folds": 4},
        "study": {"datasets": [SET], "archs": ["resnet2d_lstm"], "augments": ["da+sd"],
                  "seeds": [0], "folds": [0], "cross_dataset": False},
        "train": {"epochs": 1, "batch_size": 8, "width": 0.125},
        "augment": {"sd": {"iterations": 8, "batch": 4, "size": 16, "width": 4, "latent_dim": 8,
                           "log_every": 4, "clips_per_class": 20}},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    targets = [f"results/gan/{SET}/fold0/grid.png", f"results/synthetic/{SET}/fold0/index.csv"]
    cmd = [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "--configfile",
           str(tmp_path / "config.yaml"), "--cores", "2", "--quiet", "--set-threads", "train_gan=1",
           "--allowed-rules", "train_gan", "generate_clips", "--", *targets]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    gan = tmp_path / "results" / "gan" / SET / "fold0"
    options = json.loads((gan / "options.json").read_text())
    assert not any(s.endswith(("S000", "S004")) for s in options["train_subjects"])
    # the subjects every run of fold 0 validates on (config.yaml's val_fraction 0.2) are left out
    merged = load_dataset(tmp_path / "results", SET)
    held = validation_subjects(merged, fold=0, val_fraction=0.2, study_classes=options["classes"])
    assert held and not set(held) & set(options["train_subjects"])
    index = merged.index
    kept = index[(index["fold"] != 0) & ~index["subject"].isin(held)
                 & index["label"].isin(options["classes"])]
    assert options["n_train"] == len(kept) < 72
    syn = read_store(tmp_path / "results" / "synthetic" / SET / "fold0")
    assert syn.shape == (4, 32, 32, 1) and (syn.index["synthetic"] == 1).all()
    assert syn.index["label"].value_counts().min() == 20
    train = load_dataset(tmp_path / "results", SET)
    train = train.subset(train.index["fold"].to_numpy() != 0)
    mixed = mix_synthetic(train, syn, 0.5, np.random.default_rng(0))
    assert (mixed.index["synthetic"] == 1).sum() == sum(
        round(0.5 * n) for n in train.index["label"].value_counts())
    assert (tmp_path / "results" / "logs" / "train_gan" / SET / "fold0.log").read_text()
