"""Variance plot: every run's in-dataset score, box + points per configuration.

Facets: one row per training dataset, one column per init (as in the pitfalls study). Inside a
panel, x = architecture (with method/protocol when those vary) and colour = augmentation; each
point is one seed x fold, so the spread a single reported number hides is visible.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ferstudy.figures.style import PALETTE, grid, message_figure

METRIC_LABEL = {"accuracy": "accuracy (%)", "macro_f1": "macro F1 (%)"}


def _x_label(frame: pd.DataFrame) -> pd.Series:
    parts = ["arch"] + [a for a in ("method", "protocol") if frame[a].nunique() > 1]
    return frame[parts].astype(str).agg("/".join, axis=1)


def plot_variance(runs: pd.DataFrame, *, metric: str = "accuracy", seed: int = 0,
                  order: Sequence[str] | None = None):
    """runs: the tidy runs table; order: training sets in display order. Returns a figure."""
    data = runs[runs["kind"] == "in"].copy()
    if data.empty:
        return message_figure("Variance over seeds and folds", "no in-dataset results yet")
    data["x"] = _x_label(data)
    data["value"] = 100.0 * data[metric]
    datasets = [d for d in (order or []) if d in set(data["dataset"])]
    datasets += [d for d in dict.fromkeys(data["dataset"]) if d not in datasets]
    inits = sorted(data["init"].unique())
    xs = sorted(data["x"].unique())
    augments = list(dict.fromkeys(sorted(data["augment"].unique(), key=lambda a: (a != "none", a))))
    width = 0.8 / len(augments)
    rng = np.random.default_rng(seed)  # jitter only; fixed so the figure is reproducible
    fig, axes = grid(len(datasets), len(inits), width=max(3.0, 0.9 * len(xs) * len(augments)),
                     height=2.6, sharey=True)
    for i, dataset in enumerate(datasets):
        for j, init in enumerate(inits):
            ax = axes[i][j]
            panel = data[(data["dataset"] == dataset) & (data["init"] == init)]
            for k, augment in enumerate(augments):
                colour = PALETTE[k % len(PALETTE)]
                for xi, x in enumerate(xs):
                    values = panel[(panel["augment"] == augment) & (panel["x"] == x)]["value"].dropna()
                    if values.empty:
                        continue
                    pos = xi - 0.4 + width * (k + 0.5)
                    ax.boxplot(values, positions=[pos], widths=width * 0.8, showfliers=False,
                               patch_artist=True, boxprops={"facecolor": colour, "alpha": 0.35},
                               medianprops={"color": colour})
                    jitter = rng.uniform(-width * 0.25, width * 0.25, size=len(values))
                    ax.scatter(pos + jitter, values, s=12, color=colour, edgecolor="black",
                               linewidth=0.4, zorder=3)
            ax.set_xticks(range(len(xs)), xs, rotation=20, ha="right")
            ax.set_title(f"train {dataset} | init {init}")
            if j == 0:
                ax.set_ylabel(f"in-dataset {METRIC_LABEL[metric]}")
            if i == len(datasets) - 1:
                ax.set_xlabel("architecture")
    handles = [Line2D([], [], marker="o", linestyle="", color=PALETTE[k % len(PALETTE)],
                      markeredgecolor="black", label=a) for k, a in enumerate(augments)]
    fig.legend(handles=handles, title="augmentation (one point = one seed x fold)",
               loc="upper center", ncol=len(augments), bbox_to_anchor=(0.5, 1.0 + 0.25 / len(datasets)))
    fig.tight_layout()
    return fig
