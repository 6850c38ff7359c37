"""Small synthetic results trees in the documented formats (docs/architecture.md), for the
evaluate/figures tests: run folders, aligned clip stores, QC sheets. Not a test module."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ferstudy.clipstore import write_store as write_clip_store
from ferstudy.config import dataset_members
from ferstudy.labels import BASIC6

T, SIZE = 4, 8   # frames and pixels of the synthetic aligned clips


def write_store(results: Path, dataset: str, classes, n_per_class: int = 3, folds: int = 2,
                seed: int = 0, size: int = SIZE) -> Path:
    """results/aligned/{dataset}/{clips.npy,index.csv}: clip c of class k is filled with the
    grey value 20 * (index of k in BASIC6 + neutral/contempt) so a test predictor can read it."""
    rng = np.random.default_rng(seed)
    rows, clips = [], []
    for label in classes:
        for i in range(n_per_class):
            value = 20 * (list(("neutral", *BASIC6, "contempt")).index(label) + 1)
            clips.append(np.full((T, size, size, 1), value, dtype=np.uint8))
            rows.append({"row": len(rows), "clip_id": f"{dataset}_{label}_{i}", "dataset": dataset,
                         "subject": f"S{i}", "label": label, "fold": i % folds,
                         "detection_rate": 1.0, "intensity": float(rng.uniform())})
    store = results / "aligned" / dataset
    write_clip_store(store, np.stack(clips), np.zeros((len(clips), T), np.float32), pd.DataFrame(rows))
    return store


def write_run(results: Path, run: str, classes, *, accuracy: float, n_test: int = 12,
              seed: int = 0, epochs: int = 3) -> Path:
    """results/runs/{run}/ with metrics.json, predictions.csv, embeddings.npy, curve.csv,
    config.yaml. A fraction ``accuracy`` of the predictions is right (rounded)."""
    rng = np.random.default_rng(seed)
    run_dir = results / "runs" / run
    run_dir.mkdir(parents=True, exist_ok=True)
    members = dataset_members(run.split("/")[0])
    labels = [classes[i % len(classes)] for i in range(n_test)]
    n_right = int(round(accuracy * n_test))
    preds = [y if i < n_right else classes[(classes.index(y) + 1) % len(classes)]
             for i, y in enumerate(labels)]
    probs = np.full((n_test, len(classes)), 0.1 / max(1, len(classes) - 1))
    for i, p in enumerate(preds):
        probs[i, classes.index(p)] = 0.9
    frame = pd.DataFrame({"clip_id": [f"c{i}" for i in range(n_test)],
                          "subject": [f"S{i % 4}" for i in range(n_test)],
                          "dataset": [members[i % len(members)] for i in range(n_test)],
                          "label": labels, "pred": preds})
    for k, c in enumerate(classes):
        frame[f"prob_{c}"] = probs[:, k]
    frame.to_csv(run_dir / "predictions.csv", index=False)
    centres = rng.normal(size=(len(classes), 8)) * 4
    emb = np.stack([centres[classes.index(y)] + rng.normal(size=8) for y in labels])
    np.save(run_dir / "embeddings.npy", emb.astype(np.float32))
    epoch = np.arange(epochs)
    pd.DataFrame({"epoch": epoch, "train_loss": 1.5 / (epoch + 1), "train_acc": 0.3 + 0.2 * epoch,
                  "val_loss": 1.6 / (epoch + 1), "val_acc": 0.25 + 0.15 * epoch,
                  "lr": 1e-3}).to_csv(run_dir / "curve.csv", index=False)
    confusion = np.zeros((len(classes), len(classes)), dtype=int)
    for y, p in zip(labels, preds):
        confusion[classes.index(y), classes.index(p)] += 1
    metrics = {"accuracy": n_right / n_test, "macro_f1": n_right / n_test, "classes": list(classes),
               "confusion": confusion.tolist(), "per_class_recall": {}, "epochs": epochs,
               "best_epoch": epochs - 1, "wall_time_s": 1.0, "device": "cpu", "n_train": 10,
               "n_val": 2, "n_test": n_test}
    (run_dir / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    (run_dir / "config.yaml").write_text("study: {}\n", encoding="utf-8")
    (run_dir / "model.pt").write_bytes(b"not a real model: the tests inject a predictor")
    return run_dir


def grey_predictor(model_classes):
    """A stand-in for a trained model: reads the class from the clip's grey value (see
    write_store) and puts 0.7 on it when the model has that class, with a bias to the first
    model class otherwise. probs ``(N, K)``, emb ``(N, 2)``."""
    order = ("neutral", *BASIC6, "contempt")

    def predict(clips):
        clips = np.asarray(clips)
        values = clips.reshape(len(clips), -1)[:, 0].astype(int)
        probs = np.full((len(clips), len(model_classes)), 0.3 / max(1, len(model_classes) - 1))
        for i, v in enumerate(values):
            label = order[v // 20 - 1]
            k = model_classes.index(label) if label in model_classes else 0
            probs[i, k] = 0.7
        return probs, np.stack([values, values], axis=1).astype(np.float32)

    return predict


def write_study(results: Path, *, datasets=("ckplus", "mug", "merged-ckplus+mug"),
                inits=("ri", "ft"), seeds=(0, 1), folds=(0,), classes=BASIC6[:4]) -> list[str]:
    """A small grid of run folders; ft runs score 0.25 higher than ri on the same seed/fold."""
    runs = []
    for d_i, dataset in enumerate(datasets):
        for init in inits:
            for seed in seeds:
                for fold in folds:
                    run = f"{dataset}/tiny/supervised/{init}/none/full/seed{seed}/fold{fold}"
                    acc = 0.5 + (0.25 if init == "ft" else 0.0) - 0.0833 * seed * (fold + 1)
                    write_run(results, run, list(classes), accuracy=acc, seed=seed + 10 * d_i)
                    runs.append(run)
    return runs


def write_png(path: Path, value: int = 128) -> Path:
    """A small real PNG (a grey square)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((16, 16), value, dtype=np.uint8)).save(path)
    return path


def write_align_qc(results: Path, dataset: str) -> None:
    """The align stage's qc.csv and contact_sheet.png next to a synthetic store."""
    store = results / "aligned" / dataset
    pd.DataFrame({"clip_id": ["a"], "status": ["ok"], "reason": [""]}).to_csv(store / "qc.csv",
                                                                              index=False)
    write_png(store / "contact_sheet.png")
