"""Classification metrics on label arrays (pure numpy; no model, no device)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) counts; row = true class, column = predicted class."""
    mat = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(mat, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return mat


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray,
                           classes: Sequence[str]) -> dict:
    """accuracy, macro-F1 (over classes present in truth or prediction), per-class recall,
    confusion matrix. A class absent from ``y_true`` has recall NaN (written as null)."""
    k = len(classes)
    mat = confusion(y_true, y_pred, k)
    support, predicted, hits = mat.sum(1), mat.sum(0), np.diag(mat)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, hits / support, np.nan)
        precision = np.where(predicted > 0, hits / predicted, 0.0)
        f1 = np.where(precision + np.nan_to_num(recall) > 0,
                      2 * precision * np.nan_to_num(recall) / (precision + np.nan_to_num(recall)),
                      0.0)
    present = (support > 0) | (predicted > 0)
    n = int(mat.sum())
    return {
        "accuracy": float(hits.sum() / n) if n else float("nan"),
        "macro_f1": float(f1[present].mean()) if present.any() else float("nan"),
        "per_class_recall": {c: (None if np.isnan(r) else float(r)) for c, r in zip(classes, recall)},
        "confusion": mat.tolist(),
        "classes": list(classes),
    }


def nll(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of the true classes (validation loss)."""
    if len(y) == 0:
        return float("nan")
    p = probs[np.arange(len(y)), np.asarray(y, int)]
    return float(-np.log(np.clip(p, 1e-12, None)).mean())
