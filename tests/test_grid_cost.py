"""ferstudy plan --cost: the grid arithmetic against real dry runs, SLURM submissions under a
profile's groups, and GPU-hours from a gpu_check JSON."""
import json
import math

import pytest
import yaml

from ferstudy import grid_cost
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


def _gpu_json(path, train_s, infer_s, gan_ms, amp="bf16"):
    path.write_text(json.dumps({"device": "cuda:TestGPU", "small": False, "cases": [
        {"arch": a, "amp": amp, "train_clips_s": train_s, "infer_clips_s": infer_s}
        for a in ("resnet3d", "vgg2d_lstm")], "gan": {"ms_per_iteration": gan_ms}}))
    return path


def test_a_release_split_dataset_runs_and_evaluates_its_test_fold_only():
    counts = grid_cost.job_counts(study_config("scn_noise"))
    s = study_config("scn_noise")["study"]
    per_fold = math.prod(len(s[k]) for k in ("archs", "methods", "inits", "augments", "protocols",
                                              "seeds"))
    # rafdb (official split): fold 0 only; ckplus: every fold
    assert counts["train_model"] == per_fold * (1 + len(s["folds"]))
    assert counts["evaluate_cross"] == len(s["archs"]) * (1 + len(s["folds"]))


def test_gpu_hours_scale_with_measured_throughput(tmp_path):
    cfg = study_config("demo_augment")
    counts = grid_cost.job_counts(cfg)
    clips = {m: (120, True) for m in ("ckplus", "mug")}
    slow = grid_cost.read_throughput(_gpu_json(tmp_path / "a.json", 100, 400, 200), "auto")
    fast = grid_cost.read_throughput(_gpu_json(tmp_path / "b.json", 200, 800, 100), "auto")
    h_slow = grid_cost.gpu_hours(cfg, counts, slow, clips)
    h_fast = grid_cost.gpu_hours(cfg, counts, fast, clips)
    assert h_slow["hours"]["train_model"] == pytest.approx(2 * h_fast["hours"]["train_model"])
    assert h_slow["hours"]["train_gan"] == pytest.approx(2 * h_fast["hours"]["train_gan"])
    # hand count: every run trains all epochs on (folds-1)/folds of its set, sd doubles it
    s, epochs, folds = cfg["study"], cfg["train"]["epochs"], cfg["register"]["folds"]
    per_cell = math.prod(len(s[k]) for k in ("methods", "inits", "protocols", "seeds", "folds"))
    grow = sum(1 + (cfg["augment"]["sd"]["ratio"] if "sd" in a else 0) for a in s["augments"])
    want = len(s["archs"]) * len(s["datasets"]) * per_cell * epochs * 120 * (folds - 1) / folds \
        * grow / 200 / 3600
    assert h_fast["hours"]["train_model"] == pytest.approx(want)
    assert "measured by gpu_check on cuda:TestGPU" in h_fast["throughput_source"]
    # a mode that was not measured (fp16 asked, bf16 measured) falls back to the assumption
    other = grid_cost.read_throughput(tmp_path / "b.json", "fp16")
    assert other["archs"] == {}
    assert "0/" in grid_cost.gpu_hours(cfg, counts, other, clips)["throughput_source"]


def test_plan_cost_command(tmp_path, capsys):
    assert main(["plan", "--config", str(ROOT / "config.yaml"), "--cost", "--gpu-check",
                 str(tmp_path / "missing.json"), "--profile",
                 str(ROOT / "profiles" / "slurm")]) == 0
    out = capsys.readouterr().out
    from ferstudy.resolution import resolve_cli

    runs = grid_cost.job_counts(resolve_cli(ROOT / "config.yaml", {}))["train_model"]
    assert f"runs (train_model)      {runs:>10,}" in out and "SLURM submissions" in out
    assert "ASSUMED throughput" in out and "GPU-hours" in out
    assert main(["plan", "--config", str(ROOT / "config.yaml"), "--profile", "nowhere"]) == 2
