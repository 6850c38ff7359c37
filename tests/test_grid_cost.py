"""ferstudy plan --cost: the grid arithmetic against real dry runs, SLURM submissions under a
profile's groups, and GPU-hours (expected and upper bound) from a gpu_check JSON."""
import copy
import json
import math
from pathlib import Path

import pytest
import yaml

from ferstudy import gpu_figures, gpu_hours, grid_cost, release_sizes
from ferstudy.cli import main
from study_plans import ROOT, planned_jobs, study_config


@pytest.mark.slow
@pytest.mark.parametrize("study", ["demo_augment", "demo_archs"])
def test_job_counts_match_a_dry_run(study, tmp_path):
    expected = grid_cost.job_counts(study_config(study))
    planned = planned_jobs(study, tmp_path)
    planned = {r: n for r, n in planned.items() if r not in ("all", "total")}
    # local rules that only run when their inputs are missing (face models, media) aside
    expected = {r: n for r, n in expected.items() if n}
    planned = {r: n for r, n in planned.items() if r in expected or r not in grid_cost.LOCAL_RULES}
    assert planned == expected


def test_slurm_submissions_pack_groups_and_skip_local_rules():
    counts = {"train_model": 100, "evaluate_cross": 100, "fetch_media": 1, "gather_results": 1}
    assert grid_cost.slurm_submissions(counts, None) == 201
    profile = {"groups": {"evaluate_cross": "evaluate"}, "group-components": {"evaluate": 20}}
    assert grid_cost.slurm_submissions(counts, profile) == 100 + 5 + 1
    # two chained rules in one group: one component per train_gan -> generate_clips pair
    gan = {"groups": {"train_gan": "gan", "generate_clips": "gan"}, "group-components": {"gan": 4}}
    assert grid_cost.slurm_submissions({"train_gan": 10, "generate_clips": 10}, gan) == 3


def test_shipped_slurm_profile_submits_the_pitfalls_grid_in_about_2000_jobs():
    shipped = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    counts = grid_cost.job_counts(study_config("pitfalls"))
    assert counts["train_model"] == 19_200 and counts["evaluate_cross"] == 8 * 10 * 10
    per_group = shipped["group-components"][shipped["groups"]["train_model"]]
    assert grid_cost.slurm_submissions({"train_model": 19_200}, shipped) == math.ceil(19_200 / per_group)
    assert grid_cost.slurm_submissions(counts, shipped) <= 2_000
    assert grid_cost.slurm_submissions(counts, None) > 20_000


def test_gpu_rules_share_a_gpu_in_the_profiles():
    """Each GPU rule books a gpu_slots share; the SLURM profile asks for ONE GPU per group
    job with a string gres (summed integer `gpu` would book k GPUs) and runs a group's jobs
    gpu_slots > 1 at once (executor slurm-packed) with a local-scoped gpu_slots, as
    profiles/local-gpu runs several at once."""
    shipped = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    local = yaml.safe_load((ROOT / "profiles" / "local-gpu" / "config.yaml").read_text())
    rules = "".join((ROOT / "workflow" / "rules" / f).read_text() for f in ("train.smk", "augment.smk"))
    assert rules.count("gpu_slots=1") == 4
    assert shipped["set-resource-scopes"]["gpu_slots"] == "local"
    assert shipped["executor"] == "slurm-packed"
    assert shipped["resources"]["gpu_slots"] > 1 and local["resources"]["gpu_slots"] > 1
    for rule in ("pretrain_external", "pretrain_model", "train_model", "train_gan", "generate_clips"):
        res = shipped["set-resources"][rule]
        assert res["gres"] == "'gpu:1'" and res["gpu"] == 0, rule
    assert {"train_model", "pretrain_model", "pretrain_external"} <= set(shipped["groups"])


