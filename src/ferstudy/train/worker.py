"""``ferstudy train-worker start|stop|status``: a warm process that trains jobs by forking.

Every train_model job otherwise starts an interpreter and imports torch and ferstudy before
its first step (ferstudy.train.startup measures it). The worker pays the imports once: it
imports torch and the training modules, listens on a Unix socket, and runs each job in a
child process of its own (ferstudy.train.worker_client is the job side); the child takes the
job's working directory and environment (``CUDA_VISIBLE_DEVICES`` included), sets its
threads, device and seeds as an in-process run does, trains, reports and exits: one job per
process. Children run concurrently: as many as Snakemake starts (``gpu_slots=K`` under
profiles/local-gpu).

The worker itself never touches CUDA (a CUDA context does not survive ``fork``), so a child
forked for a job (a cold child) still pays CUDA's start-up on a GPU. To take that off the
job's critical path the worker keeps ``--spares N`` children (default 1) forked in advance
that have already initialised CUDA and loaded cuBLAS/cuDNN (ferstudy.train.worker_spares): a
job goes to a ready spare whose CUDA environment is its own (the connection is passed over a
socketpair), and a replacement spare is forked at once and warms up while the job trains.
Each idle spare holds a CUDA context (about 0.5 GB of GPU memory; on a CPU machine a spare
only waits). Without a ready spare, or for a job with other CUDA variables
(``CUDA_VISIBLE_DEVICES``, MPS, allocator settings...), the job gets a cold child; spares
that keep failing their warm-up are given up (logged) and every job gets a cold child. The
run's ``startup`` record says which (``prewarmed``); the numbers are the same either way.

Robustness: one worker per socket (an exclusive lock on ``<socket>.lock``; a socket file
whose lock is free is stale and replaced); a child or spare dies with the worker
(``PR_SET_PDEATHSIG``, Linux), a child with its job (the job's connection closing), a spare
when its control socket closes; ``stop`` or SIGTERM ends the children and spares first. The
worker's own log: ``<socket>.log``.
"""
from __future__ import annotations

import argparse
import ctypes
import fcntl
import importlib
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

from ferstudy.train import worker_client as wc
from ferstudy.train import worker_spares

# imported once in the worker: what a training child would import (not CUDA: see above)
# (torch._inductor.config: torch.use_deterministic_algorithms imports it, sympy and all: ~3 s)
PRELOAD = ("torch", "torch._inductor.config", "numpy", "pandas", "ferstudy.all_registries", "ferstudy.train.run",
           "ferstudy.train.cli", "ferstudy.train.pretrain", "ferstudy.train.pretrained",
           "ferstudy.clipstore", "ferstudy.provenance", "ferstudy.augment.affine")
READY_TIMEOUT_S = 300.0
DEFAULT_SPARES = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["start", "stop", "status", "serve"],
                        help="start (idempotent: prints the socket), stop, status; serve: run "
                             "the worker in the foreground (what start launches)")
    parser.add_argument("--socket", default=None,
                        help=f"socket path (default: ${wc.ENV}, else {wc.DEFAULT} here)")
    parser.add_argument("--spares", type=int, default=DEFAULT_SPARES, metavar="N",
                        help="start/serve: children kept forked and warmed up in advance (CUDA "
                             "initialised, cuBLAS/cuDNN loaded) so that a job skips CUDA's "
                             "start-up; each idle one holds a CUDA context, about 0.5 GB of GPU "
                             "memory (on a CPU machine: nothing). 0: every job gets a cold "
                             f"child (default: {DEFAULT_SPARES})")


def run(args: argparse.Namespace) -> None:
    path = wc.socket_path(args.socket)
    if path is None:
        raise ValueError(f"{wc.ENV}=off: no worker socket; pass --socket PATH")
    if args.spares < 0:
        raise ValueError(f"--spares must be 0 or more, not {args.spares}")
    if args.action == "serve":
        serve(path, args.spares)
    elif args.action == "start":
        start(path, spares=args.spares)
        print(path)
    elif args.action == "stop":
        print(stop(path))
    else:
        info = wc.request(path, "ping")
        if info is None:
            raise RuntimeError(f"no train-worker answers at {path}")
        print(f"train-worker pid {info['pid']} at {path}: {info['running']} job(s) running, "
              f"{info['served']} served ({info['prewarmed']} pre-warmed) since "
              f"{time.ctime(info['since'])}; spares: {info['spares']} ready, "
              f"{info['warming']} warming up (keeps {info['spares_wanted']})")


def start(path: str, *, spares: int = DEFAULT_SPARES, env: dict | None = None) -> None:
    """Start a worker at ``path`` unless one answers there; return once it answers (its spares
    may still be warming up). ``env``: the worker's environment (default: this one's); its
    spares initialise CUDA with it, so give it the jobs' CUDA variables (MPS pipe directory...)."""
    if wc.request(path, "ping"):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".log", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ferstudy.train.worker", "serve",
                                 "--socket", path, "--spares", str(spares)], env=env,
                                stdin=subprocess.DEVNULL, stdout=out,
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


