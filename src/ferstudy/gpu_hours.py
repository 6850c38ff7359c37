"""GPU-hours of a study grid: an upper bound (every run trains all ``train.epochs``) and an
expected figure (early stopping), from a gpu_check JSON (``ferstudy.gpu_figures``).

Per run (training set of N labelled clips, F folds, validation share v, SD ratio r)::

    train clips/epoch  N (F-1)/F (1-v) (x (1 + r) for sd under augment.sd.epoch_steps mixed)
                                                    at train clips/s x sharing
    val clips/epoch    N (F-1)/F v                      at infer clips/s x sharing
    test clips, once   N / F, and evaluate_cross: one fold of every study dataset

Sharing: K processes on one GPU give ``factor`` x one process's clips/s (gpu_check's
``share``), so GPU time per clip is 1 / (clips/s x factor). Start-up (process start to first
step) idles one of the K slots: ``startup_s / K`` GPU-seconds per GPU job; a train_model job's
is that of its ``startup_path`` (in-process, a warm train-worker's child, or a pre-warmed
spare: ``GpuFigures.startup``), the other GPU jobs always start in-process. Pretraining trains
``train.pretrain.epochs`` over its pool's own clips (RAF-DB's for pitfalls), not the study's.
Expected = the upper bound with training and validation epochs scaled by the mean fraction of
``train.epochs`` that the study's finished runs logged (``curve.csv`` of runs whose
``settings_hash`` matches this config), else by an assumed fraction, said so.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ferstudy.config import dataset_members
from ferstudy.gpu_figures import GpuFigures

ASSUMED_FRACTION = 0.5   # patience 10 after min_epochs 10 of 60: stop near epoch 30 (assumed)


def logged_fraction(cfg: Mapping[str, Any], runs: list[str]) -> tuple[float, int] | None:
    """Mean epochs run / ``train.epochs`` over the study's finished runs trained with this
    config (recorded settings_hash = the one the config implies); None when there are none."""
    from ferstudy.provenance import recorded_hash
    from ferstudy.runkey import RunKey
    from ferstudy.settings import RunSettings

    settings, fractions = RunSettings(cfg), []
    for run in runs:
        run_dir = Path(cfg["results"]) / "runs" / run
        if not ((run_dir / "metrics.json").is_file() and (run_dir / "curve.csv").is_file()):
            continue
        if recorded_hash(run_dir) != settings.lineage_hash(RunKey.parse(run).as_dict()):
            continue
        epochs = len(pd.read_csv(run_dir / "curve.csv"))
        fractions.append(min(1.0, epochs / cfg["train"]["epochs"]))
    return (sum(fractions) / len(fractions), len(fractions)) if fractions else None


def _pools(cfg: Mapping[str, Any], keys) -> dict[str, tuple[str, list[str], str | None]]:
    """Pretrained model path -> (arch, external members, target whose training folds join)."""
    from ferstudy.train.plan import pretrained_model
    from ferstudy.train.pools import external_members, pool_name

    out = {}
    for k in keys:
        if k.init != "ft":
            continue
        path = pretrained_model(cfg, k.dataset, k.arch, k.protocol, k.fold)
        if path not in out:
            full = pool_name(cfg, k.dataset, k.protocol, k.fold) != "external"
            out[path] = (k.arch, external_members(cfg, k.dataset), k.dataset if full else None)
    return out


def gpu_hours(cfg: Mapping[str, Any], counts: Mapping[str, int], fig: GpuFigures,
              clips: Mapping[str, tuple[int, str]], *, sharing: str, profile_k: int,
              fraction: tuple[float, str], startup_path: str = "in_process") -> dict[str, Any]:
    """{"upper": {part: h}, "expected": {part: h}, "sharing": {arch: Sharing},
    "epochs_by_arch": {arch: expected h of training + validation}, ...}."""
    from ferstudy.augment import AUGMENTS
    from ferstudy.runkey import RunKey
    from ferstudy.train.plan import official_split_datasets, study_runs, uses_pretrain_rule

    s, train = cfg["study"], cfg["train"]
    folds, v = max(1, int(cfg["register"]["folds"])), float(train["val_fraction"])
    size = {d: sum(clips[m][0] for m in dataset_members(d)) for d in s["datasets"]}
    cross = sum(clips[m][0] for m in {m for d in s["datasets"] for m in dataset_members(d)}) / folds
    keys = [RunKey.parse(r) for r in study_runs(s, official_split_datasets(cfg))]
    share = {a: fig.sharing(a, sharing, profile_k) for a in s["archs"]}
    sd = float(cfg["augment"]["sd"]["ratio"]) \
        if cfg["augment"]["sd"].get("epoch_steps", "real") == "mixed" else 0.0
    run_startup = fig.startup(startup_path)
    upper = dict.fromkeys(("training", "validation", "evaluation", "pretraining", "train_gan",
                           "start-up"), 0.0)
    by_arch = dict.fromkeys(s["archs"], 0.0)      # training + validation seconds, upper bound
    for (dataset, arch, augment), n in Counter((k.dataset, k.arch, k.augment) for k in keys).items():
        tr = fig.train_clips_s(arch) * share[arch].factor
        inf = fig.infer_clips_s(arch) * share[arch].factor
        fit = size[dataset] * (folds - 1) / folds
        grow = 1 + sd if AUGMENTS.get(augment).synthetic else 1
        epochs = (n * train["epochs"] * fit * (1 - v) * grow / tr,
                  n * train["epochs"] * fit * v / inf)
        upper["training"] += epochs[0]
        upper["validation"] += epochs[1]
        by_arch[arch] += sum(epochs)
        upper["evaluation"] += n * (size[dataset] / folds + cross) / inf
        upper["start-up"] += n * run_startup[0] / share[arch].k
    groups = Counter(a for _, a, _ in {(k.dataset, k.arch, k.fold) for k in keys})
    for arch, n in groups.items():          # evaluate_cross jobs: one per set x arch x fold
        upper["start-up"] += n * fig.startup_s / share[arch].k
    pools = _pools(cfg, keys) if "ft" in s["inits"] and uses_pretrain_rule(cfg) else {}
    pool_clips = {}
    for path, (arch, members, target) in pools.items():
        n = sum(clips[m][0] for m in members)
        if target:
            n += size[target] * (folds - 1) / folds
        pool_clips[path] = n
        tr = fig.train_clips_s(arch) * share[arch].factor
        inf = fig.infer_clips_s(arch) * share[arch].factor
        upper["pretraining"] += train["pretrain"]["epochs"] * n * ((1 - v) / tr + v / inf)
        upper["start-up"] += fig.startup_s / share[arch].k
    gan_k = min((x.k for x in share.values()), default=1)
    upper["train_gan"] = counts.get("train_gan", 0) * cfg["augment"]["sd"]["iterations"] \
        * fig.gan_ms / 1000
    upper["start-up"] += (counts.get("train_gan", 0) + counts.get("generate_clips", 0)) \
        * fig.startup_s / gan_k
    upper = {part: sec / 3600 for part, sec in upper.items()}
    expected = dict(upper, training=upper["training"] * fraction[0],
                    validation=upper["validation"] * fraction[0])
    return {"upper": upper, "expected": expected, "total_upper": sum(upper.values()),
            "total_expected": sum(expected.values()), "sharing": share, "fraction": fraction,
            "pool_clips": pool_clips, "runs": len(keys), "run_startup": run_startup,
            "epochs_by_arch": {a: sec / 3600 * fraction[0] for a, sec in by_arch.items()}}


def expected_fraction(cfg: Mapping[str, Any], assumed: float | None) -> tuple[float, str]:
    """(fraction of train.epochs a run trains, where it comes from)."""
    from ferstudy.train.plan import official_split_datasets, study_runs

    if assumed is None:
        logged = logged_fraction(cfg, study_runs(cfg["study"], official_split_datasets(cfg)))
        if logged is not None:
            return logged[0], (f"mean of {logged[1]} finished runs' curve.csv under "
                               f"{cfg['results']}/runs (this config's settings_hash)")
        assumed = ASSUMED_FRACTION
        why = "no finished run of this config logged a curve"
    else:
        why = "--expected-fraction"
    return assumed, (f"ASSUMED ({why}): early stopping (patience {cfg['train']['patience']}, "
                     f"min_epochs {cfg['train']['min_epochs']}) trains {assumed:.0%} of "
                     f"{cfg['train']['epochs']} epochs")
