"""The warm train-worker (ferstudy.train.worker, .worker_client): a job trained through it is
bit-identical to one trained in-process; concurrent jobs; a stale socket falls back to
in-process; a child's error, a killed worker and a cancelled job each end the job clearly.
Workers here listen on sockets under tmp dirs, started as `ferstudy train-worker start` does."""
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
    worker.start(path)
    yield path
    worker.stop(path)


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


def test_a_run_through_the_worker_is_bit_identical_to_one_in_process(live, workdir):
    log, lines = job_logger()
    try:
        results = workdir / "results"
        wc.run_job("train", train_job(results, workdir / "here"), log,
                   path=str(workdir / "none.sock"))
        assert not any("train-worker" in line for line in lines.lines)
        wc.run_job("train", train_job(results, workdir / "there"), log, path=live)
        assert gone(lines.child()) or wait_for(lambda: gone(lines.child()))
    finally:
        logging.getLogger().removeHandler(lines)
    here, there = workdir / "here", workdir / "there"
    for name in OUTPUTS:
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
    timing = {"wall_time_s", "test_time_s"}
    m1, m2 = (json.loads((d / "metrics.json").read_text()) for d in (here, there))
    assert {k: v for k, v in m1.items() if k not in timing} == \
        {k: v for k, v in m2.items() if k not in timing}
    p1, p2 = (json.loads((d / "provenance.json").read_text()) for d in (here, there))
    assert p1["settings_hash"] == p2["settings_hash"]
    assert p1["startup"]["worker"] is False and p2["startup"]["worker"] is True
    # the child's records reached the job's log: its epochs and its start-up line
    assert any(line.startswith("start-up: ") and "train-worker" in line for line in lines.lines)
    assert any(line.startswith("epoch 2/2 train_loss") for line in lines.lines)


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


def test_a_killed_worker_fails_its_running_job(tmp_path):
    path = str(tmp_path / "w.sock")
    results = toy_results(tmp_path)
    worker.start(path)
    pid = wc.request(path, "ping")["pid"]
    log, lines = job_logger()
    outcome = []

    def job():
        try:
            wc.run_job("train", train_job(results, tmp_path / "run", epochs=500), log, path=path)
        except wc.WorkerJobError as err:
            outcome.append(err)

    thread = threading.Thread(target=job)
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


PRELOAD_QUERIES = """
import torch
queries = []
torch.cuda.is_available = lambda: queries.append("is_available") or False
torch.cuda.device_count = lambda: queries.append("device_count") or 0
torch.cuda.init = lambda: queries.append("init")
from ferstudy.train import worker
worker.preload()
print(queries)
"""


def test_the_worker_preload_leaves_cuda_alone():
    # a CUDA query before fork initialises the driver in the worker: no child could use the GPU
    out = subprocess.run([sys.executable, "-c", PRELOAD_QUERIES], capture_output=True,
                         text=True, timeout=300, check=True).stdout
    assert out.strip() == "[]"


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

