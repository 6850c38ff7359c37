"""studies/demo_archs.yaml covers the whole architecture registry with ri and ft (dry run)."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ferstudy import config as fcfg
from ferstudy.archs import ARCHS

ROOT = Path(__file__).resolve().parents[1]


def test_demo_archs_study_trains_every_registered_arch_with_ri_and_ft(tmp_path):
    cfg = fcfg.deep_update(fcfg.load_yaml(ROOT / "config.yaml"),
                           fcfg.load_yaml(ROOT / "studies" / "demo_archs.yaml"))
    study = fcfg.validate(cfg)["study"]
    assert sorted(study["archs"]) == ARCHS.names() and study["inits"] == ["ri", "ft"]
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    snakemake = Path(sys.executable).with_name("snakemake")
    proc = subprocess.run(
        [str(snakemake), "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "-n",
         "--configfile", str(tmp_path / "config.yaml"), str(ROOT / "studies" / "demo_archs.yaml"),
         "--cores", "2"], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    counts = {k: int(v) for k, v in re.findall(r"^(\w+)\s+(\d+)$", proc.stdout, flags=re.M)}
    assert counts["train_model"] == 2 * len(ARCHS)
    assert counts["pretrain_model"] == len(ARCHS)
