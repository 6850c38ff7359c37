"""Dry-run a study file through the real Snakefile and count the planned jobs per rule."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ferstudy.resolution import cli_layers, resolve_layers

ROOT = Path(__file__).resolve().parents[1]


def study_config(name: str) -> dict:
    """config.yaml with studies/<name>.yaml on top, validated (as Snakemake would read them)."""
    return resolve_layers(cli_layers(ROOT / "studies" / f"{name}.yaml", base=ROOT / "config.yaml"))


def planned_jobs(name: str, workdir: Path) -> dict[str, int]:
    """{rule: job count} of `snakemake -n --configfile config.yaml studies/<name>.yaml`."""
    shutil.copy(ROOT / "config.yaml", workdir / "config.yaml")
    snakemake = Path(sys.executable).with_name("snakemake")
    proc = subprocess.run(
        [str(snakemake), "-s", str(ROOT / "Snakefile"), "-d", str(workdir), "-n",
         "--configfile", str(workdir / "config.yaml"), str(ROOT / "studies" / f"{name}.yaml"),
         "--cores", "2"], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {k: int(v) for k, v in re.findall(r"^(\w+)\s+(\d+)$", proc.stdout, flags=re.M)}
