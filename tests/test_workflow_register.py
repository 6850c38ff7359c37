"""The register_dataset rule run by Snakemake in a tmp dir on a fixture CK+ tree."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

import dataset_trees as trees
from ferstudy.datasets.register import read_manifest

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"



def snakemake(workdir: Path, config: dict, *targets: str) -> subprocess.CompletedProcess:
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    cmd = [str(SNAKEMAKE), *targets, "-s", str(REPO / "Snakefile"), "-d", str(workdir),
           "--configfile", str(workdir / "config.yaml"), "--cores", "1"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def tiny_config(root: Path) -> dict:
    # Only what this stage needs; see the main config.yaml for every key.
    return {"datasets": {"ckplus": {"root": str(root)}}, "register": {"folds": 2, "fold_seed": 1},
            "study": {"datasets": ["ckplus"], "archs": ["vgg3d"]}}


def test_register_rule_on_fixture_ckplus(tmp_path):
    root = trees.ckplus(tmp_path)
    before = trees.snapshot(root)
    work = tmp_path / "work"
    work.mkdir()
    proc = snakemake(work, tiny_config(root), "results/registry/ckplus.csv")
    assert proc.returncode == 0, proc.stderr[-3000:]
    m = read_manifest(work / "results" / "registry" / "ckplus.csv")
    assert len(m) == 7 and set(m["fold"]) == {0, 1}
    assert m.groupby("subject")["fold"].nunique().max() == 1
    rejected = (work / "results" / "registry" / "ckplus.rejected.csv").read_text()
    assert "S003_001_00000001.png: empty" in rejected
    log = (work / "results" / "logs" / "register" / "ckplus.log").read_text()
    assert ("dataset ckplus: 7 clips (6 labelled, 1 unlabelled, 4 subjects); 1 rejected: "
            "1 empty or missing image file") in log
    assert trees.snapshot(root) == before

