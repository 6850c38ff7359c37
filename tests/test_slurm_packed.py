"""The `slurm-packed` executor (src/snakemake_executor_plugin_slurm_packed): a group job's inner
Snakemake runs its jobs gpu_slots at once with the local executor under the MPS wrapper; a
single job keeps the SLURM plugin's job-step route. No SLURM needed: the job commands are built
from stubs of the workflow and job (the real run is tests/test_cluster_slurm.py)."""
from __future__ import annotations

import os
import signal
import shutil
import subprocess
import tempfile
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("snakemake_executor_plugin_slurm")
packed = pytest.importorskip("snakemake_executor_plugin_slurm_packed")

from snakemake_interface_common.exceptions import WorkflowError  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"
GENERAL = "--force --max-inventory-time 0 --retries 0 --nolock --ignore-incomplete"


def executor(gpu_slots):
    """A slurm-packed Executor without __init__ (which would poll SLURM), on a stub workflow."""
    ex = object.__new__(packed.Executor)
    factory = SimpleNamespace(general_args=lambda **kw: GENERAL, precommand=lambda **kw: "",
                              envvars=dict)
    ex.workflow = SimpleNamespace(
        spawned_job_args_factory=factory,
        executor_settings=SimpleNamespace(pass_command_as_script=False),
        executor_plugin=SimpleNamespace(common_settings=packed.common_settings),
        storage_settings=SimpleNamespace(shared_fs_usage=set()),   # -> python "python"
        group_settings=SimpleNamespace(local_groupid="local"),
        global_resources={"gpu_slots": SimpleNamespace(value=gpu_slots)},
    )
    ex.snakefile = "/code/Snakefile"
    ex.get_job_args = lambda job: f"--target-jobs {job.target} --cores all --attempt 1"
    return ex


def job(group: bool, threads: int):
    return SimpleNamespace(is_group=lambda: group, threads=threads, target="'train_model:seed=0'")


def test_group_job_runs_gpu_slots_jobs_at_once_with_the_local_executor_under_mps():
    cmd = executor(4).format_job_exec(job(group=True, threads=32))
    # the allocation's train-worker keeps a pre-warmed spare for each of the 4
    assert cmd.startswith("python -m snakemake_executor_plugin_slurm_packed.share --spares 4 "
                          "-- python -m snakemake --snakefile '/code/Snakefile'")
    assert "--executor local --cores 32 --resources gpu_slots=4" in cmd
    assert "slurm-jobstep" not in cmd and "--jobs 1" not in cmd
    # later options win: the group's own --cores replaces the generic `--cores all`
    assert cmd.index("--cores all") < cmd.index("--cores 32")
    assert "--nolock" in cmd and "--mode 'remote'" in cmd and "'train_model:seed=0'" in cmd


def test_single_job_keeps_the_slurm_plugins_job_step_route():
    ex = executor(4)
    cmd = ex.format_job_exec(job(group=False, threads=8))
    assert cmd.startswith("python -m snakemake --snakefile")
    assert "--executor slurm-jobstep --jobs 1" in cmd
    assert "share" not in cmd and "--executor local" not in cmd


def test_group_without_gpu_slots_is_limited_by_its_cpus_only():
    cmd = executor(None).format_job_exec(job(group=True, threads=16))
    assert "--executor local --cores 16 --mode" in cmd and "--resources" not in cmd
    assert "share -- python -m snakemake" in cmd    # the worker's default spares


def test_a_changed_slurm_plugin_command_fails_loudly():
    with pytest.raises(WorkflowError, match="has the plugin changed"):
        packed.pack_group_command("python -m snakemake --executor slurm-jobstep --jobs 2",
                                  python="python", cores=8, gpu_slots=2)


def test_snakemake_finds_the_plugin_and_its_settings_prefix():
    code = ("from snakemake_interface_executor_plugins.registry import ExecutorPluginRegistry as R\n"
            "p = R().get_plugin('slurm-packed')\n"
            "print(p.settings_cls.__module__, p.cli_prefix)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}, check=True)
    assert out.stdout.split() == ["snakemake_executor_plugin_slurm", "slurm-packed"]


def test_share_wrapper_runs_the_command_and_returns_its_status_without_mps(tmp_path):
    """Without MPS (no nvidia-cuda-mps-control on PATH), the command runs unchanged, CUDA_MPS_PIPE_DIRECTORY unset, and its exit status is the wrapper's."""
    probe = "import os, sys; print(os.environ.get('CUDA_MPS_PIPE_DIRECTORY')); sys.exit(3)"
    proc = subprocess.run([sys.executable, "-m", packed.SHARE_MODULE, "--", sys.executable, "-c",
                           probe], capture_output=True, text=True,
                          env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin",
                               "SLURM_JOB_ID": "77", "TMPDIR": str(tmp_path),
                               "FERSTUDY_TRAIN_WORKER": "off"})
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.splitlines()[-1] == "None"
    assert "slurm-packed:" in proc.stdout   # the note on MPS, in the group job's log


