"""Inference with trained models: load a finished run, predict clips.

``model.pt`` (see docs/architecture.md) holds ``arch``, ``arch_kwargs``, ``state_dict``
(the evaluated model: the best-validation epoch, or the EMA teacher for Ada-CM), ``classes``,
``embed_dim`` and ``method_state``. The loaded model carries ``.classes`` and ``.arch``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ferstudy.train.device import amp_dtype, autocast, pick_device, prepare_model, to_input


def read_model_file(path: str | Path) -> dict:
    """Load a ``model.pt`` dict; a missing or foreign file is an error naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: model file not found")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # truncated file, not a torch file, ...
        raise ValueError(f"{path}: cannot read as a ferstudy model file ({err})") from None
    missing = {"arch", "state_dict", "arch_kwargs"} - set(blob if isinstance(blob, dict) else {})
    if missing:
        raise ValueError(f"{path}: not a ferstudy model file (missing {sorted(missing)})")
    return blob


def build_from_blob(blob: dict) -> torch.nn.Module:
    from ferstudy.archs import build_model

    model = build_model(blob["arch"], **blob["arch_kwargs"])
    model.load_state_dict(blob["state_dict"])
    model.classes = tuple(blob.get("classes", ()))
    model.arch = blob["arch"]
    return model


def load_run_model(run_dir: str | Path, device: str | torch.device = "cpu") -> torch.nn.Module:
    """The trained model of ``results/runs/{run}/`` in eval mode, on ``device``."""
    model = build_from_blob(read_model_file(Path(run_dir) / "model.pt"))
    device = pick_device(device) if isinstance(device, str) else device
    return prepare_model(model, device).eval()


def built_frames(model: torch.nn.Module) -> int:
    """The T ``model`` was built for (``build_model`` sets ``.frames``; wrappers such as SCN's
    evaluated model hold it as ``.model``); 1 when unknown."""
    inner = getattr(model, "model", model)
    return int(getattr(model, "frames", getattr(inner, "frames", 1)))


@torch.no_grad()
def predict(model: torch.nn.Module, clips_uint8: np.ndarray, *, device: str | torch.device | None = None,
            batch_size: int = 32, amp: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Softmax probabilities (N, K) and embeddings (N, D), float32, for uint8 clips
    (N, T, H, W, C) (a memmap is read batch by batch). The model is put in eval mode and
    left on its device (``device`` defaults to where its weights are). Stills (T = 1) are
    repeated to the T the model was built for (``model.frames``), as the training loader does."""
    if device is None:
        device = next(model.parameters()).device
    device = pick_device(device) if isinstance(device, str) else device
    if next(model.parameters()).device != device:
        model = prepare_model(model, device)
    was_training = model.training
    model.eval()
    dtype = amp_dtype(device, amp)
    frames = built_frames(model)
    probs, embs = [], []
    try:
        for start in range(0, len(clips_uint8), batch_size):
            x = to_input(torch.from_numpy(np.ascontiguousarray(
                clips_uint8[start:start + batch_size])), device)
            if x.shape[2] == 1 and frames > 1:
                x = x.expand(-1, -1, frames, -1, -1)
            with autocast(device, dtype):
                logits, emb = model(x)
            probs.append(torch.softmax(logits.float(), 1).cpu().numpy())
            embs.append(emb.float().cpu().numpy())
    finally:
        model.train(was_training)
    k = model.head.out_features
    return (np.concatenate(probs) if probs else np.zeros((0, k), np.float32),
            np.concatenate(embs) if embs else np.zeros((0, model.embed_dim), np.float32))
