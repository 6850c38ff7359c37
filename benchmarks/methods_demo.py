"""Do SCN and Ada-CM help where their papers say they do? Measured on the demo data.

Two comparisons, each over several seeds, through the training engine's own API
(``ferstudy.train.run.train_run``, the function the ``train_model`` rule calls):

- label noise: supervised vs scn at ``--noise`` (default noisesym30) symmetric training-label
  noise (SCN, CVPR 2020: SCN is more robust as noise grows);
- few labels: supervised (labelled clips only) vs adacm (labelled + the rest as unlabelled) at
  the smallest budget of studies/demo_adacm_semi.yaml (Ada-CM, CVPR 2022).

Settings come from config.yaml merged with studies/demo_scn_noise.yaml or
studies/demo_adacm_semi.yaml, so the numbers match what the demo studies would produce. Runs
are written under ``--out`` (not results/runs, which belongs to Snakemake).

    make demo     # renders, registers and aligns the demo datasets (results/aligned/*)
    .venv/bin/python benchmarks/methods_demo.py --seeds 0 1 2

Prints test accuracy and macro-F1 as mean +/- std over seeds, and the difference per pair.
"""
from __future__ import annotations

import argparse
import copy
import math
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ferstudy import config as fcfg  # noqa: E402
from ferstudy.resolution import resolve_layers  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=str(ROOT / "config.yaml"))
    p.add_argument("--dataset", default="ckplus", help="an aligned demo dataset")
    p.add_argument("--arch", default=None, help="default: the demo studies' first arch")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--fold", type=int, default=0)
    p.add_argument("--noise", default="noisesym30")
    p.add_argument("--labels", default=None, help="default: fewest labels of the demo study")
    p.add_argument("--epochs", type=int, default=None, help="override train.epochs")
    p.add_argument("--patience", type=int, default=None, help="override train.patience")
    p.add_argument("--lr", type=float, default=None, help="override train.lr")
    p.add_argument("--width", type=float, default=None, help="override train.width")
    p.add_argument("--relabel-epoch", type=int, default=None,
                   help="override methods.scn.relabel_epoch")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--only", choices=["noise", "semi"], default=None)
    p.add_argument("--clean-reference", action="store_true",
                   help="also train supervised on clean labels (protocol full), for scale")
    p.add_argument("--out", default=str(ROOT / "results" / "benchmarks" / "methods_demo"))
    return p.parse_args(argv)


def study_config(path: str, study: str, args: argparse.Namespace) -> dict:
    """config.yaml + the demo study file + the command line's overrides, validated."""
    override = fcfg.load_yaml(ROOT / "studies" / f"{study}.yaml")
    train = {key: value for key, value in (("epochs", args.epochs), ("patience", args.patience),
                                           ("lr", args.lr), ("width", args.width))
             if value is not None}
    extra = [override, {"train": train}]
    if args.relabel_epoch is not None:
        extra.append({"methods": {"scn": {"relabel_epoch": args.relabel_epoch}}})
    return resolve_layers([fcfg.load_yaml(path), *extra])


def train_summary(cfg: dict) -> str:
    t = cfg["train"]
    return (f"{t['epochs']} epochs (patience {t['patience']}), {t['optimizer']} lr {t['lr']}, "
            f"{t['scheduler']}, batch {t['batch_size']}, width {t['width']}")


def fewest_labels(protocols: list[str]) -> str:
    budgets = [(int(m.group(1)), p) for p in protocols if (m := re.fullmatch(r"labels(\d+)", p))]
    if not budgets:
        raise SystemExit("studies/demo_adacm_semi.yaml lists no labels<n> protocol")
    return min(budgets)[1]


def train_one(config: dict, args, arch: str, method: str, protocol: str, seed: int, clips,
              *, label: str | None = None) -> dict:
    from ferstudy.runkey import RunKey
    from ferstudy.train.run import train_run

    spec = RunKey(args.dataset, arch, method, "ri", "none", protocol, seed, args.fold)
    out = Path(args.out) / (label or "") / str(spec)
    t0 = time.perf_counter()
    metrics = train_run(spec, config, out, clips=clips, threads=args.threads,
                        log=lambda msg: None)
    metrics["seconds"] = time.perf_counter() - t0
    print(f"  {label or method}: {str(spec)}: accuracy {metrics['accuracy']:.3f} macro_f1 "
          f"{metrics['macro_f1']:.3f} ({metrics['seconds']:.0f} s)", flush=True)
    return metrics


def run_pair(config: dict, args, arch: str, protocol: str, methods: tuple[str, str],
             clips) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {m: [] for m in methods}
    for seed in args.seeds:
        for method in methods:
            results[method].append(train_one(config, args, arch, method, protocol, seed, clips))
    return results