def test_a_release_split_dataset_runs_and_evaluates_its_test_fold_only():
    counts = grid_cost.job_counts(study_config("scn_noise"))
    s = study_config("scn_noise")["study"]
    per_fold = math.prod(len(s[k]) for k in ("archs", "methods", "inits", "augments", "protocols",
                                              "seeds"))
    # rafdb (official split): fold 0 only; ckplus: every fold
    assert counts["train_model"] == per_fold * (1 + len(s["folds"]))
    assert counts["evaluate_cross"] == len(s["archs"]) * (1 + len(s["folds"]))


def test_plan_cost_command(tmp_path, capsys):
    demo = str(ROOT / "config.yaml")
    assert main(["plan", "--config", demo, "--cost", "--gpu-check",
                 str(tmp_path / "missing.json")]) == 2
    assert "missing.json: no gpu_check JSON" in capsys.readouterr().err
    assert main(["plan", "--config", demo, "--cost", "--profile",
                 str(ROOT / "profiles" / "slurm")]) == 0
    out = capsys.readouterr().out
    from ferstudy.resolution import resolve_cli

    runs = grid_cost.job_counts(resolve_cli(ROOT / "config.yaml", {}))["train_model"]
    assert f"runs (train_model)      {runs:>10,}" in out and "SLURM submissions" in out
    assert "GPU-hours on cuda" in out and "upper bound" in out
    assert main(["plan", "--config", demo, "--profile", "nowhere"]) == 2


PITFALLS_ARCHS = study_config("pitfalls")["study"]["archs"]


def _gpu_json(path, *, train=1000.0, infer=3000.0, startup=10.0, share=True, **top):
    """A full-size CUDA gpu_check JSON: every pitfalls arch at bf16, resnet3d and msanet
    measured 4 at a time (x1.25 without MPS, x1.5 / x3 under MPS)."""
    blob = {"device": "cuda:TestGPU", "small": False, "measured": True, "provenance": "test",
            "cases": [{"arch": a, "amp": "bf16", "train_clips_s": train * (2 if "msa" in a else 1),
                       "infer_clips_s": infer} for a in PITFALLS_ARCHS],
            "gan": {"ms_per_iteration": 100.0},
            "share": [{"arch": a, "amp": "bf16", "k": 4, "mps": mps, "finished": True,
                       "total_clips_s": base * gain, "per_process_clips_s": [base * gain / 4] * 4}
                      for a, base in (("resnet3d", train), ("msanet", 2 * train))
                      for mps, gain in ((False, 1.25), (True, 1.5 if a == "resnet3d" else 3.0))]
            if share else None,
            "startup": {"arch": "resnet3d", "amp": "bf16", "process_to_first_step_s": startup,
                        "parts": {"import": startup}} if startup is not None else None}
    blob.update(top)
    path.write_text(json.dumps({k: v for k, v in blob.items() if v is not None}))
    return path


def _cost(cfg, fig_path, clips=None, *, sharing="best", k=1, fraction=(0.5, "test"),
          startup_path="in_process", zero_runs=False):
    """gpu_hours of cfg; ``zero_runs``: the start-up hours of every job but train_model's."""
    fig = gpu_figures.load(fig_path, cfg["train"]["amp"])
    if zero_runs:
        fig.startup_paths = {startup_path: 0.0}
    counts = grid_cost.job_counts(cfg)
    clips = clips or {m: (300, "test") for m in ("ckplus", "mmi", "mug", "oulu", "rafdb")}
    cost = gpu_hours.gpu_hours(cfg, counts, fig, clips, sharing=sharing, profile_k=k,
                               fraction=fraction, startup_path=startup_path)
    return cost["upper"]["start-up"] if zero_runs else cost


