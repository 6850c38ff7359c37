"""studies/demo_augment.yaml: the none / da / sd / da+sd demo grid plans one GAN per training
set and fold, and a train job per grid point (dry run)."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ferstudy import config as fcfg

ROOT = Path(__file__).resolve().parents[1]


def test_demo_augment_study_plans_a_gan_per_training_set_and_fold(tmp_path):
    cfg = fcfg.deep_update(fcfg.load_yaml(ROOT / "config.yaml"),
                           fcfg.load_yaml(ROOT / "studies" / "demo_augment.yaml"))
    study = fcfg.validate(cfg)["study"]
    assert study["augments"] == ["none", "da", "sd", "da+sd"]
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    snakemake = Path(sys.executable).with_name("snakemake")
    proc = subprocess.run(
        [str(snakemake), "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "-n",
         "--configfile", str(tmp_path / "config.yaml"), str(ROOT / "studies" / "demo_augment.yaml"),
         "--cores", "2"], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    counts = {k: int(v) for k, v in re.findall(r"^(\w+)\s+(\d+)$", proc.stdout, flags=re.M)}
    sets_x_folds = len(study["datasets"]) * len(study["folds"])
    assert counts["train_gan"] == counts["generate_clips"] == sets_x_folds
    grid = 1
    for axis in ("datasets", "archs", "methods", "inits", "augments", "protocols", "seeds", "folds"):
        grid *= len(study[axis])
    assert counts["train_model"] == grid
