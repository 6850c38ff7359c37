"""A tiny end-to-end train through Snakemake: pretrain_model + train_model for ri and ft on a
single and a merged set, from aligned stores written in a tmp dir (upstream stages not run)."""
import json
import subprocess
import sys
from pathlib import Path

import yaml

from ferstudy.clipstore import write_store
from toyclips import toy_clipset

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
RUN = "{ds}/resnet2d_lstm/supervised/{init}/none/full/seed0/fold0"


def test_train_grid_through_snakemake(tmp_path):
    targets = run_train_grid(tmp_path)
    check_train_grid(tmp_path, targets, worker=False)


def run_train_grid(tmp_path: Path) -> list[str]:
    """Three jobs through Snakemake in ``tmp_path``: ri on a single set, pretrain + ft on the
    merged set; returns the metrics.json targets (tests/test_train_worker.py reuses it)."""
    for i, name in enumerate(["ckplus", "mug"]):
        cs = toy_clipset(subjects=8, frames=4, size=32, folds=4, seed=i, dataset=name)
        write_store(tmp_path / "results" / "aligned" / name, cs.clips, cs.intensity, cs.index)
    config = {
        "datasets": {"ckplus": {"root": str(tmp_path / "no_ckplus")},
                     "mug": {"root": str(tmp_path / "no_mug")}},
        "register": {"folds": 4},
        "study": {"datasets": ["ckplus", "merged-ckplus+mug"], "archs": ["resnet2d_lstm"],
                  "inits": ["ri", "ft"], "augments": ["none"], "seeds": [0], "folds": [0],
                  "cross_dataset": False},
        # real data (not demo stand-ins): ft needs its sources named (#15 item 2)
        "train": {"epochs": 2, "batch_size": 8, "width": 0.125,
                  # the target's own training folds join the pool: fold<k>-full pools
                  "pretrain": {"epochs": 1, "sources": ["ckplus", "mug"],
                               "include_target_train": True}},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    # three jobs: ri on a single set, pretrain + ft on the merged set
    targets = [f"results/runs/{RUN.format(ds=ds, init=init)}/metrics.json"
               for ds, init in (("ckplus", "ri"), ("merged-ckplus+mug", "ft"))]
    cmd = [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "--configfile",
           str(tmp_path / "config.yaml"), "--cores", "2", "--quiet",
           "--allowed-rules", "train_model", "pretrain_model", "--", *targets]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return targets


def check_train_grid(tmp_path: Path, targets: list[str], *, worker: bool) -> None:
    """The runs' files and logs; ``worker``: whether a train-worker trained them."""
    for target in targets:
        metrics = json.loads((tmp_path / target).read_text())
        assert metrics["epochs"] == 2 and metrics["n_test"] > 0
        assert 0.0 <= metrics["accuracy"] <= 1.0
        run = (tmp_path / target).parent
        for name in ("model.pt", "predictions.csv", "embeddings.npy", "curve.csv", "config.yaml"):
            assert (run / name).is_file()
        assert not (run / "checkpoint.pt").exists()
        # an ft run records the datasets behind its weights (cross-dataset tests need to know)
        assert metrics["pretrain_sources"] == (["ckplus", "mug"] if "/ft/" in target else [])
        assert metrics["pretrain_protocol"] == ("full" if "/ft/" in target else None)
        # the start-up tax, process start to the first step, in its parts (a record only)
        startup = json.loads((run / "provenance.json").read_text())["startup"]
        assert startup["worker"] is worker and startup["complete"]
        parts = sum(startup[f"{p}_s"] for p in ("launch", "data", "device", "model", "first_step"))
        assert startup["total_s"] > 0 and abs(parts - startup["total_s"]) < 0.01
    logs = tmp_path / "results" / "logs"
    pretrained = tmp_path / "results" / "pretrain" / "merged-ckplus+mug" / "resnet2d_lstm" / "fold0-full" / "model.pt"
    assert pretrained.is_file()
    ft_log = (logs / "train_model" / (RUN.format(ds="merged-ckplus+mug", init="ft") + ".log")).read_text()
    assert "ft weights from" in ft_log and "re-initialised: head.weight" in ft_log
    assert "loaded: backbone.conv1.weight" in ft_log
    ri_log = (logs / "train_model" / (RUN.format(ds="ckplus", init="ri") + ".log")).read_text()
    assert "ft weights" not in ri_log and "epoch 2/2" in ri_log
    assert "start-up: " in ri_log and ("train-worker at" in ri_log) is worker
    pre_log = (logs / "pretrain_model" / "merged-ckplus+mug" / "resnet2d_lstm" / "fold0-full.log").read_text()
    assert "pool fold0-full: ['ckplus', 'mug'] (full" in pre_log
    assert not (tmp_path / "results" / "pretrain" / "ckplus").exists()   # ri needs none
