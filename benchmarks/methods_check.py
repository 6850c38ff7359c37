"""Method benchmark: does each method show its paper's direction at a scale where it should?

One table (issue #23): supervised vs each method per protocol (scn on full / noisesym20 /
noisesym40, adacm on labels5 / labels10 / labels25, curriculum on full), 3 seeds x 4 folds
paired on (seed, fold), the direction each paper reports, and the methods' diagnostics
(``diagnostics.csv``, ``ferstudy.evaluate.diagnostics.headline``). Two adequacy checks are
printed: supervised accuracy under ``full`` within 40-85 % (the task neither trivial nor
hopeless) and >= 12 paired units per comparison.

Data: ``studies/methods_check.yaml``'s rendered CK+-layout stand-in (60 subjects: ``--size
cpu``; 100: ``--size gpu``), rendered, registered and aligned by the workflow itself into
``--out`` (``--stage data``: needs mediapipe; the aligned store is small and travels to a GPU
machine without network). Training goes through ``ferstudy.train.run.train_run``, the function
the ``train_model`` rule calls, ``--jobs`` runs in parallel (one thread each); finished runs
are kept, so a rerun resumes.

    .venv/bin/python benchmarks/methods_check.py --size cpu                 # <= 15 min, 2 cores
    .venv/bin/python benchmarks/methods_check.py --size gpu --stage data    # on a CPU machine
    .venv/bin/python benchmarks/methods_check.py --size gpu --stage train   # on the GPU machine

Demo data: the numbers say whether the methods act and in which direction, not how they do
on real data.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

STUDY = ROOT / "studies" / "methods_check.yaml"
DATASET = "bench"
# method -> (protocols, the paper's direction vs supervised)
GRID = {
    "scn": (("full", "noisesym20", "noisesym40"),
            "SCN (CVPR 2020): above supervised, the gap growing with noise"),
    "adacm": (("labels5", "labels10", "labels25"),
              "Ada-CM (CVPR 2022): above supervised, most at the fewest labels"),
    "curriculum": (("full",), "Gui et al. (FG 2017): small gain over supervised"),
}
SIZES = {   # --size -> overrides of studies/methods_check.yaml
    "cpu": {},
    "gpu": {"demo": {"datasets": {DATASET: {"subjects": 100}}},
            "align": {"frames": 8, "size": 64},
            "train": {"width": 0.5, "epochs": 30, "min_epochs": 15, "patience": 8,
                      "batch_size": 32},
            "methods": {"scn": {"relabel_epoch": 10}, "curriculum": {"max_stage_epochs": 8}}},
}
# --variant -> (method, settings layer, what it changes): a method's runs again under other
# settings, paired with the same supervised runs (trained first by the plain benchmark, same
# --out). Evidence for telling a defect from a finding, never the benchmark's own verdict.
VARIANTS = {
    "adacm_plain_head": ("adacm", {"methods": {"adacm": {"head": "shared"}}},
                         "head: shared (the arch's plain head, not the official normalised one)"),
}
FULL_RANGE = (0.40, 0.85)
MIN_UNITS = 12


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=sorted(SIZES), default="cpu")
    p.add_argument("--stage", choices=["all", "data", "train", "table"], default="all")
    p.add_argument("--out", default=None,
                   help="working folder (default results/benchmarks/methods_check/<size>)")
    p.add_argument("--jobs", type=int, default=2, help="training runs in parallel")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2, 3])
    p.add_argument("--variant", choices=sorted(VARIANTS), default=None,
                   help="train and table only this variant's method, under its settings, "
                        "against the supervised runs already in --out")
    return p.parse_args(argv)


def bench_config(size: str, out: Path, variant: str | None = None) -> dict:
    """config.yaml + the study file + the size's overrides, validated; results in ``out``."""
    from ferstudy import config as fcfg
    from ferstudy.resolution import resolve_layers

    return resolve_layers([fcfg.load_yaml(ROOT / "config.yaml"), fcfg.load_yaml(STUDY),
                           SIZES[size], VARIANTS[variant][1] if variant else {},
                           {"results": str(out / "results")}])


