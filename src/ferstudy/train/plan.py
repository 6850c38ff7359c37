"""What the training rules need from the config: run paths, grid, and input files.

Pure functions of the config (no Snakemake objects), used by workflow/rules/train.smk and
testable on their own. Paths follow docs/architecture.md.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import product
from typing import Any

from ferstudy.config import dataset_members

RUN_PATTERN = "{dataset}/{arch}/{method}/{init}/{augment}/{protocol}/seed{seed}/fold{fold}"
STORE_FILES = ("clips.npy", "intensity.npy", "index.csv")


def study_runs(study: Mapping[str, Any], official: Sequence[str] = ()) -> list[str]:
    """Every ``{run}`` of the study grid, in a stable order. ``official``: datasets whose
    release split is their only test fold (``official_split_datasets``): fold 0 only."""
    return [RUN_PATTERN.format(dataset=d, arch=a, method=m, init=i, augment=g, protocol=p,
                               seed=s, fold=f)
            for d, a, m, i, g, p, s, f in product(
                study["datasets"], study["archs"], study["methods"], study["inits"],
                study["augments"], study["protocols"], study["seeds"], study["folds"])
            if d not in official or int(f) == 0]


def official_split_datasets(config: Mapping[str, Any]) -> list[str]:
    """Study datasets registered with their release's train/test split (RAF-DB
    ``partition: official``): test fold 0 = the test partition."""
    from ferstudy.datasets import DATASETS

    out = []
    for name in config["study"]["datasets"]:
        entry = config["datasets"].get(name)
        if entry and DATASETS.get(entry.get("adapter", name)).official_split(entry.get("options")):
            out.append(name)
    return out


def dataset_pattern(study: Mapping[str, Any]) -> str:
    """Wildcard constraint for study dataset names, merged sets (``merged-a+b``) included."""
    return "|".join(re.escape(d) for d in sorted(study["datasets"], key=len, reverse=True))


def results_of_store(path: str) -> str:
    """``results/aligned/{dataset}/clips.npy`` -> ``results`` (derived from a job's input)."""
    from pathlib import Path

    return str(Path(path).parents[2])


def aligned_inputs(results: str, names: list[str]) -> list[str]:
    """The aligned store files of datasets (merged sets expanded to their members)."""
    members = dict.fromkeys(m for n in names for m in dataset_members(n))
    return [f"{results}/aligned/{m}/{f}" for m in members for f in STORE_FILES]


def uses_pretrain_rule(config: Mapping[str, Any]) -> bool:
    pcfg = config["train"]["pretrain"]
    return not pcfg["checkpoint"] and not pcfg["torchvision"]


def pretrain_model_path(results: str, dataset: str, arch: str, pool: str) -> str:
    """A ``fold<k>-full`` pool's model (rule pretrain_model): it holds ``dataset``'s own
    training clips, so it is the target's."""
    return f"{results}/pretrain/{dataset}/{arch}/{pool}/model.pt"


def external_model_path(results: str, sources: str, arch: str) -> str:
    """An ``external`` pool's model (rule pretrain_external), named by its datasets
    (``external_sources``), not by a target: every training set whose external pool holds the
    same datasets fine-tunes from the same model (pitfalls: 10 pretraining jobs on RAF-DB, one
    per arch, instead of 80)."""
    return f"{results}/pretrain/external/{sources}/{arch}/model.pt"


# the {sources} wildcard of pretrain_external: plain dataset names joined by "+"
SOURCES_PATTERN = r"[a-z][a-z0-9_]*(\+[a-z][a-z0-9_]*)*"


def external_sources(config: Mapping[str, Any], dataset: str) -> str:
    """The ``{sources}`` of ``dataset``'s external pool: its datasets, in pool order."""
    from ferstudy.train.pools import pool_members

    return "+".join(pool_members(config, dataset, "external"))


def pretrained_model(config: Mapping[str, Any], dataset: str, arch: str, protocol: str,
                     fold: int | str) -> str:
    """The pretrain model an ``ft`` run of the pretrain rules starts from."""
    from ferstudy.train.pools import pool_name

    pool = pool_name(config, dataset, protocol, fold)
    if pool == "external":
        return external_model_path(config["results"], external_sources(config, dataset), arch)
    return pretrain_model_path(config["results"], dataset, arch, pool)


def train_inputs(wildcards: Mapping[str, str], config: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs of one train_model job: stores, the pretrain model (ft), the synthetic store."""
    from ferstudy.augment import AUGMENTS

    results = config["results"]
    # one file per aligned store (gather_aligned writes clips.npy, intensity.npy and index.csv
    # together; the job reads all three): one declared file per producer job is enough for the
    # job graph, and each declared file costs planning time over the grid's 19,200 runs
    inputs: dict[str, Any] = {"stores": [f"{results}/aligned/{m}/clips.npy"
                                         for m in dataset_members(wildcards["dataset"])]}
    if wildcards["init"] == "ft" and uses_pretrain_rule(config):
        inputs["pretrained"] = pretrained_model(config, wildcards["dataset"], wildcards["arch"],
                                                wildcards["protocol"], wildcards["fold"])
    if AUGMENTS.get(wildcards["augment"]).synthetic:
        # the synthetic store's index.csv (generate_clips writes its clips.npy with it)
        inputs["synthetic"] = (f"{results}/synthetic/{wildcards['dataset']}/"
                               f"fold{wildcards['fold']}/index.csv")
    return inputs


def pretrain_inputs(dataset: str, pool: str, config: Mapping[str, Any]) -> dict[str, Any]:
    from ferstudy.train.pools import pool_members

    return {"stores": aligned_inputs(config["results"], pool_members(config, dataset, pool))}


def external_inputs(sources: str, config: Mapping[str, Any]) -> dict[str, Any]:
    return {"stores": aligned_inputs(config["results"], sources.split("+"))}
