"""Commands that work on one dataset validate only what they use (#21): on a real-data config
whose demo study fails its study-level checks (ft with the demo's rendered pretraining pool,
real CK+ in the grid), register, align, download, train-gan, generate and figures still run;
`check-config` reports that study error, and missing roots; and a study is named."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import release_trees as quirks
from ferstudy.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def real_ckplus(tmp_path, monkeypatch):
    """./config.yaml (the demo study, with ft) underneath my_data.yaml, which makes CK+ real."""
    root, _ = quirks.ckplus(tmp_path)
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    (tmp_path / "my_data.yaml").write_text(yaml.safe_dump(
        {"datasets": {"ckplus": {"root": str(root), "demo": False}}}))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def command(name: str, *args: str) -> list[str]:
    return [name, "--config", "my_data.yaml", *args]


def test_the_study_itself_fails_its_checks(real_ckplus, capsys):
    assert main(command("check-config")) == 2
    assert "train.pretrain.sources" in capsys.readouterr().err


def test_one_dataset_commands_skip_the_study_checks(real_ckplus, capsys, monkeypatch):
    import ferstudy.datasets.download as download
    import ferstudy.faces.shards as shards

    assert main(command("register", "--dataset", "ckplus")) == 0
    assert (real_ckplus / "results" / "registry" / "ckplus.csv").is_file()

    calls = []
    monkeypatch.setattr(shards, "align_shard", lambda *a, **k: calls.append(("shard", a[-1])))
    monkeypatch.setattr(shards, "gather_aligned", lambda *a, **k: calls.append(("gather",)))
    assert main(command("align", "--dataset", "ckplus", "--set", "align.shards=2")) == 0
    assert calls == [("shard", 0), ("shard", 1), ("gather",)]

    monkeypatch.setattr(download, "download_set", lambda name, *a: calls.append(("dl", name)))
    assert main(command("download")) == 0 and calls[-1] == ("dl", "ravdess")

    assert main(command("train-gan", "--dataset", "ckplus", "--fold", "0", "--dry-run")) == 0
    assert '"clips_per_class"' in capsys.readouterr().out

    # past validation: each stops at its own missing input, never at the study checks
    assert main(command("generate", "--dataset", "ckplus", "--fold", "0")) == 2
    err = capsys.readouterr().err
    assert "no trained generator" in err and "pretrain" not in err
    assert main(command("figures")) == 2
    err = capsys.readouterr().err
    assert "no finished run of study demo" in err and "pretrain" not in err


def test_check_config_reports_a_missing_root(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)   # no config.yaml underneath: s.yaml is the whole config
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(
        {"datasets": {"ckplus": {"root": str(tmp_path / "nowhere")}},
         "study": {"datasets": ["ckplus"], "archs": ["vgg3d"]}}))
    assert main(["check-config", "--config", "s.yaml"]) == 2
    out = capsys.readouterr()
    assert "datasets:" in out.out                     # the config is printed all the same
    assert f"datasets.ckplus.root: {tmp_path / 'nowhere'} does not exist" in out.err
    assert "--set datasets.ckplus.root=" in out.err

    (tmp_path / "nowhere").mkdir()                    # exists, but is no CK+ release
    assert main(["check-config", "--config", "s.yaml"]) == 2
    assert "datasets.ckplus.root" in capsys.readouterr().err
    root, _ = quirks.ckplus(tmp_path)
    assert main(["check-config", "--config", "s.yaml",
                 "--set", f"datasets.ckplus.root={root}"]) == 0


@pytest.mark.parametrize("study, name", [("config.yaml", "demo"), ("studies/pitfalls.yaml", "pitfalls"),
                                         ("studies/demo_archs.yaml", "demo_archs")])
def test_a_study_is_named_by_its_file(study, name, monkeypatch):
    from ferstudy.resolution import resolve_cli

    monkeypatch.chdir(ROOT)
    assert resolve_cli(study, need_study=False)["study"]["name"] == name
    assert resolve_cli(study, {"study": {"name": "mine"}}, need_study=False)["study"]["name"] == "mine"


def test_a_study_file_may_name_itself(tmp_path, monkeypatch):
    from ferstudy.resolution import resolve_cli

    monkeypatch.chdir(ROOT)
    own = tmp_path / "x.yaml"
    own.write_text("study: {name: noise-check, datasets: [mug], archs: [vgg3d]}\n")
    assert resolve_cli(own)["study"]["name"] == "noise-check"
    data_only = tmp_path / "data.yaml"            # no study anywhere: nothing is named
    data_only.write_text("datasets: {mug: {root: /x}}\n")
    monkeypatch.chdir(tmp_path)
    assert "study" not in resolve_cli(data_only, need_study=False)
