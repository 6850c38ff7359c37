"""render_demo through Snakemake: a tiny demo rendered, then registered by the real adapter;
a second run has nothing to do (the .done marker caches the render)."""
from __future__ import annotations

import pytest

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from align_fixtures import resources_copy

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
CONFIG = """# tiny demo workflow test; see the main config.yaml for every key
datasets:
  oulu: {root: resources/demo/oulu, demo: true, options: {spectrum: NI, illumination: Dark}}
demo:
  datasets:
    oulu: {subjects: 2, frames: [3, 4], size: [128, 96]}
register: {folds: 2}
study:
  datasets: [oulu]
  archs: [vgg2d_lstm]
"""


@pytest.mark.slow
def test_render_demo_rule_then_register(tmp_path):
    resources_copy(tmp_path, media=True)   # copies: a job never deletes the checkout's files
    (tmp_path / "config.yaml").write_text(CONFIG)
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--configfile",
           str(tmp_path / "config.yaml"), "--cores", "2", "results/registry/oulu.csv"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    done = json.loads((tmp_path / "resources" / "demo" / "oulu.done").read_text())
    assert done["subjects"] == 2 and done["clips"] == 12
    assert (tmp_path / "resources" / "demo" / "oulu_expressions.png").stat().st_size > 1000
    manifest = pd.read_csv(tmp_path / "results" / "registry" / "oulu.csv", keep_default_na=False)
    assert len(manifest) == 12 and manifest["subject"].nunique() == 2
    assert manifest["source"].str.contains("OriginalImg/NI/Dark/P00").all()
    again = subprocess.run(cmd + ["-n"], capture_output=True, text=True, timeout=300)
    assert "Nothing to be done" in again.stdout + again.stderr
