"""Config validation: every mistake stops with one message naming the key and the fix."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

import dataset_trees as trees
from ferstudy import cli
from ferstudy import config as fcfg
from ferstudy.all_registries import REGISTRIES

BASE = {
    "datasets": {"ckplus": {"root": "/data/CK+"}, "mug": {"root": "/data/MUG"}},
    "study": {"datasets": ["ckplus", "merged-ckplus+mug"], "archs": ["vgg3d"]},
}


def validate(**changes):
    config = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = config
        *parents, leaf = path.split("__")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return fcfg.validate(config)


def test_minimal_config_gets_defaults():
    c = validate()
    assert c["register"] == {"folds": 10, "fold_seed": 0, "strict": False}
    assert c["datasets"]["ckplus"]["options"] == {} and c["datasets"]["ckplus"]["demo"] is False
    assert c["study"]["inits"] == ["ri"] and c["results"] == "results"


def test_face_models_path_may_not_be_the_folder_the_pipeline_writes(tmp_path):
    own = tmp_path / "res" / "models"
    with pytest.raises(fcfg.ConfigError, match=r"face_models\.path.*drop the face_models override"):
        validate(resources=str(tmp_path / "res"), face_models={"source": "path", "path": str(own)})
    elsewhere = validate(resources=str(tmp_path / "res"),
                         face_models={"source": "path", "path": str(tmp_path / "mine")})
    assert elsewhere["face_models"]["path"] == str(tmp_path / "mine")


def test_unknown_top_level_key():
    with pytest.raises(fcfg.ConfigError, match=r"config key '<top level>': unknown key\(s\) 'registr' "
                                               r"\(did you mean 'register'\?\); allowed: .*register.*study"):
        validate(registr={"folds": 3})
    with pytest.raises(fcfg.ConfigError, match=r"'trian' \(did you mean 'train'\?\)"):
        validate(trian={"lr": 0.1})


def test_unknown_nested_key_lists_allowed():
    with pytest.raises(fcfg.ConfigError, match=r"config key 'register': unknown key\(s\) 'fold' "
                                               r"\(did you mean 'folds'\?\); allowed: fold_seed, folds, strict"):
        validate(register={"fold": 3})
    with pytest.raises(fcfg.ConfigError, match=r"unknown key\(s\) 'zzz'; allowed"):   # nothing close
        validate(register={"zzz": 3})


def test_wrong_type_names_the_key():
    with pytest.raises(fcfg.ConfigError, match=r"config key 'register.folds': 'ten' is not of type 'integer'"):
        validate(register={"folds": "ten"})
    with pytest.raises(fcfg.ConfigError, match=r"config key 'datasets.ckplus.root': 3 is not of type 'string'"):
        validate(datasets={"ckplus": {"root": 3}})


@pytest.mark.parametrize("key,family,bad", [
    ("archs", "archs", "vgg"), ("methods", "methods", "mixup"),
    ("augments", "augments", "gan"), ("inits", "inits", "imagenet"),
])
def test_unknown_registry_name_lists_registered_names(key, family, bad):
    with pytest.raises(fcfg.ConfigError) as err:
        validate(study={**BASE["study"], key: [bad]})
    msg = str(err.value)
    assert f"config key 'study.{key}[0]': '{bad}' is not allowed; allowed values: " in msg
    assert ", ".join(REGISTRIES[family].names()) in msg


def test_unknown_adapter_and_option():
    with pytest.raises(fcfg.ConfigError, match=r"datasets.ckplus.adapter': 'ck' is not allowed; "
                                               r"allowed values: ckplus, generic, mmi, mug, oulu"):
        validate(datasets={"ckplus": {"root": "/x", "adapter": "ck"}})
    with pytest.raises(fcfg.ConfigError, match=r"unknown adapter 'fer2013' \(defaults to the dataset's name\); "
                                               r"allowed: ckplus"):
        validate(datasets={"fer2013": {"root": "/x"}}, study={"datasets": ["fer2013"], "archs": ["vgg3d"]})
    with pytest.raises(fcfg.ConfigError, match=r"datasets.oulu.options': unknown option\(s\) 'light' for "
                                               r"adapter 'oulu'; allowed: illumination, spectrum, variant"):
        validate(datasets={"oulu": {"root": "/x", "options": {"light": "Dark"}}})


def test_study_dataset_must_be_declared():
    with pytest.raises(fcfg.ConfigError, match=r"study.datasets\[1\]': 'merged-ckplus\+mmi' uses dataset "
                                               r"'mmi', which is not declared"):
        validate(study={"datasets": ["ckplus", "merged-ckplus+mmi"], "archs": ["vgg3d"]})


def write_config(tmp_path, root):
    cfg = {"results": str(tmp_path / "results"), "datasets": {"ckplus": {"root": str(root)}},
           "register": {"folds": 2}, "study": {"datasets": ["ckplus"], "archs": ["vgg3d"]}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize("make_root,expected", [
    (lambda t: t / "missing", r"root .*missing does not exist; set 'datasets.ckplus.root' \(e.g. snakemake --config 'datasets=\{ckplus: \{root: "),
    (lambda t: (t / "afile").write_text("x") and t / "afile", r"is a file, not a folder; 'datasets.ckplus.root' "
                                                              r"must point to the folder that holds cohn-kanade"),
])
def test_cli_register_root_errors(tmp_path, capsys, make_root, expected):
    path = write_config(tmp_path, make_root(tmp_path))
    assert cli.main(["register", "--config", str(path), "--dataset", "ckplus"]) == 2
    err = capsys.readouterr().err
    assert "ferstudy register: error: dataset 'ckplus'" in err
    assert re.search(expected, err), err


def test_cli_register_writes_manifest_with_overrides(tmp_path, capsys):
    root = trees.ckplus(tmp_path)
    path = write_config(tmp_path, tmp_path / "elsewhere")
    rc = cli.main(["register", "--config", str(path), "--dataset", "ckplus", "--workers", "2",
                   "--set", f"datasets.ckplus.root={root}", "--set", "register.fold_seed=3"])
    assert rc == 0, capsys.readouterr().err
    lines = (tmp_path / "results" / "registry" / "ckplus.csv").read_text().splitlines()
    assert len(lines) == 1 + 7 and (tmp_path / "results" / "registry" / "ckplus.rejected.csv").exists()
    assert cli.main(["register", "--config", str(path), "--dataset", "nope"]) == 2
    assert "'nope' is not declared under 'datasets'; declared: ckplus" in capsys.readouterr().err


def test_pitfalls_study_validates_on_top_of_config_yaml():
    repo = Path(__file__).resolve().parents[1]
    merged = fcfg.load_yaml(repo / "config.yaml")
    fcfg.deep_update(merged, fcfg.load_yaml(repo / "studies" / "pitfalls.yaml"))
    for config in (merged, fcfg.load_yaml(repo / "studies" / "pitfalls.yaml")):
        c = fcfg.validate(config)
        # every video arch of the registry; resnet2d is the SCN / Ada-CM papers' still-image
        # ResNet-18 (studies/scn_noise.yaml, adacm_semi.yaml), not one of the pitfalls grid
        assert sorted(c["study"]["archs"]) == [a for a in REGISTRIES["archs"].names()
                                                if a != "resnet2d"]
        assert c["study"]["folds"] == list(range(c["register"]["folds"])) and c["register"]["folds"] == 10
        assert {"ckplus", "mmi", "mug", "oulu"} <= set(c["study"]["datasets"])
        assert not any(e["demo"] for e in c["datasets"].values() if e["root"].startswith("/data/"))


def test_nested_command_line_values_arrive_as_strings_and_are_typed_by_the_schema():
    """`snakemake --config 'study={seeds: [0, 1], cross_dataset: false}'` hands us strings
    (Snakemake's YAML BaseLoader); they become the schema's types, and junk still fails."""
    from ferstudy import config as fcfg

    root = Path(__file__).resolve().parents[1]
    cli = {"study": {"seeds": ["0", "1"], "folds": ["0"], "cross_dataset": "false"},
           "train": {"lr": "0.01", "epochs": "3"}}
    cfg = fcfg.deep_update(fcfg.load_yaml(root / "config.yaml"), copy.deepcopy(cli))
    out = fcfg.validate(cfg, cli_overrides=cli)
    assert out["study"]["seeds"] == [0, 1] and out["study"]["folds"] == [0]
    assert out["study"]["cross_dataset"] is False
    assert out["train"]["lr"] == 0.01 and out["train"]["epochs"] == 3
    junk = {"train": {"epochs": "ten"}, "study": {"seeds": ["1.5"]}}
    bad = fcfg.deep_update(fcfg.load_yaml(root / "config.yaml"), copy.deepcopy(junk))
    with pytest.raises(fcfg.ConfigError) as err:
        fcfg.validate(bad, cli_overrides=junk)
    assert "train.epochs" in str(err.value) and "study.seeds[0]" in str(err.value)
    # the same strings written in a config file (not given on the command line) stay errors
    quoted = fcfg.deep_update(fcfg.load_yaml(root / "config.yaml"), copy.deepcopy(cli))
    with pytest.raises(fcfg.ConfigError, match="study.seeds"):
        fcfg.validate(quoted)
