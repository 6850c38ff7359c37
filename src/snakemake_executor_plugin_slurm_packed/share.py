"""Run a group job's inner Snakemake with CUDA MPS on the allocation's GPU, where there is MPS.

    python -m snakemake_executor_plugin_slurm_packed.share -- <python> -m snakemake ...

The ``slurm-packed`` executor puts this in front of the Snakemake inside each group job. It
starts an MPS control daemon with a pipe directory private to the allocation
(``$TMPDIR/ferstudy-mps-$SLURM_JOB_ID``, node-local: two allocations on one node never share a
daemon) through ``ferstudy gpu-share start --if-available --pipe-dir DIR``, runs the command
with ``CUDA_MPS_PIPE_DIRECTORY=DIR`` so that its CUDA processes join that daemon, stops the
daemon when the command ends (also on SIGTERM, e.g. scancel or the time limit), and exits with
the command's status.

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
    child = subprocess.Popen(argv, env=env)
    # scancel / the time limit: Snakemake gets the signal (to clean up), then MPS is stopped
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: child.send_signal(signum))
    try:
        return child.wait()
    finally:
        if shared:
            gpu_share("stop", directory)


if __name__ == "__main__":
    sys.exit(main())
