"""What a study grid costs before it is submitted (``ferstudy plan --cost``).

From the resolved config alone (no Snakemake DAG, so it answers in a second for the 19,200-run
pitfalls grid): the number of runs, the jobs per rule, the SLURM submissions under a profile
(local rules run on the submit host; a ``groups`` / ``group-components`` entry packs that many
jobs into one submission) and GPU-hours (``ferstudy.gpu_hours``: expected and upper bound,
from a full-size CUDA gpu_check JSON, by default the committed
``benchmarks/gpu_check_h200.json``; clips from ``ferstudy.release_sizes``).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ferstudy.config import dataset_members

# Rules that Snakemake runs on the submit host (``localrules`` / ``localrule: True``).
LOCAL_RULES = frozenset({"get_face_models", "fetch_media", "download_ravdess", "figures",
                         "check_overlap", "overlap_table"})


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


def profile_slots(profile: Mapping[str, Any] | None) -> int:
    """The GPU jobs a profile runs at once on one GPU (``resources: gpu_slots``; 1 if unset)."""
    return int(((profile or {}).get("resources") or {}).get("gpu_slots", 1))


def study_clips(cfg: Mapping[str, Any], fallback: int) -> dict[str, tuple[int, str]]:
    """Labelled clips (and their source) of the study's datasets and its pretraining pools'."""
    from ferstudy.release_sizes import labelled_clips
    from ferstudy.train.plan import uses_pretrain_rule
    from ferstudy.train.pools import source_members

    s = cfg["study"]
    names = {m for d in s["datasets"] for m in dataset_members(d)}
    if "ft" in s["inits"] and uses_pretrain_rule(cfg):
        names |= {m for d in s["datasets"] for m in source_members(cfg, d)}
    return labelled_clips(cfg, names, fallback)


def cost_lines(cfg: Mapping[str, Any], counts: Mapping[str, int], *, gpu_check: str | Path,
               sharing: str, profile_k: int, fallback_clips: int,
               fraction: float | None, startup_path: str = "prewarmed") -> list[str]:
    """The GPU-hours block of ``plan --cost`` (raises GpuCheckRefused for a small/CPU JSON)."""
    from ferstudy import gpu_figures
    from ferstudy.augment import AUGMENTS
    from ferstudy.gpu_hours import expected_fraction, gpu_hours

    fig = gpu_figures.load(gpu_check, cfg["train"]["amp"])
    clips = study_clips(cfg, fallback_clips)
    cost = gpu_hours(cfg, counts, fig, clips, sharing=sharing, profile_k=profile_k,
                     fraction=expected_fraction(cfg, fraction), startup_path=startup_path)
    lines = [f"GPU-hours on {fig.device} (amp {fig.amp}, {gpu_check})"
             + ("" if fig.measured else "   PROJECTED (not measured on this GPU)"),
             f"  {'':<22}{'expected':>10}{'upper bound':>14}"]
    lines += [f"  {part:<22}{cost['expected'][part]:>10,.1f}{h:>14,.1f}"
              for part, h in cost["upper"].items() if h]
    lines += [f"  {'total':<22}{cost['total_expected']:>10,.1f}{cost['total_upper']:>14,.1f}",
              "  upper bound: every run trains all train.epochs; expected: "
              + cost["fraction"][1]]
    by_basis: dict[str, list[str]] = {}
    for arch, share in cost["sharing"].items():
        by_basis.setdefault(f"x{share.factor:.2f} ({share.basis})", []).append(arch)
    top = sorted(cost["epochs_by_arch"].items(), key=lambda kv: -kv[1])
    lines.append("  expected training + validation per arch: "
                 + ", ".join(f"{a} {h:,.1f}" for a, h in top))
    sd = cfg["augment"]["sd"]
    if any(AUGMENTS.get(a).synthetic for a in cfg["study"]["augments"]):
        steps = sd.get("epoch_steps", "real")
        lines.append(f"  SD runs: augment.sd.epoch_steps {steps} ("
                     + ("the real clips' steps per epoch, as the runs without SD"
                        if steps == "real" else
                        f"(1 + ratio {sd['ratio']:g}) x the steps per epoch") + ")")
    lines.append(f"  sharing ({sharing}; profile gpu_slots={profile_k}):")
    lines += [f"    {', '.join(archs)}: {basis}" for basis, archs in by_basis.items()]
    ks = sorted({x.k for x in cost["sharing"].values()})
    run_s, run_basis = cost["run_startup"]
    lines.append(f"  start-up: {run_s:.1f} s per train_model job ({run_basis}), {fig.startup_s:.1f} s "
                 f"per other GPU job; one of K={'/'.join(map(str, ks))} slots idle meanwhile")
    pools = Counter(round(n) for n in cost["pool_clips"].values())
    lines += [f"  pretraining: {jobs} model(s) x {n:,} pool clips x "
              f"{cfg['train']['pretrain']['epochs']} epochs" for n, jobs in pools.items()]
    if sharing == "best" and profile_k < max(ks):
        alone = gpu_hours(cfg, counts, fig, clips, sharing="profile", profile_k=profile_k,
                          fraction=cost["fraction"], startup_path=startup_path)
        lines.append(f"  at the profile's gpu_slots={profile_k} (--sharing profile): "
                     f"{alone['total_expected']:,.1f} expected, {alone['total_upper']:,.1f} upper bound")
    lines += [f"  clips {name}: {n:,} ({source})" for name, (n, source) in clips.items()]
    lines += [f"  assumed: {a}" for a in fig.assumed]
    if not fig.measured:
        lines.append(f"  provenance: {fig.provenance}")
    return lines


def cost_report(cfg: Mapping[str, Any], *, profile: Mapping[str, Any] | None,
                gpu_check: str | Path | None, fallback_clips: int, sharing: str = "best",
                fraction: float | None = None, startup_path: str = "prewarmed") -> str:
    counts = job_counts(cfg)
    lines = [f"runs (train_model)      {counts['train_model']:>10,}"]
    lines += [f"  {rule:<22}{n:>10,}" for rule, n in counts.items() if n]
    lines += [f"jobs                    {sum(counts.values()):>10,}",
              f"SLURM submissions       {slurm_submissions(counts, profile):>10,}"
              + ("" if profile else "   (no profile: one per non-local job)")]
    if gpu_check is not None:
        lines += cost_lines(cfg, counts, gpu_check=gpu_check, sharing=sharing,
                            profile_k=profile_slots(profile), fallback_clips=fallback_clips,
                            fraction=fraction, startup_path=startup_path)
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--cost", action="store_true",
                        help="add GPU-hours: expected and upper bound (from --gpu-check's figures)")
    parser.add_argument("--profile", default="profiles/slurm",
                        help="Snakemake profile folder whose groups size the SLURM submissions "
                             "(default: %(default)s; 'none': one per job)")
    parser.add_argument("--gpu-check", default=None,
                        help="JSON of benchmarks/gpu_check.py from a full-size CUDA run (default: "
                             "the committed benchmarks/gpu_check_h200.json)")
    parser.add_argument("--sharing", choices=("best", "profile", "none"), default="best",
                        help="GPU sharing: the best measured (any K, MPS or not), the profile's "
                             "gpu_slots K as measured, or one process per GPU (default: %(default)s)")
    parser.add_argument("--expected-fraction", type=float, default=None,
                        help="share of train.epochs a run trains under early stopping (default: "
                             "from the study's logged curves, else assumed 0.5)")
    parser.add_argument("--startup-path", default="prewarmed",
                        choices=("prewarmed", "worker", "in_process"),
                        help="how train_model jobs start: through a train-worker's pre-warmed "
                             "spares (what profiles/slurm's executor starts; README 'Start-up "
                             "tax'), a worker without spares, or in-process (default: "
                             "%(default)s; the fresh-process figure where the JSON lacks it)")
    parser.add_argument("--clips", type=int, default=300,
                        help="labelled clips for a dataset neither registered from the study's "
                             "root nor of a known release (default: %(default)s)")


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
    gpu_check = None
    if args.cost:
        from ferstudy.gpu_figures import DEFAULT

        packaged = Path(__file__).resolve().parents[2] / DEFAULT   # the checkout's copy
        gpu_check = args.gpu_check or (packaged if packaged.is_file() else DEFAULT)
    print(cost_report(cfg, profile=profile, gpu_check=gpu_check, fallback_clips=args.clips,
                      sharing=args.sharing, fraction=args.expected_fraction,
                      startup_path=args.startup_path))
