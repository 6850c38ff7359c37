"""Run a group job's inner Snakemake with CUDA MPS on the allocation's GPU, where there is MPS.

    python -m snakemake_executor_plugin_slurm_packed.share [--spares K] -- <python> -m snakemake ...

The ``slurm-packed`` executor puts this in front of the Snakemake inside each group job. It
starts an MPS control daemon with a pipe directory private to the allocation
(``$TMPDIR/ferstudy-mps-$SLURM_JOB_ID``, node-local: two allocations on one node never share a
daemon) with ``ferstudy.gpu_share`` (what ``ferstudy gpu-share`` runs), runs the command with
``CUDA_MPS_PIPE_DIRECTORY=DIR`` so that its CUDA processes join that daemon, stops the daemon
when the command ends (also on SIGTERM, e.g. scancel or the time limit), and exits with the
command's status.

It also starts a warm train-worker for the allocation (``ferstudy.train.worker``, what
``ferstudy train-worker`` runs, on a node-local socket
``$TMPDIR/ferstudy-train-$SLURM_JOB_ID.sock``, handed to the jobs as
``$FERSTUDY_TRAIN_WORKER``): the group's train_model jobs then fork from one process that has
imported torch and ferstudy once, instead of each paying the imports (same outputs either
way). It keeps ``--spares K`` pre-warmed children (``gpu_slots``: one per job running at once;
CUDA initialised before a job needs it, about 0.5 GB of GPU memory each while idle) and is
started with the jobs' environment, MPS variables included, so that its spares' CUDA contexts
are the ones the jobs would make. ``FERSTUDY_TRAIN_WORKER=off`` in the submitting environment
turns it off; a worker that does not start leaves a note in the log and the jobs train in
their own processes.

Without MPS the jobs still run side by side, taking turns on the GPU: where the driver ships no
``nvidia-cuda-mps-control``, or where the daemon does not start, a note goes to the job's log
and the command runs unchanged. MPS only changes how the processes share the GPU, never a
result.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from ferstudy import gpu_share
from ferstudy.train import worker


def allocation_path(kind: str, suffix: str = "", env=os.environ) -> Path:
    """A node-local path of this allocation's own: ``$TMPDIR/ferstudy-<kind>-<job id><suffix>``."""
    job = env.get("SLURM_JOB_ID") or str(os.getpid())
    return Path(tempfile.gettempdir()) / f"ferstudy-{kind}-{job}{suffix}"


def attempt(what: str, fallback: str, action, *args) -> str | None:
    """``action(*args)``'s one-line result, printed to the group job's log as a
    ``slurm-packed:`` note; None (and a note saying ``fallback``) when it failed."""
    try:
        out = action(*args)
    except (OSError, RuntimeError, subprocess.SubprocessError) as err:
        print(f"slurm-packed: no {what} ({err}); {fallback}", flush=True)
        return None
    print(f"slurm-packed: {what}: {out}", flush=True)
    return out


def start_mps(directory: Path) -> bool:
    """An MPS daemon in ``directory``; False where MPS is absent or did not start."""
    if not gpu_share.mps_available():
        print(f"slurm-packed: {gpu_share.status(directory)}; the jobs take turns on the GPU",
              flush=True)
        return False
    return (attempt("MPS", "the jobs take turns on the GPU", gpu_share.start, directory)
            is not None and gpu_share.mps_running(directory))


def start_worker(path: Path, env: dict, spares: int) -> bool:
    """The allocation's train-worker, in the jobs' environment ``env`` (its spares initialise
    CUDA with it), keeping ``spares`` pre-warmed children."""
    started = attempt("train-worker", "each job trains in its own process",
                      lambda: worker.start(str(path), spares=spares, env=env)
                      or f"{path} ({spares} spare(s))")
    return started is not None


def parse(argv: list[str]) -> tuple[int, list[str]]:
    """``[--spares K] [--] COMMAND ...`` -> (K, COMMAND)."""
    spares = worker.DEFAULT_SPARES
    if argv[:1] == ["--spares"] and len(argv) > 1:
        spares, argv = int(argv[1]), argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    return spares, argv


def main(argv: list[str] | None = None) -> int:
    spares, argv = parse(sys.argv[1:] if argv is None else argv)
    if not argv:
        sys.exit("usage: python -m snakemake_executor_plugin_slurm_packed.share [--spares K] "
                 "-- COMMAND ...")
    directory = allocation_path("mps")
    env = dict(os.environ)
    shared = start_mps(directory)
    if shared:
        env["CUDA_MPS_PIPE_DIRECTORY"] = str(directory)
        env["CUDA_MPS_LOG_DIRECTORY"] = str(directory / "log")
    socket = None
    if os.environ.get("FERSTUDY_TRAIN_WORKER") != "off":
        socket = allocation_path("train", ".sock")
        if start_worker(socket, dict(env), spares):
            env["FERSTUDY_TRAIN_WORKER"] = str(socket)
        else:
            socket = None

    def stop() -> None:
        if socket is not None:
            attempt("train-worker", "it ends with the allocation", worker.stop, str(socket))
        if shared:
            attempt("MPS", "it ends with the allocation", gpu_share.stop, directory)

    try:
        child = subprocess.Popen(argv, env=env)
    except OSError:
        stop()
        raise
    # scancel / the time limit: Snakemake gets the signal (to clean up), then MPS is stopped
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: child.send_signal(signum))
    try:
        return child.wait()
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
