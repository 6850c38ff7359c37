"""The SD stage: train one clip GAN per training set and fold, then write synthetic stores.

``train_gan_stage`` (rule ``train_gan``) reads the (possibly merged) aligned store, keeps only
the training subjects of the fold (``data``), trains (``trainer``) and writes into
``results/gan/{dataset}/fold{fold}/``::

    generator.pt     EMA generator + classes, intensity curves, the training identities'
                     neutral frames (reenact), store shape, training subjects
    losses.csv/.png  training curves of both players
    grid.png         synthetic clips, rows = classes, columns = frames
    real_grid.png    real training clips in the same layout, for comparison
    quality.json/.png  label fidelity, Fréchet distances, motion energy (``quality``)
    options.json     the resolved augment.sd options and timings

``generate_stage`` (rule ``generate_clips``) samples ``clips_per_class`` clips per class into
``results/synthetic/{dataset}/fold{fold}/`` (clip-store format, ``synthetic = 1``) with a
``provenance.json`` naming the generator (and its sha256).
"""
from __future__ import annotations

import hashlib
import logging
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ferstudy import atomic
from ferstudy.augment.gan import figures as gan_figures
from ferstudy.augment.gan.data import GanData, build_gan_data, resize_clips
from ferstudy.augment.gan.quality import quality_metrics
from ferstudy.augment.gan.trainer import SD_DEFAULTS, GanTrainer, pick_device
from ferstudy.augment.gan.generate import generate_clipset
from ferstudy.clipstore import ClipSet, load_dataset, write_store

log = logging.getLogger("ferstudy.gan")
GAN_FILES = ("generator.pt", "losses.csv", "losses.png", "grid.png", "real_grid.png",
             "quality.json", "quality.png", "options.json")
QUALITY_PER_CLASS = 24   # synthetic clips per class drawn for the quality figures


def sd_options(config: dict[str, Any]) -> dict[str, Any]:
    return {**SD_DEFAULTS, **config.get("augment", {}).get("sd", {})}


def train_gan(clipset: ClipSet, out_dir: str | Path, *, dataset: str, test_fold: int,
              classes: list[str], cfg: dict[str, Any],
              device: torch.device | None = None, probe_steps: int = 300,
              val_fraction: float = 0.0) -> dict[str, Any]:
    """Train on ``clipset``'s rows outside ``test_fold`` and outside the fold's validation
    subjects (``val_fraction``: the engine's), write GAN_FILES; return quality.
    ``probe_steps``: training steps of the quality probe (tests use fewer)."""
    cfg = {**SD_DEFAULTS, **cfg}
    out = Path(out_dir)
    device = device or pick_device()
    start = time.perf_counter()
    data = build_gan_data(clipset, name=dataset, test_fold=test_fold, classes=classes,
                          batch=int(cfg["batch"]), size=int(cfg["size"]),
                          val_fraction=val_fraction)
    trainer = GanTrainer(data, cfg, device)
    history = trainer.fit()
    train_s = time.perf_counter() - start
    ckpt = trainer.checkpoint(dataset=dataset, test_fold=test_fold)
    synthetic = generate_clipset(ckpt, QUALITY_PER_CLASS, seed=int(cfg["seed"]) + 1, device=device)
    quality = write_quality(out, data, synthetic, history, dataset=dataset, test_fold=test_fold,
                            seed=int(cfg["seed"]), probe_steps=probe_steps)
    atomic.write_json(out / "options.json", {
        "dataset": dataset, "test_fold": test_fold, "classes": classes, "sd": cfg,
        "device": str(device), "n_train": len(data), "train_subjects": list(data.subjects),
        "train_seconds": round(train_s, 2), "seconds_per_iteration":
            round(float(history["seconds"].iloc[-1]) / max(1, int(cfg["iterations"])), 4)})
    # generator last: its presence marks a finished run
    atomic.write_stream(out / "generator.pt", partial(torch.save, ckpt))
    log.info("GAN %s fold %d: %d iterations in %.1f s; label fidelity %.2f (real %.2f), "
             "FD %.2f (floor %.2f)", dataset, test_fold, int(cfg["iterations"]), train_s,
             quality["label_fidelity"], quality["probe_real_acc"], quality["fd_synthetic"],
             quality["fd_real"])
    return quality


def write_quality(out: Path, data: GanData, synthetic: ClipSet, history, *, dataset: str,
                  test_fold: int, seed: int, probe_steps: int = 300) -> dict[str, Any]:
    classes = list(data.classes)
    lookup = {c: i for i, c in enumerate(classes)}
    size = data.clips.shape[-1]
    syn_clips = resize_clips(synthetic.clips, size)
    syn_t = torch.from_numpy(synthetic.intensity / data.scale)
    syn_y = torch.tensor([lookup[c] for c in synthetic.index["label"]])
    quality = quality_metrics(data.clips, data.t, data.labels, np.asarray(data.subjects_per_clip),
                              syn_clips, syn_t, syn_y, classes, seed=seed,
                              probe_steps=probe_steps)
    tag = f"{dataset}, test fold {test_fold} held out"
    atomic.write_csv(out / "losses.csv", history)
    gan_figures.loss_curves(history, out / "losses.png", title=f"GAN training: {tag}")
    gan_figures.clip_grid(synthetic.clips, list(synthetic.index["label"]), classes,
                          out / "grid.png", title=f"synthetic clips: {tag}")
    real = data.clips.permute(0, 2, 3, 4, 1).numpy()       # (N, T, S, S, C) store layout
    gan_figures.clip_grid(real, [classes[k] for k in data.labels.tolist()], classes,
                          out / "real_grid.png", title=f"real training clips: {tag}")
    gan_figures.quality_bars(quality, classes, out / "quality.png", title=f"label fidelity: {tag}")
    atomic.write_json(out / "quality.json", quality)
    return quality


def train_gan_stage(config: dict[str, Any], dataset: str, fold: int, out_dir: str | Path) -> None:
    """Rule ``train_gan``: the study's classes, the dataset's aligned store(s), ``augment.sd``,
    ``train.val_fraction`` (whose validation subjects are left out)."""
    clipset = load_dataset(config["results"], dataset, mmap=True)
    train_gan(clipset, out_dir, dataset=dataset, test_fold=int(fold),
              classes=list(config["study"]["classes"]), cfg=sd_options(config),
              val_fraction=float(config.get("train", {}).get("val_fraction", 0.0)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def generate_stage(generator: str | Path, out_dir: str | Path, *, clips_per_class: int,
                   seed: int) -> ClipSet:
    """Rule ``generate_clips``: sample the store, then write it and its provenance."""
    generator = Path(generator)
    synthetic = generate_clipset(generator, clips_per_class, seed=seed, device=pick_device())
    out = Path(out_dir)
    ckpt = torch.load(generator, map_location="cpu", weights_only=False)
    atomic.write_json(out / "provenance.json", {
        "generator": str(generator), "generator_sha256": _sha256(generator),
        "dataset": ckpt["dataset"], "test_fold": ckpt["test_fold"],
        "train_subjects": ckpt["train_subjects"], "n_train": ckpt["n_train"],
        "clips_per_class": clips_per_class, "seed": seed, "classes": ckpt["classes"]})
    write_store(out, synthetic.clips, synthetic.intensity, synthetic.index)
    return synthetic
