"""Paths of the SD stage for the Snakemake rules (kept here so the rule file holds rules only)."""
from __future__ import annotations

from typing import Any

from ferstudy.augment.specs import AUGMENTS
from ferstudy.config import dataset_members

GAN_FIGURES = ("grid.png", "real_grid.png", "losses.png", "quality.png")


def gan_inputs(results: str, dataset: str) -> dict[str, str]:
    """The aligned stores of a training set's members (one for a plain dataset)."""
    files = {}
    for member in dataset_members(dataset):
        for part, ext in (("index", "csv"), ("clips", "npy"), ("intensity", "npy")):
            files[f"{member}_{part}"] = f"{results}/aligned/{member}/{part}.{ext}"
    return files


def gan_final_targets(results: str, study: dict[str, Any]) -> list[str]:
    """Every generator's figures and synthetic store that the study's SD runs need."""
    if not any(AUGMENTS.get(a).synthetic for a in study["augments"]):
        return []
    out = []
    for dataset in study["datasets"]:
        for fold in study["folds"]:
            out += [f"{results}/gan/{dataset}/fold{fold}/{name}" for name in GAN_FIGURES]
            out.append(f"{results}/synthetic/{dataset}/fold{fold}/index.csv")
    return out
