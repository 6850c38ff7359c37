"""The SCN-noise and Ada-CM few-label study files: valid configs, and the demo variants plan
their runs through Snakemake (dry run)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ferstudy import config as fcfg

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ["scn_noise", "demo_scn_noise", "adacm_semi", "demo_adacm_semi"]


def _merged(name):
    cfg = fcfg.load_yaml(ROOT / "config.yaml")
    return fcfg.deep_update(cfg, fcfg.load_yaml(ROOT / "studies" / f"{name}.yaml"))


@pytest.mark.parametrize("name", STUDIES)
def test_study_validates_and_compares_the_right_methods(name):
    cfg = fcfg.validate(_merged(name))
    study = cfg["study"]
    if "scn" in name:
        assert study["methods"] == ["supervised", "scn"]
        assert "full" in study["protocols"] and "noisesym30" in study["protocols"]
    else:
        assert study["methods"] == ["supervised", "adacm"]
        assert any(p.startswith("labels") for p in study["protocols"])
    assert len(study["archs"]) >= 2
    if name.startswith("demo_"):
        assert all(cfg["datasets"][d].get("demo") for d in study["datasets"])


@pytest.mark.parametrize("name", ["demo_scn_noise", "demo_adacm_semi"])
def test_demo_study_dry_run(name, tmp_path):
    if not (ROOT / "workflow" / "rules" / "train.smk").is_file():
        pytest.skip("workflow/rules/train.smk (the training rule, issue 5) does not exist yet")
    snakemake = Path(sys.executable).with_name("snakemake")
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    proc = subprocess.run(
        [str(snakemake), "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "-n", "--quiet",
         "rules", "--configfile", str(tmp_path / "config.yaml"),
         str(ROOT / "studies" / f"{name}.yaml"), "--cores", "2"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    method = "scn" if "scn" in name else "adacm"
    assert "train" in proc.stdout
    plan = subprocess.run(
        [str(snakemake), "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "-n",
         "--configfile", str(tmp_path / "config.yaml"),
         str(ROOT / "studies" / f"{name}.yaml"), "--cores", "2"],
        capture_output=True, text=True, timeout=120)
    assert f"/{method}/" in plan.stdout and "/supervised/" in plan.stdout
