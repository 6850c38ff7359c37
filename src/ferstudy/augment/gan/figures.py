"""Figures written with each generator: clip grids, loss curves, quality bars (PNG, atomic)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ferstudy import atomic


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> None:
    with atomic.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight")
    _plt().close(fig)


def clip_grid(clips: np.ndarray, labels: list[str], classes: list[str], path: str | Path, *,
              title: str, per_class: int = 2) -> None:
    """Rows = classes (``per_class`` clips each), columns = frames. ``clips`` uint8
    ``(N, T, H, W, C)`` in store layout; ``labels`` (N,) class names."""
    plt = _plt()
    frames = clips.shape[1]
    chosen = []
    for cls in classes:
        chosen += [(cls, i) for i in np.flatnonzero(np.asarray(labels) == cls)[:per_class]]
    rows = max(1, len(chosen))
    fig, axes = plt.subplots(rows, frames, figsize=(frames * 0.9, rows * 0.95), squeeze=False)
    for r, (cls, i) in enumerate(chosen):
        for k in range(frames):
            ax = axes[r, k]
            img = clips[i, k]
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if k == 0:
                ax.set_ylabel(cls, fontsize=7, rotation=0, ha="right", va="center")
            if r == 0:
                ax.set_title(f"frame {k}", fontsize=7)
    for ax in axes.flat[len(chosen) * frames:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    _save(fig, path)


def loss_curves(history: pd.DataFrame, path: str | Path, *, title: str) -> None:
    """Critic and generator losses (left) and the critics' mean scores (right) per iteration."""
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    it = history["iteration"]
    a.plot(it, history["d_loss"], label="critics (hinge, clip + frame)")
    a.plot(it, history["g_loss"], label="generator")
    a.set_xlabel("iteration")
    a.set_ylabel("loss")
    a.legend(fontsize=7)
    for col in ("d_real_clip", "d_fake_clip", "d_real_frame", "d_fake_frame"):
        b.plot(it, history[col], label=col.removeprefix("d_"))
    b.set_xlabel("iteration")
    b.set_ylabel("mean critic score")
    b.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    _save(fig, path)


def quality_bars(quality: dict[str, Any], classes: list[str], path: str | Path, *, title: str) -> None:
    """Per class: probe accuracy on held-out real clips vs on synthetic clips (label fidelity)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(4.5, 0.9 * len(classes) + 1.5), 3.2))
    xs = np.arange(len(classes))
    real = [quality["probe_real_acc_per_class"][c] for c in classes]
    syn = [quality["label_fidelity_per_class"][c] for c in classes]
    ax.bar(xs - 0.2, np.nan_to_num(real), 0.4, label=f"real held-out ({quality['probe_real_acc']:.2f})")
    ax.bar(xs + 0.2, syn, 0.4, label=f"synthetic ({quality['label_fidelity']:.2f})")
    ax.axhline(quality["chance"], color="grey", lw=0.8, ls="--", label="chance")
    ax.set_xticks(xs, classes, fontsize=7, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("probe accuracy")
    ax.legend(fontsize=7)
    ax.set_title(f"{title}\nFréchet distance synthetic-real {quality['fd_synthetic']:.2f} "
                 f"(real-real floor {quality['fd_real']:.2f})", fontsize=8)
    _save(fig, path)
