"""What a study grid costs before it is submitted (``ferstudy plan --cost``).

From the resolved config alone (no Snakemake DAG, so it answers in a second for the 19,200-run
pitfalls grid): the number of runs, the jobs per rule, the SLURM submissions under a profile
(local rules run on the submit host; a ``groups`` / ``group-components`` entry packs that many
jobs into one submission) and GPU-hours. GPU-hours are an upper bound (every run trains all
``train.epochs``; early stopping only shortens it) from the training throughput that
``benchmarks/gpu_check.py`` measured (its JSON), and otherwise from an assumed throughput,
marked as such. Clips per epoch come from the registered manifests when present.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ferstudy.config import dataset_members

# Rules that Snakemake runs on the submit host (``localrules`` / ``localrule: True``).
LOCAL_RULES = frozenset({"get_face_models", "fetch_media", "download_ravdess", "figures",
                         "check_overlap", "overlap_table"})
# Used only when no gpu_check.json exists: full-size training clips/s of a mid-range GPU
# for a mid-size net (order of magnitude; say so wherever it is used).
ASSUMED = {"train_clips_s": 150.0, "infer_clips_s": 600.0, "gan_ms_per_iteration": 150.0}
AMP_CASE = {"auto": "bf16", "bf16": "bf16", "fp16": "fp16", "off": "off"}


def job_counts(cfg: Mapping[str, Any]) -> dict[str, int]:
    """Jobs per rule of the study grid, from the study's list lengths (benchmarks/plan_grid.py
    checks these against a real dry run)."""
    from ferstudy.augment import AUGMENTS
    from ferstudy.runkey import RunKey
    from ferstudy.train.plan import (official_split_datasets, pretrained_model, study_runs,
                                     uses_pretrain_rule)
    from ferstudy.train.pools import pool_name, source_members

    s = cfg["study"]
    keys = [RunKey.parse(r) for r in study_runs(s, official_split_datasets(cfg))]
    synthetic = any(AUGMENTS.get(a).synthetic for a in s["augments"])
    pretrain = "ft" in s["inits"] and uses_pretrain_rule(cfg)
    members = {m for d in s["datasets"] for m in dataset_members(d)}
    if pretrain:   # the pretraining pools' datasets are registered and aligned too
        members |= {m for d in s["datasets"] for m in source_members(cfg, d)}
    demo = [m for m in members if cfg["datasets"][m].get("demo")]
    # distinct upstream jobs of the runs: ft pools, GANs per (set, fold), evaluation groups
    # the pretrained model file of every ft run -> whether its pool is external
    pools = {pretrained_model(cfg, k.dataset, k.arch, k.protocol, k.fold):
             pool_name(cfg, k.dataset, k.protocol, k.fold) == "external"
             for k in keys if k.init == "ft"} if pretrain else {}
    external = sum(pools.values())
    gans = {(k.dataset, k.fold) for k in keys if AUGMENTS.get(k.augment).synthetic}
    groups = {(k.dataset, k.arch, k.fold) for k in keys}
    return {
        "render_demo": len(demo),
        "register_dataset": len(members),
        "align_shard": len(members) * cfg["align"]["shards"],
        "gather_aligned": len(members),
        "pretrain_external": external,                # one per (pool datasets, arch)
        "pretrain_model": len(pools) - external,      # fold<k>-full: (target, arch, fold)
        "train_gan": len(gans) if synthetic else 0,
        "generate_clips": len(gans) if synthetic else 0,
        "train_model": len(keys),
        "check_overlap": len(s["datasets"]),
        "overlap_table": 1,
        # one evaluation job per training set x arch x test fold (ferstudy.evaluate.plan)
        "evaluate_cross": len(groups),
        "gather_results": 1,
        "plot_figures": 1,
    }


def slurm_submissions(counts: Mapping[str, int], profile: Mapping[str, Any] | None) -> int:
    """sbatch calls for ``counts`` under a profile's ``groups``/``group-components``.

    Snakemake packs ``group-components`` connected components of a group into one submission;
    rules that share a group are taken to be chained one job to one (train_gan ->
    generate_clips of a fold), so a group has as many components as its largest rule has jobs.
    """
    profile = profile or {}
    groups = profile.get("groups") or {}
    sizes = profile.get("group-components") or {}
    components: dict[str, int] = {}
    total = 0
    for rule, n in counts.items():
        if rule in LOCAL_RULES or not n:
            continue
        group = groups.get(rule)
        if group is None:
            total += n
        else:
            components[group] = max(components.get(group, 0), n)
    for group, n in components.items():
        total += math.ceil(n / max(1, int(sizes.get(group, 1))))
    return total


def read_throughput(path: str | Path | None, amp: str) -> dict[str, Any] | None:
    """Per-arch training/inference clips/s and the GAN's ms/iteration from a gpu_check JSON,
    for ``train.amp``'s AMP mode (None when there is no such file)."""
    if path is None or not Path(path).is_file():
        return None
    blob = json.loads(Path(path).read_text())
    mode = AMP_CASE.get(amp, "bf16")
    archs = {c["arch"]: c for c in blob.get("cases", []) if c.get("amp") == mode and "error" not in c}
    return {"device": blob.get("device", "?"), "small": bool(blob.get("small")), "amp": mode,
            "archs": archs, "gan_ms_per_iteration": (blob.get("gan") or {}).get("ms_per_iteration")}


