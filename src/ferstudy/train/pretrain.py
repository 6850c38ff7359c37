"""The source models of ``ft``: train an architecture on a pool that respects the run.

A run's pool never holds (a) its test fold, (b) its validation subjects, (c) a label its
protocol withholds or corrupts. Pools (``pool_name``, the ``{pool}`` part of the output path):

- ``external``: the datasets of ``train.pretrain.sources`` (default: every other dataset of
  the study; merged sets expanded to members) minus every member of the target. Used by every
  run whose protocol is not ``full``: its target is left out of the pool rather than given the
  same protocol's labels, because then ``ft`` stays a pure question of initialisation (the
  pool's labels are the external datasets' own) and one pool serves every protocol, seed and
  fold, while a pool with the target's noisy/budgeted labels would only train the run's own
  labels twice. Also used under ``full`` when the pool has no target member.
- ``fold{k}-full``: the external members plus the target's clips outside test fold k and
  outside fold k's validation subjects (``validation_subjects``), with the target's registered
  labels: only for protocol ``full`` with ``include_target_train`` (or a target member in
  ``sources``).

Subjects are prefixed with their dataset so the pool's own validation split (early stopping of
the pretraining) stays subject-disjoint across datasets. Output
``results/pretrain/{dataset}/{arch}/fold{k}-full/model.pt`` (the run model format), recording the
pool's datasets, its protocol and its subject count for the runs' metrics. An external pool
is the same for every target whose pool holds the same datasets, so it is trained once per
(datasets, arch) by rule pretrain_external: ``results/pretrain/external/{a+b}/{arch}/model.pt``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ferstudy.clipstore import ClipSet, concat, load_dataset
from ferstudy.config import dataset_members, is_merged
from ferstudy.train import device as dev
from ferstudy.train.checkpoint import fingerprint
from ferstudy.train.data import build_run_data, validation_subjects
from ferstudy.train.loop import LoopConfig, fit
from ferstudy.train.outputs import write_model
from ferstudy.train.pools import (  # noqa: F401  (re-exported)
    POOL_RE, pool_members, pool_name, source_members)
from ferstudy.train.run import RUNTIME_KEYS, arch_kwargs, build_initialised

def _target_set(stores: dict[str, ClipSet], dataset: str) -> ClipSet:
    """The target as the training engine loads it (merged sets: member-prefixed subjects)."""
    if not is_merged(dataset):
        return stores[dataset]
    parts = []
    for member in dataset_members(dataset):
        part = stores[member].subset(np.ones(len(stores[member]), bool))
        part.index["subject"] = member + ":" + part.index["subject"].astype(str)
        parts.append(part)
    return concat(parts)


def pool_for(members: list[str], stores: dict[str, ClipSet], dataset: str, fold: int | None,
             *, val_subjects: list[str] = ()) -> ClipSet:
    """Stack the members' clips; the target's members lose their fold-``fold`` clips and the
    run's validation subjects (engine names: ``S001``, or ``member:S001`` for a merged set)."""
    target = set(dataset_members(dataset)) if dataset else set()
    held = set(val_subjects)
    parts = []
    for member in members:
        part = stores[member]
        keep = np.ones(len(part), bool)
        subjects = member + ":" + part.index["subject"].astype(str)
        if member in target:
            if fold is None:
                raise ValueError(f"the target {dataset!r} can only join a pool of one test fold")
            engine = subjects if is_merged(dataset) else part.index["subject"].astype(str)
            keep = ((part.index["fold"].astype(int).to_numpy() != fold)
                    & ~engine.isin(held).to_numpy())
        part = part.subset(keep)
        part.index["subject"] = subjects[keep].to_numpy()
        parts.append(part)
    return concat(parts)


