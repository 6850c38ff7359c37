"""The start-up tax of a training job: process start to the end of its first optimiser step.

A grid point is one Snakemake job, so every one of them pays for an interpreter, Snakemake's
script preamble, ``import torch`` and ferstudy, device set-up and its data before it trains.
``StartupClock`` splits that time into parts, in the order a run meets them:

- ``launch``: process start to the training function (interpreter, imports; through a warm
  ``train-worker``: the job's small client, connecting and the fork or the hand-over to a
  pre-warmed spare);
- ``data``: reading the clip stores and splitting them (``load_dataset``, ``build_run_data``);
- ``device``: threads, determinism and the device (on a GPU: CUDA initialisation, already
  done in a pre-warmed spare: ``prewarmed``);
- ``model``: building, initialising (``ft``: loading the pretrained tensors) and moving it;
- ``first_step``: optimiser, loader, method set-up and the first batch's step.

The record goes into the run's ``provenance.json`` (``startup``; nothing hashes it) and into
its log. No torch import here: the train-worker client imports this module.
"""
from __future__ import annotations

import os
import time

PARTS = ("launch", "data", "device", "model", "first_step")


def process_start_time(pid: int | None = None) -> float | None:
    """When the process began (epoch seconds), from ``/proc`` (Linux: 10 ms ticks against the
    float uptime; psutil's ``create_time`` adds the whole-second boot time, up to 1 s off);
    None elsewhere, where ``launch`` then counts from the clock's creation."""
    pid = pid or os.getpid()
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            # field 22 (starttime, ticks after boot) comes after the ")" closing the name
            start_ticks = int(f.read().rpartition(")")[2].split()[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return time.time() - (uptime - start_ticks / os.sysconf("SC_CLK_TCK"))


class StartupClock:
    """Laps from ``origin`` (epoch seconds: the job's process start) to the first step."""

    def __init__(self, origin: float | None = None, *, worker: bool = False,
                 prewarmed: bool = False):
        now = time.time()
        self.origin = origin if origin is not None else (process_start_time() or now)
        self.worker = worker
        self.prewarmed = prewarmed
        self.last = self.origin
        self.parts: dict[str, float] = dict.fromkeys(PARTS, 0.0)
        self.done = False

    def lap(self, part: str) -> None:
        """Add the time since the previous lap to ``part`` (a part may take several laps)."""
        if self.done:
            return
        if part not in self.parts:
            raise ValueError(f"unknown start-up part {part!r}; known: {', '.join(PARTS)}")
        now = time.time()
        self.parts[part] += max(0.0, now - self.last)
        self.last = now

    def first_step(self) -> None:
        """Called once the first optimiser step is done: closes the clock."""
        self.lap("first_step")
        self.done = True

    def record(self) -> dict:
        """``total_s`` and one ``<part>_s`` per part, in seconds; ``worker``: via train-worker;
        ``prewarmed``: in one of its pre-warmed spares (CUDA initialised before the job)."""
        out = {"total_s": round(sum(self.parts.values()), 3), "worker": self.worker,
               "prewarmed": self.prewarmed}
        out.update({f"{k}_s": round(v, 3) for k, v in self.parts.items()})
        out["complete"] = self.done   # False: no step was taken (resumed after the last epoch)
        return out

    def summary(self) -> str:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in self.parts.items())
        via = "in-process" if not self.worker else (
            "train-worker, pre-warmed spare" if self.prewarmed else "train-worker")
        return f"start-up: {sum(self.parts.values()):.2f}s to the first step ({parts}; {via})"
