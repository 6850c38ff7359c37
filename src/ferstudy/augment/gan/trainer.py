"""Training the clip GAN on one training set (hinge loss, SN critics, DiffAugment, lazy R1, EMA).

One iteration: a critic step on a real batch and a generated batch with the *same* classes and
intensity curves (so the critics judge looks and motion, not the label mix), then a generator
step. Both critics see DiffAugment-ed clips in both steps. The generator that is kept is an
exponential moving average of the trained one (much steadier samples on small data).
Randomness comes from one seeded CPU ``torch.Generator``: the same config, seed and machine give
the same generator.
"""
from __future__ import annotations

import copy
import logging
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from ferstudy.augment.diffaugment import diff_augment, parse_policy
from ferstudy.augment.gan.data import GanData
from ferstudy.augment.gan.models import (GENERATORS, ClipCritic, FrameCritic, count_parameters,
                                         frame_pairs)

log = logging.getLogger("ferstudy.gan")

# Config ``augment.sd`` (the schema repeats these defaults with descriptions).
SD_DEFAULTS: dict[str, Any] = {
    "generator": "reenact", "ratio": 1.0, "epoch_steps": "real", "clips_per_class": 100,
    "iterations": 800, "batch": 16,
    "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.0, "beta2": 0.99,
    "latent_dim": 64, "width": 16, "size": 48, "frame_samples": 2,
    "diffaugment": "color,translation,cutout", "spectral_norm": True, "r1_gamma": 0.1,
    "r1_every": 4,
    "ema_decay": 0.995, "log_every": 20, "seed": 0, "amp": True, "gpu": 0,
}


