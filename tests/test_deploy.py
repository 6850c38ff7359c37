"""Deployment as other Snakemake users do it: the workflow as a `module` from a fresh folder,
and ferstudy as a built (non-editable) wheel that finds its own schema."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

import dataset_trees as trees
from ferstudy.datasets.register import read_manifest

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"

pytestmark = pytest.mark.slow

DEPLOYING_SNAKEFILE = """\
configfile: "config.yaml"


module ferstudy:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from ferstudy
"""


def deploy(folder: Path, config: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Snakefile").write_text(
        DEPLOYING_SNAKEFILE.format(snakefile=REPO / "workflow" / "Snakefile"))
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def run_snakemake(folder: Path, *args: str) -> subprocess.CompletedProcess:
    # Run from the folder (as its user would), not from the repository
    return subprocess.run([str(SNAKEMAKE), *args], cwd=folder, capture_output=True, text=True,
                          timeout=300)


def job_counts(stdout: str) -> dict[str, int]:
    table = stdout.split("Job stats:", 1)[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def test_module_deployment_plans_the_demo_study(tmp_path):
    """`module ferstudy: snakefile: .../workflow/Snakefile` + `use rule * from ferstudy` in a
    folder of its own plans the same demo study as `snakemake` in the repository."""
    demo = yaml.safe_load((REPO / "config.yaml").read_text())
    deploy(tmp_path / "deployed", demo)
    proc = run_snakemake(tmp_path / "deployed", "-n")
    assert proc.returncode == 0, proc.stderr[-3000:]
    deployed = job_counts(proc.stdout)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "config.yaml", home / "config.yaml")
    proc = subprocess.run([str(SNAKEMAKE), "-n", "-s", str(REPO / "Snakefile"), "-d", str(home)],
                          cwd=home, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert deployed == job_counts(proc.stdout)
    assert deployed["train_model"] >= 8 and deployed["all"] == 1


def test_module_deployment_runs_a_rule_and_its_script(tmp_path):
    """A real job through the module: the rule's script and log paths resolve from the
    deployed workflow, outputs land in the deploying folder."""
    root = trees.ckplus(tmp_path)
    folder = tmp_path / "deployed"
    deploy(folder, {"datasets": {"ckplus": {"root": str(root)}}, "register": {"folds": 2},
                    "study": {"datasets": ["ckplus"], "archs": ["vgg3d"]}})
    proc = run_snakemake(folder, "--cores", "1", "results/registry/ckplus.csv")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(read_manifest(folder / "results" / "registry" / "ckplus.csv")) == 7
    assert (folder / "results" / "logs" / "register" / "ckplus.log").is_file()


def test_built_wheel_finds_its_schema_without_the_source_tree(tmp_path):
    """`pip wheel` (no editable install, no src/ on the path): the installed package carries
    its schema as package data and validates config.yaml."""
    build = tmp_path / "build"
    build.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, build / name)
    shutil.copytree(REPO / "src", build / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "--no-index", "-q", "-w", str(tmp_path / "dist"),
                           str(build)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("ferstudy-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "ferstudy/schemas/config.schema.yaml" in names
    assert "ferstudy/schemas/train.schema.yaml" in names
    assert not any("cartoon_clips" in n or "toyclips" in n for n in names)  # fixtures stay in tests/
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    check = (
        "import sys, ferstudy, ferstudy.config as c\n"
        f"assert ferstudy.__file__.startswith({str(site)!r}), ferstudy.__file__\n"
        "assert str(c.SCHEMA_PATH).startswith(sys.argv[1]), c.SCHEMA_PATH\n"
        "from ferstudy.resolution import resolve_cli\n"
        "cfg = resolve_cli(sys.argv[2])\n"
        "print(sorted(cfg['study']['archs']), cfg['train']['epochs'])\n"
        "try:\n"
        "    resolve_cli(sys.argv[2], {'train': {'epochs': 'ten'}})\n"
        "except c.ConfigError as err:\n"
        "    print('rejected:', err)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    proc = subprocess.run([sys.executable, "-c", check, str(site), str(REPO / "config.yaml")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rejected: invalid config" in proc.stdout and "train.epochs" in proc.stdout
