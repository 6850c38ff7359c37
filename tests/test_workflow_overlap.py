"""The identity-overlap check in the workflow: check_overlap runs after registration, feeds
evaluate_cross, and a new same_subjects_as declaration reruns the checks it concerns, never
registration."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_faults_rerun import planned_jobs

import release_trees as quirks
from ferstudy.evaluate.overlap import read_overlap

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"

pytestmark = pytest.mark.slow


def run(work: Path, config: dict, *args: str) -> subprocess.CompletedProcess:
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(work), "--configfile",
           str(work / "config.yaml"), "--cores", "1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_declaring_same_subjects_reruns_the_check_not_registration(tmp_path):
    vl, ni = tmp_path / "vl", tmp_path / "ni"
    quirks.oulu_spectrum(vl, "VL", 3)
    quirks.oulu_spectrum(ni, "NI", 10)
    mug, _ = quirks.mug(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    config = {"datasets": {"vl": {"adapter": "oulu", "root": str(vl)},
                           "ni": {"adapter": "oulu", "root": str(ni), "options": {"spectrum": "NI"}},
                           "mug": {"root": str(mug)}},
              "register": {"folds": 2},
              "study": {"datasets": ["vl", "ni", "mug"], "archs": ["vgg3d"]}}
    first = run(work, config, "results/studies/config/tables/overlap.csv")
    assert first.returncode == 0, first.stderr[-3000:]
    table = read_overlap(work / "results" / "studies" / "config" / "tables" / "overlap.csv")
    assert len(table) == 6 and not table["overlap"].any()

    config["datasets"]["vl"]["same_subjects_as"] = ["ni"]
    plan = run(work, config, "-n", "results/studies/config/tables/overlap.csv")
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert planned_jobs(plan) == {"check_overlap": 2, "overlap_table": 1}   # vl and ni, not mug
    second = run(work, config, "results/studies/config/tables/overlap.csv")
    assert second.returncode == 0, second.stderr[-3000:]
    table = read_overlap(work / "results" / "studies" / "config" / "tables" / "overlap.csv")
    assert sorted(map(tuple, table.loc[table["overlap"], ["train_set", "test_set"]].values)) == [
        ("ni", "vl"), ("vl", "ni")]

    # every evaluation of a vl run reads vl's check
    evaluate = run(work, config, "-n", "--forcerun", "check_overlap",
                   "results/studies/config/eval/vl/vgg3d/supervised/ri/none/full/seed0/fold0/cross.csv")
    assert evaluate.returncode == 0, evaluate.stderr[-3000:]
    block = evaluate.stdout.split("rule evaluate_cross:", 1)[1].split("\n\n", 1)[0]
    assert "results/studies/config/overlap/vl.csv" in block