def steps_matched(config: dict, args, arch: str, protocol: str, clips,
                  adacm_runs: list[dict]) -> list[dict]:
    """Supervised with as many optimiser steps as adacm: an adacm epoch passes over the
    unlabelled pool (labelled clips cycled), a supervised epoch over the labelled clips only,
    so at equal epochs adacm also takes more steps. Epochs and patience are scaled up."""
    batch = config["train"]["batch_size"]
    n_lab, n_train = adacm_runs[0]["n_labelled"], adacm_runs[0]["n_train"]
    ratio = math.ceil(max(n_lab, n_train - n_lab) / batch) / math.ceil(n_lab / batch)
    cfg = copy.deepcopy(config)
    cfg["train"]["epochs"] = int(round(config["train"]["epochs"] * ratio))
    cfg["train"]["patience"] = int(round(config["train"]["patience"] * ratio))
    print(f"  supervised with adacm's step count: {cfg['train']['epochs']} epochs "
          f"(x{ratio:.1f}), patience {cfg['train']['patience']}")
    return [train_one(cfg, args, arch, "supervised", protocol, seed, clips, label="steps_matched")
            for seed in args.seeds]


def summarise(title: str, protocol: str, results: dict[str, list[dict]]) -> None:
    print(f"\n{title} ({protocol}), test fold, mean +/- std over {len(next(iter(results.values())))} seeds")
    print(f"  {'method':<12}{'accuracy':>18}{'macro_f1':>18}{'train s/run':>14}")
    means = {}
    for method, runs in results.items():
        acc = np.array([r["accuracy"] for r in runs])
        f1 = np.array([r["macro_f1"] for r in runs])
        secs = np.mean([r["seconds"] for r in runs])
        means[method] = (acc.mean(), f1.mean())
        print(f"  {method:<12}{acc.mean():>10.3f} +/- {acc.std(ddof=1) if len(acc) > 1 else 0:.3f}"
              f"{f1.mean():>10.3f} +/- {f1.std(ddof=1) if len(f1) > 1 else 0:.3f}{secs:>14.1f}")
    name = next(k for k in means if k != "supervised")
    gain = means[name][0] - means["supervised"][0]
    spread = np.sqrt(np.mean([np.var([r["accuracy"] for r in runs], ddof=1) if len(runs) > 1
                              else 0.0 for runs in results.values()]))
    chance = 1 / len(next(iter(results.values()))[0]["classes"])
    if abs(gain) <= spread:
        verdict = "no difference beyond the seed spread"
    elif gain > 0:
        verdict = "the paper's direction holds"
    else:
        verdict = "the paper's direction does not hold"
    print(f"  {name} - supervised: accuracy {100 * gain:+.1f} points, seed spread "
          f"{100 * spread:.1f}, chance {chance:.3f}: {verdict} here")


def main(argv=None) -> int:
    args = parse_args(argv)
    from ferstudy.clipstore import read_store

    store = Path(fcfg.load_yaml(args.config).get("results", "results")) / "aligned" / args.dataset
    store = store if store.is_absolute() else ROOT / store
    try:
        clips = read_store(store)
    except FileNotFoundError as err:
        print(f"{err}\nrun `make demo` first (it aligns the demo datasets)", file=sys.stderr)
        return 2
    print(f"demo data {store}: {len(clips)} clips {clips.shape}; seeds {args.seeds}; "
          f"fold {args.fold}; threads {args.threads}")
    if args.only in (None, "noise"):
        cfg = study_config(args.config, "demo_scn_noise", args)
        arch = args.arch or cfg["study"]["archs"][0]
        print(f"label noise: {arch}, train {train_summary(cfg)}, methods.scn "
              f"{cfg['methods']['scn']}")
        res = run_pair(cfg, args, arch, args.noise, ("supervised", "scn"), clips)
        summarise("label noise: supervised vs scn", args.noise, res)
        noise = [r["actual_noise_rate"] for r in res["scn"]]
        print(f"  realised noise rate {np.mean(noise):.3f}")
        if args.clean_reference:
            clean = [train_one(cfg, args, arch, "supervised", "full", seed, clips)
                     for seed in args.seeds]
            acc = np.array([r["accuracy"] for r in clean])
            print(f"  reference: supervised on clean labels (full) accuracy {acc.mean():.3f} "
                  f"+/- {acc.std(ddof=1) if len(acc) > 1 else 0:.3f}")
    if args.only in (None, "semi"):
        cfg = study_config(args.config, "demo_adacm_semi", args)
        arch = args.arch or cfg["study"]["archs"][0]
        labels = args.labels or fewest_labels(cfg["study"]["protocols"])
        print(f"\nfew labels: {arch}, train {train_summary(cfg)}, methods.adacm "
              f"{cfg['methods']['adacm']}")
        res = run_pair(cfg, args, arch, labels, ("supervised", "adacm"), clips)
        summarise("few labels: supervised vs adacm", labels, res)
        matched = {"supervised": steps_matched(cfg, args, arch, labels, clips, res["adacm"]),
                   "adacm": res["adacm"]}
        summarise("few labels: supervised with as many steps as adacm vs adacm", labels, matched)
        print(f"  labelled clips per run {res['adacm'][0]['n_labelled']} of "
              f"{res['adacm'][0]['n_train']} training clips")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
