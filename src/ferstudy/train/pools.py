"""Which pretraining pool an ``ft`` run starts from, as pure functions of the config.

Kept apart from ``ferstudy.train.pretrain`` (which trains the pool's model) so that planning
(``train.plan``, ``settings``, ``grid_cost``) reads them without importing the training engine.
"""
from __future__ import annotations

import re

from ferstudy.config import dataset_members

POOL_RE = re.compile(r"^(external|fold([0-9]+)-full)$")


def source_members(config: dict, dataset: str) -> list[str]:
    """The datasets of the ``full`` pool (members, not merged names), target members last."""
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


def pool_name(config: dict, dataset: str, protocol: str, fold: int | str) -> str:
    """Which pool a run of ``protocol`` on test fold ``fold`` fine-tunes from (docstring)."""
    target = set(dataset_members(dataset))
    with_target = any(m in target for m in source_members(config, dataset))
    return f"fold{int(fold)}-full" if protocol == "full" and with_target else "external"


def external_members(config: dict, dataset: str) -> list[str]:
    """The pool's datasets without the target's members (may be empty)."""
    target = set(dataset_members(dataset))
    return [m for m in source_members(config, dataset) if m not in target]


def pool_members(config: dict, dataset: str, pool: str) -> list[str]:
    """The member datasets of ``pool``; an external pool without a dataset is an error."""
    match = POOL_RE.match(pool)
    if not match:
        raise ValueError(f"pretraining pool {pool!r} unknown; expected external or fold<k>-full")
    members = source_members(config, dataset)
    if pool == "external":
        members = external_members(config, dataset)
        if not members:
            raise ValueError(
                f"ft runs on {dataset!r} under a protocol other than full need an external "
                f"pretraining dataset (the target is left out of their pool: its labels are "
                f"withheld or noisy): set train.pretrain.sources to datasets other than "
                f"{dataset!r}, or train.pretrain.checkpoint / train.pretrain.torchvision")
    return members