def serve(path: str, spares: int = DEFAULT_SPARES) -> None:
    """The worker's loop: accept, answer ping/stop, hand each ``run`` to a spare or a child."""
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
    server = _Server(listener, lock, spares, log)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.stopping.set())
    log.info("pid %d listening at %s (%d spare(s))", os.getpid(), path, spares)
    try:
        server.loop()
    finally:
        server.children.update(server.spares.release())
        _end(server.children, log)
        # still ours: no successor binds while this process holds the lock
        if os.path.exists(path):
            os.unlink(path)
        listener.close()
        log.info("stopped after %d job(s) (%d pre-warmed)", server.served, server.prewarmed)


class _Server:
    """The worker's state: running children (pid -> start), spares, counts."""

    def __init__(self, listener: socket.socket, lock, spares: int, log: logging.Logger):
        self.listener, self.lock, self.log = listener, lock, log
        self.stopping = threading.Event()
        self.children: dict[int, float] = {}
        self.served, self.prewarmed, self.since = 0, 0, time.time()
        self.spares = worker_spares.Spares(spares, log, self._start_spare)

    def loop(self) -> None:
        while not self.stopping.is_set():
            _reap(self.children, self.log)
            self.spares.reap()
            self.spares.fill()
            readable, _, _ = select.select([self.listener, *self.spares.sockets()], [], [], 0.5)
            for sock in readable:
                if sock is not self.listener:
                    self.spares.on_readable(sock)
            if self.listener in readable:
                self._accept()

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except (TimeoutError, InterruptedError, BlockingIOError):
            return
        with conn:
            conn.settimeout(10.0)
            try:
                message = wc.receive(conn)
            except OSError:
                return
            if not message:
                return
            if message.get("op") == "ping":
                _reply(conn, {"pid": os.getpid(), "running": len(self.children),
                              "served": self.served, "prewarmed": self.prewarmed,
                              "since": self.since, **self.spares.status()})
            elif message.get("op") == "stop":
                _reply(conn, {"stopping": True})
                self.stopping.set()
            elif message.get("op") == "run":
                self._run(conn, message)

    def _run(self, conn: socket.socket, message: dict) -> None:
        if message.get("target") not in wc.TARGETS:
            _reply(conn, {"refused": f"unknown target {message.get('target')!r}"})
            return
        spare, why = self.spares.take(message)
        if spare is not None and self.spares.hand_over(spare, conn, message):
            pid, self.prewarmed, how = spare.pid, self.prewarmed + 1, "pre-warmed spare"
            # no fill() here: a spare forked now would inherit this job's connection and keep
            # it open after the job's process died, and the job would wait for ever; the loop
            # forks the replacement as soon as the connection is closed (serve's next turn)
        else:
            try:
                pid = os.fork()
            except OSError as err:   # out of memory or processes: the job trains alone
                _reply(conn, {"refused": f"fork failed: {err}"})
                return
            if pid == 0:
                try:
                    self._in_child()
                    _child(conn, message)   # never returns
                finally:
                    os._exit(1)   # a child never goes back into the worker's loop
            how = f"cold child ({why or 'the spare did not take it'})"
        self.children[pid] = time.time()
        self.served += 1
        self.log.info("job %d (%s) -> %s %d", self.served, message["target"], how, pid)

    def _in_child(self) -> None:
        """In a forked child: close what is the worker's."""
        self.listener.close()
        self.lock.close()
        self.spares.close_inherited()

    def _start_spare(self, ctl: socket.socket) -> None:
        self._in_child()
        _become_child()
        worker_spares.spare_main(ctl, _run_job)   # never returns


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
    """SIGTERM the running children and the spares, SIGKILL what is left after 10 s."""
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


def _become_child() -> None:
    """Right after a fork: die with the worker, take the default signal handlers."""
    worker = os.getppid()
    _die_with_parent()
    if os.getppid() != worker:   # the worker died before the line above
        os._exit(1)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)


def _child(conn: socket.socket, job: dict) -> None:
    """A cold child, forked for this job: become the job, train, report, exit."""
    try:
        _become_child()
    except BaseException:  # noqa: BLE001 - a child never returns into the worker's loop
        os._exit(1)
    _run_job(conn, job, prewarmed=False)   # never returns


def _run_job(conn: socket.socket, job: dict, *, prewarmed: bool) -> None:
    """Become the job (cwd, environment), train, report, exit (a cold child or a spare)."""
    code = 1
    try:
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

            kwargs["startup"] = StartupClock(job["origin"], worker=True, prewarmed=prewarmed)
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
