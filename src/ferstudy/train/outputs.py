"""Run outputs (docs/architecture.md, "Run outputs"): every file written atomically.

model.pt, metrics.json, predictions.csv, embeddings.npy, curve.csv, diagnostics.csv (the
method's mechanism diagnostics; header only for a method without any), config.yaml, plus the
split (split.csv: which clip went to train / val / test) and, under a label protocol, the
labels trained on (protocol.csv) so that every run's data can be audited.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ferstudy import atomic

OUTPUT_FILES = ("model.pt", "metrics.json", "predictions.csv", "embeddings.npy", "curve.csv",
                "diagnostics.csv", "config.yaml")


def write_model(path: str | Path, *, arch: str, state_dict: dict, classes, arch_kwargs: dict,
                embed_dim: int, method_state: Any = None, **extra: Any) -> None:
    blob = {"arch": arch, "state_dict": state_dict, "classes": list(classes),
            "arch_kwargs": arch_kwargs, "embed_dim": embed_dim, "method_state": method_state,
            **extra}
    import torch

    atomic.write_stream(path, partial(torch.save, blob))


def diagnostics_frame(method: str, rows: list[dict]) -> pd.DataFrame:
    """The run's ``diagnostics.csv``: ``method, unit, step, metric, value`` (long format)."""
    from ferstudy.methods.base import DIAGNOSTIC_COLUMNS

    frame = pd.DataFrame(rows, columns=list(DIAGNOSTIC_COLUMNS[1:]))
    frame.insert(0, "method", method)
    return frame


def predictions_frame(test_index: pd.DataFrame, labels: np.ndarray, probs: np.ndarray,
                      classes) -> pd.DataFrame:
    names = np.asarray(list(classes), dtype=object)
    frame = pd.DataFrame({
        "clip_id": test_index["clip_id"].astype(str).to_numpy(),
        "subject": test_index["subject"].astype(str).to_numpy(),
        "dataset": test_index["dataset"].astype(str).to_numpy(),
        "label": names[labels], "pred": names[probs.argmax(1)] if len(probs) else [],
    })
    for i, c in enumerate(classes):
        frame[f"prob_{c}"] = probs[:, i]
    return frame


def split_frame(data) -> pd.DataFrame:
    parts = []
    for part, cs in (("train", data.train), ("val", data.val), ("test", data.test)):
        frame = cs.index[["clip_id", "dataset", "subject", "fold"]].copy()
        frame["part"] = part
        frame["synthetic"] = (cs.index["synthetic"].astype(int) if "synthetic" in cs.index
                              else 0)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def write_config(path: str | Path, config: dict, run: dict) -> None:
    header = "".join(f"# {k}: {v}\n" for k, v in run.items())
    atomic.write_text(path, "# resolved config of the run\n" + header +
                      yaml.safe_dump(config, sort_keys=False))


def write_run_outputs(out: str | Path, *, model_blob: dict, metrics: dict,
                      predictions: pd.DataFrame, embeddings: np.ndarray,
                      curve: list[dict], config: dict, run: dict,
                      diagnostics: pd.DataFrame | None = None) -> None:
    """Write the run folder; model.pt last, so a folder with model.pt is complete."""
    out = Path(out)
    atomic.write_json(out / "metrics.json", metrics)
    atomic.write_csv(out / "predictions.csv", predictions)
    atomic.write_npy(out / "embeddings.npy", np.asarray(embeddings, np.float32))
    atomic.write_csv(out / "curve.csv", pd.DataFrame(curve))
    if diagnostics is not None:
        atomic.write_csv(out / "diagnostics.csv", diagnostics)
    write_config(out / "config.yaml", config, run)
    write_model(out / "model.pt", **model_blob)
