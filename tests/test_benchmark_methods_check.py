"""benchmarks/methods_check.py: its grid, its table and the two adequacy checks, on fake run
folders (the benchmark itself renders, aligns and trains for minutes)."""
import importlib.util
import json

import pandas as pd

from study_plans import ROOT


def _module():
    spec = importlib.util.spec_from_file_location("methods_check",
                                                  ROOT / "benchmarks" / "methods_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_runs(mc, out, config, accuracy, seeds, folds):
    for method, protocol, seed, fold in mc.bench_runs(seeds, folds):
        folder = mc.run_dir(out, config, method, protocol, seed, fold)
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps({"accuracy": accuracy(method, seed)}))
        if method == "scn" and protocol == "full":      # other runs: no file (skipped)
            pd.DataFrame([{"method": "scn", "unit": "epoch", "step": e, "metric": "weight_auc",
                           "value": 0.5 + 0.1 * e} for e in range(3)]).to_csv(
                folder / "diagnostics.csv", index=False)


def test_grid_pairs_every_method_with_supervised_on_its_protocols():
    mc = _module()
    runs = mc.bench_runs([0, 1, 2], [0, 1, 2, 3])
    assert len(runs) == (6 + 3 + 3 + 1) * 12
    assert {p for m, p, _, _ in runs if m == "supervised"} == {
        "full", "noisesym20", "noisesym40", "labels5", "labels10", "labels25"}
    assert mc.bench_config("gpu", ROOT / "x")["demo"]["datasets"]["bench"]["subjects"] == 100
    assert mc.bench_config("cpu", ROOT / "x")["demo"]["datasets"]["bench"]["subjects"] == 60


def test_table_reports_paired_differences_directions_and_adequacy(tmp_path):
    mc = _module()
    config = mc.bench_config("cpu", tmp_path)
    _fake_runs(mc, tmp_path, config, lambda m, s: 0.5 + (0.05 if m == "scn" else 0.0),
               [0, 1, 2], [0, 1, 2, 3])
    lines = mc.table("cpu", tmp_path, [0, 1, 2], [0, 1, 2, 3])
    rows = [line for line in lines if line.startswith("| scn |")]
    assert len(rows) == 3 and "+5.0" in rows[0] and "12/12" in rows[0]
    assert "weight_auc 0.70" in rows[0] and "SCN (CVPR 2020)" in rows[0]
    assert "adequacy 1: supervised accuracy under full 50.0 % (want 40-85 %): ok" in lines
    assert lines[-1].endswith(": ok")
    # too easy a task and too few units are both flagged
    few = tmp_path / "few"
    _fake_runs(mc, few, config, lambda m, s: 0.95, [0], [0, 1])
    lines = mc.table("cpu", few, [0], [0, 1])
    assert lines[-2].endswith("NOT MET") and lines[-1].endswith("NOT MET")


def test_a_variant_trains_its_method_apart_and_is_paired_with_the_same_supervised_runs(tmp_path):
    mc = _module()
    variant = "adacm_plain_head"
    base, own = mc.bench_config("cpu", tmp_path), mc.bench_config("cpu", tmp_path, variant)
    assert base["methods"]["adacm"].get("head", "official") == "official"
    assert own["methods"]["adacm"]["head"] == "shared"
    assert {m for m, *_ in mc.bench_runs([0], [0, 1], variant)} == {"adacm"}
    # the variant's runs live apart from the benchmark's: neither overwrites the other
    plain = mc.run_dir(tmp_path, base, "adacm", "labels5", 0, 0)
    moved = mc.run_dir(tmp_path, own, "adacm", "labels5", 0, 0, variant)
    assert plain != moved and "variants" in moved.parts
    assert mc.run_dir(tmp_path, own, "supervised", "labels5", 0, 0, variant) == \
        mc.run_dir(tmp_path, base, "supervised", "labels5", 0, 0)
    _fake_runs(mc, tmp_path, base, lambda m, s: 0.4, [0], [0, 1, 2, 3])
    for _, protocol, seed, fold in mc.bench_runs([0], [0, 1, 2, 3], variant):
        folder = mc.run_dir(tmp_path, own, "adacm", protocol, seed, fold, variant)
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps({"accuracy": 0.5}))
    lines = mc.table("cpu", tmp_path, [0], [0, 1, 2, 3], variant)
    rows = [line for line in lines if line.startswith("|") and "---" not in line][1:]
    assert len(rows) == 3 and all(r.startswith("| adacm |") for r in rows)
    assert all("+10.0" in r and "4/4" in r for r in rows)     # the variant's 0.5 vs 0.4
    assert "VARIANT adacm_plain_head" in lines[0]
    assert "adequacy 1: supervised accuracy under full 40.0 %" in lines[-2]