def prepare_data(size: str, out: Path) -> None:
    """Render, register and align the benchmark dataset with the workflow, inside ``out``
    (its own resources/: the face models and media are copied there, never written back)."""
    out.mkdir(parents=True, exist_ok=True)
    for part in ("models", "media"):
        src, dst = ROOT / "resources" / part, out / "resources" / part
        if src.exists() and not dst.exists():
            shutil.copytree(src, dst)        # copies: a workflow job may touch its outputs
    (out / "config.yaml").unlink(missing_ok=True)     # also a stale link left by an older run
    (out / "config.yaml").write_text((ROOT / "config.yaml").read_text())
    override = out / "size.yaml"
    import yaml

    override.write_text(yaml.safe_dump(SIZES[size]))
    snakemake = Path(sys.executable).parent / "snakemake"
    cmd = [str(snakemake), f"results/aligned/{DATASET}/index.csv", "-s", str(ROOT / "Snakefile"),
           "-d", str(out), "--configfile", str(STUDY), str(override),
           "--cores", str(os.cpu_count() or 2), "--quiet", "rules"]
    print("data:", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    print(f"data ready in {time.perf_counter() - t0:.0f} s", flush=True)


def bench_runs(seeds, folds, variant: str | None = None) -> list[tuple[str, str, int, int]]:
    """(method, protocol, seed, fold) of the benchmark: supervised on every protocol. Ordered
    by (seed, fold) first, so that a run stopped early leaves complete paired units. With a
    variant: its method's runs only."""
    protocols = sorted({p for ps, _ in GRID.values() for p in ps},
                       key=lambda p: (p != "full", p))
    configs = [("supervised", p) for p in protocols]
    configs += [(m, p) for m, (ps, _) in GRID.items() for p in ps]
    if variant:
        configs = [(m, p) for m, p in configs if m == VARIANTS[variant][0]]
    return [(m, p, s, f) for s in seeds for f in folds for m, p in configs]


def runs_root(out: Path, method: str, variant: str | None = None) -> Path:
    """out/runs; a variant's own method trains under out/variants/<variant>/runs."""
    if variant and method == VARIANTS[variant][0]:
        return out / "variants" / variant / "runs"
    return out / "runs"


def run_dir(out: Path, config: dict, method: str, protocol: str, seed: int, fold: int,
            variant: str | None = None) -> Path:
    from ferstudy.runkey import RunKey

    key = RunKey(DATASET, config["study"]["archs"][0], method, "ri", "none", protocol, seed, fold)
    return runs_root(out, method, variant) / str(key)


def _train(args: tuple) -> tuple[str, float]:
    size, out, variant, method, protocol, seed, fold = args
    import torch

    torch.set_num_threads(1)
    from ferstudy.clipstore import load_dataset
    from ferstudy.runkey import RunKey
    from ferstudy.train.run import train_run

    config = bench_config(size, out, variant)
    clips = load_dataset(config["results"], DATASET, mmap=False)
    folder = run_dir(out, config, method, protocol, seed, fold, variant)
    t0 = time.perf_counter()
    train_run(RunKey.parse(folder), config, folder, clips=clips, log=lambda m: None)
    return str(folder.relative_to(runs_root(out, method, variant))), time.perf_counter() - t0


def train_all(size: str, out: Path, jobs: int, seeds, folds, variant: str | None = None) -> None:
    config = bench_config(size, out, variant)
    todo = [(size, out, variant, *r) for r in bench_runs(seeds, folds, variant)
            if not (run_dir(out, config, *r, variant) / "model.pt").is_file()]
    print(f"training {len(todo)} runs ({jobs} in parallel)", flush=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for i, (run, secs) in enumerate(pool.map(_train, todo), start=1):
            print(f"  [{i}/{len(todo)}] {run}: {secs:.0f} s", flush=True)
    print(f"training done in {time.perf_counter() - t0:.0f} s", flush=True)


def _ci(diffs: np.ndarray) -> tuple[float, float]:
    from scipy import stats

    if len(diffs) < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.975, len(diffs) - 1) * diffs.std(ddof=1) / np.sqrt(len(diffs))
    return diffs.mean() - half, diffs.mean() + half


def _pct(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{100 * v:.1f}"


def diagnostics_note(head, method: str, protocol: str) -> str:
    rows = head[(head["method"] == method) & (head["protocol"] == protocol)]
    parts = []
    for _, r in rows.iterrows():
        value = f"{r['mean']:.2f}" if r["metric"] != "relabelled_clips" else f"{r['mean']:.0f}"
        parts.append(f"{r['metric']} {value}")
    return "; ".join(parts) or "-"


def table(size: str, out: Path, seeds, folds, variant: str | None = None) -> list[str]:
    from ferstudy.evaluate.diagnostics import gather_diagnostics, headline

    config = bench_config(size, out, variant)
    grid = {m: v for m, v in GRID.items() if not variant or m == VARIANTS[variant][0]}
    wanted = {(m, p) for m, (ps, _) in grid.items() for p in ps}
    wanted |= {("supervised", p) for _, p in wanted} | {("supervised", "full")}   # adequacy 1
    runs = [r for r in bench_runs(seeds, folds) if (r[0], r[1]) in wanted]
    acc: dict[tuple[str, str], dict[tuple[int, int], float]] = {}
    missing = 0
    for method, protocol, seed, fold in runs:
        path = run_dir(out, config, method, protocol, seed, fold, variant) / "metrics.json"
        if path.is_file():
            acc.setdefault((method, protocol), {})[(seed, fold)] = \
                json.loads(path.read_text())["accuracy"]
        else:
            missing += 1
    folders = [run_dir(out, config, *r, variant) for r in runs]
    head = headline(gather_diagnostics(r for r in folders if r.is_dir()))
    lines = [f"methods_check --size {size}: {DATASET} ({config['demo']['datasets'][DATASET]['subjects']}"
             f" subjects, CK+ layout), {config['study']['archs'][0]} width "
             f"{config['train']['width']}, T={config['align']['frames']}, "
             f"{config['align']['size']} px, {config['train']['epochs']} epochs; seeds {seeds} x "
             f"folds {folds}; test accuracy %, mean over (seed, fold); {missing} runs missing"
             + (f"; VARIANT {variant}: {VARIANTS[variant][0]} with {VARIANTS[variant][2]}"
                if variant else ""),
             "",
             "| method | protocol | supervised | method | diff (paired) | 95% CI | pairs method > sup "
             "| n | paper's direction | diagnostics (mean over runs) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    units_ok = True
    for method, (protocols, direction) in grid.items():
        for protocol in protocols:
            sup, own = acc.get(("supervised", protocol), {}), acc.get((method, protocol), {})
            keys = sorted(set(sup) & set(own))
            a = np.array([sup[k] for k in keys])
            b = np.array([own[k] for k in keys])
            d = b - a
            lo, hi = _ci(d) if len(d) else (float("nan"), float("nan"))
            units_ok &= len(keys) >= MIN_UNITS
            lines.append(
                f"| {method} | {protocol} | {_pct(a.mean()) if len(a) else '-'} | "
                f"{_pct(b.mean()) if len(b) else '-'} | "
                f"{'-' if not len(d) else f'{100 * d.mean():+.1f}'} | "
                f"[{_pct(lo)}, {_pct(hi)}] | {int((d > 0).sum())}/{len(d)} ({int((d == 0).sum())} ties) | "
                f"{len(keys)} | {direction} | {diagnostics_note(head, method, protocol)} |")
    full = np.array(list(acc.get(("supervised", "full"), {}).values()))
    mean_full = full.mean() if len(full) else float("nan")
    in_range = bool(len(full)) and FULL_RANGE[0] <= mean_full <= FULL_RANGE[1]
    lines += ["",
              f"adequacy 1: supervised accuracy under full {_pct(mean_full)} % "
              f"(want {100 * FULL_RANGE[0]:.0f}-{100 * FULL_RANGE[1]:.0f} %): "
              f"{'ok' if in_range else 'NOT MET'}",
              f"adequacy 2: >= {MIN_UNITS} paired (seed, fold) units per comparison: "
              f"{'ok' if units_ok else 'NOT MET'}"]
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out or ROOT / "results" / "benchmarks" / "methods_check" / args.size).resolve()
    t0 = time.perf_counter()
    if args.stage in ("all", "data"):
        prepare_data(args.size, out)
    if args.stage in ("all", "train"):
        train_all(args.size, out, args.jobs, args.seeds, args.folds, args.variant)
    if args.stage in ("all", "train", "table"):
        lines = table(args.size, out, args.seeds, args.folds, args.variant)
        print("\n".join(lines))
        name = f"table_{args.variant}.md" if args.variant else "table.md"
        (out / name).write_text("\n".join(lines) + "\n")
    import resource

    cpu = sum(getattr(resource.getrusage(who), f) for who in
              (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime"))
    print(f"total {time.perf_counter() - t0:.0f} s wall, {cpu:.0f} s CPU over {os.cpu_count()} "
          f"cores ({args.stage}; target for --size cpu --stage all: <= 900 s wall on 2 cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
