"""The ``evaluate_cross`` stage: one trained run tested on its own and on every other dataset.

Rows written to ``results/eval/{run}/cross.csv`` (one per test set):

- ``kind=in``: the run's own test fold, read from its ``predictions.csv`` (no re-inference).
- ``kind=member`` (merged runs only): the same predictions split by source dataset, so a
  merged run is scored on each member's test fold (fold k of a merged set is the union of the
  members' fold k, hence these are exactly the clips a single-dataset run of fold k is tested on).
- ``kind=cross`` (single run on another dataset) or ``kind=lodo`` (merged run on a dataset left
  out of the merge): the model is re-run on **all labelled clips of every fold** of that
  dataset. No subject of a foreign dataset was seen in training, so every fold is a fair test
  set and using all of them gives the largest, least noisy estimate.
- ``kind=seen``: a foreign dataset that was in the run's ``ft`` pretraining pool, or shares
  people with a dataset of it (the check_overlap table's ``pretraining`` rows) (metrics.json
  ``pretrain_sources``): scored for the record, but left out of every cross-dataset statistic
  and figure, since its labels were seen in pretraining.
- ``kind=overlap``: a foreign dataset that shares people with the training set (same or nested
  root, same clip hashes, or declared ``same_subjects_as``; see ``ferstudy.evaluate.overlap``
  and the ``check_overlap`` rule): scored for the record, never reported as ``cross``, left
  out of every cross-dataset statistic and figure mean.

Every row is scored over the explicit label intersection ``shared_classes`` (see
``ferstudy.evaluate.scoring``).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ferstudy.config import dataset_members, is_merged
from ferstudy.evaluate.overlap import overlapping, pool_overlapping, read_overlap
from ferstudy.evaluate.runs import RunKey, read_metrics, read_predictions
from ferstudy.evaluate.scoring import intersect_classes, restrict_predictions, score
from ferstudy.labels import CANONICAL

log = logging.getLogger("ferstudy.evaluate")
Predictor = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
READ_CHUNK = 256  # clips read from a store per predictor call
COLUMNS = ("test_set", "kind", "shared_classes", "n_classes", "accuracy", "macro_f1", "n_test",
           "accuracy_optimistic")
# accuracy_optimistic: ``in`` rows of runs on a release's train/test split only (RAF-DB
# official): the test accuracy of the epoch that is best ON TEST, as the papers' code reports.
# For comparison with published figures only; no summary, verdict or figure headline uses it.


def labelled_clips(aligned_dir: str | Path) -> tuple[np.ndarray, pd.DataFrame]:
    """(clips, index) of an aligned store: clips ``(N, T, H, W, C)`` uint8 stay memory-mapped;
    the index keeps only labelled, real (non-synthetic) rows; its ``row`` points into clips."""
    from ferstudy.clipstore import read_store

    store = read_store(aligned_dir, mmap=True)
    keep = store.index["label"] != ""
    if "synthetic" in store.index.columns:
        keep &= store.index["synthetic"].astype(int) == 0
    index = store.index[keep].reset_index(drop=True)
    index["row"] = np.flatnonzero(keep.to_numpy())
    return store.clips, index


def dataset_classes(aligned_dir: str | Path) -> list[str]:
    """Canonical classes with at least one labelled clip in a dataset's aligned store."""
    return intersect_classes(CANONICAL, labelled_clips(aligned_dir)[1]["label"].unique())


