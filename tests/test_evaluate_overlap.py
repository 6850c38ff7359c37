"""Identity overlap between training and test sets: found from what registration recorded
(roots, clip hashes) and declared (same_subjects_as); such tests are kind 'overlap', never
'cross', and stay out of the cross-dataset comparisons and heatmap means."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from synth_runs import grey_predictor, write_run, write_store

import release_trees as quirks
from ferstudy import config as fcfg
from ferstudy.datasets.register import register
from ferstudy.evaluate.comparisons import compare
from ferstudy.evaluate.cross import evaluate_run
from ferstudy.evaluate.overlap import (find_overlap, overlapping, pool_overlapping, read_overlap,
                                      write_overlap)
from ferstudy.evaluate.plan import declared_overlap, evaluate_inputs, overlap_csv
from ferstudy.figures.heatmap import cell_table
from ferstudy.labels import BASIC6


def register_all(tmp_path, entries):
    registry = tmp_path / "results" / "registry"
    for name, entry in entries.items():
        register(name, entry, registry / f"{name}.csv", registry / f"{name}.rejected.csv",
                 folds=2, seed=0)
    return registry


@pytest.fixture
def registry(tmp_path):
    """oulu_vl/oulu_ni: one Oulu root, two spectra (the adapter docstring's recipe);
    vl_alone/ni_alone: the same people with VL and NI unpacked to two roots (no shared root,
    no shared frame); mug and mug_copy: a MUG root and a copy of it elsewhere."""
    both, _ = quirks.oulu(tmp_path / "both")
    vl, ni = tmp_path / "vl" / "Oulu-CASIA", tmp_path / "ni" / "Oulu-CASIA"
    quirks.oulu_spectrum(vl, "VL", 3)
    quirks.oulu_spectrum(ni, "NI", 10)
    mug, _ = quirks.mug(tmp_path / "m")
    copy = shutil.copytree(mug, tmp_path / "elsewhere" / "MUG")
    return register_all(tmp_path, {
        "oulu_vl": {"adapter": "oulu", "root": str(both)},
        "oulu_ni": {"adapter": "oulu", "root": str(both), "options": {"spectrum": "NI"}},
        "vl_alone": {"adapter": "oulu", "root": str(vl)},
        "ni_alone": {"adapter": "oulu", "root": str(ni), "options": {"spectrum": "NI"}},
        "mug": {"root": str(mug)},
        "mug_copy": {"adapter": "mug", "root": str(copy)},
    })


def pair(table, test):
    return table.set_index("test_set").loc[test]


def test_same_root_and_copied_root_are_overlap(registry):
    table = find_overlap("oulu_vl", ["oulu_ni", "mug"], registry, {})
    assert pair(table, "oulu_ni")["shared_root"] and pair(table, "oulu_ni")["overlap"]
    assert pair(table, "oulu_ni")["shared_sources"] == 0       # VL and NI frames differ
    assert not pair(table, "mug")["overlap"] and pair(table, "mug")["reason"] == ""
    copied = pair(find_overlap("mug", ["mug_copy"], registry, {}), "mug_copy")
    assert not copied["shared_root"] and copied["shared_sources"] == 8 and copied["overlap"]
    assert "8 clip(s) with the same sha256" in copied["reason"]


def test_vl_ni_on_two_roots_needs_the_declaration_either_way_round(registry):
    undeclared = find_overlap("vl_alone", ["ni_alone"], registry, {})
    assert not undeclared["overlap"].any()        # nothing on disk tells: only people do
    for declared in ({"vl_alone": ["ni_alone"]}, {"ni_alone": ["vl_alone"]}):
        table = find_overlap("vl_alone", ["ni_alone", "mug"], registry, declared)
        assert overlapping(table) == ["ni_alone"]
        assert pair(table, "ni_alone")["reason"] == "declared same_subjects_as"
    merged = find_overlap("merged-mug+vl_alone", ["ni_alone"], registry, {"ni_alone": ["vl_alone"]})
    assert list(merged["member"]) == ["mug", "vl_alone"] and overlapping(merged) == ["ni_alone"]


def test_merged_set_of_overlapping_members_is_warned_about(tmp_path, registry, caplog):
    with caplog.at_level("WARNING"):
        write_overlap("merged-oulu_vl+oulu_ni", ["mug"], registry, {}, tmp_path / "o.csv")
    assert "merged-oulu_vl+oulu_ni: members oulu_ni and oulu_vl share people" in caplog.text


def test_overlap_tests_are_kind_overlap_and_stay_out_of_statistics(tmp_path, registry):
    out = tmp_path / "results" / "overlap" / "oulu_vl.csv"
    write_overlap("oulu_vl", ["oulu_ni", "mug"], registry, {}, out)
    assert list(read_overlap(out)["overlap"]) == [True, False]
    classes = list(BASIC6)
    run = write_run(tmp_path, "oulu_vl/vgg3d/supervised/ri/none/full/seed0/fold0", classes,
                    accuracy=0.5)
    stores = {}
    for name in ("oulu_ni", "mug"):
        write_store(tmp_path, name, classes, n_per_class=2)
        stores[name] = tmp_path / "aligned" / name
    frame = evaluate_run(run, stores, predictor=grey_predictor(classes), overlap_csv=out)
    assert dict(zip(frame["test_set"], frame["kind"])) == {
        "oulu_vl": "in", "oulu_ni": "overlap", "mug": "cross"}

    # statistics: an overlap row paired across inits never makes a comparison
    rows = []
    for init, acc in (("ri", 0.4), ("ft", 0.6)):
        for seed in range(3):
            for test, kind in (("oulu_vl", "in"), ("oulu_ni", "overlap"), ("mug", "cross")):
                rows.append({"run": f"oulu_vl/vgg3d/supervised/{init}/none/full/seed{seed}/fold0",
                             "dataset": "oulu_vl", "arch": "vgg3d", "method": "supervised",
                             "init": init, "augment": "none", "protocol": "full", "seed": seed,
                             "fold": 0, "test_set": test, "kind": kind, "shared_classes": "a;b",
                             "n_classes": 2, "accuracy": acc + 0.01 * seed + (0.3 if kind == "overlap" else 0),
                             "macro_f1": acc, "n_test": 10, "n_train": 30})
    runs = pd.DataFrame(rows)
    stats = {"ci_level": 0.95, "seed": 0, "rope": 1.0, "alpha": 0.05, "adjust": "holm",
             "metric": "accuracy", "sd_ratio_rope": 1.25,
             "power_difference": 2.0, "power": 0.8}
    comparisons = compare(runs, questions=["ft_vs_ri", "in_vs_cross"], metrics=["accuracy"],
                          settings=stats)
    assert "oulu_ni" not in set(comparisons["test_set"]) and "overlap" not in set(comparisons["kind"])
    drop = comparisons[comparisons["question"] == "in_vs_cross"]
    # the foreign mean is mug's alone (the in-vs-cross drop is 0 by construction)
    assert drop["mean_diff"].abs().max() == pytest.approx(0.0)
    assert "oulu_ni" not in set(cell_table(runs, "accuracy")["test_set"])


def test_evaluate_cross_declares_the_check_as_input_and_declarations_reach_its_params():
    inputs = evaluate_inputs({"model": "m", "metrics": "j", "predictions": "p"},
                             {"ni": "res/aligned/ni"}, overlap_csv("vl", "res"))
    assert inputs["overlap"] == "res/overlap/vl.csv"
    study = {"datasets": ["vl", "ni", "mug", "merged-vl+mug"], "cross_dataset": True}
    datasets = {"vl": {"same_subjects_as": ["ni"]}, "ni": {}, "mug": {}}
    assert declared_overlap("ni", study, datasets) == {"ni": ["vl"]}       # symmetric
    assert declared_overlap("mug", study, datasets) == {"mug": []}         # not its concern
    assert declared_overlap("merged-vl+mug", study, datasets) == {"vl": ["ni"], "mug": []}


def test_same_subjects_as_must_name_another_declared_dataset():
    base = {"datasets": {"vl": {"root": "/x", "adapter": "oulu"}, "ni": {"root": "/y", "adapter": "oulu"}},
            "study": {"datasets": ["vl", "ni"], "archs": ["vgg3d"]}}
    base["datasets"]["vl"]["same_subjects_as"] = ["nir"]
    with pytest.raises(fcfg.ConfigError, match=r"'datasets.vl.same_subjects_as': 'nir' is not "
                                               r"declared under datasets; give other declared datasets: ni"):
        fcfg.validate(base)
    base["datasets"]["vl"]["same_subjects_as"] = ["vl"]
    with pytest.raises(fcfg.ConfigError, match="is the dataset itself"):
        fcfg.validate(base)


def test_evaluate_command_runs_the_same_check(tmp_path, registry, monkeypatch):
    """`ferstudy evaluate` (outside Snakemake) writes the training set's overlap table and
    hands it to the evaluation, as the workflow does."""
    import yaml

    from ferstudy import cli
    from ferstudy.evaluate import cross

    config = {"results": str(tmp_path / "results"),
              "datasets": {n: {"root": "/unused", "adapter": "oulu" if "oulu" in n else "mug"}
                           for n in ("oulu_vl", "oulu_ni", "mug")},
              "study": {"datasets": ["oulu_vl", "oulu_ni", "mug"], "archs": ["vgg3d"], "inits": ["ri"]}}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(config))
    seen = {}
    monkeypatch.setattr(cross, "write_cross", lambda run, stores, out, **kw: seen.update(
        stores=stores, **kw) or pd.DataFrame({"run": []}))
    run = "results/runs/oulu_vl/vgg3d/supervised/ri/none/full/seed0/fold0"
    assert cli.main(["evaluate", "--config", str(tmp_path / "study.yaml"), "--run", run]) == 0
    table = read_overlap(seen["overlap_csv"])
    assert seen["overlap_csv"] == overlap_csv("oulu_vl", str(tmp_path / "results"))
    assert overlapping(table) == ["oulu_ni"] and list(seen["stores"]) == ["oulu_ni", "mug"]


def test_people_of_the_ft_pool_make_its_tests_seen_for_ft_runs_only(tmp_path, registry):
    """mug trains, its ft pool holds oulu_vl, which shares its root (its people) with the test
    set oulu_ni: the ft run's test on oulu_ni is `seen`, the ri run's stays `cross`."""
    out = tmp_path / "results" / "overlap" / "mug.csv"
    table = write_overlap("mug", ["oulu_ni", "oulu_vl"], registry, {}, out, pool=["oulu_vl"])
    pool_rows = table[table["pretraining"]]
    assert list(pool_rows["test_set"]) == ["oulu_ni"]      # oulu_vl vs itself: seen by name
    assert pool_rows["overlap"].all() and not table.loc[~table["pretraining"], "overlap"].any()
    written = read_overlap(out)
    assert overlapping(written) == [] and pool_overlapping(written) == ["oulu_ni"]
    classes = list(BASIC6)
    stores = {}
    for name in ("mug", "oulu_ni", "oulu_vl"):
        write_store(tmp_path, name, classes, n_per_class=2)
        stores[name] = tmp_path / "aligned" / name
    kinds = {}
    for init, sources in (("ri", []), ("ft", ["oulu_vl"])):
        run = write_run(tmp_path, f"mug/vgg3d/supervised/{init}/none/full/seed0/fold0", classes,
                        accuracy=0.5)
        metrics = json.loads((run / "metrics.json").read_text())
        (run / "metrics.json").write_text(json.dumps({**metrics, "pretrain_sources": sources}))
        frame = evaluate_run(run, stores, predictor=grey_predictor(classes), overlap_csv=out)
        kinds[init] = dict(zip(frame["test_set"], frame["kind"]))
    assert kinds["ri"] == {"mug": "in", "oulu_ni": "cross", "oulu_vl": "cross"}
    assert kinds["ft"] == {"mug": "in", "oulu_ni": "seen", "oulu_vl": "seen"}


def test_declared_identity_of_a_pool_dataset_reaches_check_overlap():
    study = {"datasets": ["vl", "mug"], "cross_dataset": True}
    datasets = {"vl": {}, "mug": {}, "ni": {"same_subjects_as": ["vl"]}}
    # mug's ft pool holds ni (same people as vl): declared against the test set vl
    assert declared_overlap("mug", study, datasets, pool=["ni"]) == {"mug": [], "ni": ["vl"]}