def labelled_clips(cfg: Mapping[str, Any], fallback: int) -> dict[str, tuple[int, bool]]:
    """Labelled clips of the study's classes per dataset member: (count, from a manifest?)."""
    classes = set(cfg["study"]["classes"])
    out = {}
    for name in {m for d in cfg["study"]["datasets"] for m in dataset_members(d)}:
        manifest = Path(cfg["results"]) / "registry" / f"{name}.csv"
        if manifest.is_file():
            labels = pd.read_csv(manifest, usecols=["label"], dtype=str)["label"]
            out[name] = (int(labels.isin(classes).sum()), True)
        else:
            out[name] = (fallback, False)
    return out


def gpu_hours(cfg: Mapping[str, Any], counts: Mapping[str, int],
              throughput: dict[str, Any] | None, clips: Mapping[str, tuple[int, bool]]) -> dict:
    """Upper-bound GPU-hours per GPU rule, and where each number came from."""
    from ferstudy.augment import AUGMENTS

    s, train = cfg["study"], cfg["train"]
    folds = max(1, int(cfg["register"]["folds"]))
    per_set = {d: sum(clips[m][0] for m in dataset_members(d)) for d in s["datasets"]}
    test_clips = sum(n for n, _ in clips.values()) / folds     # one fold of every member
    runs_per_cell = math.prod(len(s[k]) for k in ("methods", "inits", "protocols", "seeds",
                                                   "folds"))
    sd_ratio = float(cfg["augment"]["sd"]["ratio"])
    hours = {"train_model": 0.0, "evaluate_cross": 0.0, "pretraining": 0.0}
    measured = []
    for arch in s["archs"]:
        case = (throughput or {}).get("archs", {}).get(arch)
        measured.append(case is not None)
        train_s = case["train_clips_s"] if case else ASSUMED["train_clips_s"]
        infer_s = case["infer_clips_s"] if case else ASSUMED["infer_clips_s"]
        for dataset in s["datasets"]:
            epoch = per_set[dataset] * (folds - 1) / folds
            for augment in s["augments"]:
                grow = 1 + sd_ratio if AUGMENTS.get(augment).synthetic else 1
                hours["train_model"] += (runs_per_cell * train["epochs"] * epoch * grow
                                         / train_s / 3600)
                hours["evaluate_cross"] += runs_per_cell * test_clips / infer_s / 3600
        pretrain_jobs = counts.get("pretrain_model", 0) + counts.get("pretrain_external", 0)
        if pretrain_jobs:
            pool = sum(n for n, _ in clips.values())
            hours["pretraining"] += (pretrain_jobs / len(s["archs"])
                                        * train["pretrain"]["epochs"] * pool / train_s / 3600)
    gan_ms = (throughput or {}).get("gan_ms_per_iteration") or ASSUMED["gan_ms_per_iteration"]
    hours["train_gan"] = counts["train_gan"] * cfg["augment"]["sd"]["iterations"] * gan_ms / 1000 / 3600
    if throughput is None:
        source = "ASSUMED throughput (no gpu_check.json: run benchmarks/gpu_check.py on your GPU)"
    else:
        source = (f"measured by gpu_check on {throughput['device']} (amp {throughput['amp']}"
                  f"{', --small: NOT full size' if throughput['small'] else ''}; "
                  f"{sum(measured)}/{len(measured)} archs measured, the rest assumed)")
    manifests = sum(1 for _, real in clips.values() if real)
    return {"hours": hours, "total": sum(hours.values()), "throughput_source": source,
            "clips_source": f"{manifests}/{len(clips)} datasets from registered manifests"
                            + ("" if manifests == len(clips) else
                               f", the rest assumed ({next(n for n, r in clips.values() if not r)}"
                               " labelled clips each)")}


def cost_report(cfg: Mapping[str, Any], *, profile: Mapping[str, Any] | None,
                gpu_check: str | Path | None, fallback_clips: int) -> str:
    counts = job_counts(cfg)
    jobs = sum(counts.values())
    cost = gpu_hours(cfg, counts, read_throughput(gpu_check, cfg["train"]["amp"]),
                     labelled_clips(cfg, fallback_clips))
    lines = [f"runs (train_model)      {counts['train_model']:>10,}"]
    lines += [f"  {rule:<22}{n:>10,}" for rule, n in counts.items() if n]
    lines += [f"jobs                    {jobs:>10,}",
              f"SLURM submissions       {slurm_submissions(counts, profile):>10,}"
              + ("" if profile else "   (no profile: one per non-local job)"),
              "GPU-hours (upper bound: every run trains all train.epochs)"]
    lines += [f"  {rule:<22}{h:>10,.1f}" for rule, h in cost["hours"].items() if h]
    lines += [f"  {'total':<22}{cost['total']:>10,.1f}",
              f"  throughput: {cost['throughput_source']}",
              f"  clips: {cost['clips_source']}"]
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--cost", action="store_true",
                        help="add GPU-hours (from --gpu-check's measured throughput)")
    parser.add_argument("--profile", default="profiles/slurm",
                        help="Snakemake profile folder whose groups size the SLURM submissions "
                             "(default: %(default)s; 'none': one per job)")
    parser.add_argument("--gpu-check", default="results/benchmarks/gpu_check.json",
                        help="JSON written by benchmarks/gpu_check.py (default: %(default)s)")
    parser.add_argument("--clips", type=int, default=300,
                        help="labelled clips assumed for a dataset not yet registered "
                             "(default: %(default)s, about CK+'s 327)")


def run(args) -> None:
    import yaml

    from ferstudy.command_config import load_config

    cfg = load_config(args)
    profile = None
    if args.profile != "none":
        path = Path(args.profile) / "config.yaml"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such profile (--profile none: no grouping)")
        profile = yaml.safe_load(path.read_text())
    report = cost_report(cfg, profile=profile, gpu_check=args.gpu_check,
                         fallback_clips=args.clips)
    if not args.cost:
        report = report.split("\nGPU-hours")[0]
    print(report)
