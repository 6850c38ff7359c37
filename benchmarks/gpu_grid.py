"""A slice of the pitfalls grid through Snakemake and profiles/local-gpu: runs per hour, and the
full grid extrapolated from it beside ``ferstudy plan --cost``.

    python benchmarks/gpu_grid.py                            # CUDA, full size (112 px x 16 frames)
    python benchmarks/gpu_grid.py --small --device cpu       # the same path on CPU (1-2 min)
    python benchmarks/gpu_grid.py --archs resnet3d msanet vgg3d --seeds 0 1 2 --out x.json
    python benchmarks/gpu_grid.py --mps --worker     # as recommended: MPS + warm train-worker

The slice is ``studies/pitfalls.yaml`` cut to one training set (``--release``, CK+ by default)
at its release's documented labelled size (``ferstudy.release_sizes``), a few archs, augments,
seeds and folds, ``ri`` only, all at the study's full size. Its data are synthetic: random
pixels written straight into the aligned-store format (``ferstudy.clipstore``) with a
registration record, so only ``train_model`` runs (``--allowed-rules train_model``); random
labels make early stopping stop early, and the slice's own ``curve.csv`` files say how early.

What it reports: the slice's wall time and runs per hour; the cost model of ``plan --cost``
(``ferstudy.gpu_hours``) for the same slice, with the epochs the runs actually logged; their
ratio; and the full grid's ``plan --cost`` figure (expected, upper bound) beside its
extrapolation = that figure x the ratio (the measured basis of the full-grid figure: they
agree within 20 % when the model predicts the slice within 20 %). On CUDA the model reads
``--gpu-check`` (default: the committed H200 JSON). On CPU it uses clips/s measured here, in
process, at the slice's shape: CPU figures, printed as such, never GPU figures.
``--mps`` runs the slice under a private CUDA MPS daemon and models it with the measured MPS
sharing; ``--worker`` hands its jobs to a warm train-worker with ``gpu_slots`` pre-warmed
spares and models the start-up measured through one (``startup_paths``, where the JSON has it).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
FULL_GRID_RUNS = 19_200
CLASSES = ["anger", "disgust", "fear", "happiness", "sadness", "surprise"]
SMALL = {"align": {"size": 32, "frames": 4},
         "train": {"width": 0.125, "epochs": 3, "min_epochs": 1, "patience": 2, "batch_size": 8}}


def slice_study(work: Path, args) -> Path:
    """studies/pitfalls.yaml cut to the slice, as ``work/gpu_grid.yaml``."""
    cfg = yaml.safe_load((ROOT / "studies" / "pitfalls.yaml").read_text())
    cfg["datasets"][args.release]["root"] = str(work / "data" / args.release)
    cfg["results"] = str(work / "results")
    cfg["study"].update({"name": "gpu_grid", "datasets": [args.release], "archs": args.archs,
                         "inits": ["ri"], "augments": args.augments, "seeds": args.seeds,
                         "folds": args.folds, "cross_dataset": False})
    cfg["train"].update({"device": args.device, "threads": 1 if args.device == "cpu" else 4})
    if args.small:
        for section, values in SMALL.items():
            cfg[section].update(values)
    path = work / "gpu_grid.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def synthetic_release(cfg: dict, name: str, clips: int) -> None:
    """A registration record + manifest and an aligned store of ``clips`` random clips: one clip
    of each of the six classes per subject, subject-independent folds."""
    from ferstudy.clipstore import write_store
    from ferstudy.datasets.register import MANIFEST_COLUMNS

    root = Path(cfg["datasets"][name]["root"])
    for sub in ("cohn-kanade-images", "Emotion"):      # the adapter's layout, empty
        (root / sub).mkdir(parents=True, exist_ok=True)
    results, folds = Path(cfg["results"]), int(cfg["register"]["folds"])
    subject = np.arange(clips) // len(CLASSES)
    manifest = pd.DataFrame({
        "clip_id": [f"{name}_{i:05d}" for i in range(clips)], "dataset": name,
        "subject": [f"S{s:03d}" for s in subject], "label": [CLASSES[i % len(CLASSES)] for i in range(clips)],
        "label_raw": "", "source": "synthetic", "kind": "frames", "frames": cfg["align"]["frames"],
        "fps": 30.0, "sha256": [f"{i:064x}" for i in range(clips)], "fold": subject % folds})
    (results / "registry").mkdir(parents=True, exist_ok=True)
    manifest[MANIFEST_COLUMNS].to_csv(results / "registry" / f"{name}.csv", index=False)
    (results / "registry" / f"{name}.json").write_text(json.dumps(
        {"dataset": name, "root": str(root.resolve()), "options": {}, "clips": clips,
         "labelled": clips, "note": "synthetic (benchmarks/gpu_grid.py)"}))
    t, s = cfg["align"]["frames"], cfg["align"]["size"]
    rng = np.random.default_rng(0)
    index = manifest[["clip_id", "dataset", "subject", "label", "fold"]].assign(
        detection_rate=1.0, intensity=1.0)
    write_store(results / "aligned" / name, rng.integers(0, 256, (clips, t, s, s, 1), np.uint8),
                np.tile(np.linspace(0, 1, t, dtype=np.float32), (clips, 1)), index)


def cpu_figures(cfg: dict, archs: list[str]):
    """GpuFigures measured here on CPU at the slice's shape (one process, float32)."""
    import torch

    from ferstudy.gpu_figures import GpuFigures
    from gpu_check import train_case

    shape = {"frames": cfg["align"]["frames"], "size": cfg["align"]["size"], "channels": 1,
             "width": cfg["train"]["width"], "batch": cfg["train"]["batch_size"]}
    torch.set_num_threads(1)
    cases = {a: train_case(a, "off", shape, torch.device("cpu"), iters=3, workers=0) for a in archs}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, ferstudy.train.run"], check=True)
    startup = time.perf_counter() - t0
    return GpuFigures(
        path="measured here (CPU)", device="cpu", measured=True, provenance="benchmarks/gpu_grid.py",
        amp="off", train={a: c["train_clips_s"] for a, c in cases.items()},
        infer={a: c["infer_clips_s"] for a, c in cases.items()}, share=[], startup_s=startup,
        gan_ms=0.0, assumed=[f"start-up = a subprocess importing torch and ferstudy.train "
                             f"({startup:.1f} s)"])


