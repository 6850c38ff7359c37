"""Timing pieces shared by the training benchmarks (gpu_check.py, train_throughput.py); they
run as scripts from this folder, which Python puts first on sys.path."""
from __future__ import annotations

import time

import torch

from ferstudy.train import device as dev


def sync(device: torch.device) -> None:
    """Wait for queued CUDA work, so that wall-clock intervals cover it (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_step(batches, step, device: torch.device) -> tuple[float, float]:
    """(seconds fetching and moving the next batch, seconds of ``step`` on it): one training
    iteration as the engine runs it, synchronised around each part."""
    sync(device)
    t0 = time.perf_counter()
    b = next(batches)
    xb, yb = dev.to_input(b["x"], device), b["y"].to(device, non_blocking=True)
    sync(device)
    t1 = time.perf_counter()
    step({"x": xb, "y": yb, "index": b["index"]})
    sync(device)
    return t1 - t0, time.perf_counter() - t1
