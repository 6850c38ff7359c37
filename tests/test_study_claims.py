"""Two studies in one results tree never overwrite each other (#21 item 2, ferstudy.claims):
a pitfalls-like and an scn-like study name the same grid points and dataset with different
training settings and roots; the second stops before any job, naming both studies and the
differing keys. Studies whose settings match share their outputs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import release_trees as quirks
from ferstudy import claims
from ferstudy.resolution import resolve_layers
from ferstudy.settings import RunSettings
from ferstudy.train.plan import official_split_datasets, study_runs

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def study(results: Path, name: str, root: Path, epochs: int, seeds=(0, 1)) -> dict:
    """A study on real (tiny) CK+ and MUG, ri and supervised, shaped like pitfalls / scn."""
    return {"results": str(results), "register": {"folds": 2},
            "datasets": {"ckplus": {"root": str(root / "CK+")}, "mug": {"root": str(root / "MUG")}},
            "study": {"name": name, "datasets": ["ckplus", "mug"], "archs": ["vgg3d"],
                      "augments": ["none"], "seeds": list(seeds), "folds": [0, 1]},
            "train": {"epochs": epochs}}


def claims_of(config: dict) -> dict:
    config = resolve_layers([config])
    return claims.study_claims(config, study_runs(config["study"], official_split_datasets(config)),
                               RunSettings(config))


def test_same_runs_other_settings_stop_the_second_study(tmp_path):
    pitfalls = resolve_layers([study(tmp_path / "results", "pitfalls", tmp_path, 60)])
    claims.write_claims(pitfalls, claims_of(pitfalls))
    scn = resolve_layers([study(tmp_path / "results", "scn_noise", tmp_path, 70, seeds=(0, 1, 2))])
    with pytest.raises(claims.ClaimError) as err:
        claims.check_claims(scn, claims_of(scn))
    text = str(err.value)
    assert "study 'scn_noise' would overwrite outputs" in text and "study 'pitfalls'" in text
    # 2 datasets x 2 seeds x 2 folds shared; seed 2 is scn's own
    assert "runs/ckplus/vgg3d/supervised/ri/none/full/seed0/fold0 (and 3 more runs" in text
    assert "train.train.epochs: 60 vs 70" in text
    assert "registry" not in text           # same roots: the registrations are shared
    claims.check_claims(pitfalls, claims_of(pitfalls))    # a study's own claims never block it


def test_other_roots_stop_at_the_registry(tmp_path):
    demo = resolve_layers([study(tmp_path / "results", "demo", tmp_path / "a", 60)])
    claims.write_claims(demo, claims_of(demo))
    real = resolve_layers([study(tmp_path / "results", "real", tmp_path / "b", 60)])
    with pytest.raises(claims.ClaimError) as err:
        claims.check_claims(real, claims_of(real))
    text = str(err.value)
    assert f"{tmp_path / 'results'}/registry/ckplus: entry.root: " in text
    assert str(tmp_path / "a" / "CK+") in text and str(tmp_path / "b" / "CK+") in text


def test_matching_settings_share(tmp_path):
    a = resolve_layers([study(tmp_path / "results", "a", tmp_path, 60)])
    claims.write_claims(a, claims_of(a))
    b = study(tmp_path / "results", "b", tmp_path, 60, seeds=(1, 2))   # overlaps in seed 1
    b["study"]["archs"] = ["vgg3d", "resnet3d"]
    b = resolve_layers([b])
    claims.check_claims(b, claims_of(b))


def snakemake(work: Path, config: dict, *args: str) -> subprocess.CompletedProcess:
    path = work / f"{config['study']['name']}.yaml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-d", str(work),
                           "--configfile", str(path), "--cores", "1", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_workflow_stops_the_second_study_before_any_job(tmp_path):
    quirks.ckplus(tmp_path)
    quirks.mug(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    (work / "config.yaml").write_text("{}\n")   # the workflow's configfile: nothing underneath
    first = study(Path("results"), "pitfalls", tmp_path, 60)
    done = snakemake(work, first, "results/registry/ckplus.csv")   # a run: claims recorded
    assert done.returncode == 0, done.stderr[-3000:]
    assert (work / "results" / "studies" / "pitfalls" / "claims.json").is_file()

    second = study(Path("results"), "scn_noise", tmp_path, 70)
    plan = snakemake(work, second, "-n")
    assert plan.returncode != 0
    said = plan.stdout + plan.stderr
    assert "study 'scn_noise' would overwrite outputs" in said
    assert "train.train.epochs: 60 vs 70" in said
    assert not (work / "results" / "studies" / "scn_noise").exists()   # nothing was run

    again = snakemake(work, first, "-n", "results/registry/ckplus.csv")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
