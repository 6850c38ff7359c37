"""The per-job start-up tax of training, in-process against a warm train-worker.

Each run is its own process, as a Snakemake ``script:`` job is: it imports what
workflow/scripts/train_model.py imports and calls ``worker_client.run_job`` with the same
arguments. ``in-process`` runs train in that process (``FERSTUDY_TRAIN_WORKER=off``);
``worker`` runs hand the job to a worker started once before them (its own start is printed
apart: paid once per machine or allocation). Per mode it prints the median per run of

- start-up: process start to the end of the first optimiser step (provenance.json
  ``startup``), and its parts: launch (interpreter + imports; through the worker: the
  client, connecting and the fork), data, device, model, first step;
- wall: the process's whole life (launch to exit), what a job costs its slot;

then the fraction of each the worker saves. Snakemake's own per-job overhead (its job
script preamble, scheduling) is outside both and not counted; ``--snakemake`` also times the
same runs as a grid through Snakemake (``--cores``, train_model only), without and with a
worker: the wall a study sees.

The runs are a tiny study at demo size (toy clips, 8 x 48 px grey, width 0.125, a few
epochs): the start-up is then most of a job, as in the demo grids. On a GPU each worker child
still initialises CUDA itself (a CUDA context does not survive fork), so the saving there is
the imports only, and CUDA's init remains per job.

    python benchmarks/startup_tax.py                        # 6 runs per mode, resnet3d, 2 epochs
    python benchmarks/startup_tax.py --runs 10 --arch resnet2d_lstm --epochs 1 --threads 2
    python benchmarks/startup_tax.py --snakemake --cores 2  # and the grid through Snakemake
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
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

SNAKEMAKE = Path(sys.executable).parent / "snakemake"

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


def run_mode(mode: str, jobs: list[Path], scratch: Path, socket: str) -> list[dict]:
    env = dict(os.environ, FERSTUDY_TRAIN_WORKER=socket if mode == "worker" else "off",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    rows = []
    for i, job in enumerate(jobs):
        kwargs = pickle.loads(job.read_bytes())
        t0 = time.time()
        subprocess.run([sys.executable, "-c", JOB, str(job), str(scratch / f"{mode}{i}.log")],
                       env=env, check=True, stderr=subprocess.DEVNULL)
        wall = time.time() - t0
        prov = json.loads((Path(kwargs["run_dir"]) / "provenance.json").read_text())
        assert prov["startup"]["worker"] is (mode == "worker"), prov["startup"]
        rows.append({"wall_s": wall, **prov["startup"]})
    return rows


def grid_wall(root: Path, args, with_worker: bool) -> float:
    """Seconds for ``args.runs`` ri runs (seeds) as train_model jobs through Snakemake in
    ``root`` (a fresh results tree), with or without a worker at the default socket."""
    toy_results(root, frames=args.frames, size=args.size)
    config = {"datasets": {"ckplus": {"root": str(root / "none")}},
              "study": {"datasets": ["ckplus"], "archs": [args.arch], "inits": ["ri"],
                        "augments": ["none"], "seeds": list(range(args.runs)), "folds": [0],
                        "classes": list(TOY_CLASSES), "cross_dataset": False},
              "train": {"epochs": args.epochs, "batch_size": 8, "width": 0.125,
                        "threads": args.threads}}
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
        subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-d", str(root),
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
    parser.add_argument("--snakemake", action="store_true",
                        help="also time the runs as a grid through Snakemake")
    parser.add_argument("--cores", type=int, default=2, help="--snakemake: Snakemake --cores")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="startup_tax") as tmp:
        scratch = Path(tmp)
        results = toy_results(scratch, frames=args.frames, size=args.size)
        jobs = {}
        for mode in ("in-process", "worker"):
            jobs[mode] = []
            for seed in range(args.runs):
                kwargs = train_job(results, scratch / mode / f"seed{seed}", arch=args.arch,
                                   seed=seed, epochs=args.epochs, threads=args.threads)
                path = scratch / f"{mode}-{seed}.pkl"
                path.write_bytes(pickle.dumps(kwargs))
                jobs[mode].append(path)
        socket = str(scratch / "w.sock")
        rows = {"in-process": run_mode("in-process", jobs["in-process"], scratch, socket)}
        t0 = time.time()
        worker.start(socket)
        started = time.time() - t0
        try:
            rows["worker"] = run_mode("worker", jobs["worker"], scratch, socket)
        finally:
            worker.stop(socket)
        for seed in range(args.runs):   # same numbers either way
            a, b = (json.loads((scratch / m / f"seed{seed}" / "metrics.json").read_text())
                    for m in ("in-process", "worker"))
            assert a["accuracy"] == b["accuracy"] and a["macro_f1"] == b["macro_f1"]
        if args.snakemake:
            grid = {w: grid_wall(scratch / f"grid-{w}", args, w) for w in (False, True)}

    print(f"{args.runs} runs per mode: {args.arch}, {args.frames} x {args.size} px grey, "
          f"{args.epochs} epochs, {args.threads} thread(s); python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPU(s) seen, load average {os.getloadavg()[0]:.1f}; medians per "
          f"run, seconds")
    print(f"{'mode':<11} {'start-up':>8} " + " ".join(f"{p:>10}" for p in PARTS)
          + f" {'wall':>7}")
    for mode, r in rows.items():
        print(f"{mode:<11} {median(r, 'total_s'):8.2f} "
              + " ".join(f"{median(r, p + '_s'):10.2f}" for p in PARTS)
              + f" {median(r, 'wall_s'):7.2f}")
    before, after = rows["in-process"], rows["worker"]
    for what, key in (("start-up", "total_s"), ("wall", "wall_s")):
        saved = 1 - median(after, key) / median(before, key)
        print(f"worker saves {saved:.0%} of the {what} per run "
              f"({median(before, key):.2f}s -> {median(after, key):.2f}s)")
    print(f"worker start (once per machine / allocation): {started:.2f}s")
    if args.snakemake:
        print(f"the {args.runs} runs through Snakemake (--cores {args.cores}): "
              f"{grid[False]:.1f}s in-process, {grid[True]:.1f}s with a worker "
              f"(+ its {started:.1f}s start): {1 - grid[True] / grid[False]:.0%} saved")


if __name__ == "__main__":
    main()
