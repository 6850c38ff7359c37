"""The per-job start-up tax of training: in-process, and through a warm train-worker in a cold
child or in a pre-warmed spare.

Each run is its own process, as a Snakemake ``script:`` job is: it imports what
workflow/scripts/train_model.py imports and calls ``worker_client.run_job`` with the same
arguments. ``in-process`` runs train in that process (``FERSTUDY_TRAIN_WORKER=off``);
``worker-cold`` runs hand the job to a worker started with ``--spares 0`` (each job forks a
fresh child, which initialises CUDA itself); ``worker-prewarmed`` runs hand it to a worker
keeping one pre-warmed spare (CUDA initialised, cuBLAS/cuDNN loaded before the job arrives;
before each run the benchmark waits until the spare is ready, as it is in a grid whose jobs
train longer than a spare's warm-up: the wait is printed). A worker's own start is printed
apart (paid once per machine or allocation). Per mode it prints the median per run of

- start-up: process start to the end of the first optimiser step (provenance.json
  ``startup``), and its parts: launch (interpreter + imports; through the worker: the
  client, connecting and the fork or hand-over), data, device (on a GPU: CUDA's
  initialisation, done ahead in a pre-warmed spare), model, first step;
- wall: the process's whole life (launch to exit), what a job costs its slot;

then the fraction of each the worker saves, and whether every run's outputs (model.pt,
predictions.csv) are byte-identical across the modes. Snakemake's own per-job overhead (its
job script preamble, scheduling) is outside all and not counted; ``--snakemake`` also times
the same runs as a grid through Snakemake (``--cores``, train_model only), without and with a
worker (default spares): the wall a study sees.

The runs are a tiny study at demo size (toy clips, 8 x 48 px grey, width 0.125, a few
epochs): the start-up is then most of a job, as in the demo grids. ``--device`` is the runs'
``train.device`` (auto: CUDA where torch sees a GPU); ``--json PATH`` writes
``{mode: {median <part>_s, total_s, wall_s, ...}}``.

    python benchmarks/startup_tax.py                        # 6 runs per mode, resnet3d, 2 epochs
    python benchmarks/startup_tax.py --runs 10 --arch resnet2d_lstm --epochs 1 --threads 2
    python benchmarks/startup_tax.py --device cuda --json startup.json   # on a GPU machine
    python benchmarks/startup_tax.py --snakemake --cores 2  # and the grid through Snakemake
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# the toy clip store and the job arguments are test fixtures (tests/), not the package
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from ferstudy.train import worker  # noqa: E402
from toyclips import TOY_CLASSES  # noqa: E402
from worker_jobs import toy_results, train_job  # noqa: E402


# one job: what workflow/scripts/train_model.py imports and calls
JOB = """
import pickle, sys
from ferstudy.logs import logged
from ferstudy.settings import job_config  # noqa: F401  (the script's imports)
from ferstudy.train.plan import results_of_store  # noqa: F401
from ferstudy.train.worker_client import run_job
kwargs = pickle.load(open(sys.argv[1], "rb"))
with logged(sys.argv[2]) as log:
    run_job("train", kwargs, log)
