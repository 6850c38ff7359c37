"""Run a group job's inner Snakemake with CUDA MPS on the allocation's GPU, where there is MPS.

    python -m snakemake_executor_plugin_slurm_packed.share -- <python> -m snakemake ...

The ``slurm-packed`` executor puts this in front of the Snakemake inside each group job. It
starts an MPS control daemon with a pipe directory private to the allocation
(``$TMPDIR/ferstudy-mps-$SLURM_JOB_ID``, node-local: two allocations on one node never share a
daemon) through ``ferstudy gpu-share start --if-available --pipe-dir DIR``, runs the command
with ``CUDA_MPS_PIPE_DIRECTORY=DIR`` so that its CUDA processes join that daemon, stops the
daemon when the command ends (also on SIGTERM, e.g. scancel or the time limit), and exits with
the command's status.

It also starts a warm train-worker for the allocation (``ferstudy train-worker start`` on a
node-local socket, ``$TMPDIR/ferstudy-train-$SLURM_JOB_ID.sock``, handed to the jobs as
``$FERSTUDY_TRAIN_WORKER``): the group's train and pretrain jobs then fork from one process
that has imported torch and ferstudy once, instead of each paying the imports
(``ferstudy.train.worker``; same outputs either way). ``FERSTUDY_TRAIN_WORKER=off`` in the
submitting environment turns it off; a worker that does not start leaves a note in the log
and the jobs train in their own processes.

Without MPS the jobs still run side by side, taking turns on the GPU: where the driver ships no
``nvidia-cuda-mps-control`` (``--if-available``: a note), where this ferstudy has no
``gpu-share`` command, or where the daemon does not start, a note goes to the job's log and the
command runs unchanged. MPS only changes how the processes share the GPU, never a result.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path


def pipe_dir(env=os.environ) -> Path:
    job = env.get("SLURM_JOB_ID") or str(os.getpid())
    return Path(tempfile.gettempdir()) / f"ferstudy-mps-{job}"


def gpu_share(action: str, directory: Path) -> bool:
    """``ferstudy gpu-share <action> --if-available --pipe-dir DIR``; False (with a note in the
    log) when it failed or this ferstudy lacks the command."""
    cmd = [sys.executable, "-m", "ferstudy.cli", "gpu-share", action, "--if-available",
           "--pipe-dir", str(directory)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    out = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        why = ("this ferstudy has no `gpu-share` command" if "invalid choice: 'gpu-share'" in out
               else f"`ferstudy gpu-share {action}` failed (exit {proc.returncode}): "
                    + (out.splitlines()[-1] if out else ""))
        print(f"slurm-packed: no MPS ({why}); the jobs take turns on the GPU", flush=True)
        return False
    print(f"slurm-packed: {out}", flush=True)
    return True


def worker_socket(env=os.environ) -> Path:
    job = env.get("SLURM_JOB_ID") or str(os.getpid())
    return Path(tempfile.gettempdir()) / f"ferstudy-train-{job}.sock"


def train_worker(action: str, path: Path) -> bool:
    """``ferstudy train-worker <action> --socket PATH``; False (with a note) when it failed."""
    cmd = [sys.executable, "-m", "ferstudy.cli", "train-worker", action, "--socket", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    out = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        print(f"slurm-packed: no train-worker (`ferstudy train-worker {action}` failed, exit "
              f"{proc.returncode}: {out.splitlines()[-1] if out else ''}); each job trains in "
              f"its own process", flush=True)
        return False
    print(f"slurm-packed: train-worker {action}: {out.splitlines()[-1] if out else path}",
          flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        sys.exit("usage: python -m snakemake_executor_plugin_slurm_packed.share -- COMMAND ...")
    directory = pipe_dir()
    env = dict(os.environ)
    # --if-available exits 0 where MPS is absent: only a control pipe means a daemon runs
    shared = gpu_share("start", directory) and (directory / "control").exists()
    if shared:
        env["CUDA_MPS_PIPE_DIRECTORY"] = str(directory)
        env["CUDA_MPS_LOG_DIRECTORY"] = str(directory / "log")
    worker = None
    if os.environ.get("FERSTUDY_TRAIN_WORKER") != "off":
        worker = worker_socket()
        if train_worker("start", worker):
            env["FERSTUDY_TRAIN_WORKER"] = str(worker)
        else:
            worker = None
    try:
        child = subprocess.Popen(argv, env=env)
    except OSError:
        if worker is not None:
            train_worker("stop", worker)
        raise
    # scancel / the time limit: Snakemake gets the signal (to clean up), then MPS is stopped
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: child.send_signal(signum))
    try:
        return child.wait()
    finally:
        if worker is not None:
            train_worker("stop", worker)
        if shared:
            gpu_share("stop", directory)


if __name__ == "__main__":
    sys.exit(main())