FAKE_MPS = """#!/bin/sh
# stand-in for nvidia-cuda-mps-control: -d creates the control pipe, `quit` on stdin removes it
if [ "$1" = -d ]; then mkfifo "$CUDA_MPS_PIPE_DIRECTORY/control"; exit 0; fi
read cmd; [ "$cmd" = quit ] && rm -f "$CUDA_MPS_PIPE_DIRECTORY/control"
"""


def test_share_wrapper_runs_the_command_inside_the_allocations_own_mps_daemon(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nvidia-cuda-mps-control").write_text(FAKE_MPS)
    (bin_dir / "nvidia-cuda-mps-control").chmod(0o755)
    probe = "import os; d = os.environ['CUDA_MPS_PIPE_DIRECTORY']; print(d, os.path.exists(d + '/control'))"
    proc = subprocess.run([sys.executable, "-m", packed.SHARE_MODULE, "--", sys.executable, "-c",
                           probe], capture_output=True, text=True,
                          env={"PYTHONPATH": os.pathsep.join(sys.path), "TMPDIR": str(tmp_path),
                               "PATH": f"{bin_dir}:/usr/bin:/bin", "SLURM_JOB_ID": "42",
                               "FERSTUDY_TRAIN_WORKER": "off"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pipe_dir = tmp_path / "ferstudy-mps-42"
    assert f"{pipe_dir} True" in proc.stdout                # the job joined the daemon
    assert not (pipe_dir / "control").exists()              # and the daemon was stopped after


def test_share_wrapper_passes_sigterm_to_the_command(tmp_path):
    """scancel / the time limit: the inner Snakemake gets the signal and its exit status is
    the wrapper's (MPS, where started, is stopped after it)."""
    child = ("import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(7)); "
             "print('ready', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-m", packed.SHARE_MODULE, "--", sys.executable,
                             "-c", child], stdout=subprocess.PIPE, text=True,
                            env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin",
                                 "TMPDIR": str(tmp_path), "FERSTUDY_TRAIN_WORKER": "off"})
    while "ready" not in proc.stdout.readline():
        pass
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 7


def test_share_wrapper_gives_the_allocation_one_warm_train_worker_and_stops_it(tmp_path):
    """The group's jobs see $FERSTUDY_TRAIN_WORKER on a node-local socket where a worker
    answers, keeping --spares pre-warmed children and started in the jobs' environment (MPS
    included: its spares' CUDA contexts must be the jobs'); when the inner command ends the
    worker is stopped (no process left behind)."""
    from ferstudy.train import worker_client as wc

    probe = ("import os, sys; from ferstudy.train import worker_client as wc; "
             "p = os.environ.get('FERSTUDY_TRAIN_WORKER'); info = wc.request(p, 'ping'); "
             "env = open(f'/proc/{info[\"pid\"]}/environ').read().split(chr(0)); "
             "mps = 'CUDA_MPS_PIPE_DIRECTORY=' + os.environ['CUDA_MPS_PIPE_DIRECTORY']; "
             "print('SOCKET', p, info['spares_wanted'], mps in env)")
    short = Path(tempfile.mkdtemp(prefix="fw", dir="/tmp"))   # a Unix socket path is <= 107 bytes
    bin_dir = short / "bin"
    bin_dir.mkdir()
    (bin_dir / "nvidia-cuda-mps-control").write_text(FAKE_MPS)
    (bin_dir / "nvidia-cuda-mps-control").chmod(0o755)
    try:
        proc = subprocess.run([sys.executable, "-m", packed.SHARE_MODULE, "--spares", "2", "--",
                               sys.executable, "-c", probe], capture_output=True, text=True,
                              timeout=600,
                              env={"PYTHONPATH": os.pathsep.join(sys.path),
                                   "PATH": f"{bin_dir}:/usr/bin:/bin", "SLURM_JOB_ID": "78",
                                   "TMPDIR": str(short)})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        line = next(x for x in proc.stdout.splitlines() if x.startswith("SOCKET"))
        _, path, spares, same_mps = line.split()
        assert path == str(short / "ferstudy-train-78.sock")
        assert spares == "2" and same_mps == "True"
        assert wc.request(path, "ping") is None          # stopped with the allocation's command
    finally:
        shutil.rmtree(short, ignore_errors=True)