"""
PARTS = ("launch", "data", "device", "model", "first_step")


# mode -> the worker's --spares (None: in-process, no worker)
MODES = {"in-process": None, "worker-cold": 0, "worker-prewarmed": 1}


def run_mode(mode: str, jobs: list[Path], scratch: Path, socket: str) -> list[dict]:
    spares = MODES[mode]
    env = dict(os.environ, FERSTUDY_TRAIN_WORKER="off" if spares is None else socket,
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    rows = []
    for i, job in enumerate(jobs):
        kwargs = pickle.loads(job.read_bytes())
        waited = wait_for_spare(socket) if spares else 0.0
        t0 = time.time()
        subprocess.run([sys.executable, "-c", JOB, str(job), str(scratch / f"{mode}{i}.log")],
                       env=env, check=True, stderr=subprocess.DEVNULL)
        wall = time.time() - t0
        prov = json.loads((Path(kwargs["run_dir"]) / "provenance.json").read_text())
        startup = prov["startup"]
        assert startup["worker"] is (spares is not None), startup
        assert startup["prewarmed"] is bool(spares), startup
        rows.append({"wall_s": wall, "waited_s": waited, **startup})
    return rows


def wait_for_spare(socket: str, timeout: float = 300.0) -> float:
    """Seconds until the worker at ``socket`` has a ready spare."""
    from ferstudy.train import worker_client as wc

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        info = wc.request(socket, "ping") or {}
        if info.get("spares"):
            return time.monotonic() - t0
        if info.get("spares_wanted") == 0:
            raise RuntimeError(f"the worker gave up its spares; see {socket}.log")
        time.sleep(0.05)
    raise RuntimeError(f"no spare ready in {timeout:.0f}s; see {socket}.log")


def identical(scratch: Path, mode: str, runs: int) -> bool:
    """Every run of ``mode`` wrote the same model.pt and predictions.csv as in-process."""
    return all((scratch / mode / f"seed{seed}" / name).read_bytes()
               == (scratch / "in-process" / f"seed{seed}" / name).read_bytes()
               for seed in range(runs) for name in ("model.pt", "predictions.csv"))


def grid_wall(root: Path, args, with_worker: bool) -> float:
    """Seconds for ``args.runs`` ri runs (seeds) as train_model jobs through Snakemake in
    ``root`` (a fresh results tree), with or without a worker at the default socket."""
    toy_results(root, frames=args.frames, size=args.size)
    config = {"datasets": {"ckplus": {"root": str(root / "none")}},
              "study": {"datasets": ["ckplus"], "archs": [args.arch], "inits": ["ri"],
                        "augments": ["none"], "seeds": list(range(args.runs)), "folds": [0],
                        "classes": list(TOY_CLASSES), "cross_dataset": False},
              "train": {"epochs": args.epochs, "batch_size": 8, "width": 0.125,
                        "threads": args.threads, "device": args.device}}
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    targets = [f"results/runs/ckplus/{args.arch}/supervised/ri/none/full/seed{s}/fold0/"
               "metrics.json" for s in range(args.runs)]
    socket = str(root / ".snakemake" / "train-worker.sock")
    if with_worker:
        worker.start(socket)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"),
                                                       os.environ.get("PYTHONPATH", "")]))
    env.pop("FERSTUDY_TRAIN_WORKER", None)
    try:
        t0 = time.time()
        subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(root),
                        "--configfile", str(root / "config.yaml"), "--cores", str(args.cores),
                        "--quiet", "--allowed-rules", "train_model", "--", *targets],
                       env=env, check=True, capture_output=True)
        wall = time.time() - t0
    finally:
        if with_worker:
            worker.stop(socket)
    via = {json.loads((root / t).with_name("provenance.json").read_text())["startup"]["worker"]
           for t in targets}
    assert via == {with_worker}, via
    return wall


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6, help="runs per mode (seeds 0..runs-1)")
    parser.add_argument("--arch", default="resnet3d")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--width", type=float, default=0.125,
                        help="the nets' train.width (1.0: full size, what a study trains)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="the runs' train.device (auto: CUDA where torch sees a GPU)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES),
                        help="the modes to run (in-process is the baseline: always run)")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write {mode: {median parts, total_s, wall_s, ...}} here")
    parser.add_argument("--into", type=Path, default=None, metavar="GPU_CHECK_JSON",
                        help="with --device cuda: add the medians as 'startup_paths' to this "
                             "gpu_check JSON (what `ferstudy plan --cost --startup-path` reads)")
    parser.add_argument("--snakemake", action="store_true",
                        help="also time the runs as a grid through Snakemake")
    parser.add_argument("--cores", type=int, default=2, help="--snakemake: Snakemake --cores")
    args = parser.parse_args()
    # a time limit's SIGTERM unwinds (the finally stops the worker this started)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.into and (args.device != "cuda" or not args.into.is_file()):
        parser.error(f"--into {args.into}: needs --device cuda (GPU start-up figures go into "
                     f"a GPU's JSON) and an existing gpu_check JSON there")
    modes = ["in-process"] + [m for m in MODES if m in args.modes and m != "in-process"]

    rows, started, same = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="startup_tax") as tmp:
        scratch = Path(tmp)
        results = toy_results(scratch, frames=args.frames, size=args.size)
        socket = str(scratch / "w.sock")
        for mode in modes:
            jobs = []
            for seed in range(args.runs):
                kwargs = train_job(results, scratch / mode / f"seed{seed}", arch=args.arch,
                                   seed=seed, epochs=args.epochs, threads=args.threads,
                                   width=args.width, device=args.device)
                jobs.append(scratch / f"{mode}-{seed}.pkl")
                jobs[-1].write_bytes(pickle.dumps(kwargs))
            if MODES[mode] is None:
                rows[mode] = run_mode(mode, jobs, scratch, socket)
            else:
                t0 = time.time()
                worker.start(socket, spares=MODES[mode])
                started[mode] = time.time() - t0
                try:
                    rows[mode] = run_mode(mode, jobs, scratch, socket)
                finally:
                    worker.stop(socket)
                same[mode] = identical(scratch, mode, args.runs)
            if args.into:   # after each mode: a run cut off by a time limit keeps what it has
                add_paths(args.into, summary(rows, started, same, args), args)
        if args.snakemake:
            grid = {w: grid_wall(scratch / f"grid-{w}", args, w) for w in (False, True)}

    print(f"{args.runs} runs per mode: {args.arch}, {args.frames} x {args.size} px grey, "
          f"{args.epochs} epochs, {args.threads} thread(s), device {args.device}; python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPU(s) seen, load average "
          f"{os.getloadavg()[0]:.1f}; medians per run, seconds")
    print(f"{'mode':<17} {'start-up':>8} " + " ".join(f"{p:>10}" for p in PARTS)
          + f" {'wall':>7}")
    for mode, r in rows.items():
        print(f"{mode:<17} {median(r, 'total_s'):8.2f} "
              + " ".join(f"{median(r, p + '_s'):10.2f}" for p in PARTS)
              + f" {median(r, 'wall_s'):7.2f}")
    before = rows["in-process"]
    for mode in modes[1:]:
        after = rows[mode]
        for what, key in (("start-up", "total_s"), ("wall", "wall_s")):
            saved = 1 - median(after, key) / median(before, key)
            print(f"{mode} saves {saved:.0%} of the {what} per run "
                  f"({median(before, key):.2f}s -> {median(after, key):.2f}s)")
        print(f"{mode}: worker start (once per machine / allocation) {started[mode]:.2f}s; "
              f"outputs byte-identical to in-process: {same[mode]}"
              + (f"; waited for a ready spare {median(after, 'waited_s'):.2f}s (median), "
                 f"{max(r['waited_s'] for r in after):.2f}s (max)" if MODES[mode] else ""))
    if args.snakemake:
        print(f"the {args.runs} runs through Snakemake (--cores {args.cores}): "
              f"{grid[False]:.1f}s in-process, {grid[True]:.1f}s with a worker: "
              f"{1 - grid[True] / grid[False]:.0%} saved")
    if args.json:
        args.json.write_text(json.dumps(summary(rows, started, same, args), indent=1) + "\n")
        print(f"wrote {args.json}")
    if args.into:
        print(f"added startup_paths to {args.into}")
    if not all(same.values()):
        sys.exit("outputs differ between modes: " + ", ".join(m for m, ok in same.items() if not ok))


def summary(rows: dict, started: dict, same: dict, args) -> dict:
    """{mode: medians of the start-up parts, total and wall, and how they were taken}."""
    out = {}
    for mode, r in rows.items():
        out[mode] = {key: round(median(r, key), 4)
                     for key in ("total_s", *(p + "_s" for p in PARTS), "wall_s")}
        out[mode].update(runs=len(r), device=args.device, arch=args.arch, epochs=args.epochs,
                         worker_start_s=round(started[mode], 3) if mode in started else None,
                         outputs_identical=same.get(mode, True))
        if MODES[mode]:
            out[mode]["waited_for_spare_s"] = round(median(r, "waited_s"), 4)
    return out


INTO_PATHS = {"in-process": "in_process", "worker-cold": "worker", "worker-prewarmed": "prewarmed"}


def add_paths(path: Path, medians: dict, args) -> None:
    """``startup_paths`` of a gpu_check JSON: median start-up per run on each path (the keys
    ``ferstudy.gpu_figures.STARTUP_PATHS`` names), with how they were measured."""
    import platform

    import torch

    blob = json.loads(path.read_text())
    blob["startup_paths"] = {
        "device": f"cuda:{torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "cpu",
        "provenance": f"{platform.node()} {time.strftime('%Y-%m-%d %H:%M')}: python "
                      f"benchmarks/startup_tax.py {' '.join(sys.argv[1:])}",
        "arch": args.arch, "frames": args.frames, "size": args.size, "width": args.width,
        "runs": args.runs,
        "paths": {INTO_PATHS[m]: v["total_s"] for m, v in medians.items()},
        "outputs_identical": {INTO_PATHS[m]: v["outputs_identical"] for m, v in medians.items()}}
    path.write_text(json.dumps(blob, indent=1))


if __name__ == "__main__":
    main()
