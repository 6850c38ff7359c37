"""How good are the synthetic clips? Label fidelity and a Fréchet distance under a real-data probe.

The probe is a tiny CNN trained on real clips only (the GAN's training subjects, minus a
held-out quarter of them): it sees the apex frame and the apex-minus-first-frame difference
(the expression and its motion). Reported:

- ``probe_real_acc``: its accuracy on the held-out real subjects (how good the probe is);
- ``label_fidelity``: its accuracy on synthetic clips (does a clip of class c look like c?);
- ``fd_synthetic``: Fréchet distance between synthetic clips and all real clips in the probe's
  embedding (FID-style); ``fd_real``: the same between held-out and probe-training real clips,
  the floor that "as real as real" would reach with these sample sizes;
- motion energy (mean |frame difference|) of real and synthetic clips.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import linalg
from torch import nn
from torch.nn import functional as F


class ProbeNet(nn.Module):
    """``(N, 2C, S, S)`` -> (logits ``(N, K)``, embedding ``(N, 16)``)."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 16, embed: int = 16):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, embed), nn.ReLU())
        self.head = nn.Linear(embed, num_classes)

    def forward(self, x: torch.Tensor):
        emb = self.features(x)
        return self.head(emb), emb


def probe_input(clips: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """uint8 clips ``(N, C, T, S, S)`` + intensity ``(N, T)`` -> ``(N, 2C, S, S)`` float:
    the apex frame (highest intensity) and its difference from the first (neutral) frame."""
    x = clips.float() / 255.0
    apex = t.argmax(dim=1)
    frame = x[torch.arange(len(x)), :, apex]
    return torch.cat([frame, frame - x[:, :, 0]], dim=1)


def train_probe(x: torch.Tensor, y: torch.Tensor, num_classes: int, *, seed: int,
                steps: int = 300, batch: int = 32) -> ProbeNet:
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = ProbeNet(x.shape[1], num_classes)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3, weight_decay=1e-4)
    net.train()
    for _ in range(steps):
        idx = torch.randint(len(x), (min(batch, len(x)),), generator=gen)
        loss = F.cross_entropy(net(x[idx])[0], y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


@torch.no_grad()
def embed(net: ProbeNet, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    logits, emb = net(x)
    return logits.argmax(1).numpy(), emb.double().numpy()


def frechet_distance(a: np.ndarray, b: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to ``a (n, D)`` and ``b (m, D)``."""
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    mu1, mu2 = a.mean(0), b.mean(0)
    s1 = np.atleast_2d(np.cov(a, rowvar=False)) + eps * np.eye(a.shape[1])
    s2 = np.atleast_2d(np.cov(b, rowvar=False)) + eps * np.eye(a.shape[1])
    covmean = linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def _motion(clips: torch.Tensor) -> float:
    x = clips.float() / 255.0
    return float((x[:, :, 1:] - x[:, :, :-1]).abs().mean())


def split_subjects(subjects: np.ndarray, seed: int, frac: float = 0.25) -> np.ndarray:
    """Boolean mask of held-out clips: a seeded quarter of the subjects (at least one)."""
    unique = np.array(sorted(set(subjects.tolist())))
    if len(unique) < 2:
        return np.zeros(len(subjects), dtype=bool)
    rng = np.random.default_rng(seed)
    held = rng.choice(unique, size=max(1, int(round(frac * len(unique)))), replace=False)
    return np.isin(subjects, held)


def quality_metrics(real_clips: torch.Tensor, real_t: torch.Tensor, real_y: torch.Tensor,
                    real_subjects: np.ndarray, syn_clips: torch.Tensor, syn_t: torch.Tensor,
                    syn_y: torch.Tensor, classes: list[str], *, seed: int = 0,
                    probe_steps: int = 300) -> dict[str, Any]:
    """All clips uint8 ``(N, C, T, S, S)`` at one size; ``t`` ``(N, T)``; ``y`` class indices."""
    held = torch.from_numpy(split_subjects(real_subjects, seed))
    fit = ~held if held.any() else torch.ones_like(held)
    xr, xs = probe_input(real_clips, real_t), probe_input(syn_clips, syn_t)
    net = train_probe(xr[fit], real_y[fit], len(classes), seed=seed, steps=probe_steps)
    pred_r, emb_r = embed(net, xr)
    pred_s, emb_s = embed(net, xs)
    yr, ys = real_y.numpy(), syn_y.numpy()
    heldm = held.numpy()
    per_class = {c: float(np.mean(pred_s[ys == k] == k)) if np.any(ys == k) else float("nan")
                 for k, c in enumerate(classes)}
    per_class_real = {c: float(np.mean(pred_r[heldm & (yr == k)] == k))
                      if np.any(heldm & (yr == k)) else float("nan") for k, c in enumerate(classes)}
    return {
        "n_real": int(len(yr)), "n_real_heldout": int(heldm.sum()), "n_synthetic": int(len(ys)),
        "probe_real_acc": float(np.mean(pred_r[heldm] == yr[heldm])) if heldm.any() else float("nan"),
        "probe_train_acc": float(np.mean(pred_r[~heldm] == yr[~heldm])),
        "label_fidelity": float(np.mean(pred_s == ys)),
        "label_fidelity_per_class": per_class, "probe_real_acc_per_class": per_class_real,
        "fd_synthetic": frechet_distance(emb_s, emb_r),
        "fd_real": frechet_distance(emb_r[heldm], emb_r[~heldm]) if heldm.any() else float("nan"),
        "motion_real": _motion(real_clips), "motion_synthetic": _motion(syn_clips),
        "chance": 1.0 / len(classes),
    }
