"""Confusion matrices of the in-dataset test folds, one panel per configuration.

Counts are summed over the configuration's seeds x folds (from each run's predictions.csv)
and normalised per true class, so a cell reads "% of clips of class r predicted as c".
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ferstudy.evaluate.runs import read_metrics, read_predictions
from ferstudy.figures.style import config_label, grid, message_figure


def confusion_counts(labels, preds, classes: list[str]) -> np.ndarray:
    """int ``(K, K)``: row = true class, column = predicted class."""
    index = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((len(classes), len(classes)), dtype=int)
    for y, p in zip(labels, preds):
        if y in index and p in index:
            counts[index[y], index[p]] += 1
    return counts


def plot_confusions(runs: pd.DataFrame, runs_root: str | Path, dataset: str, *, max_cols: int = 4):
    own = runs[(runs["dataset"] == dataset) & (runs["kind"] == "in")].copy()
    if own.empty:
        return message_figure(f"Confusion matrices: {dataset}", "no runs on this dataset yet")
    own["config"] = own.apply(config_label, axis=1)
    configs = list(dict.fromkeys(own.sort_values("config")["config"]))
    n_cols = min(max_cols, len(configs))
    n_rows = math.ceil(len(configs) / n_cols)
    first = Path(runs_root) / own["run"].iloc[0]
    classes = list(read_metrics(first)["classes"])
    fig, axes = grid(n_rows, n_cols, width=0.6 * len(classes) + 1.6, height=0.55 * len(classes) + 1.4)
    for ax, config in zip(axes.flat, configs):
        counts = np.zeros((len(classes), len(classes)), dtype=int)
        chosen = own[own["config"] == config]
        for run in chosen["run"]:
            preds = read_predictions(Path(runs_root) / run)
            counts += confusion_counts(preds["label"], preds["pred"], classes)
        totals = counts.sum(axis=1, keepdims=True)
        share = 100.0 * counts / np.maximum(totals, 1)
        ax.imshow(share, vmin=0, vmax=100, cmap="Blues")
        for r in range(len(classes)):
            for c in range(len(classes)):
                ax.text(c, r, f"{share[r, c]:.0f}", ha="center", va="center", fontsize=6,
                        color="white" if share[r, c] > 60 else "black")
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
        ax.set_yticks(range(len(classes)), [f"{c} ({t})" for c, t in zip(classes, totals[:, 0])])
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class (n clips)")
        ax.set_title(f"{config}\n{len(chosen)} runs, % of true class")
        ax.grid(False)
    for ax in list(axes.flat)[len(configs):]:
        ax.axis("off")
    fig.suptitle(f"In-dataset confusion, training set {dataset} (row-normalised, %)")
    fig.tight_layout()
    return fig
