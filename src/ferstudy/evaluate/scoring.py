"""Scores over an explicit label intersection.

A model trained on classes ``A`` and tested on a set labelled with classes ``B`` is scored on
``shared = A ∩ B`` only: test clips whose label is outside ``shared`` are dropped, and the
prediction is the arg-max over the probabilities of the shared classes (the logits of classes
the test set cannot contain are ignored, so e.g. a CK+ model's "contempt" output never counts
against MUG, and MUG's "neutral" clips are not scored against a model that never saw neutral).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ferstudy.labels import shared_classes


def restrict_predictions(probs: np.ndarray, model_classes: Sequence[str],
                         shared: Sequence[str]) -> np.ndarray:
    """Arg-max over the shared classes only.

    probs: float ``(N, K)``, column k <-> ``model_classes[k]``. Returns ``(N,)`` class names
    (each one of ``shared``).
    """
    if not shared:
        raise ValueError("no shared classes: cannot restrict predictions")
    missing = [c for c in shared if c not in model_classes]
    if missing:
        raise ValueError(f"shared classes {missing} are not outputs of the model {list(model_classes)}")
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[1] != len(model_classes):
        raise ValueError(f"probs has shape {probs.shape}; expected (N, {len(model_classes)})")
    cols = [list(model_classes).index(c) for c in shared]
    return np.asarray(shared, dtype=object)[probs[:, cols].argmax(axis=1)]


def intersect_classes(train_classes: Sequence[str], test_labels: Sequence[str]) -> list[str]:
    """The label intersection of a train set and a test set, in canonical order."""
    present = {label for label in test_labels if label}
    return shared_classes(list(train_classes), sorted(present))


def score(labels: Sequence[str], preds: Sequence[str], classes: Sequence[str]) -> dict[str, float]:
    """Accuracy and macro F1 over the ``classes`` that occur in the labels or the predictions
    (the training engine's definition, ``ferstudy.train.metrics``).

    labels, preds: ``(N,)`` class names; clips whose true label is not in ``classes`` must
    have been dropped by the caller.
    """
    from sklearn.metrics import f1_score

    labels = np.asarray(labels, dtype=object)
    preds = np.asarray(preds, dtype=object)
    if labels.shape != preds.shape:
        raise ValueError(f"{labels.shape[0]} labels but {preds.shape[0]} predictions")
    if labels.size == 0:
        return {"accuracy": float("nan"), "macro_f1": float("nan"), "n_test": 0}
    present = [c for c in classes if np.any(labels == c) or np.any(preds == c)]
    f1 = f1_score(labels, preds, labels=present, average="macro", zero_division=0)
    return {"accuracy": float(np.mean(labels == preds)), "macro_f1": float(f1),
            "n_test": int(labels.size)}
