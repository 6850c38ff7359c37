"""The planning benchmarks run: plan_grid.py plans a study with real datasets against fake
release trees (the workflow checks a root's layout while it builds the job graph) and checks
the planned jobs per rule against the grid arithmetic; plan_floor.py times Snakemake alone."""
import subprocess
import sys

import pytest
import yaml

from study_plans import ROOT


@pytest.mark.slow
def test_plan_grid_plans_a_small_real_data_study(tmp_path):
    study = yaml.safe_load((ROOT / "studies" / "pitfalls.yaml").read_text())
    study["study"].update(datasets=["ckplus", "merged-ckplus+mug"], archs=["resnet3d"],
                          inits=["ri", "ft"], augments=["none", "sd"], seeds=[0], folds=[0, 1])
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(study))
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "plan_grid.py"),
                           "--study", str(path), "--batches", "2"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines()
            if line.split() and line.split()[0] in ("train_model", "evaluate_cross", "pretrain_model")}
    assert rows["train_model"] == ["16", "16"]        # 2 sets x 2 inits x 2 augments x 2 folds
    assert rows["evaluate_cross"] == ["4", "4"]       # per (set, arch, fold)
    assert "differs" not in proc.stdout and "dry run, slice 1/2" in proc.stdout


@pytest.mark.slow
def test_plan_floor_times_each_rule_shape(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "plan_floor.py"), "--jobs", "40"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines()[1:] if line.strip()]
    assert len(rows) == 3 and all(float(r.split()[-2]) > 0 for r in rows)
