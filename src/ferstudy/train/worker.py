"""``ferstudy train-worker start|stop|status``: a warm process that trains jobs by forking.

Every train_model job otherwise starts an interpreter and imports torch and ferstudy before
its first step (ferstudy.train.startup measures it). The worker pays the imports once: it
imports torch and the training modules, listens on a Unix socket, and forks one child per job
(ferstudy.train.worker_client is the job side); the child takes the job's working directory
and environment (``CUDA_VISIBLE_DEVICES`` included), sets its threads, device and seeds as
an in-process run does, and trains. Children run concurrently: as many as Snakemake starts
(``gpu_slots=K`` under profiles/local-gpu).

It never initialises CUDA (a CUDA context does not survive ``fork``): each child initialises
its own, so on a GPU the CUDA start-up is still paid per job; only the imports are saved.

Robustness: one worker per socket (an exclusive lock on ``<socket>.lock``; a socket file
whose lock is free is stale and replaced); a child dies with the worker (``PR_SET_PDEATHSIG``,
Linux) and with its job (the job's connection closing); ``stop`` or SIGTERM ends the children
first. The worker's own log: ``<socket>.log``.
"""
from __future__ import annotations

import argparse
import ctypes
import fcntl
import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

from ferstudy.train import worker_client as wc

# imported once in the worker: what a training child would import (not CUDA: see above)
# (torch._inductor.config: torch.use_deterministic_algorithms imports it, sympy and all: ~3 s)
PRELOAD = ("torch", "torch._inductor.config", "numpy", "pandas", "ferstudy.all_registries", "ferstudy.train.run",
           "ferstudy.train.cli", "ferstudy.train.pretrain", "ferstudy.train.pretrained",
           "ferstudy.clipstore", "ferstudy.provenance", "ferstudy.augment.affine")
READY_TIMEOUT_S = 300.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["start", "stop", "status", "serve"],
                        help="start (idempotent: prints the socket), stop, status; serve: run "
                             "the worker in the foreground (what start launches)")
    parser.add_argument("--socket", default=None,
                        help=f"socket path (default: ${wc.ENV}, else {wc.DEFAULT} here)")


def run(args: argparse.Namespace) -> None:
    path = wc.socket_path(args.socket)
    if path is None:
        raise ValueError(f"{wc.ENV}=off: no worker socket; pass --socket PATH")
    if args.action == "serve":
        serve(path)
    elif args.action == "start":
        start(path)
        print(path)
    elif args.action == "stop":
        print(stop(path))
    else:
        info = wc.request(path, "ping")
        if info is None:
            raise RuntimeError(f"no train-worker answers at {path}")
        print(f"train-worker pid {info['pid']} at {path}: {info['running']} job(s) running, "
              f"{info['served']} served since {time.ctime(info['since'])}")


def start(path: str) -> None:
    """Start a worker at ``path`` unless one answers there; return once it answers."""
    if wc.request(path, "ping"):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".log", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ferstudy.train.worker", "serve",
                                 "--socket", path], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if wc.request(path, "ping"):
            return
        if proc.poll() is not None and not wc.request(path, "ping"):
            raise RuntimeError(f"the train-worker exited ({proc.returncode}); see {path}.log")
        time.sleep(0.2)
    raise RuntimeError(f"the train-worker did not answer at {path} in {READY_TIMEOUT_S:.0f}s; "
                       f"see {path}.log")


def stop(path: str) -> str:
    if wc.request(path, "stop") is None:
        return f"no train-worker answers at {path}"
    deadline = time.monotonic() + 30
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.1)
    return f"stopped the train-worker at {path}"


