"""``ferstudy gpu-share start|stop|status``: CUDA MPS, the one thing that makes several
training processes share a GPU.

Without MPS, concurrent CUDA processes time-slice the GPU: measured on an H200 (issue #24,
``benchmarks/gpu_check.py --share``), four resnet3d bf16 jobs reach 783 clips/s in total
against 754 for one (+4 %). With the MPS control daemon running, their kernels run side by
side: +37 % for resnet3d and 3.1x for msanet at four jobs. ``profiles/local-gpu`` books
``gpu_slots`` > 1 on that basis, and the workflow's ``onstart`` warns (``share_warning``)
when it runs several GPU jobs at once without MPS.

The daemon is driven through NVIDIA's ``nvidia-cuda-mps-control`` (``-d`` starts it, ``quit``
on its stdin stops it). It listens on a ``control`` pipe in ``CUDA_MPS_PIPE_DIRECTORY``
(NVIDIA's default ``/tmp/nvidia-mps``); a CUDA process that sees the same directory joins it.
``--pipe-dir`` gives a private one (e.g. per SLURM allocation): the jobs must then run with
``CUDA_MPS_PIPE_DIRECTORY`` set to it. The daemon's log goes to ``<pipe dir>/log``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

CONTROL = "nvidia-cuda-mps-control"
DEFAULT_PIPE_DIR = "/tmp/nvidia-mps"   # NVIDIA's default, used by clients without the variable
WAIT_S = 10.0                          # for the daemon's control pipe to appear / go away

ABSENT = (
    f"CUDA MPS is not available here ({CONTROL} is not on PATH). MPS (Multi-Process Service) "
    "lets several CUDA processes run kernels on one GPU at the same time; without it, "
    "concurrent training jobs take turns on the GPU (measured on an H200: 4 jobs give ~+4 % "
    "total clips/s over 1). Install the NVIDIA driver's utilities (they ship "
    f"{CONTROL} beside nvidia-smi, e.g. the nvidia-utils package of your driver version), "
    "or run one GPU job at a time (--resources gpu_slots=1)."
)


def pipe_dir(given: str | Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The MPS pipe directory: ``given``, else ``CUDA_MPS_PIPE_DIRECTORY``, else NVIDIA's."""
    env = os.environ if env is None else env
    return Path(given or env.get("CUDA_MPS_PIPE_DIRECTORY") or DEFAULT_PIPE_DIR)


def mps_available() -> bool:
    """Whether the MPS control program is on PATH (it comes with the NVIDIA driver)."""
    return shutil.which(CONTROL) is not None


def mps_running(directory: str | Path | None = None) -> bool:
    """Whether an MPS control daemon listens in ``directory`` (its ``control`` pipe exists)."""
    return (pipe_dir(directory) / "control").exists()


def _control_env(directory: Path) -> dict[str, str]:
    return {**os.environ, "CUDA_MPS_PIPE_DIRECTORY": str(directory),
            "CUDA_MPS_LOG_DIRECTORY": str(directory / "log")}


def _wait(directory: Path, running: bool) -> bool:
    deadline = time.monotonic() + WAIT_S
    while mps_running(directory) != running:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def start(directory: str | Path | None = None) -> str:
    """Start the MPS control daemon (no-op when one already listens there); returns status."""
    if not mps_available():
        raise RuntimeError(ABSENT)
    directory = pipe_dir(directory)
    if not mps_running(directory):
        (directory / "log").mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([CONTROL, "-d"], env=_control_env(directory),
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0 or not _wait(directory, running=True):
            raise RuntimeError(f"`{CONTROL} -d` did not start MPS in {directory} (exit "
                               f"{proc.returncode}): {(proc.stderr or proc.stdout).strip()} "
                               f"(log: {directory / 'log'})")
    return status(directory)


def stop(directory: str | Path | None = None) -> str:
    """Stop the MPS control daemon listening in ``directory`` (no-op when none does)."""
    if not mps_available():
        raise RuntimeError(ABSENT)
    directory = pipe_dir(directory)
    if mps_running(directory):
        proc = subprocess.run([CONTROL], input="quit\n", env=_control_env(directory),
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0 or not _wait(directory, running=False):
            raise RuntimeError(f"`echo quit | {CONTROL}` did not stop MPS in {directory} "
                               f"(exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()}")
    return status(directory)


def status(directory: str | Path | None = None) -> str:
    """One line: ``MPS: on (pipe dir D)``, ``MPS: off`` or ``MPS: absent (why)``."""
    directory = pipe_dir(directory)
    if mps_running(directory):
        return f"MPS: on (pipe dir {directory})"
    if not mps_available():
        return f"MPS: absent ({CONTROL} is not on PATH; it comes with the NVIDIA driver)"
    return "MPS: off"


def share_warning(gpu_slots: object, *, cuda: bool, directory: str | Path | None = None
                  ) -> str | None:
    """The onstart warning: one line when several GPU jobs would share a CUDA GPU without
    MPS, else None. Without CUDA the GPU rules train on CPU and ``gpu_slots`` only limits how
    many run at once: nothing to say. ``gpu_slots`` may be a Snakemake ``Resource``."""
    slots = getattr(gpu_slots, "value", gpu_slots)
    if not cuda or not isinstance(slots, int) or slots <= 1 or mps_running(directory):
        return None
    why = "MPS is off" if mps_available() else f"MPS is absent ({CONTROL} not on PATH)"
    return (f"ferstudy: warning: gpu_slots={slots} runs {slots} GPU jobs at once but {why}: "
            f"without MPS they take turns on the GPU (measured on an H200: ~+4 % total clips/s "
            f"at 4 jobs); run `ferstudy gpu-share start` first, or --resources gpu_slots=1")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--pipe-dir", default=None,
                        help="MPS pipe directory (default: $CUDA_MPS_PIPE_DIRECTORY, else "
                             f"{DEFAULT_PIPE_DIR}); jobs must see the same one")
    parser.add_argument("--if-available", action="store_true",
                        help="start/stop: where MPS is absent, print a note and exit 0")


def run(args: argparse.Namespace) -> None:
    if args.action == "status":
        print(status(args.pipe_dir))
        return
    if not mps_available() and args.if_available:
        what = "GPU jobs will take turns on the GPU" if args.action == "start" else "nothing to stop"
        print(f"ferstudy gpu-share {args.action}: MPS absent ({CONTROL} not on PATH); {what}")
        return
    print((start if args.action == "start" else stop)(args.pipe_dir))


def cuda_training(train_device: str) -> bool:
    """Whether the GPU rules train on CUDA here (``train.device`` auto/cuda and a CUDA GPU)."""
    if train_device == "cpu":
        return False
    import torch

    return torch.cuda.is_available()
