"""A changed setting reruns exactly the jobs it shapes (Snakemake's params trigger fed by
ferstudy.settings): a tiny study on a CK+-layout tree is finished once through the real
Snakefile, then each changed key is dry-run and the planned jobs per rule are compared."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from align_fixtures import astronaut, need_models, render, resources_copy, warp_matrix, write_frames

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
SUBJECTS = 8

pytestmark = pytest.mark.slow

CONFIG = {
    "register": {"folds": 2},
    "study": {"datasets": ["ckplus"], "archs": ["resnet2d_lstm"], "methods": ["supervised", "scn"],
              "inits": ["ri", "ft"], "augments": ["none", "sd"], "seeds": [0], "folds": [0],
              "classes": ["anger", "happiness"], "cross_dataset": False},
    "align": {"size": 32, "frames": 4, "shards": 2},
    "train": {"epochs": 1, "min_epochs": 1, "batch_size": 4, "width": 0.125,
              # the pool named explicitly (real data): the target's own training folds
              "pretrain": {"epochs": 1, "sources": ["ckplus"], "include_target_train": True}},
    "augment": {"sd": {"iterations": 2, "batch": 4, "size": 16, "width": 4, "latent_dim": 8,
                       "log_every": 1, "clips_per_class": 4}},
    "evaluate": {"bootstrap_resamples": 100, "figures": {"dpi": 50}},
}


def ckplus_tree(root: Path) -> Path:
    """SUBJECTS subjects x (anger, happiness) sequences of 4 frames of the astronaut moving."""
    img = astronaut()
    for s in range(1, SUBJECTS + 1):
        for seq, code in (("001", 1), ("002", 5)):
            subject = f"S{s:03d}"
            frames = [render(img, warp_matrix(2 * s - 8 + t, 0.5 + 0.02 * t, 3 * t, code),
                             canvas=(320, 240)) for t in range(4)]
            write_frames(root / "cohn-kanade-images" / subject / seq, frames)
            label = root / "Emotion" / subject / seq / f"{subject}_{seq}_00000003_emotion.txt"
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text(f"   {code:.7e}\n")
    return root


def snakemake(work: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    cmd = [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-d", str(work),
           "--configfile", str(work / "config.yaml"), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def planned(work: Path, *config: str) -> dict[str, int]:
    """{rule: jobs} that `snakemake -n` plans with ``--config`` overrides (YAML form)."""
    args = ["-n", "--quiet", "rules", "--cores", "2"]
    if config:
        args += ["--config", *config]
    out = snakemake(work, *args, timeout=180).stdout
    jobs = {k: int(v) for k, v in re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M)}
    jobs.pop("total", None)
    return jobs


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    need_models()
    work = tmp_path_factory.mktemp("rerun")
    config = {**CONFIG, "datasets": {"ckplus": {"root": str(ckplus_tree(work / "CK+"))}},
              # a copy of the fetched face models: nothing to download, the checkout untouched
              "resources": str(resources_copy(work))}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(work, "--cores", "2", "--quiet", "--set-threads", "train_gan=1")
    return work


# evaluation is one job per (training set, arch, fold): this grid's 8 runs are one group
DOWNSTREAM = {"evaluate_cross": 1, "gather_results": 1, "plot_figures": 1, "all": 1}


def test_unchanged_config_plans_nothing(finished):
    # params written by the finished run (another process) compare equal: a stable repr
    assert planned(finished) == {}


def test_runtime_keys_plan_nothing(finished):
    assert planned(finished, "train={threads: 2, device: cpu, mem_mb: 999}",
                   "evaluate={device: cpu, batch_clips: 3}") == {}


def test_train_lr_reruns_training_and_what_reads_it(finished):
    assert planned(finished, "train={lr: 0.0123}") == {
        "pretrain_model": 1, "train_model": 8, **DOWNSTREAM}


def test_pretrain_setting_reruns_only_ft_runs(finished):
    half = DOWNSTREAM
    assert planned(finished, "train={pretrain: {epochs: 2}}") == {
        "pretrain_model": 1, "train_model": 4, **half}
    # keep_head chooses what an ft run loads; the pool is unchanged
    assert planned(finished, "train={pretrain: {keep_head: true}}") == {"train_model": 4, **half}


def test_sd_settings_rerun_gan_and_only_sd_runs(finished):
    half = DOWNSTREAM
    assert planned(finished, "augment={sd: {iterations: 3}}") == {
        "train_gan": 1, "generate_clips": 1, "train_model": 4, **half}
    assert planned(finished, "augment={sd: {clips_per_class: 5}}") == {
        "generate_clips": 1, "train_model": 4, **half}
    assert planned(finished, "augment={sd: {ratio: 0.5}}") == {"train_model": 4, **half}
    assert planned(finished, "augment={sd: {epoch_steps: mixed}}") == {"train_model": 4, **half}
    # no run of this study uses da
    assert planned(finished, "augment={da: {rotation_deg: 3.0}}") == {}


def test_method_setting_reruns_only_its_runs(finished):
    assert planned(finished, "methods={scn: {beta: 0.5}}") == {
        "train_model": 4, **DOWNSTREAM}
    assert planned(finished, "methods={adacm: {w_con: 0.2}}") == {}


def test_align_size_reruns_alignment_and_downstream_not_registration(finished):
    assert planned(finished, "align={size: 40}") == {
        "align_shard": 2, "gather_aligned": 1, "pretrain_model": 1, "train_gan": 1,
        "generate_clips": 1, "train_model": 8, **DOWNSTREAM}


def test_evaluation_and_figure_settings(finished):
    assert planned(finished, "evaluate={figures: {dpi: 60}}") == {"plot_figures": 1, "all": 1}
    assert planned(finished, "evaluate={tsne: {perplexity: 5}}") == {"plot_figures": 1, "all": 1}
    assert planned(finished, "evaluate={bootstrap_resamples: 120}") == {
        "gather_results": 1, "plot_figures": 1, "all": 1}


def test_registration_setting_reruns_everything_from_registration(finished):
    jobs = planned(finished, "register={fold_seed: 1}")
    assert jobs["register_dataset"] == 1 and jobs["train_model"] == 8
    assert "render_demo" not in jobs and "get_face_models" not in jobs


def test_each_run_records_its_provenance_and_runs_csv_its_hash(finished):
    import json

    import pandas as pd

    results = finished / "results"
    runs = pd.read_csv(results / "studies" / "config" / "tables" / "runs.csv")
    assert runs["settings_hash"].str.fullmatch(r"[0-9a-f]{12}").all()
    run = "ckplus/resnet2d_lstm/scn/ft/sd/full/seed0/fold0"
    record = json.loads((results / "runs" / run / "provenance.json").read_text())
    assert record["settings_hash"] == runs.loc[runs["run"] == run, "settings_hash"].iloc[0]
    assert set(record["settings"]) == {"train", "align", "pretrain", "sd", "register"}
    assert record["settings"]["train"]["methods"]["scn"]["beta"] == 0.7
    assert "threads" not in record["settings"]["train"]["train"]   # runtime-only
    assert {"python", "torch", "numpy", "mediapipe", "snakemake"} <= set(record["software"])
    assert record["software"]["torch"] and record["device"] == "cpu"
    assert sorted(Path(p).name for p in record["inputs"]) == [
        "ckplus.csv", "index.csv", "index.csv", "model.pt"]   # registry, store, synthetic, ft
    # an ri run without sd has neither pretraining nor GAN settings in its lineage
    other = json.loads((results / "runs" / run.replace("/ft/sd/", "/ri/none/") /
                        "provenance.json").read_text())
    assert set(other["settings"]) == {"train", "align", "register"}


def test_gather_refuses_runs_made_under_other_settings(finished, tmp_path):
    import shutil

    work = tmp_path / "copy"
    shutil.copytree(finished, work, symlinks=True)
    changed = ["--config", "train={lr: 0.0123}"]
    # the mtime trigger alone does not see the new lr; gather_results must
    cmd = [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-d", str(work), "--configfile",
           str(work / "config.yaml"), "--cores", "1", "--rerun-triggers", "mtime",
           "--forcerun", "gather_results", *changed]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    log = (work / "results" / "studies" / "config" / "logs" / "gather_results" / "gather_results.log").read_text()
    assert "8 run(s) were made under settings that differ from the current config" in log
    assert "ckplus/resnet2d_lstm/supervised/ri/none/full/seed0/fold0: settings_hash" in log
    # the command it prints is accepted and plans exactly the stale runs again
    command = re.search(r"^\s*(snakemake --cores all --forcerun .*)$", log, flags=re.M).group(1)
    args = command.split()[1:]
    proc = subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-d", str(work),
                           "--configfile", str(work / "config.yaml"), *args, "-n", "--quiet",
                           "rules", "--rerun-triggers", "mtime", *changed],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout, flags=re.M))
    assert jobs["train_model"] == "8" and jobs["gather_results"] == "1"
