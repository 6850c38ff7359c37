"""Training curves per configuration: mean +/- std over seeds x folds of each run's curve.csv.

One row per configuration; left: loss (train solid, validation dashed), right: accuracy in %.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.ticker import MaxNLocator

from ferstudy.figures.style import PALETTE, config_label, grid, message_figure


def read_curves(runs_root: str | Path, run_ids) -> pd.DataFrame:
    frames = []
    for run in run_ids:
        path = Path(runs_root) / run / "curve.csv"
        if path.exists():
            frames.append(pd.read_csv(path).assign(run=run))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _band(ax, curves: pd.DataFrame, column: str, colour, style: str, label: str, scale: float = 1.0):
    if column not in curves.columns or curves[column].isna().all():
        return
    stats = curves.groupby("epoch")[column].agg(["mean", "std"]).reset_index()
    mean, std = scale * stats["mean"], scale * stats["std"].fillna(0.0)
    ax.plot(stats["epoch"], mean, style, color=colour, label=label)
    ax.fill_between(stats["epoch"], mean - std, mean + std, color=colour, alpha=0.2, lw=0)


def plot_curves(runs: pd.DataFrame, runs_root: str | Path, dataset: str):
    own = runs[(runs["dataset"] == dataset) & (runs["kind"] == "in")].copy()
    if own.empty:
        return message_figure(f"Training curves: {dataset}", "no runs on this dataset yet")
    own["config"] = own.apply(config_label, axis=1)
    configs = sorted(own["config"].unique())
    fig, axes = grid(len(configs), 2, width=4.2, height=2.4)
    for i, config in enumerate(configs):
        ids = own[own["config"] == config]["run"].unique()
        curves = read_curves(runs_root, ids)
        loss_ax, acc_ax = axes[i]
        if curves.empty:
            loss_ax.set_title(f"{config}: no curve.csv")
            continue
        _band(loss_ax, curves, "train_loss", PALETTE[0], "-", "train")
        _band(loss_ax, curves, "val_loss", PALETTE[1], "--", "validation")
        _band(acc_ax, curves, "train_acc", PALETTE[0], "-", "train", 100.0)
        _band(acc_ax, curves, "val_acc", PALETTE[1], "--", "validation", 100.0)
        loss_ax.set_title(f"{config} ({len(ids)} runs): loss")
        acc_ax.set_title(f"{config}: accuracy")
        loss_ax.set_ylabel("cross-entropy loss")
        acc_ax.set_ylabel("accuracy (%)")
        for ax in (loss_ax, acc_ax):
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if i == 0:
            loss_ax.legend(title="mean ± std over seeds x folds")
    fig.suptitle(f"Training curves, training set {dataset}")
    fig.tight_layout()
    return fig