@contextlib.contextmanager
def helpers(work: Path, args, k: int):
    """(MPS on, worker on) for the slice's Snakemake run: a private MPS daemon (``--mps``) and
    a train-worker with k pre-warmed spares at the jobs' default socket (``--worker``); both
    stopped after. The worker starts after MPS, so its children's CUDA contexts use it."""
    from ferstudy import gpu_share
    from ferstudy.train import worker
    from ferstudy.train.worker_client import DEFAULT

    mps = worker_on = False
    pipe = work / "mps"
    try:
        if args.mps and gpu_share.mps_available():
            os.environ["CUDA_MPS_PIPE_DIRECTORY"] = str(pipe)
            os.environ["CUDA_MPS_LOG_DIRECTORY"] = str(pipe / "log")
            print(f"  {gpu_share.start(pipe)}", flush=True)
            mps = True
        elif args.mps:
            print(f"  {gpu_share.status(pipe)}: the slice runs without MPS", flush=True)
        if args.worker:
            socket = str(work / DEFAULT)
            worker.start(socket, spares=k)
            print(f"  train-worker at {socket} ({k} pre-warmed spare(s))", flush=True)
            worker_on = True
        yield mps, worker_on
    finally:
        if worker_on:
            worker.stop(str(work / DEFAULT))
        if mps:
            gpu_share.stop(pipe)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--small", action="store_true", help="small clips and nets, few epochs")
    parser.add_argument("--release", default="ckplus", help="dataset whose release size is used")
    parser.add_argument("--archs", nargs="+", help="default: resnet3d msanet (small: resnet3d)")
    parser.add_argument("--augments", nargs="+", help="default: none da (small: none)")
    parser.add_argument("--seeds", nargs="+", type=int, help="default: 0 1 (small: 0)")
    parser.add_argument("--folds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--gpu-check", default=str(ROOT / "benchmarks" / "gpu_check_h200.json"))
    parser.add_argument("--sharing", default="profile", choices=("profile", "best", "none"),
                        help="sharing in the model (best: MPS figures; start MPS yourself)")
    parser.add_argument("--mps", action="store_true",
                        help="run the slice under a CUDA MPS daemon of its own (where "
                             "nvidia-cuda-mps-control exists; else said and run without)")
    parser.add_argument("--worker", action="store_true",
                        help="run the slice's jobs through a warm train-worker (with gpu_slots "
                             "pre-warmed spares), as README 'Start-up tax' recommends")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp folder")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks" / "gpu_grid.json")
    args = parser.parse_args(argv)
    # a time limit's SIGTERM unwinds (helpers' finally stops the worker and MPS it started)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for key, full, small in (("archs", ["resnet3d", "msanet"], ["resnet3d"]),
                             ("augments", ["none", "da"], ["none"]), ("seeds", [0, 1], [0])):
        if getattr(args, key) is None:
            setattr(args, key, small if args.small else full)

    from ferstudy import gpu_figures, grid_cost
    from ferstudy.gpu_hours import expected_fraction, gpu_hours, logged_fraction
    from ferstudy.release_sizes import RELEASE_SIZES
    from ferstudy.resolution import cli_layers, resolve_layers
    from ferstudy.train.plan import study_runs

    work = args.workdir or Path(tempfile.mkdtemp(prefix="gpu_grid-"))
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config.yaml", work / "config.yaml")
    study = slice_study(work, args)
    cfg = resolve_layers(cli_layers(study, base=work / "config.yaml"))
    clips = RELEASE_SIZES[cfg["datasets"][args.release].get("adapter", args.release)].clips
    synthetic_release(cfg, args.release, clips)
    runs = study_runs(cfg["study"])
    profile = yaml.safe_load((ROOT / "profiles" / "local-gpu" / "config.yaml").read_text())
    k = 1 if args.device == "cpu" else grid_cost.profile_slots(profile)
    pitfalls_archs = yaml.safe_load((ROOT / "studies" / "pitfalls.yaml").read_text())["study"]["archs"]
    # on CPU: every arch of the grid measured here, at the slice's shape
    fig = cpu_figures(cfg, sorted(set(args.archs) | set(pitfalls_archs))) if args.device == "cpu" else \
        gpu_figures.load(args.gpu_check, cfg["train"]["amp"])
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"),
           "-d", str(work), "--configfile", str(work / "config.yaml"), str(study),
           "--profile", str(ROOT / "profiles" / "local-gpu"), "--allowed-rules", "train_model",
           "--resources", f"gpu_slots={k}", "--keep-going",
           *[f"{cfg['results']}/runs/{r}/model.pt" for r in runs]]
    if args.device == "cpu":
        cmd += ["--cores", "1"]
    print(f"gpu_grid: {len(runs)} runs ({args.release} at {clips} clips, archs "
          f"{' '.join(args.archs)}, augments {' '.join(args.augments)}, seeds {args.seeds}, "
          f"folds {args.folds}; {cfg['align']['frames']} x {cfg['align']['size']} px, width "
          f"{cfg['train']['width']}) on {fig.device}, gpu_slots={k}; workdir {work}", flush=True)
    with helpers(work, args, k) as (mps, worker):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    done = [r for r in runs if (Path(cfg["results"]) / "runs" / r / "metrics.json").is_file()]
    if proc.returncode or len(done) != len(runs):
        sys.exit(f"gpu_grid: {len(done)}/{len(runs)} runs finished (snakemake exit "
                 f"{proc.returncode}):\n{proc.stderr[-4000:]}")
    fraction = logged_fraction(cfg, runs)
    counts = grid_cost.job_counts(cfg)
    sharing = "none" if k == 1 else ("best" if mps else args.sharing)
    path = "prewarmed" if worker else "in_process"
    slice_cost = gpu_hours(cfg, counts, fig, {args.release: (clips, "release size")},
                           sharing=sharing, profile_k=k, startup_path=path,
                           fraction=(fraction[0], "logged by the slice"))
    predicted = slice_cost["total_expected"]
    full_cfg = resolve_layers(cli_layers(ROOT / "studies" / "pitfalls.yaml", base=ROOT / "config.yaml"))
    if args.small:                            # the grid at the slice's (CPU) shape
        for section, values in SMALL.items():
            full_cfg[section].update(values)
    full = gpu_hours(full_cfg, grid_cost.job_counts(full_cfg), fig,
                     grid_cost.study_clips(full_cfg, 300), sharing=sharing, profile_k=k,
                     startup_path=path,
                     fraction=expected_fraction(full_cfg, None))
    ratio = wall / 3600 / predicted
    report = {
        "device": fig.device, "cpu_figures": args.device == "cpu", "small": args.small,
        "figures": fig.path, "figures_measured": fig.measured, "gpu_slots": k,
        "sharing": sharing, "mps": mps, "worker": worker,
        "slice": {"release": args.release, "clips": clips, "archs": args.archs,
                  "augments": args.augments, "seeds": args.seeds, "folds": args.folds,
                  "frames": cfg["align"]["frames"], "size": cfg["align"]["size"],
                  "width": cfg["train"]["width"], "epochs": cfg["train"]["epochs"]},
        "runs": len(runs), "wall_s": wall, "runs_per_hour": len(runs) / wall * 3600,
        "epoch_fraction_logged": fraction[0], "predicted_slice_h": predicted,
        "predicted_parts_h": slice_cost["expected"],
        "measured_slice_h": wall / 3600, "ratio_measured_over_model": ratio,
        "full_grid_runs": FULL_GRID_RUNS, "plan_expected_h": full["total_expected"],
        "plan_upper_h": full["total_upper"], "extrapolated_expected_h": full["total_expected"] * ratio,
        "naive_h": FULL_GRID_RUNS / (len(runs) / wall * 3600),
        "agree_within_20pct": abs(ratio - 1) <= 0.2}
    kind = "CPU figures (not GPU figures)" if args.device == "cpu" else \
        f"on {fig.device}{'' if fig.measured else '; model from a PROJECTED JSON'}"
    print(f"  {kind}\n  wall {wall:.1f} s -> {report['runs_per_hour']:,.0f} runs/hour; runs "
          f"trained {fraction[0]:.0%} of {cfg['train']['epochs']} epochs (their curve.csv)\n"
          f"  cost model for this slice: {predicted * 3600:.1f} s; measured {wall:.1f} s "
          f"(ratio {ratio:.2f})\n"
          f"  full grid ({FULL_GRID_RUNS:,} runs): plan --cost {full['total_expected']:,.1f} h "
          f"expected ({full['total_upper']:,.1f} upper bound); extrapolated from this slice "
          f"{report['extrapolated_expected_h']:,.1f} h; {FULL_GRID_RUNS:,} / runs-per-hour = "
          f"{report['naive_h']:,.1f} h (not work-adjusted)\n"
          f"  agree within 20 %: {'yes' if report['agree_within_20pct'] else 'NO'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"wrote {args.out}")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return report


if __name__ == "__main__":
    main()
