"""The SCN-noise and Ada-CM few-label study files: valid configs, and the demo variants plan
their runs through Snakemake (dry run)."""
import itertools
import re
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


def _rule_defined(rule):
    return any(f"rule {rule}:" in f.read_text() for f in (ROOT / "workflow" / "rules").glob("*.smk"))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["demo_scn_noise", "demo_adacm_semi"])
def test_demo_study_dry_run(name, tmp_path):
    for rule, issue in (("train_model", "the training rule"), ("render_demo", "the demo data")):
        if not _rule_defined(rule):
            pytest.skip(f"rule {rule} ({issue}) is not in workflow/rules yet")
    study = fcfg.validate(_merged(name))["study"]
    runs = [f"results/runs/{d}/{a}/{m}/{i}/{g}/{p}/seed{s}/fold{f}/metrics.json"
            for d, a, m, i, g, p, s, f in itertools.product(
                *(study[k] for k in ("datasets", "archs", "methods", "inits", "augments",
                                     "protocols", "seeds", "folds")))]
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    snakemake = Path(sys.executable).with_name("snakemake")
    # only the training runs as targets: plans render -> register -> align -> train
    proc = subprocess.run(
        [str(snakemake), "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "-n",
         "--configfile", str(tmp_path / "config.yaml"), str(ROOT / "studies" / f"{name}.yaml"),
         "--cores", "2", *runs],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout, flags=re.M))
    assert int(counts["train_model"]) == len(runs) >= 4
    assert "render_demo" in counts          # the demo variant runs on the rendered stand-ins
