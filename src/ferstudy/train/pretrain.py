"""The source models of ``ft``: train an architecture on a pool that excludes the target's test.

Pool of ``pretrain_model`` for target ``dataset`` and test fold k (``train.pretrain``):
- ``sources`` (default: every other dataset of the study, merged sets expanded to members),
- plus, with ``include_target_train``, the target's own clips outside fold k.
Any source that is a member of the target only contributes clips outside fold k, so the run's
test subjects are never seen in pretraining. Subjects are prefixed with their dataset so the
validation split (early stopping) stays subject-disjoint across datasets.
Output ``results/pretrain/{dataset}/{arch}/fold{fold}/model.pt`` (the run model format).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ferstudy.clipstore import ClipSet, concat, load_dataset
from ferstudy.config import dataset_members
from ferstudy.train import device as dev
from ferstudy.train.checkpoint import fingerprint
from ferstudy.train.data import build_run_data
from ferstudy.train.loop import LoopConfig, fit
from ferstudy.train.outputs import write_model
from ferstudy.train.run import RUNTIME_KEYS, arch_kwargs, build_initialised


def source_members(config: dict, dataset: str) -> list[str]:
    """The datasets of the pool (members, not merged names), target members last."""
    pcfg = config["train"]["pretrain"]
    target = dataset_members(dataset)
    if pcfg["sources"]:
        names = [m for s in pcfg["sources"] for m in dataset_members(s)]
    else:
        names = [m for s in config["study"]["datasets"] for m in dataset_members(s)
                 if m not in target]
    if pcfg["include_target_train"]:
        names += target
    out: list[str] = []
    for name in names:
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError(f"pretraining pool for {dataset!r} is empty: set train.pretrain.sources "
                         f"or train.pretrain.include_target_train: true")
    return out


def pool_for(members: list[str], stores: dict[str, ClipSet], dataset: str, fold: int) -> ClipSet:
    """Stack the members' clips; the target's members lose their fold-``fold`` clips."""
    target = set(dataset_members(dataset))
    parts = []
    for member in members:
        part = stores[member]
        keep = np.ones(len(part), bool)
        if member in target:
            keep = part.index["fold"].astype(int).to_numpy() != fold
        part = part.subset(keep)
        part.index["subject"] = member + ":" + part.index["subject"].astype(str)
        parts.append(part)
    return concat(parts)


def run_pretrain(config: dict, *, dataset: str, arch: str, fold: int, out: str | Path,
                 stores: dict[str, ClipSet] | None = None, threads: int = 1, log=print) -> dict:
    """Train ``arch`` from ``ri`` on the pool; write ``out`` (model.pt). Returns a summary."""
    tcfg, pcfg = config["train"], config["train"]["pretrain"]
    members = source_members(config, dataset)
    if stores is None:
        stores = {m: load_dataset(config["results"], m, mmap=False) for m in members}
    pool = pool_for(members, stores, dataset, fold)
    device = dev.pick_device(tcfg["device"])
    dev.configure(device, threads=threads, deterministic=tcfg["deterministic"])
    seed = pcfg["seed"]
    data = build_run_data(pool, name=f"pretraining pool of {dataset}", fold=None,
                          study_classes=config["study"]["classes"],
                          val_fraction=tcfg["val_fraction"], seed=seed, log=log)
    log(f"pretrain {arch} for {dataset} fold {fold}: pool {members} (target test fold "
        f"excluded): {len(data.train)} train, {len(data.val)} val clips; classes {list(data.classes)}")
    kwargs = arch_kwargs(data, tcfg)
    model = dev.prepare_model(
        build_initialised(arch, "ri", kwargs, seed=seed, ft=None, log=log)[0], device)
    from ferstudy.methods import METHODS

    method = METHODS.get("supervised")({}, num_classes=len(data.classes), embed_dim=model.embed_dim)
    loop_cfg = LoopConfig.from_config({**tcfg, "epochs": pcfg["epochs"]})
    out = Path(out)
    key = fingerprint({"pretrain": [dataset, arch, fold, members], "kwargs": kwargs,
                       "train": {k: v for k, v in tcfg.items() if k not in RUNTIME_KEYS},
                       "pcfg": pcfg, "n": [len(data.train), len(data.val)]})
    result = fit(model, method, data, loop_cfg, device=device, seed=seed, threads=threads,
                 checkpoint_path=out.parent / "checkpoint.pt", fingerprint=key, log=log)
    write_model(out, arch=arch, state_dict=result.best_state, classes=data.classes,
                arch_kwargs=kwargs, embed_dim=model.embed_dim, method_state=None,
                sources=members, excluded_fold=fold, best_epoch=result.best_epoch,
                curve=result.curve)
    (out.parent / "checkpoint.pt").unlink(missing_ok=True)
    log(f"wrote {out} (epoch {result.best_epoch + 1}/{result.epochs} selected on validation)")
    return {"members": members, "n_train": len(data.train), "n_val": len(data.val),
            "best_epoch": result.best_epoch, "epochs": result.epochs}
