"""ferstudy.settings: each rule's params slice holds what shapes its outputs, canonically."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from ferstudy import settings
from ferstudy.resolution import cli_layers, resolve_layers

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def config():
    return resolve_layers(cli_layers(ROOT / "studies" / "demo_augment.yaml", base=ROOT / "config.yaml"))


def wc(**kw):
    return {"dataset": "ckplus", "arch": "resnet3d", "method": "supervised", "init": "ri",
            "augment": "none", "protocol": "full", "seed": "0", "fold": "0", **kw}


def reordered(node):
    """The same content with every dict's keys in reverse order."""
    if isinstance(node, dict):
        return {k: reordered(node[k]) for k in reversed(list(node))}
    return [reordered(v) for v in node] if isinstance(node, list) else node


def test_slices_repr_alike_whatever_the_key_order(config):
    # Snakemake compares repr(param) with the one stored in .snakemake/metadata
    again = reordered(config)
    assert list(again) != list(config)
    for build in (lambda c: settings.train(c, wc(init="ft", augment="da+sd")),
                  lambda c: settings.run_lineage(c, wc(init="ft", augment="sd")),
                  settings.pretrain, settings.gather, settings.align, settings.train_gan):
        assert repr(build(again)) == repr(build(config))
    with pytest.raises(TypeError, match="sets"):
        settings.canonical({"a": {1, 2}})


def test_runtime_keys_are_dropped_at_any_depth_and_kept_apart(config):
    train = settings.train(config, wc())["train"]
    assert not settings.RUNTIME_KEYS & set(train)
    assert "threads" not in str(settings.train_gan(config)) and "gpu" not in settings.train_gan(config)["sd"]
    assert settings.runtime(config, "train")["train"]["threads"] == config["train"]["threads"]
    assert settings.evaluate_cross(config) == {"cross_dataset": True, "min_shared_classes": 2}


def test_train_slice_depends_on_the_run(config):
    ri = settings.train(config, wc())
    assert set(ri) == {"study", "train", "datasets"} and "pretrain" not in ri["train"]
    # the dataset's adapter and options (a release's own split), never its root
    assert "root" not in ri["datasets"][wc()["dataset"]]
    ft = settings.train(config, wc(init="ft"))["train"]["pretrain"]
    assert set(ft) == {"checkpoint", "torchvision", "keep_head"}   # not the pool's epochs
    both = settings.train(config, wc(augment="da+sd", method="scn"))
    assert set(both["augment"]) == {"da", "sd"} and both["augment"]["sd"] == {"epoch_steps": "real",
                                                                     "ratio": 1.0}
    assert list(both["methods"]) == ["scn"]
    # epoch_steps: mixed is what SD runs did before the key existed: their slice of then
    legacy = copy.deepcopy(config)
    legacy["augment"]["sd"]["epoch_steps"] = "mixed"
    assert settings.train(legacy, wc(augment="sd"))["augment"]["sd"] == {"ratio": 1.0}
    # a key added to a section later is covered without editing settings.py
    config["train"]["new_knob"] = 3
    assert settings.train(config, wc())["train"]["new_knob"] == 3
    del config["train"]["new_knob"]


def test_lineage_names_the_upstream_slices(config):
    plain = settings.run_lineage(config, wc())
    assert set(plain) == {"train", "align", "register", "render_demo"}
    ft_sd = settings.run_lineage(config, wc(init="ft", augment="sd"))
    assert {"pretrain", "sd"} <= set(ft_sd)
    assert set(ft_sd["register"]) == {"ckplus", "pretrain_pool"}   # the ft pool's datasets too
    assert settings.settings_hash(plain) != settings.settings_hash(ft_sd)
    assert re.fullmatch(r"[0-9a-f]{12}", settings.settings_hash(plain))


@pytest.mark.parametrize("study", ["pitfalls", "scn_noise", "adacm_semi", "demo_augment"])
def test_run_settings_memo_equals_the_slices_for_every_run(study):
    """RunSettings (the workflow's memo on LINEAGE_AXES) gives each run exactly its own
    slices: train and run_lineage read no other wildcard (the memo calls them with those
    axes only, so reading seed, fold, arch or protocol would raise KeyError here)."""
    from ferstudy.runkey import RunKey
    from ferstudy.train.plan import official_split_datasets, study_runs

    config = resolve_layers(cli_layers(ROOT / "studies" / f"{study}.yaml", base=ROOT / "config.yaml"))
    memo = settings.RunSettings(config)
    runs = study_runs(config["study"], official_split_datasets(config))
    for run in runs[:: max(1, len(runs) // 400)]:
        wildcards = {k: str(v) for k, v in RunKey.parse(run).as_dict().items()}
        lineage = settings.run_lineage(config, wildcards)
        assert memo.lineage(wildcards) == lineage, run
        assert memo.lineage_hash(wildcards) == settings.settings_hash(lineage), run
        # the run's own slice (train_model's settings["train"])
        assert memo.lineage(wildcards)["train"] == settings.train(config, wildcards), run
    # the memo is per (dataset, method, init, augment): far fewer slices than runs
    keys = {tuple(RunKey.parse(r).as_dict()[a] for a in settings.LINEAGE_AXES) for r in runs}
    assert len(memo._lineages) <= len(keys) and len(memo._hashes) <= len(keys)


def test_every_rule_passes_its_settings_and_no_script_reads_the_config():
    rules = "\n".join(p.read_text() for p in sorted((ROOT / "workflow" / "rules").glob("*.smk")))
    for block in re.split(r"\n(?=rule \w+:)", rules)[1:]:
        name = re.match(r"rule (\w+):", block).group(1)
        if "script:" in block and name != "fetch_media":   # fetch_media: pinned in code
            assert re.search(r"settings=(lambda wc: )?(stage_settings\.|RUN_SETTINGS\.|\{)", block), name
    for script in (ROOT / "workflow" / "scripts").glob("*.py"):
        assert "snakemake.config" not in script.read_text(), script.name