def _hinge(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def _pick_frames(x: torch.Tensor, t: torch.Tensor, y: torch.Tensor, idx: torch.Tensor):
    """Frames ``idx (B, k)`` of clips ``x (B, C', T, H, W)`` -> ``(B*k, C', H, W)``, t, y."""
    b, k = idx.shape
    bi = torch.arange(b, device=x.device).unsqueeze(1)
    frames = x.transpose(1, 2)[bi, idx]                    # (B, k, C, H, W)
    return frames.reshape(b * k, *frames.shape[2:]), t[bi, idx].reshape(-1), y.repeat_interleave(k)


class GanTrainer:
    """Holds the networks, optimisers and RNG; ``fit()`` runs the configured iterations."""

    def __init__(self, data: GanData, cfg: dict[str, Any], device: torch.device):
        self.cfg = {**SD_DEFAULTS, **cfg}
        parse_policy(self.cfg["diffaugment"])                  # fail before any work
        self.data, self.device = data, device
        n, c, frames = len(data), data.clips.shape[1], data.clips.shape[2]
        k = len(data.classes)
        self.gen = torch.Generator().manual_seed(int(self.cfg["seed"]))
        with torch.random.fork_rng(devices=[]):                # seeded init, caller's RNG untouched
            torch.manual_seed(int(self.cfg["seed"]))
            self.G = GENERATORS[self.cfg["generator"]](
                num_classes=k, latent_dim=self.cfg["latent_dim"], channels=c,
                size=self.cfg["size"], width=self.cfg["width"]).to(device)
            sn = bool(self.cfg["spectral_norm"])
            self.Df = FrameCritic(num_classes=k, channels=c, width=self.cfg["width"],
                                  sn=sn).to(device)
            self.Dc = ClipCritic(num_classes=k, channels=c, frames=frames,
                                 width=self.cfg["width"], sn=sn).to(device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        betas = (self.cfg["beta1"], self.cfg["beta2"])
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=self.cfg["lr_g"], betas=betas)
        self.opt_d = torch.optim.Adam(list(self.Df.parameters()) + list(self.Dc.parameters()),
                                      lr=self.cfg["lr_d"], betas=betas)
        self.clips = data.clips.to(device)
        # each training clip's most neutral frame: the identities the reenact generator animates
        neutral = data.t.argmin(dim=1)
        self.sources = data.clips[torch.arange(n), :, neutral].contiguous().to(device)  # (N, C, S, S)
        self.labels, self.t = data.labels.to(device), data.t.to(device)
        self.amp = bool(self.cfg["amp"]) and device.type == "cuda"
        log.info("GAN on %d clips (%s), G %d params, frame critic %d, clip critic %d, device %s%s",
                 n, ", ".join(data.classes), count_parameters(self.G), count_parameters(self.Df),
                 count_parameters(self.Dc), device, " (bf16 autocast)" if self.amp else "")

    # -- randomness: everything from self.gen (CPU), then moved -------------------------------
    def _randint(self, high: int, *shape: int) -> torch.Tensor:
        return torch.randint(high, shape, generator=self.gen).to(self.device)

    def _randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=self.gen).to(self.device)

    def _autocast(self):
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.amp)

    def _fake(self, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Clips for classes y and curves t, on random training identities (reenact)."""
        src = self.sources[self._randint(len(self.sources), len(y))].float() / 255.0
        return self.G(self._randn(len(y), self.cfg["latent_dim"]), y, t, src)

    def _batch(self):
        idx = self._randint(len(self.data), self.cfg["batch"])
        return self.clips[idx].float() / 255.0, self.labels[idx], self.t[idx]

    def _critics(self, x, y, t, frame_idx):
        """Scores of both critics on DiffAugment-ed clips ``x``: (clip scores, frame scores)."""
        x = diff_augment(x, self.cfg["diffaugment"], self.gen)
        frames, tf, yf = _pick_frames(frame_pairs(x), t, y, frame_idx)
        return self.Dc(x, y), self.Df(frames, yf, tf)

    def step(self, it: int) -> dict[str, float]:
        b, frames = self.cfg["batch"], self.clips.shape[2]
        k = min(int(self.cfg["frame_samples"]), frames)
        real, y, t = self._batch()
        frame_idx = torch.stack([torch.randperm(frames, generator=self.gen)[:k] for _ in range(b)])
        frame_idx = frame_idx.to(self.device)
        # critic step
        with self._autocast():
            with torch.no_grad():
                fake = self._fake(y, t)
            rc, rf = self._critics(real, y, t, frame_idx)
            fc, ff = self._critics(fake.float(), y, t, frame_idx)
            loss_d = _hinge(rc, fc) + _hinge(rf, ff)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.float().backward()
        r1 = torch.zeros(())
        if self.cfg["r1_gamma"] > 0 and it % self.cfg["r1_every"] == 0:
            r1 = self._r1(real, y, t, frame_idx)
            (r1 * self.cfg["r1_gamma"] * 0.5 * self.cfg["r1_every"]).backward()
        self.opt_d.step()
        # generator step (fresh z, same classes and curves)
        with self._autocast():
            fake = self._fake(y, t)
            gc, gf = self._critics(fake.float(), y, t, frame_idx)
            loss_g = -(gc.float().mean() + gf.float().mean())
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self._update_ema()
        stats = {"d_loss": loss_d, "g_loss": loss_g, "d_real_clip": rc.mean(),
                 "d_fake_clip": fc.mean(), "d_real_frame": rf.mean(), "d_fake_frame": ff.mean(),
                 "r1": r1}
        return {k: float(v.detach()) for k, v in stats.items()}

    def _r1(self, real, y, t, frame_idx) -> torch.Tensor:
        """Lazy R1 (Mescheder 2018): squared gradient norm of both critics at the real clips."""
        real = real.detach().requires_grad_(True)
        rc, rf = self._critics(real, y, t, frame_idx)
        (grad,) = torch.autograd.grad(rc.sum() + rf.sum(), real, create_graph=True)
        return grad.pow(2).reshape(grad.shape[0], -1).sum(1).mean()

    @torch.no_grad()
    def _update_ema(self) -> None:
        d = float(self.cfg["ema_decay"])
        for pe, p in zip(self.G_ema.parameters(), self.G.parameters()):
            pe.lerp_(p, 1.0 - d)

    def fit(self) -> pd.DataFrame:
        """Run ``iterations`` steps; the loss history averaged over ``log_every`` steps."""
        rows, window, start = [], [], time.perf_counter()
        every = max(1, int(self.cfg["log_every"]))
        for it in range(int(self.cfg["iterations"])):
            stats = self.step(it)
            if not all(np.isfinite(v) for v in stats.values()):
                raise RuntimeError(f"GAN training diverged at iteration {it}: {stats}; "
                                   f"lower augment.sd.lr_g/lr_d or raise r1_gamma")
            window.append(stats)
            if (it + 1) % every == 0 or it + 1 == self.cfg["iterations"]:
                mean = {k: float(np.mean([w[k] for w in window])) for k in window[0]}
                rows.append({"iteration": it + 1, **mean,
                             "seconds": round(time.perf_counter() - start, 3)})
                window = []
                if len(rows) % 10 == 0:
                    log.info("it %d: d_loss %.3f g_loss %.3f (%.1f s)", it + 1, mean["d_loss"],
                             mean["g_loss"], rows[-1]["seconds"])
        return pd.DataFrame(rows)

    def checkpoint(self, *, dataset: str, test_fold: int) -> dict[str, Any]:
        """What ``generator.pt`` holds: the EMA generator and what sampling needs."""
        curves = {c: self.data.t[self.data.labels == i].numpy()
                  for i, c in enumerate(self.data.classes)}
        return {
            "generator": self.cfg["generator"],
            "state_dict": {k: v.cpu() for k, v in self.G_ema.state_dict().items()},
            "sources": self.sources.cpu(),                      # uint8 (N, C, S, S)
            "kwargs": {"num_classes": len(self.data.classes), "latent_dim": self.cfg["latent_dim"],
                       "channels": int(self.clips.shape[1]), "size": self.cfg["size"],
                       "width": self.cfg["width"]},
            "classes": list(self.data.classes), "curves": curves,
            "intensity_scale": self.data.scale, "store_shape": list(self.data.store_shape),
            "dataset": dataset, "test_fold": test_fold, "n_train": len(self.data),
            "train_subjects": list(self.data.subjects), "config": dict(self.cfg),
        }


def pick_device() -> torch.device:
    """CUDA when present (training there uses bf16 autocast), else the CPU."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