@pytest.mark.parametrize("bad", [{"small": True}, {"device": "cpu"}])
def test_a_small_or_cpu_json_is_refused_for_gpu_hours(bad, tmp_path, capsys):
    path = _gpu_json(tmp_path / "g.json", **bad)
    assert main(["plan", "--config", str(ROOT / "studies" / "pitfalls.yaml"), "--cost",
                 "--gpu-check", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "benchmarks/gpu_check.py" in err and "gpu_check_h200.json" in err
    # without --cost the JSON is not read: the grid still plans
    assert main(["plan", "--config", str(ROOT / "studies" / "pitfalls.yaml"), "--gpu-check",
                 str(path)]) == 0


def test_a_manifest_registered_from_another_root_is_not_read(tmp_path):
    cfg = copy.deepcopy(study_config("pitfalls"))
    cfg["results"] = str(tmp_path)
    registry = tmp_path / "registry"
    registry.mkdir()
    (registry / "ckplus.csv").write_text("label\n" + "happiness\n" * 96)
    (registry / "ckplus.json").write_text(json.dumps({"root": str(tmp_path / "demo" / "ckplus"),
                                                      "options": {}}))
    clips = release_sizes.labelled_clips(cfg, {"ckplus", "mmi"}, fallback=300)
    assert clips["ckplus"][0] == release_sizes.RELEASE_SIZES["ckplus"].clips != 96
    assert clips["ckplus"][1].startswith("ASSUMED release size") and "Lucey" in clips["ckplus"][1]
    # a manifest without its registration record is not taken for the study's either
    (registry / "mmi.csv").write_text("label\n" + "anger\n" * 7)
    assert clips["mmi"][0] == 205
    # registered from the study's own root: its labelled clips of the study's classes count
    (registry / "ckplus.json").write_text(json.dumps(
        {"root": str(Path(cfg["datasets"]["ckplus"]["root"]).resolve()), "options": {}}))
    (registry / "ckplus.csv").write_text("label\n" + "happiness\n" * 96 + "contempt\n" * 5 + "\n")
    assert release_sizes.labelled_clips(cfg, {"ckplus"}, 300)["ckplus"] == (
        96, f"manifest {registry / 'ckplus.csv'}")
    # same root, other options (Oulu-CASIA NI instead of the study's VL): not the study's
    (registry / "oulu.csv").write_text("label\n" + "anger\n" * 9)
    (registry / "oulu.json").write_text(json.dumps(
        {"root": str(Path(cfg["datasets"]["oulu"]["root"]).resolve()),
         "options": {**cfg["datasets"]["oulu"]["options"], "spectrum": "NI"}}))
    assert release_sizes.labelled_clips(cfg, {"oulu"}, 300)["oulu"][0] == 480


def test_plan_cost_of_pitfalls_prints_release_sizes_as_assumed(tmp_path, capsys):
    path = _gpu_json(tmp_path / "g.json")
    assert main(["plan", "--config", str(ROOT / "studies" / "pitfalls.yaml"), "--cost",
                 "--gpu-check", str(path), "--set", f"results={tmp_path}"]) == 0
    out = capsys.readouterr().out
    for name in ("ckplus", "mmi", "mug", "oulu", "rafdb"):
        size = release_sizes.RELEASE_SIZES[name].clips
        assert f"clips {name}: {size:,} (ASSUMED release size" in out
    assert "PROJECTED" not in out      # measured: true
    assert "pretraining: 10 model(s) x 12,135 pool clips" in out
    expected, upper = map(float, next(line for line in out.splitlines()
                                       if line.strip().startswith("total ")).split()[1:3])
    assert 0 < expected <= upper


def test_committed_h200_json_is_marked_projected_and_is_the_default(capsys):
    blob = json.loads((ROOT / gpu_figures.DEFAULT).read_text())
    assert blob["measured"] is False and "issue #24" in blob["provenance"]
    assert blob["device"].startswith("cuda") and not blob["small"]
    assert {"share", "startup", "deterministic"} <= set(blob)
    quoted = {(c["arch"], c["amp"]): c["train_clips_s"] for c in blob["cases"]}
    assert (quoted["resnet3d", "off"], quoted["resnet3d", "bf16"], quoted["resnet3d", "fp16"]) \
        == (510, 742, 1003)
    assert main(["plan", "--config", str(ROOT / "studies" / "pitfalls.yaml"), "--cost"]) == 0
    out = capsys.readouterr().out
    assert "PROJECTED (not measured on this GPU)" in out and "gpu_check_h200.json" in out


def test_expected_is_below_the_upper_bound_and_each_part_moves_with_its_input(tmp_path):
    cfg = study_config("pitfalls")
    base = _cost(cfg, _gpu_json(tmp_path / "a.json"))
    assert base["total_expected"] < base["total_upper"]
    assert base["expected"]["training"] == pytest.approx(0.5 * base["upper"]["training"])
    for part in ("training", "validation", "evaluation", "pretraining", "start-up", "train_gan"):
        assert base["upper"][part] > 0, part
    # start-up: twice the seconds per job, twice its hours; nothing else moves
    slow = _cost(cfg, _gpu_json(tmp_path / "b.json", startup=20.0))
    assert slow["upper"]["start-up"] == pytest.approx(2 * base["upper"]["start-up"])
    assert slow["upper"]["training"] == pytest.approx(base["upper"]["training"])
    # evaluation follows the inference clips/s
    fast = _cost(cfg, _gpu_json(tmp_path / "c.json", infer=6000.0))
    assert fast["upper"]["evaluation"] == pytest.approx(base["upper"]["evaluation"] / 2)
    assert fast["total_upper"] < base["total_upper"]
    # pretraining follows the pool's own clips (RAF-DB), not the study's
    clips = {m: (300, "t") for m in ("ckplus", "mmi", "mug", "oulu")}
    small, big = ({**clips, "rafdb": (n, "t")} for n in (1000, 10_000))
    h_small, h_big = _cost(cfg, tmp_path / "a.json", small), _cost(cfg, tmp_path / "a.json", big)
    assert h_big["upper"]["pretraining"] == pytest.approx(10 * h_small["upper"]["pretraining"])
    assert h_big["upper"]["training"] == pytest.approx(h_small["upper"]["training"])
    # the expected fraction scales training and validation only
    third = _cost(cfg, tmp_path / "a.json", fraction=(1 / 3, "t"))
    assert third["expected"]["training"] == pytest.approx(base["upper"]["training"] / 3)
    assert third["expected"]["start-up"] == base["expected"]["start-up"]


def test_sharing_uses_the_nearest_measured_arch(tmp_path):
    fig = gpu_figures.load(_gpu_json(tmp_path / "g.json"), "auto")
    best = {a: fig.sharing(a, "best", 1) for a in ("resnet3d", "vgg3d", "msa3d", "msanet")}
    assert best["resnet3d"].factor == pytest.approx(1.5) and best["resnet3d"].mps
    assert best["vgg3d"].factor == pytest.approx(1.5) and "nearest" in best["vgg3d"].basis
    assert best["msa3d"].factor == pytest.approx(3.0) and "msanet" in best["msa3d"].basis
    # the profile's K, without MPS where that was measured; K=1 and none: no sharing
    assert fig.sharing("msa3d", "profile", 4).factor == pytest.approx(1.25)
    assert fig.sharing("msa3d", "profile", 1).factor == fig.sharing("msa3d", "none", 4).factor == 1
    cfg = study_config("pitfalls")
    shared, alone = _cost(cfg, tmp_path / "g.json"), _cost(cfg, tmp_path / "g.json", sharing="none")
    assert shared["upper"]["training"] < alone["upper"]["training"] / 1.5 + 1e-9


def test_an_old_json_without_share_or_startup_is_read_with_those_parts_assumed(tmp_path):
    fig = gpu_figures.load(_gpu_json(tmp_path / "old.json", startup=None, share=False,
                                     measured=None, provenance=None), "bf16")
    assert fig.measured and fig.startup_s == gpu_figures.ASSUMED["startup_s"]
    assert any("startup" in a for a in fig.assumed) and any("share" in a for a in fig.assumed)
    assert fig.sharing("resnet3d", "best", 4).factor == 1.0


def test_train_jobs_start_up_on_their_path_and_the_others_in_process(tmp_path):
    """startup_paths (startup_tax --into) set the train_model jobs' start-up for the chosen
    path; pretraining, GAN and evaluation jobs keep the fresh-process figure; a path the JSON
    lacks falls back to that figure and says so."""
    cfg = study_config("pitfalls")
    paths = {"device": "cuda:TestGPU", "paths": {"in_process": 10.0, "worker": 4.0,
                                                 "prewarmed": 1.0}}
    measured = _gpu_json(tmp_path / "p.json", startup=10.0, startup_paths=paths)
    plain = _gpu_json(tmp_path / "q.json", startup=10.0)
    cold = _cost(cfg, plain)
    warm = _cost(cfg, measured, startup_path="prewarmed")
    assert warm["run_startup"] == (1.0, "through a train-worker's pre-warmed spare, measured "
                                        "(startup_tax)")
    runs_part = cold["upper"]["start-up"] - _cost(cfg, plain, startup_path="prewarmed",
                                                  zero_runs=True)
    # only the train_model jobs' share of the start-up shrinks, by their 10 s -> 1 s
    assert warm["upper"]["start-up"] == pytest.approx(cold["upper"]["start-up"] - 0.9 * runs_part)
    assert warm["upper"]["training"] == cold["upper"]["training"]
    fallback = _cost(cfg, plain, startup_path="worker")
    assert fallback["run_startup"][0] == 10.0 and "not measured" in fallback["run_startup"][1]
    with pytest.raises(ValueError, match="unknown start-up path"):
        _cost(cfg, measured, startup_path="warm")


def test_sd_runs_cost_the_none_arms_steps_unless_epoch_steps_is_mixed(tmp_path):
    """augment.sd.epoch_steps real: an SD run trains the real clips' steps per epoch; mixed:
    (1 + ratio) x. Pitfalls' four augments (none, da, sd, da+sd) at ratio 1: 6/4 the training."""
    cfg = copy.deepcopy(study_config("pitfalls"))
    fig = _gpu_json(tmp_path / "g.json")
    real = _cost(cfg, fig)
    cfg["augment"]["sd"]["epoch_steps"] = "mixed"
    mixed = _cost(cfg, fig)
    assert mixed["upper"]["training"] == pytest.approx(1.5 * real["upper"]["training"])
    assert mixed["upper"]["validation"] == pytest.approx(real["upper"]["validation"])
    cfg["augment"]["sd"]["ratio"] = 0.5
    assert _cost(cfg, fig)["upper"]["training"] == pytest.approx(1.25 * real["upper"]["training"])


def test_a_cut_off_json_is_read_and_says_so(tmp_path):
    fig = gpu_figures.load(_gpu_json(tmp_path / "cut.json", share=False, complete=False), "bf16")
    assert any("cut off (complete: false)" in a for a in fig.assumed)
    whole = gpu_figures.load(_gpu_json(tmp_path / "whole.json", complete=True), "bf16")
    assert not any("cut off" in a for a in whole.assumed)


def test_expected_fraction_comes_from_this_configs_logged_curves(tmp_path):
    from ferstudy.runkey import RunKey
    from ferstudy.settings import RunSettings
    from ferstudy.train.plan import study_runs

    cfg = copy.deepcopy(study_config("pitfalls"))
    cfg["results"] = str(tmp_path)
    assert gpu_hours.expected_fraction(cfg, None)[1].startswith("ASSUMED")
    runs = study_runs(cfg["study"])[:3]
    for run, epochs, digest in zip(runs, (15, 30, 45), ("ok", "ok", "other")):
        d = tmp_path / "runs" / run
        d.mkdir(parents=True)
        if digest == "ok":
            digest = RunSettings(cfg).lineage_hash(RunKey.parse(run).as_dict())
        (d / "provenance.json").write_text(json.dumps({"settings_hash": digest}))
        (d / "metrics.json").write_text("{}")
        (d / "curve.csv").write_text("epoch\n" + "".join(f"{e}\n" for e in range(epochs)))
    fraction, source = gpu_hours.expected_fraction(cfg, None)
    # the third run was trained with other settings: left out
    assert fraction == pytest.approx((15 + 30) / 2 / cfg["train"]["epochs"])
    assert "2 finished runs" in source