def default_predictor(run_dir: str | Path, device: str = "auto", batch_clips: int = 32
                      ) -> tuple[Predictor, list[str]]:
    """The trained model of ``run_dir`` as a function clips_uint8 ``(N,T,H,W,C)`` ->
    (probs ``(N, K)``, embeddings ``(N, D)``), and its K output classes in order."""
    from ferstudy.train.device import pick_device
    from ferstudy.train.predict import load_run_model, predict

    device = pick_device(device)
    model = load_run_model(run_dir, device)

    def run(clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return predict(model, clips, device=device, batch_size=batch_clips)

    return run, list(model.classes)


def _row(test_set: str, kind: str, shared: Sequence[str], scores: Mapping) -> dict:
    return {"test_set": test_set, "kind": kind, "shared_classes": ";".join(shared),
            "n_classes": len(shared), **scores}


def _prob_matrix(preds: pd.DataFrame, classes: Sequence[str]) -> np.ndarray | None:
    cols = [f"prob_{c}" for c in classes]
    if not set(cols) <= set(preds.columns):
        return None
    return preds[cols].to_numpy(dtype=float)


def own_rows(run: RunKey, run_dir: str | Path, member_classes: Mapping[str, Sequence[str]]) -> list[dict]:
    """The ``in`` row (and, for a merged run, one ``member`` row per member) from predictions.csv."""
    metrics = read_metrics(run_dir)
    classes = list(metrics["classes"])
    preds = read_predictions(run_dir)
    preds = preds[preds["label"].isin(classes)]
    rows = [_row(run.dataset, "in", classes, score(preds["label"], preds["pred"], classes))]
    optimistic = metrics.get("accuracy_optimistic")
    rows[0]["accuracy_optimistic"] = float("nan") if optimistic is None else float(optimistic)
    if not is_merged(run.dataset):
        return rows
    for member in dataset_members(run.dataset):
        part = preds[preds["dataset"] == member]
        known = member_classes.get(member) or intersect_classes(CANONICAL, part["label"].unique())
        shared = intersect_classes(classes, known)
        part = part[part["label"].isin(shared)]
        probs = _prob_matrix(part, classes)
        # Restrict to the member's classes when the probabilities are there to do it.
        pred = restrict_predictions(probs, classes, shared) if probs is not None and len(part) \
            else part["pred"].to_numpy()
        rows.append(_row(member, "member", shared, score(part["label"], pred, shared)))
    return rows


def foreign_rows(run: RunKey, classes: Sequence[str], stores: Mapping[str, str | Path],
                 predictor: Predictor, *, min_shared: int = 2,
                 seen: Sequence[str] = (), overlap: Sequence[str] = ()) -> list[dict]:
    """One ``cross``/``lodo`` row per foreign dataset: all its labelled clips, all folds.

    A foreign dataset whose labelled clips were in the run's ``ft`` pretraining pool
    (``seen``, from metrics.json ``pretrain_sources``) is no unseen-domain test: its row gets
    kind ``seen``, which the cross-dataset statistics and figures leave out; one that shares
    people with the training set (``overlap``, from the check_overlap table) gets kind
    ``overlap``, equally left out."""
    unseen_kind = "lodo" if is_merged(run.dataset) else "cross"
    rows = []
    for name, aligned_dir in stores.items():
        kind = "seen" if name in seen else "overlap" if name in overlap else unseen_kind
        clips, index = labelled_clips(aligned_dir)
        shared = intersect_classes(classes, index["label"].unique())
        if len(shared) < min_shared:
            log.warning("%s on %s: only %d shared class(es) %s; skipped", run, name, len(shared), shared)
            continue
        index = index[index["label"].isin(shared)]
        positions = index["row"].to_numpy()
        # gather from the memory map a chunk at a time: a whole dataset need not fit in memory
        probs = np.concatenate([predictor(clips[positions[i:i + READ_CHUNK]])[0]
                                for i in range(0, len(positions), READ_CHUNK)] or
                               [np.zeros((0, len(classes)))])
        if probs.shape != (len(index), len(classes)):
            raise ValueError(f"predictor returned probs of shape {probs.shape}; expected "
                             f"({len(index)}, {len(classes)}) for classes {list(classes)}")
        pred = restrict_predictions(probs, classes, shared)
        rows.append(_row(name, kind, shared, score(index["label"].to_numpy(), pred, shared)))
        log.info("%s on %s: %d clips, classes %s, accuracy %.3f", run, name, len(index),
                 shared, rows[-1]["accuracy"])
    return rows


def evaluate_run(run_dir: str | Path, stores: Mapping[str, str | Path], *,
                 predictor: Predictor | None = None, device: str = "auto", batch_clips: int = 32,
                 min_shared: int = 2, overlap_csv: str | Path | None = None) -> pd.DataFrame:
    """All rows of one run's ``cross.csv``.

    run_dir: ``results/runs/{run}``; stores: dataset name -> aligned store folder, for every
    dataset of the study (members of a merged run are used for their class sets only);
    overlap_csv: the training set's ``check_overlap`` table (None: no identity check).
    """
    run = RunKey.parse(run_dir)
    members = set(dataset_members(run.dataset))
    member_classes = {m: dataset_classes(stores[m]) for m in members if m in stores}
    rows = own_rows(run, run_dir, member_classes)
    foreign = {name: path for name, path in stores.items() if name not in members}
    if foreign:
        classes = list(read_metrics(run_dir)["classes"])
        if predictor is None:
            predictor, model_classes = default_predictor(run_dir, device, batch_clips)
            if model_classes and model_classes != classes:
                raise ValueError(f"{run_dir}: model.pt classes {model_classes} differ from "
                                 f"metrics.json classes {classes}; rerun the train job")
        seen = list(read_metrics(run_dir).get("pretrain_sources") or [])
        table = read_overlap(overlap_csv) if overlap_csv else None
        shared_people = overlapping(table) if table is not None else []
        if seen and table is not None:   # an ft run also met the people of its pool's datasets
            seen += [t for t in pool_overlapping(table) if t not in seen]
        rows += foreign_rows(run, classes, foreign, predictor, min_shared=min_shared, seen=seen,
                             overlap=shared_people)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for axis, value in reversed(list(run.as_dict().items())):
        frame.insert(0, axis, value)
    frame.insert(0, "run", str(run))
    return frame


def write_cross(run_dir: str | Path, stores: Mapping[str, str | Path], out_csv: str | Path,
                **kwargs) -> pd.DataFrame:
    from ferstudy.atomic import write_csv

    frame = evaluate_run(run_dir, stores, **kwargs)
    write_csv(out_csv, frame)
    return frame
