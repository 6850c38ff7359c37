"""Forest plot of the paired comparisons: does a factor change the score beyond the spread?

One panel per study question; one line per matched group (training set / configuration),
mean paired difference a - b in percentage points with its bootstrap CI. Filled markers:
the difference exceeds the seed x fold spread of both arms; hollow: it does not.
Only own-test-set rows (kinds ``in`` / ``member``) and the per-run in-vs-cross drop are shown;
comparisons.csv holds every test set.
"""
from __future__ import annotations

import pandas as pd

from ferstudy.figures.style import PALETTE, grid, message_figure
from ferstudy.figures.variance import METRIC_LABEL

SHOWN_KINDS = ("in", "member", "cross")  # "cross" here is only the in_vs_cross drop row


def _row_label(row: pd.Series) -> str:
    fixed = [str(row[c]) for c in ("dataset", "arch", "method", "init", "augment", "protocol")
             if " vs " not in str(row[c])]
    if row["question"] == "merged_vs_single":
        fixed[0] = f"{row['a']} vs {row['b']}"
    test = "" if row["test_set"] in (row["dataset"], "foreign (mean)") else f" on {row['test_set']}"
    return "/".join(fixed) + test + f" (n={row['n_pairs']})"


def plot_comparisons(comparisons: pd.DataFrame, *, metric: str = "accuracy"):
    data = comparisons[(comparisons["metric"] == metric) & comparisons["kind"].isin(SHOWN_KINDS)]
    data = data[(data["kind"] != "cross") | (data["question"] == "in_vs_cross")]
    data = data[data["n_pairs"] > 0]
    if data.empty:
        return message_figure("Paired comparisons", "no matched pairs in the grid yet")
    questions = list(dict.fromkeys(data["question"]))
    sizes = [int((data["question"] == q).sum()) for q in questions]
    fig, axes = grid(len(questions), 1, width=7.5, height=1.0,
                     gridspec_kw={"height_ratios": [max(s, 2) for s in sizes]})
    fig.set_figheight(sum(0.22 * max(s, 2) + 0.8 for s in sizes))
    for ax, question in zip(axes[:, 0], questions):
        part = data[data["question"] == question].reset_index(drop=True)
        y = range(len(part))
        for i, row in part.iterrows():
            mean = 100 * row["mean_diff"]
            low, high = 100 * row["diff_ci_low"], 100 * row["diff_ci_high"]
            colour = PALETTE[0] if row["exceeds_spread"] else PALETTE[7]
            if pd.notna(low):
                ax.plot([low, high], [i, i], color=colour, lw=1.5)
            ax.plot(mean, i, "o", color=colour, ms=5,
                    markerfacecolor=colour if row["exceeds_spread"] else "white")
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(list(y), [_row_label(r) for _, r in part.iterrows()], fontsize=7)
        ax.invert_yaxis()
        a, b = part.iloc[0]["a"], part.iloc[0]["b"]
        title = f"{question}: a - b" if question == "merged_vs_single" else f"{question}: {a} - {b}"
        ax.set_title(title, loc="left")
        ax.set_xlabel(f"a - b, {METRIC_LABEL[metric].replace('(%)', '')}(percentage points):"
                      " mean and bootstrap CI")
    handles = [ax.plot([], [], "o", color=PALETTE[0], label="exceeds the seed x fold spread")[0],
               ax.plot([], [], "o", color=PALETTE[7], markerfacecolor="white",
                       label="within the spread")[0]]
    fig.legend(handles=handles, loc="upper center", ncol=2, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig
