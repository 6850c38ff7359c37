"""The warm train-worker (ferstudy.train.worker, .worker_client, .worker_spares): a job trained
through it, in a pre-warmed spare or a cold child, is bit-identical to one trained in-process;
a taken spare is replaced; a job with another CUDA environment, `--spares 0` and spares that
fail their warm-up all mean cold children; stopping ends the spares; concurrent jobs; a stale
socket falls back to in-process; a child's error, a killed worker and a cancelled job each end
the job clearly. Workers here listen on sockets under tmp dirs, started as
`ferstudy train-worker start` does."""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ferstudy.train import worker
from ferstudy.train import worker_client as wc
from ferstudy.train import worker_spares
from test_train_workflow import check_train_grid, run_train_grid
from worker_jobs import toy_results, train_job

OUTPUTS = ("model.pt", "predictions.csv", "embeddings.npy", "curve.csv", "split.csv")


class Lines(logging.Handler):
    """The log lines a job wrote (what its Snakemake log would hold)."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())

    def child(self) -> int:
        return next(int(line.split("child ")[1].split()[0]) for line in self.lines
                    if " trains this job" in line)


def job_logger() -> tuple[logging.Logger, Lines]:
    lines = Lines()
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(lines)
    return logging.getLogger("ferstudy"), lines


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("worker")
    toy_results(root)
    return root


@pytest.fixture(scope="module")
def live(workdir):
    path = str(workdir / "w.sock")
    worker.start(path)                     # one spare (the default)
    yield path
    worker.stop(path)


@pytest.fixture(scope="module")
def here(workdir):
    """A run trained in-process: what every path through a worker must reproduce."""
    log, lines = job_logger()
    try:
        wc.run_job("train", train_job(workdir / "results", workdir / "here"), log,
                   path=str(workdir / "none.sock"))
    finally:
        logging.getLogger().removeHandler(lines)
    assert not any("train-worker" in line for line in lines.lines)
    return workdir / "here"


def gone(pid: int) -> bool:
    """Exited (reaped, or a zombie awaiting its parent)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


def wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def ready_spares(path: str, n: int = 1, timeout: float = 120.0) -> list[int]:
    """The pids of the worker's ready spares, once it has ``n`` (its ping says so)."""
    assert wait_for(lambda: wc.request(path, "ping")["spares"] >= n, timeout), \
        wc.request(path, "ping")
    return wc.request(path, "ping")["spare_pids"]


def train_through(path: str, run_dir: Path, results: Path, **job) -> tuple[int, Lines]:
    """Train one job through the worker at ``path``: the pid that trained it, its log lines."""
    log, lines = job_logger()
    try:
        wc.run_job("train", train_job(results, run_dir, **job), log, path=path)
        assert gone(lines.child()) or wait_for(lambda: gone(lines.child()))
    finally:
        logging.getLogger().removeHandler(lines)
    return lines.child(), lines


def startup(run_dir: Path) -> dict:
    return json.loads((run_dir / "provenance.json").read_text())["startup"]


def assert_same_run(here: Path, there: Path) -> None:
    """Every output file byte for byte; the metrics but their timings; the settings hash."""
    for name in OUTPUTS:
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
    timing = {"wall_time_s", "test_time_s"}
    m1, m2 = (json.loads((d / "metrics.json").read_text()) for d in (here, there))
    assert {k: v for k, v in m1.items() if k not in timing} == \
        {k: v for k, v in m2.items() if k not in timing}
    p1, p2 = (json.loads((d / "provenance.json").read_text()) for d in (here, there))
    assert p1["settings_hash"] == p2["settings_hash"]
    assert p1["startup"]["worker"] is False and p1["startup"]["prewarmed"] is False


def test_a_run_in_a_prewarmed_spare_is_bit_identical_to_one_in_process(live, workdir, here):
    spare = ready_spares(live)[0]
    child, lines = train_through(live, workdir / "there", workdir / "results")
    assert child == spare                  # the job ran in the spare that was waiting
    there = workdir / "there"
    assert_same_run(here, there)
    assert startup(there)["worker"] is True and startup(there)["prewarmed"] is True
    # the child's records reached the job's log: its epochs and its start-up line
    assert any(line.startswith("start-up: ") and "pre-warmed spare" in line
               for line in lines.lines)
    assert any(line.startswith("epoch 2/2 train_loss") for line in lines.lines)


def test_a_taken_spare_is_replaced_and_the_next_job_runs_prewarmed_too(live, workdir):
    first = ready_spares(live)[0]
    child, _ = train_through(live, workdir / "spare1", workdir / "results", epochs=1)
    assert child == first and startup(workdir / "spare1")["prewarmed"] is True
    second = ready_spares(live)[0]         # forked when the first job took its spare
    assert second != first
    child, _ = train_through(live, workdir / "spare2", workdir / "results", epochs=1, seed=1)
    assert child == second and startup(workdir / "spare2")["prewarmed"] is True


def test_a_job_with_another_cuda_environment_runs_in_a_cold_child(live, workdir, monkeypatch):
    spare = ready_spares(live)[0]
    # the worker's spares took its environment: a job that sees other GPUs cannot use them
    other = "" if os.environ.get("CUDA_VISIBLE_DEVICES") != "" else "-1"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", other)
    child, _ = train_through(live, workdir / "cold", workdir / "results", epochs=1)
    assert child != spare
    assert startup(workdir / "cold")["worker"] is True
    assert startup(workdir / "cold")["prewarmed"] is False
    assert json.loads((workdir / "cold" / "metrics.json").read_text())["epochs"] == 1
    assert wc.request(live, "ping")["spare_pids"] == [spare]   # left for a matching job


def test_no_spares_means_cold_children_with_the_same_outputs(workdir, here, tmp_path):
    path = str(tmp_path / "w.sock")
    worker.start(path, spares=0)
    try:
        info = wc.request(path, "ping")
        assert (info["spares"], info["warming"], info["spares_wanted"]) == (0, 0, 0)
        train_through(path, tmp_path / "run", workdir / "results")
        assert wc.request(path, "ping")["prewarmed"] == 0
    finally:
        worker.stop(path)
    assert startup(tmp_path / "run")["worker"] is True
    assert startup(tmp_path / "run")["prewarmed"] is False
    assert_same_run(here, tmp_path / "run")


def test_stopping_the_worker_ends_its_idle_spares(tmp_path):
    path = str(tmp_path / "w.sock")
    worker.start(path, spares=2)
    try:
        pid = wc.request(path, "ping")["pid"]
        spares = ready_spares(path, 2)
        assert len(spares) == 2 and not any(gone(s) for s in spares)
    finally:
        assert worker.stop(path).startswith("stopped")
    assert wait_for(lambda: gone(pid), 30)
    assert all(wait_for(lambda s=s: gone(s), 30) for s in spares), "a spare outlived its worker"


def test_spares_that_fail_their_warm_up_leave_jobs_to_cold_children(workdir, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv(worker_spares.FAIL_ENV, "1")   # the worker's spares read it (only they)
    path = str(tmp_path / "w.sock")
    worker.start(path, spares=1)
    try:
        # the worker gives up after MAX_FAILURES in a row, instead of forking spares forever
        assert wait_for(lambda: wc.request(path, "ping")["spares_wanted"] == 0, 120)
        train_through(path, tmp_path / "run", workdir / "results", epochs=1)
        info = wc.request(path, "ping")
    finally:
        worker.stop(path)
    assert info["prewarmed"] == 0 and info["served"] == 1
    assert startup(tmp_path / "run")["worker"] is True
    assert startup(tmp_path / "run")["prewarmed"] is False
    text = Path(path + ".log").read_text()
    assert text.count("failed its warm-up") == worker_spares.MAX_FAILURES
    assert "keeping no more spares" in text


def test_the_warm_up_draws_no_random_numbers():
    import random

    import numpy as np
    import torch

    before = (random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state())
    worker_spares.exercise(torch.device("cpu"))   # the ops a spare runs on its GPU
    assert random.getstate() == before[0]
    assert (np.random.get_state()[1] == before[1]).all()
    assert torch.equal(torch.get_rng_state(), before[2])


def test_a_jobs_cuda_environment_is_what_cuda_init_reads():
    job = {"env": {"CUDA_VISIBLE_DEVICES": "1", "HOME": "/h", "PYTORCH_CUDA_ALLOC_CONF": "x",
                   "NVIDIA_VISIBLE_DEVICES": "all", "CUDA_MPS_PIPE_DIRECTORY": "/m"},
           "kwargs": {"config": {"train": {"deterministic": True}}}}
    assert worker_spares.job_cuda_env(job) == {
        "CUDA_VISIBLE_DEVICES": "1", "PYTORCH_CUDA_ALLOC_CONF": "x",
        "NVIDIA_VISIBLE_DEVICES": "all", "CUDA_MPS_PIPE_DIRECTORY": "/m",
        "CUBLAS_WORKSPACE_CONFIG": worker_spares.CUBLAS_DEFAULT}
    # a spare sets the deterministic default before CUDA init; a job that is not
    # deterministic and names no workspace would get torch's default: not the same
    job["kwargs"]["config"]["train"]["deterministic"] = False
    assert "CUBLAS_WORKSPACE_CONFIG" not in worker_spares.job_cuda_env(job)


def test_concurrent_jobs_both_complete_in_their_own_children(live, workdir):
    served = wc.request(live, "ping")["served"]
    log, lines = job_logger()
    errors = []

    def job(seed):
        try:
            wc.run_job("train", train_job(workdir / "results", workdir / f"seed{seed}",
                                          seed=seed), log, path=live)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    try:
        threads = [threading.Thread(target=job, args=(seed,)) for seed in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    finally:
        logging.getLogger().removeHandler(lines)
    assert not errors
    children = {int(line.split("child ")[1].split()[0]) for line in lines.lines
                if " trains this job" in line}
    assert len(children) == 2
    for seed in (1, 2):
        assert json.loads((workdir / f"seed{seed}" / "metrics.json").read_text())["epochs"] == 2
    assert wc.request(live, "ping")["served"] == served + 2


def test_a_child_error_fails_the_job_with_its_message(live, workdir):
    bad = train_job(workdir / "results", workdir / "bad")
    bad["config"]["train"]["scheduler"] = "sometimes"
    log = logging.getLogger("ferstudy")
    with pytest.raises(ValueError) as here:
        wc.run_job("train", bad, log, path=str(workdir / "none.sock"))
    with pytest.raises(wc.WorkerJobError) as there:
        wc.run_job("train", bad, log, path=live)
    assert str(there.value) == f"ValueError: {here.value}"
    assert "sometimes" in str(there.value)
    assert wc.request(live, "ping")   # the worker lives on


def test_stale_socket_trains_in_process_and_start_replaces_it(tmp_path):
    path = str(tmp_path / "w.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()                       # the file stays; nobody listens
    results = toy_results(tmp_path)
    log, lines = job_logger()
    try:
        wc.run_job("train", train_job(results, tmp_path / "run", epochs=1), log, path=path)
    finally:
        logging.getLogger().removeHandler(lines)
    assert any("stale socket): training in-process" in line for line in lines.lines)
    assert json.loads((tmp_path / "run" / "provenance.json").read_text())["startup"]["worker"] is False
    worker.start(path)
    try:
        pid = wc.request(path, "ping")["pid"]
        worker.start(path)             # idempotent: the same worker answers
        assert wc.request(path, "ping")["pid"] == pid
    finally:
        assert worker.stop(path).startswith("stopped")
    assert not os.path.exists(path) and wait_for(lambda: gone(pid))
    assert worker.stop(path).startswith("no train-worker")


def long_job(path: str, tmp_path: Path) -> tuple[threading.Thread, Lines, list]:
    """A 500-epoch job through the worker at ``path`` in a thread (not started): the thread,
    the job's log lines and where its WorkerJobError lands."""
    results = toy_results(tmp_path)
    log, lines = job_logger()
    outcome = []

    def job():
        try:
            wc.run_job("train", train_job(results, tmp_path / "run", epochs=500), log, path=path)
        except wc.WorkerJobError as err:
            outcome.append(err)

    return threading.Thread(target=job), lines, outcome


def test_a_killed_worker_fails_its_running_job(tmp_path):
    path = str(tmp_path / "w.sock")
    worker.start(path)
    pid = wc.request(path, "ping")["pid"]
    thread, lines, outcome = long_job(path, tmp_path)
    try:
        thread.start()
        assert wait_for(lambda: any(line.startswith("start-up: ") for line in lines.lines), 120)
        child = lines.child()
        os.kill(pid, signal.SIGKILL)
        thread.join(timeout=60)
        assert not thread.is_alive(), "the job hangs after its worker was killed"
    finally:
        logging.getLogger().removeHandler(lines)
        if thread.is_alive():
            os.kill(child, signal.SIGKILL)
    assert outcome and "lost the job" in str(outcome[0])
    assert wait_for(lambda: gone(child), 30)   # the child died with its worker
    assert not (tmp_path / "run" / "model.pt").exists()


def test_a_job_whose_spare_is_killed_fails_at_once(tmp_path):
    """The process training a job (a pre-warmed spare) is SIGKILLed (OOM killer, segfault,
    CUDA abort): the job fails with 'lost the job' instead of waiting for ever. The spare
    forked to replace it must not hold the job's connection open (it did once: it was forked
    while the worker still had the connection)."""
    path = str(tmp_path / "w.sock")
    worker.start(path, spares=1)
    thread, lines, outcome = long_job(path, tmp_path)
    try:
        spare = ready_spares(path)[0]
        thread.start()
        assert wait_for(lambda: any(line.startswith("start-up: ") for line in lines.lines), 120)
        assert lines.child() == spare
        ready_spares(path)                   # replaced while the job trains
        os.kill(spare, signal.SIGKILL)
        thread.join(timeout=20)
        assert not thread.is_alive(), "the job waits for ever after its process was killed"
    finally:
        logging.getLogger().removeHandler(lines)
        worker.stop(path)
    assert outcome and "lost the job" in str(outcome[0])
    assert not (tmp_path / "run" / "model.pt").exists()


CLIENT = """
import logging, sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from ferstudy.train import worker_client as wc
from worker_jobs import train_job
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
wc.run_job("train", train_job(Path({results!r}), Path({run!r}), epochs=500),
           logging.getLogger("ferstudy"), path={path!r})
"""


def test_a_cancelled_job_kills_its_child(live, workdir):
    script = CLIENT.format(tests=str(Path(__file__).parent), results=str(workdir / "results"),
                           run=str(workdir / "cancelled"), path=live)
    client = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = None
    try:
        for line in client.stdout:
            if " trains this job" in line:
                child = int(line.split("child ")[1].split()[0])
            if line.startswith("start-up: "):
                break
        assert child is not None
        client.kill()                      # as Snakemake cancelling the job
        client.wait(timeout=30)
        assert wait_for(lambda: gone(child), 30), "the child outlived its job"
    finally:
        if client.poll() is None:
            client.kill()
    assert wc.request(live, "ping")       # the worker lives on


WORKER_QUERIES = """
import os, sys, threading, time
import torch
queries = []
torch.cuda.is_available = lambda: queries.append(("is_available", os.getpid())) or False
torch.cuda.device_count = lambda: queries.append(("device_count", os.getpid())) or 0
torch.cuda.init = lambda: queries.append(("init", os.getpid()))
from ferstudy.train import worker, worker_client as wc
worker.preload()
print("preload", queries, flush=True)

def drive(path):   # a spare warms up (its queries are its own), then the worker stops
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (wc.request(path, "ping") or {}).get("spares"):
        time.sleep(0.1)
    wc.request(path, "stop")

threading.Thread(target=drive, args=(sys.argv[1],), daemon=True).start()
worker.serve(sys.argv[1], spares=1)
print("serve", queries, flush=True)
"""


def test_the_worker_leaves_cuda_alone_only_its_spares_touch_it(tmp_path):
    # a CUDA query before fork initialises the driver in the worker: no child could use the
    # GPU. Neither importing the training modules nor keeping a spare asks CUDA anything in
    # the worker's own process (the spare's warm-up queries happen in the spare)
    out = subprocess.run([sys.executable, "-c", WORKER_QUERIES, str(tmp_path / "w.sock")],
                         capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.split("\n")[:2] == ["preload []", "serve []"], out.stdout + out.stderr
    assert "spare " in out.stderr and " ready after " in out.stderr


def test_process_start_time_brackets_a_process_launch():
    from ferstudy.train.startup import process_start_time

    before = time.time()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        after = time.time()
        started = process_start_time(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    # /proc counts 10 ms ticks
    assert before - 0.02 <= started <= after + 0.02


@pytest.mark.slow   # the fast tier runs this grid in-process (tests/test_train_workflow.py)
def test_train_grid_through_snakemake_with_a_worker(tmp_path):
    # the default socket of jobs running in tmp_path (Snakemake's -d)
    path = str(tmp_path / ".snakemake" / "train-worker.sock")
    worker.start(path)
    try:
        targets = run_train_grid(tmp_path)
        served = wc.request(path, "ping")["served"]
    finally:
        worker.stop(path)
    check_train_grid(tmp_path, targets, worker=True)
    assert served == 2                     # the two train_model jobs; pretraining in-process
    pre_log = (tmp_path / "results" / "logs" / "pretrain_model" / "merged-ckplus+mug" /
               "resnet2d_lstm" / "fold0-full.log").read_text()
    assert "train-worker at" not in pre_log and "wrote " in pre_log

