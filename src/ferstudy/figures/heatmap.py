"""Cross-dataset heatmap: train set (rows) x test set (columns), mean and std over seeds x folds.

One panel per configuration (arch/method/init/augment/protocol). The cells where a model is
tested on (a member of) its own training set are outlined; the panel title gives the mean
drop from those cells to the foreign ones, in percentage points.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from ferstudy.config import is_merged
from ferstudy.evaluate.overlap import fair_tests
from ferstudy.figures.style import config_label, grid, message_figure
from ferstudy.figures.variance import METRIC_LABEL

OWN_KINDS = ("in", "member")


def cell_table(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean/std (in %) per configuration x train set x test set; merged in-rows left out
    (their member rows cover the same clips, split by dataset)."""
    # "seen" rows (a foreign set that was in the ft pretraining pool) and "overlap" rows (a
    # foreign set sharing people with the training set) are no cross-dataset test
    data = fair_tests(runs)
    data = data[~((data["kind"] == "in") & data["dataset"].map(is_merged))].copy()
    data["config"] = data.apply(config_label, axis=1)
    data["value"] = 100.0 * data[metric]
    cells = data.groupby(["config", "dataset", "test_set"], sort=False).agg(
        mean=("value", "mean"), std=("value", "std"), n=("value", "count"),
        own=("kind", lambda k: k.isin(OWN_KINDS).any()))
    return cells.reset_index()


def plot_cross_heatmap(runs: pd.DataFrame, *, metric: str = "accuracy", max_cols: int = 4,
                       order: Sequence[str] | None = None):
    """One heatmap panel per configuration; ``order``: training sets in display order."""
    if runs.empty:
        return message_figure("Cross-dataset test", "no results yet")
    cells = cell_table(runs, metric)
    configs = list(dict.fromkeys(cells["config"]))
    # singles first (in study order) so that own-dataset cells form the diagonal; merged below
    seen = [d for d in (order or []) if d in set(runs["dataset"])]
    seen += [d for d in dict.fromkeys(runs["dataset"]) if d not in seen]
    trains = [d for d in seen if not is_merged(d)] + [d for d in seen if is_merged(d)]
    singles = [t for t in dict.fromkeys(runs["test_set"]) if not is_merged(t)]
    tests = [d for d in trains if d in singles] + sorted(set(singles) - set(trains))
    n_cols = min(max_cols, len(configs))
    n_rows = math.ceil(len(configs) / n_cols)
    fig, axes = grid(n_rows, n_cols, width=1.0 + 0.9 * len(tests), height=1.2 + 0.55 * len(trains),
                     layout="constrained")
    image = None
    for i, (ax, config) in enumerate(zip(axes.flat, configs)):
        panel = cells[cells["config"] == config]
        mean = np.full((len(trains), len(tests)), np.nan)
        for _, c in panel.iterrows():
            if c["test_set"] not in tests:
                continue
            r, k = trains.index(c["dataset"]), tests.index(c["test_set"])
            mean[r, k] = c["mean"]
            std = "" if np.isnan(c["std"]) else f"\n±{c['std']:.1f}"
            ax.text(k, r, f"{c['mean']:.1f}{std}", ha="center", va="center", fontsize=7,
                    color="white" if c["mean"] < 55 else "black")
            if c["own"]:
                ax.add_patch(Rectangle((k - 0.5, r - 0.5), 1, 1, fill=False, lw=1.5, ec="black"))
        image = ax.imshow(mean, vmin=0, vmax=100, cmap="viridis", aspect="auto")
        own = panel[panel["own"]]["mean"].mean()
        foreign = panel[~panel["own"]]["mean"].mean()
        drop = f"\ndrop own->foreign: {own - foreign:.1f} pts" if not np.isnan(own - foreign) else ""
        ax.set_title(f"{config}{drop}")
        ax.set_xticks(range(len(tests)), tests, rotation=30, ha="right")
        first_col = i % n_cols == 0
        ax.set_yticks(range(len(trains)), trains if first_col else [])
        ax.set_xlabel("test set")
        if first_col:
            ax.set_ylabel("training set")
        ax.grid(False)
    for ax in list(axes.flat)[len(configs):]:
        ax.axis("off")
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8,
                 label=f"mean {METRIC_LABEL[metric]} over seeds x folds")
    return fig