def serve(path: str) -> None:
    """The worker's loop: accept, answer ping/stop, fork a child per ``run``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s train-worker: "
                        "%(message)s", stream=sys.stderr, force=True)
    log = logging.getLogger("ferstudy.train.worker")
    lock = open(path + ".lock", "w")   # held for the worker's life; released when it dies
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        log.info("another train-worker holds %s.lock: not starting a second", path)
        return
    t0 = time.perf_counter()
    preload()
    log.info("imported %s in %.1fs (%d thread(s))", ", ".join(PRELOAD),
             time.perf_counter() - t0, threading.active_count())
    if os.path.exists(path):
        os.unlink(path)   # ours by the lock: a dead worker's socket
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(old_mask)
    listener.listen(64)
    listener.settimeout(0.5)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    children: dict[int, float] = {}
    served, since = 0, time.time()
    log.info("pid %d listening at %s", os.getpid(), path)
    try:
        while not stopping.is_set():
            _reap(children, log)
            try:
                conn, _ = listener.accept()
            except (TimeoutError, InterruptedError):
                continue
            with conn:
                conn.settimeout(10.0)
                try:
                    message = wc.receive(conn)
                except OSError:
                    continue
                if not message:
                    continue
                if message.get("op") == "ping":
                    _reply(conn, {"pid": os.getpid(), "running": len(children),
                                  "served": served, "since": since})
                elif message.get("op") == "stop":
                    _reply(conn, {"stopping": True})
                    stopping.set()
                elif message.get("op") == "run":
                    if message.get("target") not in wc.TARGETS:
                        _reply(conn, {"refused": f"unknown target {message.get('target')!r}"})
                        continue
                    try:
                        pid = os.fork()
                    except OSError as err:   # out of memory or processes: the job trains alone
                        _reply(conn, {"refused": f"fork failed: {err}"})
                        continue
                    if pid == 0:
                        listener.close()
                        lock.close()
                        _child(conn, message)   # never returns
                    children[pid] = time.time()
                    served += 1
                    log.info("job %d (%s) -> child %d", served, message["target"], pid)
    finally:
        _end(children, log)
        # still ours: no successor binds while this process holds the lock
        if os.path.exists(path):
            os.unlink(path)
        listener.close()
        log.info("stopped after %d job(s)", served)


def preload() -> None:
    """Import PRELOAD, and check that CUDA was left alone (a forked child could not use it)."""
    for name in PRELOAD:
        importlib.import_module(name)
    import torch

    if torch.cuda.is_initialized():
        raise RuntimeError("importing the training modules initialised CUDA: a forked child "
                           "could not use the GPU; the train-worker cannot run")


def _reply(conn: socket.socket, message: dict) -> None:
    try:
        wc.send(conn, message)
    except OSError:
        pass


def _reap(children: dict[int, float], log: logging.Logger) -> None:
    for pid in list(children):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, 0
        if done:
            log.info("child %d exited %d after %.0fs", pid, os.waitstatus_to_exitcode(status),
                     time.time() - children.pop(pid))


def _end(children: dict[int, float], log: logging.Logger) -> None:
    """SIGTERM the running children, SIGKILL what is left after 10 s."""
    for pid in children:
        log.info("ending child %d", pid)
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while children and time.monotonic() < deadline:
        _reap(children, log)
        time.sleep(0.1)
    for pid in children:
        _signal(pid, signal.SIGKILL)
    for pid in list(children):
        os.waitpid(pid, 0)
        children.pop(pid)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _die_with_parent() -> None:
    """SIGKILL this child when the worker dies (Linux; elsewhere the job's own end kills it)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(conn: socket.socket, job: dict) -> None:
    """A forked child: become the job (cwd, environment), train, report, exit."""
    code = 1
    try:
        worker = os.getppid()
        _die_with_parent()
        if os.getppid() != worker:   # the worker died before the line above
            os._exit(1)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        conn.settimeout(None)
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        lock = threading.Lock()

        def emit(message: dict) -> None:
            with lock:
                wc.send(conn, message)

        _forward_logging(emit)
        emit({"started": os.getpid()})
        finished = threading.Event()
        threading.Thread(target=_watch_job, args=(conn, finished), daemon=True).start()
        kwargs = dict(job["kwargs"])
        if job["target"] == "train":
            from ferstudy.train.startup import StartupClock

            kwargs["startup"] = StartupClock(job["origin"], worker=True)
        try:
            wc.resolve(job["target"])(**kwargs, log=logging.getLogger("ferstudy").info)
        except BaseException as err:  # noqa: BLE001 - every failure goes back to the job
            finished.set()
            emit({"error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()})
        else:
            finished.set()
            emit({"done": True})
            code = 0
        logging.shutdown()
    finally:
        os._exit(code)


def _watch_job(conn: socket.socket, finished: threading.Event) -> None:
    """The job never writes after its request: end of stream before the result means it was
    cancelled (its process killed), and so is this child."""
    try:
        while conn.recv(1024):
            pass
    except OSError:
        pass
    if not finished.is_set():
        os.kill(os.getpid(), signal.SIGKILL)


class _Forward(logging.Handler):
    def __init__(self, emit):
        super().__init__()
        self.send = emit

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.send({"log": (record.levelno, record.name, record.getMessage())})
        except OSError:
            pass


def _forward_logging(emit) -> None:
    """Every log record (and warning) of the child goes to the job's log, not the worker's."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_Forward(emit))
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m ferstudy.train.worker")
    add_arguments(parser)
    run(parser.parse_args())
