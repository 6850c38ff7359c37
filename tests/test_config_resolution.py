"""One resolution: `ferstudy check-config --config S` prints the config `snakemake --configfile S`
runs, for every study in studies/, for a study that overrides nothing, and with overrides."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ferstudy import cli
from ferstudy.config import ConfigError
from ferstudy.resolution import resolve_cli

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STUDIES = sorted((ROOT / "studies").glob("*.yaml"))


def snakemake_config(work: Path, *args: str) -> dict:
    """The config the Snakefile resolved (written by common.smk), from a dry run of a target
    that needs no job graph beyond itself."""
    out = work / "resolved.yaml"
    env = {**os.environ, "FERSTUDY_RESOLVED_CONFIG": str(out)}
    proc = subprocess.run([str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "-d", str(work),
                           "-n", "--quiet", "--cores", "1", *args, "--", "fetch_media"],
                          capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return yaml.safe_load(out.read_text())


def check_config(work: Path, *args: str) -> dict:
    proc = subprocess.run([str(BIN / "ferstudy"), "check-config", *args], cwd=work,
                          capture_output=True, text=True, timeout=120)
    # the real-data studies name roots this machine lacks: check-config prints the config,
    # then says so and exits 2 (tests/test_cli.py checks that message)
    assert proc.returncode == 0 or (proc.returncode == 2 and "datasets." in proc.stderr
                                    and "does not exist" in proc.stderr), proc.stderr[-2000:]
    return yaml.safe_load(proc.stdout)


@pytest.fixture
def work(tmp_path):
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("study", [*STUDIES, None], ids=[*(p.stem for p in STUDIES), "empty"])
def test_cli_and_snakemake_resolve_a_study_alike(work, study):
    if study is None:   # a study file that overrides nothing
        study = work / "empty.yaml"
        study.write_text("# nothing overridden (Snakemake refuses an empty file)\n{}\n")
    printed = check_config(work, "--config", str(study))
    assert printed == snakemake_config(work, "--configfile", str(study))
    base = yaml.safe_load((work / "config.yaml").read_text())
    own = yaml.safe_load(study.read_text()) or {}
    # config.yaml's values survive where the study is silent (the bug: schema defaults won)
    assert printed["train"]["width"] == own.get("train", {}).get("width", base["train"]["width"])
    assert printed["study"]["datasets"] == own.get("study", {}).get(
        "datasets", base["study"]["datasets"])


@pytest.mark.slow
def test_overrides_resolve_alike(work):
    study = ROOT / "studies" / "demo_augment.yaml"
    printed = check_config(work, "--config", str(study), "--set", "train.lr=0.0123",
                           "--set", "study.seeds=[3]")
    seen = snakemake_config(work, "--configfile", str(study),
                            "--config", "train={lr: 0.0123}", "study={seeds: [3]}")
    assert printed == seen and seen["train"]["lr"] == 0.0123 and seen["study"]["seeds"] == [3]


def test_config_yaml_alone_is_one_layer(work, monkeypatch):
    monkeypatch.chdir(work)
    assert resolve_cli("config.yaml") == resolve_cli(work / "config.yaml")
    assert resolve_cli("config.yaml")["train"]["width"] == 0.125


def test_register_needs_only_the_dataset_section(tmp_path, monkeypatch, capsys):
    import dataset_trees as trees

    monkeypatch.chdir(tmp_path)   # no config.yaml here: the file is all there is
    root = trees.ckplus(tmp_path)
    only = tmp_path / "ck.yaml"
    only.write_text(yaml.safe_dump({"results": str(tmp_path / "results"),
                                    "datasets": {"ckplus": {"root": str(root)}},
                                    "register": {"folds": 2}}))
    assert cli.main(["register", "--config", str(only), "--dataset", "ckplus"]) == 0, \
        capsys.readouterr().err
    assert (tmp_path / "results" / "registry" / "ckplus.csv").is_file()
    with pytest.raises(ConfigError, match="'study' is a required property"):
        resolve_cli(only)   # commands that plan the grid still need the study
