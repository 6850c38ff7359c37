"""The job side of the warm train-worker: hand a training job to it, or train in-process.

``run_job("train", kwargs, log)`` is what ``ferstudy.train.cli.train_from_workflow`` (the
train_model script's entry) calls; ``run_job("pretrain", ...)`` is there for pretraining but
its script calls ``run_pretrain`` directly (10 jobs per study: nothing to save). It
imports no torch: when a worker (``ferstudy train-worker start``, ferstudy.train.worker)
answers on its Unix socket, the job's arguments go to it, a forked child of the worker (torch
and ferstudy already imported) trains, its log records come back into this job's log, and a
failure in the child fails this job with the child's message. Otherwise the same function
runs in this process, as before the worker existed. Both paths call the same function with
the same arguments, so a run's numbers do not depend on the path (not a setting: nothing
reruns when a worker starts or stops).

When to fall back and when to fail: until the worker confirms the job (``started``) nothing
has run, so no socket, a stale socket, a refused or timed-out connection, or a worker that
closes before confirming all mean "train in-process" (logged). Once confirmed, the job is the
child's: its error, or the connection ending without a result (worker or child killed), fails
the job; Snakemake's rerun then resumes from the run's checkpoint. This process dying (a
cancelled job) closes the connection, and the child kills itself.

Socket: ``$FERSTUDY_TRAIN_WORKER`` (``off``: never use a worker), else
``.snakemake/train-worker.sock`` under the working directory.
Wire format: each message is a 4-byte big-endian length and a pickled dict (same user only:
the socket is mode 0600).
"""
from __future__ import annotations

import importlib
import logging
import os
import pickle
import socket
import struct
import time

ENV = "FERSTUDY_TRAIN_WORKER"
DEFAULT = os.path.join(".snakemake", "train-worker.sock")
# the jobs a worker runs, by name: "module:function" taking keyword arguments and log=
TARGETS = {"train": "ferstudy.train.cli:train_in_process",
           "pretrain": "ferstudy.train.pretrain:run_pretrain"}
CONNECT_TIMEOUT_S = 5.0
START_TIMEOUT_S = 60.0    # worker accepting and forking; a busy machine can be slow


class WorkerJobError(RuntimeError):
    """The worker took the job and it failed (the child's error, or the child was lost)."""


def socket_path(path: str | None = None) -> str | None:
    """The worker's socket (absolute), or None when ``$FERSTUDY_TRAIN_WORKER`` is ``off``."""
    path = path or os.environ.get(ENV) or DEFAULT
    return None if path == "off" else os.path.abspath(path)


def send(sock: socket.socket, message: dict) -> None:
    blob = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(struct.pack(">I", len(blob)) + blob)


def receive(sock: socket.socket) -> dict | None:
    """The next message, or None at end of stream (the peer closed or died)."""
    head = _exactly(sock, 4)
    if head is None:
        return None
    blob = _exactly(sock, struct.unpack(">I", head)[0])
    return None if blob is None else pickle.loads(blob)


def _exactly(sock: socket.socket, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def connect(path: str | None, timeout: float = CONNECT_TIMEOUT_S) -> socket.socket | None:
    """A connection to a live worker at ``path``, or None (no socket file, stale, refused)."""
    if not path or not os.path.exists(path):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def request(path: str | None, op: str, timeout: float = CONNECT_TIMEOUT_S) -> dict | None:
    """One-shot ``ping`` / ``stop`` to the worker; None when none answers."""
    sock = connect(path, timeout)
    if sock is None:
        return None
    try:
        send(sock, {"op": op})
        return receive(sock)
    except OSError:
        return None
    finally:
        sock.close()


def resolve(target: str):
    module, _, name = TARGETS[target].partition(":")
    return getattr(importlib.import_module(module), name)


def run_job(target: str, kwargs: dict, log: logging.Logger, *, path: str | None = None) -> None:
    """Run ``TARGETS[target](**kwargs, log=log.info)`` through the worker if one answers,
    else here. Raises WorkerJobError when the worker took the job and it failed."""
    from ferstudy.train.startup import process_start_time

    origin = process_start_time() or time.time()
    path = socket_path(path)
    sock = _hand_over(path, target, kwargs, origin, log)
    if sock is None:
        resolve(target)(**kwargs, log=log.info)
        return
    with sock:
        _follow(sock, path, log)


def _hand_over(path, target, kwargs, origin, log) -> socket.socket | None:
    """The connection once the worker confirms the job, or None (train in-process)."""
    sock = connect(path)
    if sock is None:
        if path and os.path.exists(path):
            log.info("no train-worker answers at %s (stale socket): training in-process", path)
        return None
    try:
        send(sock, {"op": "run", "target": target, "kwargs": kwargs, "origin": origin,
                    "cwd": os.getcwd(), "env": dict(os.environ)})
        sock.settimeout(START_TIMEOUT_S)
        reply = receive(sock)
    except OSError as err:
        reply = {"refused": f"{type(err).__name__}: {err}"}
    if not reply or "started" not in reply:
        why = (reply or {}).get("refused", "it closed the connection")
        log.warning("train-worker at %s did not take the job (%s): training in-process", path, why)
        sock.close()
        return None
    sock.settimeout(None)   # a job takes hours; the end of the stream says the child is gone
    log.info("train-worker at %s: child %s trains this job", path, reply["started"])
    return sock


def _follow(sock: socket.socket, path: str, log: logging.Logger) -> None:
    """Copy the child's log records into this job's log until its result."""
    while True:
        try:
            message = receive(sock)
        except OSError as err:
            message, lost = None, f" ({type(err).__name__}: {err})"
        else:
            lost = ""
        if message is None:
            raise WorkerJobError(f"the train-worker at {path} lost the job before it finished "
                                 f"(worker or its child killed?){lost}")
        if "log" in message:
            level, name, text = message["log"]
            logging.getLogger(name).log(level, "%s", text)
        elif "error" in message:
            log.error("train-worker child failed:\n%s", message.get("traceback", "").rstrip())
            raise WorkerJobError(message["error"])
        elif "done" in message:
            return
