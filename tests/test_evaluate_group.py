"""evaluate_cross through Snakemake: one job per (training set, arch, fold) writes every run's own
cross.csv, and asking for one run's file evaluates the whole group in that one job."""
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from synth_runs import write_run
from test_faults_rerun import planned_jobs

from ferstudy.evaluate.overlap import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
CLASSES = ["anger", "happiness", "surprise"]


def test_one_evaluate_job_writes_each_run_of_its_group(tmp_path):
    config = {"datasets": {"ckplus": {"root": str(tmp_path / "no_ckplus")},
                           "mug": {"root": str(tmp_path / "no_mug")}},
              "study": {"datasets": ["ckplus"], "archs": ["vgg3d", "resnet3d"], "inits": ["ri", "ft"],
                        "augments": ["none"], "seeds": [0, 1], "folds": [0], "classes": CLASSES,
                        "cross_dataset": False},
              "train": {"pretrain": {"sources": ["mug"]}}}   # real data: ft names its pool
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    results = tmp_path / "results"
    runs = [f"ckplus/{a}/supervised/{i}/none/full/seed{s}/fold0"
            for a in ("vgg3d", "resnet3d") for i in ("ri", "ft") for s in (0, 1)]
    for k, run in enumerate(runs):
        write_run(results, run, CLASSES, accuracy=(k + 1) / 12, seed=k)
    study = results / "studies" / "config"   # the study's own outputs (ferstudy.study_dirs)
    (study / "overlap").mkdir(parents=True)
    pd.DataFrame(columns=list(COLUMNS)).to_csv(study / "overlap" / "ckplus.csv", index=False)
    target = f"results/studies/config/eval/{runs[0]}/cross.csv"
    cmd = [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "--configfile",
           str(tmp_path / "config.yaml"), "--cores", "1", "--allowed-rules", "evaluate_cross"]
    plan = subprocess.run([*cmd, "-n", "--", target], capture_output=True, text=True, timeout=180)
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert planned_jobs(plan) == {"evaluate_cross": 1}   # the whole vgg3d group, one job
    done = subprocess.run([*cmd, "--", target], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    vgg = [r for r in runs if "/vgg3d/" in r]
    for k, run in enumerate(vgg):
        cross = pd.read_csv(study / "eval" / run / "cross.csv")
        assert list(cross["run"]) == [run] and list(cross["kind"]) == ["in"]
        assert cross["accuracy"].iloc[0] == pytest.approx(round((k + 1) / 12 * 12) / 12)
    # the other architecture is another group: not evaluated by this job
    assert not any((study / "eval" / r).exists() for r in runs if "/resnet3d/" in r)
    log = (study / "logs" / "evaluate_cross" / "ckplus" / "vgg3d" / "fold0.log")
    assert log.is_file()
