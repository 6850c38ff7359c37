"""One figure per method: its mechanism diagnostics over training (``diagnostics.csv``).

Rows: configurations (dataset / arch / init / augment / protocol); columns: the method's
diagnostics (``PANELS``), mean +/- std over seeds x folds against the epoch (SCN, Ada-CM) or
the curriculum stage. Chance or floor lines where one exists (AUC 0.5, Ada-CM's 0.8 floor).
"""
from __future__ import annotations

import pandas as pd
from matplotlib.ticker import MaxNLocator

from ferstudy.figures.style import PALETTE, grid, message_figure

PANELS = {  # method -> ((metric, title, reference line or None), ...)
    "scn": (("weight_auc", "importance AUC, clean vs corrupted", 0.5),
            ("relabel_precision", "relabel precision", None),
            ("relabel_recall", "relabel recall (corrupted restored)", None),
            ("relabelled_clips", "clips relabelled", None)),
    "adacm": (("threshold_mean", "mean class threshold", 0.8),
              ("confident_frac", "unlabelled passing (fraction)", None),
              ("pseudo_label_accuracy", "pseudo-label accuracy (withheld labels)", None),
              ("loss_u", "L_u per step", None)),
    "curriculum": (("epochs", "epochs in stage", None),
                   ("ease_max", "stage ease range (max, min dashed)", None),
                   ("train_acc", "train accuracy at stage end", None),
                   ("val_acc", "validation accuracy at stage end", None)),
}
CONFIG = ("dataset", "arch", "init", "augment", "protocol")


def _band(ax, part: pd.DataFrame, colour, style: str = "-", label: str | None = None) -> None:
    stats = part.groupby("step")["value"].agg(["mean", "std"]).reset_index()
    std = stats["std"].fillna(0.0)
    ax.plot(stats["step"], stats["mean"], style, marker=".", color=colour, label=label)
    ax.fill_between(stats["step"], stats["mean"] - std, stats["mean"] + std, color=colour,
                    alpha=0.15, lw=0)


def plot_diagnostics(table: pd.DataFrame, method: str):
    """The figure of ``method`` from a gathered diagnostics table (``ferstudy.evaluate.
    diagnostics``); a message figure when the study has no diagnostics for it yet."""
    own = table[table["method"] == method] if len(table) else table
    if method not in PANELS or own.empty:
        return message_figure(f"Mechanism diagnostics: {method}",
                              "no diagnostics.csv rows for this method yet")
    own = own.assign(config=own[list(CONFIG)].astype(str).agg("/".join, axis=1))
    configs = sorted(own["config"].unique())
    panels = PANELS[method]
    fig, axes = grid(1, len(panels), width=3.4, height=2.8)
    unit = str(own["unit"].iloc[0])
    for col, (metric, title, ref) in enumerate(panels):
        ax = axes[0][col]
        for i, config in enumerate(configs):
            part = own[(own["config"] == config) & (own["metric"] == metric)]
            if part.empty:
                continue
            colour = PALETTE[i % len(PALETTE)]
            n = part["run"].nunique()
            _band(ax, part, colour, label=f"{config} ({n} runs)")
            if metric == "ease_max":
                low = own[(own["config"] == config) & (own["metric"] == "ease_min")]
                if not low.empty:
                    _band(ax, low, colour, "--")
        if ref is not None:
            ax.axhline(ref, color="grey", lw=0.8, ls=":")
        ax.set_title(title)
        ax.set_xlabel(unit)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][0].legend(title="mean ± std over seeds x folds", fontsize=6)
    fig.suptitle(f"Mechanism diagnostics: {method}")
    return fig