def build_pool(config: dict, dataset: str | None, pool: str, stores: dict[str, ClipSet],
               members: list[str] | None = None) -> tuple[ClipSet, dict]:
    """The pool's clips and what the runs' metrics record about it. An external pool may be
    given by its ``members`` alone (``dataset`` None: rule pretrain_external)."""
    members = members if members is not None else pool_members(config, dataset, pool)
    fold = None
    val: list[str] = []
    if pool != "external":
        fold = int(POOL_RE.match(pool).group(2))
        val = validation_subjects(_target_set(stores, dataset), fold=fold,
                                  val_fraction=config["train"]["val_fraction"],
                                  study_classes=config["study"]["classes"])
    clips = pool_for(members, stores, dataset, fold, val_subjects=val)
    info = {"sources": members, "pool": pool,
            "pool_protocol": "full" if fold is not None else "target excluded",
            "pool_subjects": int(clips.index["subject"].nunique()),
            "excluded_fold": fold, "excluded_val_subjects": len(val)}
    return clips, info


def run_pretrain(config: dict, *, arch: str, out: str | Path, dataset: str | None = None,
                 pool: str = "external", members: list[str] | None = None,
                 stores: dict[str, ClipSet] | None = None, threads: int = 1, log=print) -> dict:
    """Train ``arch`` from ``ri`` on ``pool``; write ``out`` (model.pt). Returns a summary.
    ``fold<k>-full`` pools need their target ``dataset``; an ``external`` pool is named by its
    target or by its ``members`` (rule pretrain_external: shared by every target)."""
    tcfg, pcfg = config["train"], config["train"]["pretrain"]
    if members is None:
        members = pool_members(config, dataset, pool)
    elif pool != "external":
        raise ValueError(f"pool {pool!r} is a target's own pool: give its dataset, not members")
    if stores is None:
        stores = {m: load_dataset(config["results"], m, mmap=False) for m in members}
    pool_clips, info = build_pool(config, dataset, pool, stores, members)
    name = dataset or "+".join(members)
    device = dev.pick_device(tcfg["device"])
    dev.configure(device, threads=threads, deterministic=tcfg["deterministic"])
    seed = pcfg["seed"]
    data = build_run_data(pool_clips, name=f"pretraining pool of {name}", fold=None,
                          study_classes=config["study"]["classes"],
                          val_fraction=tcfg["val_fraction"], seed=seed, log=log)
    log(f"pretrain {arch} for {name}, pool {pool}: {members} ({info['pool_protocol']}, "
        f"{info['pool_subjects']} subjects, {info['excluded_val_subjects']} validation subjects "
        f"of the target left out): {len(data.train)} train, {len(data.val)} val clips; classes "
        f"{list(data.classes)}")
    kwargs = arch_kwargs(data, tcfg)
    model = dev.prepare_model(
        build_initialised(arch, "ri", kwargs, seed=seed, ft=None, log=log)[0], device)
    from ferstudy.methods import METHODS

    method = METHODS.get("supervised")({}, num_classes=len(data.classes), embed_dim=model.embed_dim)
    loop_cfg = LoopConfig.from_config({**tcfg, "epochs": pcfg["epochs"]})
    out = Path(out)
    key = fingerprint({"pretrain": [name, arch, pool, members], "kwargs": kwargs,
                       "train": {k: v for k, v in tcfg.items() if k not in RUNTIME_KEYS},
                       "pcfg": pcfg, "n": [len(data.train), len(data.val)]})
    result = fit(model, method, data, loop_cfg, device=device, seed=seed, threads=threads,
                 checkpoint_path=out.parent / "checkpoint.pt", fingerprint=key, log=log)
    write_model(out, arch=arch, state_dict=result.best_state, classes=data.classes,
                arch_kwargs=kwargs, embed_dim=model.embed_dim, method_state=None,
                **info, best_epoch=result.best_epoch,
                curve=result.curve)
    (out.parent / "checkpoint.pt").unlink(missing_ok=True)
    log(f"wrote {out} (epoch {result.best_epoch + 1}/{result.epochs} selected on validation)")
    return {**info, "members": members, "n_train": len(data.train), "n_val": len(data.val),
            "best_epoch": result.best_epoch, "epochs": result.epochs}
