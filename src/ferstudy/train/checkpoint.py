"""Per-epoch checkpoints for resuming a killed run.

``checkpoint.pt`` (in the run folder) is rewritten atomically after every epoch: model,
optimizer, grad scaler and method state, the best-so-far weights, the curve and the early
stopping counters. It carries a fingerprint of everything that shapes training (config,
arch, data sizes); a checkpoint from a different setup is ignored (and later overwritten),
never silently continued.
"""
from __future__ import annotations

import hashlib
import json
from functools import partial
from pathlib import Path
from typing import Any

import torch

from ferstudy import atomic


def fingerprint(spec: dict[str, Any]) -> str:
    text = json.dumps(spec, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    atomic.write_stream(path, partial(torch.save, state))


def load_checkpoint(path: str | Path, expected: str, log=print) -> dict[str, Any] | None:
    """The checkpoint's state if it exists and matches ``expected`` fingerprint, else None."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:   # a checkpoint from a crashed write cannot exist (atomic), but
        log(f"ignoring unreadable checkpoint {path}: {err}")   # a foreign file might
        return None
    if not isinstance(state, dict) or state.get("fingerprint") != expected:
        log(f"ignoring checkpoint {path}: it belongs to a different configuration; "
            f"training starts over")
        return None
    return state
