"""The one-page answer: every study question's overall effect, the interval its verdict is read
off (at the question's family level, ``ci_level``), the ROPE and the verdict word (``results/studies/<study>/figures/verdicts.png``); and one forest plot per question with
its configurations (``results/studies/<study>/figures/comparisons/{question}.png``), each sized for a screen.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ferstudy.evaluate.decision import NOT_IN_STUDY
from ferstudy.figures.style import PALETTE, message_figure

COLOURS = {"A better": PALETTE[2], "B better": PALETTE[3], "equivalent": PALETTE[0],
           "undecided": PALETTE[7]}
MAX_ROWS = 36  # rows of one per-question forest plot (a screen at 150 dpi)


def _points(row: pd.Series, spread: bool) -> tuple[float, float, float]:
    scale = 1.0 if spread else 100.0
    return tuple(scale * row[c] for c in ("effect", "ci_low", "ci_high"))


def _panel(ax, rows: pd.DataFrame, *, spread: bool, rope: float, xlabel: str) -> None:
    if spread:
        from matplotlib.ticker import NullFormatter, ScalarFormatter

        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.axvspan(1 / rope, rope, color=PALETTE[0], alpha=0.12, lw=0)
        ax.axvline(1.0, color="black", lw=0.8)
    else:
        ax.axvspan(-rope, rope, color=PALETTE[0], alpha=0.12, lw=0)
        ax.axvline(0.0, color="black", lw=0.8)
    for i, (_, row) in enumerate(rows.iterrows()):
        if row["verdict"] == NOT_IN_STUDY or pd.isna(row["effect"]):
            ax.text(0.5, i, f"{row['verdict']}: {row['reason']}", transform=ax.get_yaxis_transform(),
                    ha="center", va="center", fontsize=7, color="grey")
            continue
        mean, low, high = _points(row, spread)
        colour = COLOURS.get(row["verdict"], "black")
        if np.isfinite(low) and np.isfinite(high):
            ax.plot([low, high], [i, i], color=colour, lw=2)
        ax.plot(mean, i, "o", color=colour, ms=6)
        units = f"{int(row['n_units'])} {row['unit']}s" if pd.notna(row["n_units"]) else ""
        size = f"x{mean:.2f}" if spread else f"{mean:+.1f}"
        if pd.notna(row.get("ci_level")):
            units += f", {100 * row['ci_level']:.4g}%"
        word = row["verdict"]
        if word == "undecided" and pd.isna(row.get("ci_level")):
            word = f"undecided ({str(row['reason']).split(':')[0]})"   # could not decide at all
        ax.text(1.01, i, f"{word}\n{size} ({units})", transform=ax.get_yaxis_transform(),
                va="center", fontsize=8, color=colour, fontweight="bold")
    ax.set_yticks(range(len(rows)), [f"{r['label']}\n({r['a']} vs {r['b']})" for _, r in rows.iterrows()],
                  fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel(xlabel)


def plot_verdicts(verdicts: pd.DataFrame, *, rope: float, sd_ratio_rope: float, metric: str):
    """One row per question (scope ``overall``); seed-spread questions in a second panel."""
    import matplotlib.pyplot as plt

    overall = verdicts[verdicts["scope"] == "overall"]
    if overall.empty:
        return message_figure("Verdicts", "no comparisons in the grid yet")
    is_spread = overall["question"].str.startswith("seed_sd_")
    parts = [(overall[~is_spread], False), (overall[is_spread], True)]
    parts = [(p, s) for p, s in parts if len(p)]
    heights = [max(len(p), 1) for p, _ in parts]
    fig, axes = plt.subplots(len(parts), 1, figsize=(8.5, 1.2 + 0.42 * sum(heights) + 0.6 * len(parts)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (rows, spread) in zip(axes[:, 0], parts):
        label = ("seed standard deviation ratio A / B (log scale) and the interval the verdict "
                 "reads; shaded: equivalent" if spread else
                 f"A - B, {metric} points: mean and the interval the verdict reads (level 1 - "
                 f"alpha / m, m = the question's rows); shaded: ROPE +-{rope:g}")
        _panel(ax, rows.reset_index(drop=True), spread=spread,
               rope=sd_ratio_rope if spread else rope, xlabel=label)
    axes[0, 0].set_title("Verdicts: each question over every dataset of the study "
                         "(per-dataset rows in verdicts.csv)", loc="left")
    fig.tight_layout()
    return fig


def _config_label(row: pd.Series) -> str:
    fixed = [str(row[c]) for c in ("dataset", "arch", "method", "init", "augment", "protocol")
             if " vs " not in str(row[c])]
    if row["question"] == "merged_vs_single":
        fixed[0] = f"{row['a']} vs {row['b']}"
    test = "" if row["test_set"] in (row["dataset"], "foreign (mean)") else f" on {row['test_set']}"
    return "/".join(fixed) + test + f" ({row['n_folds']}f x {row['n_seeds']}s)"


def plot_question(comparisons: pd.DataFrame, question: str, *, metric: str, rope: float):
    """Every configuration of one question on its own test folds (in-vs-cross: the per-run
    drop), corrected intervals coloured by verdict; at most ``MAX_ROWS`` rows."""
    import matplotlib.pyplot as plt

    data = comparisons[(comparisons["question"] == question) & (comparisons["metric"] == metric)]
    data = data[data["kind"].isin(["in", "member"]) | (question == "in_vs_cross")]
    if data.empty:
        return message_figure(question, "no matched configurations in the grid yet")
    data = data.reset_index(drop=True)
    hidden = max(0, len(data) - MAX_ROWS)
    data = data.head(MAX_ROWS)
    fig, ax = plt.subplots(figsize=(8.0, 1.4 + 0.24 * len(data)))
    ax.axvspan(-rope, rope, color=PALETTE[0], alpha=0.12, lw=0)
    ax.axvline(0.0, color="black", lw=0.8)
    for i, row in data.iterrows():
        colour = COLOURS.get(row["verdict"], "black")
        if pd.notna(row["diff_ci_low"]):
            ax.plot([100 * row["diff_ci_low"], 100 * row["diff_ci_high"]], [i, i], color=colour, lw=1.5)
        ax.plot(100 * row["mean_diff"], i, "o", color=colour, ms=5)
    ax.set_yticks(range(len(data)), [_config_label(r) for _, r in data.iterrows()], fontsize=7)
    ax.set_ylim(len(data) - 0.5, -0.5)
    a, b = data.iloc[0]["a"], data.iloc[0]["b"]
    title = f"{question}: " + ("merged - single" if question == "merged_vs_single" else f"{a} - {b}")
    if hidden:
        title += f" (first {MAX_ROWS} of {MAX_ROWS + hidden} rows; all in comparisons.csv)"
    ax.set_title(title, loc="left")
    level = data["ci_level"].dropna() if "ci_level" in data else pd.Series(dtype=float)
    level = f"{100 * level.iloc[0]:.4g}%" if len(level) else "family-level"
    ax.set_xlabel(f"{metric} points: seeds averaged per fold, corrected {level} interval over folds\n"
                  f"(1 - alpha / m, m = the question's rows), the one the verdict reads;"
                  f" shaded: ROPE +-{rope:g}")
    handles = [ax.plot([], [], "o", color=c, label=w)[0] for w, c in COLOURS.items()]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    fig.tight_layout()
    return fig
