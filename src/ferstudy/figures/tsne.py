"""t-SNE of a run's test-fold embeddings, coloured by class and (merged sets) by source dataset.

The embeddings are ``embeddings.npy`` (float32 ``(n_test, D)``), rows aligned with
``predictions.csv``. sklearn's TSNE with a fixed ``random_state``; the perplexity is lowered
to ``(n - 1) / 3`` for small test folds (TSNE needs perplexity < n).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ferstudy.evaluate.runs import RunKey, read_predictions
from ferstudy.figures.style import PALETTE, grid, message_figure
from ferstudy.labels import CANONICAL

MIN_POINTS = 5
EXACT_MAX = 1000


def embed_2d(emb: np.ndarray, *, perplexity: float, seed: int) -> np.ndarray:
    """emb ``(N, D)`` -> ``(N, 2)``; perplexity adapted to N."""
    from sklearn.manifold import TSNE

    perplexity = float(min(perplexity, max(1.0, (len(emb) - 1) / 3.0)))
    # exact gradients for test folds of usual size: more faithful, and faster than Barnes-Hut
    # (whose OpenMP threads also stall on a busy machine) below ~1000 points
    method = "exact" if len(emb) <= EXACT_MAX else "barnes_hut"
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                learning_rate="auto", method=method)
    return tsne.fit_transform(np.asarray(emb, dtype=np.float64))


def _scatter(ax, xy: np.ndarray, groups: pd.Series, order: list[str], title: str, legend: str):
    for k, name in enumerate(order):
        mask = (groups == name).to_numpy()
        ax.scatter(xy[mask, 0], xy[mask, 1], s=14, color=PALETTE[k % len(PALETTE)],
                   edgecolor="black", linewidth=0.3, label=f"{name} ({mask.sum()})")
    ax.set_title(title)
    ax.set_xlabel("t-SNE 1 (a.u.)")
    ax.set_ylabel("t-SNE 2 (a.u.)")
    ax.legend(title=legend, loc="best", fontsize=7)


def plot_tsne(run_dir: str | Path, *, perplexity: float = 30.0, seed: int = 0,
              max_points: int = 2000):
    """One row: class panel, plus a source-dataset panel for a merged run."""
    run_dir = Path(run_dir)
    key = RunKey.parse(run_dir)
    emb_path = run_dir / "embeddings.npy"
    if not emb_path.exists():
        return message_figure(f"t-SNE: {key}", f"{emb_path} is missing")
    emb = np.load(emb_path)
    preds = read_predictions(run_dir)
    if len(emb) != len(preds):
        raise ValueError(f"{emb_path} has {len(emb)} rows but predictions.csv has {len(preds)}; "
                         "they must be aligned row by row (rerun the train job)")
    if len(emb) < MIN_POINTS:
        return message_figure(f"t-SNE: {key}", f"only {len(emb)} test clips: too few for t-SNE")
    if len(emb) > max_points:  # seeded subsample keeps big test sets tractable
        keep = np.sort(np.random.default_rng(seed).choice(len(emb), max_points, replace=False))
        emb, preds = emb[keep], preds.iloc[keep].reset_index(drop=True)
    xy = embed_2d(emb, perplexity=perplexity, seed=seed)
    merged = preds["dataset"].nunique() > 1
    fig, axes = grid(1, 2 if merged else 1, width=4.6, height=4.0)
    classes = [c for c in CANONICAL if c in set(preds["label"])]
    _scatter(axes[0][0], xy, preds["label"], classes, "coloured by true class", "class (n clips)")
    if merged:
        sources = sorted(preds["dataset"].unique())
        _scatter(axes[0][1], xy, preds["dataset"], sources, "coloured by source dataset",
                 "dataset (n clips)")
    acc = float(np.mean(preds["label"] == preds["pred"]))
    fig.suptitle(f"t-SNE of test-fold embeddings, run {key}\n(test accuracy {100 * acc:.1f} %)")
    fig.tight_layout()
    return fig


def pick_run(runs: pd.DataFrame, dataset: str) -> RunKey | None:
    """The run shown for a training dataset: the first configuration in table order, lowest
    seed and fold (deterministic; the tables say how representative it is)."""
    own = runs[(runs["dataset"] == dataset) & (runs["kind"] == "in")]
    if own.empty:
        return None
    row = own.sort_values(["arch", "method", "init", "augment", "protocol", "seed", "fold"]).iloc[0]
    return RunKey.parse(row["run"])
