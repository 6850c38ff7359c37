"""Sampling synthetic clips from a trained clip generator into the clip-store format.

Each synthetic clip gets a fresh latent (fixed over its frames), a training identity's neutral
frame to animate (``reenact``; ``synthesize`` draws the face from the latent), a class,
and an intensity curve drawn from the real training clips of that class (so synthetic clips
have the onset/apex(/offset) profiles the real ones have). Frames are resized to the source
store's size, so synthetic and real clips stack (``clipstore.concat``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from ferstudy.augment.gan.models import GENERATORS
from ferstudy.clipstore import INDEX_COLUMNS, ClipSet


def load_generator(path_or_ckpt: str | Path | dict[str, Any],
                   device: torch.device | str = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    ckpt = path_or_ckpt if isinstance(path_or_ckpt, dict) else \
        torch.load(path_or_ckpt, map_location="cpu", weights_only=False)
    G = GENERATORS[ckpt.get("generator", "synthesize")](**ckpt["kwargs"])
    G.load_state_dict(ckpt["state_dict"])
    return G.to(device).eval(), ckpt


@torch.no_grad()
def sample(G: torch.nn.Module, ckpt: dict[str, Any], labels: np.ndarray, *, seed: int,
           device: torch.device | str = "cpu", batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Clips for class indices ``labels (N,)``: uint8 ``(N, T, H, W, C)`` at the store's size
    and their intensity curves ``(N, T)`` in store units."""
    gen = torch.Generator().manual_seed(int(seed))
    t_store, h, w, c = ckpt["store_shape"]
    curves = [np.asarray(ckpt["curves"][cls], dtype=np.float32) for cls in ckpt["classes"]]
    clips, ts = [], []
    for start in range(0, len(labels), batch):
        y = torch.as_tensor(labels[start:start + batch], dtype=torch.long)
        z = torch.randn(len(y), G.latent_dim, generator=gen)
        pick = [int(torch.randint(len(curves[k]), (1,), generator=gen)) for k in y.tolist()]
        t = torch.from_numpy(np.stack([curves[k][i] for k, i in zip(y.tolist(), pick)]))
        sources = ckpt.get("sources")
        src = None if sources is None else \
            sources[torch.randint(len(sources), (len(y),), generator=gen)].float().div(255).to(device)
        x = G(z.to(device), y.to(device), t.to(device), src).float().cpu()   # (b, C, T, S, S)
        b, cg, frames, s, _ = x.shape
        if (s, s) != (h, w):
            x = F.interpolate(x.reshape(b, cg * frames, s, s), size=(h, w), mode="bilinear",
                              align_corners=False).reshape(b, cg, frames, h, w)
        if cg != c:   # the store's colour mode differs from the GAN's: grey <-> RGB
            x = x.mean(1, keepdim=True).expand(b, c, frames, h, w)
        clips.append((x.permute(0, 2, 3, 4, 1).clamp(0, 1) * 255).round().to(torch.uint8).numpy())
        ts.append(t.numpy() * float(ckpt["intensity_scale"]))
    return np.concatenate(clips), np.concatenate(ts).astype(np.float32)


def generate_clipset(path_or_ckpt: str | Path | dict[str, Any], n_per_class: int, *, seed: int,
                     device: torch.device | str = "cpu") -> ClipSet:
    """``n_per_class`` synthetic clips of every class the generator knows, flagged
    ``synthetic = 1`` (fold -1: they belong to no test fold)."""
    if n_per_class < 1:
        raise ValueError(f"augment.sd.clips_per_class must be >= 1, got {n_per_class}")
    G, ckpt = load_generator(path_or_ckpt, device)
    classes = ckpt["classes"]
    labels = np.repeat(np.arange(len(classes)), n_per_class)
    clips, intensity = sample(G, ckpt, labels, seed=seed, device=device)
    name, fold = ckpt["dataset"], int(ckpt["test_fold"])
    index = pd.DataFrame({
        "row": np.arange(len(labels)),
        "clip_id": [f"syn-{name}-fold{fold}-{classes[k]}-{i % n_per_class:04d}"
                    for i, k in enumerate(labels)],
        "dataset": name, "subject": f"synthetic-{name}-fold{fold}",
        "label": [classes[k] for k in labels], "fold": -1, "detection_rate": 1.0,
        "intensity": intensity.max(axis=1), "synthetic": 1,
    })
    return ClipSet(clips, intensity, index[INDEX_COLUMNS + ["synthetic"]])
