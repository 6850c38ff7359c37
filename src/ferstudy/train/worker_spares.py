"""Pre-warmed spare children of the train-worker (ferstudy.train.worker).

A spare is a child the worker forks before any job needs it. It initialises CUDA on device 0
and loads cuBLAS and cuDNN (``warm_up``), tells the worker it is ready over its own control
socket (a ``socketpair``), and waits. A ``run`` that finds a ready spare whose CUDA
environment is the job's goes to it: the worker sends the job's accepted connection
(``socket.send_fds``) and its message, and the spare becomes that job exactly as a freshly
forked child would (working directory, environment, train, report, exit): one job per
process. The worker then forks a replacement at once, so its warm-up overlaps the job's
training. A job's CUDA environment (``cuda_env``) is what CUDA, cuBLAS, cuDNN and torch's CUDA
allocator read when they initialise: a job whose environment differs (another
``CUDA_VISIBLE_DEVICES``, MPS pipe directory, allocator settings...) cannot use a context made
with the spare's, and gets a cold child.

Determinism: the warm-up works on fixed zeros and draws no random numbers; it sets
``CUBLAS_WORKSPACE_CONFIG`` to device.configure's default first, so a deterministic job (the
default) finds the cuBLAS workspace it would have made itself; a job that is not deterministic
and names no workspace would get torch's default one, and so runs cold. The worker itself
never touches CUDA (a context does not survive fork): only a spare does, after its fork.

Faults: a spare whose warm-up raises reports it and exits 1 (the worker logs it); after
``MAX_FAILURES`` spares in a row failed or died before becoming ready, the worker keeps no more
spares and every job gets a cold child. A spare dies with the worker (``PR_SET_PDEATHSIG``) and
exits when its control socket closes. ``FERSTUDY_WORKER_WARMUP_FAIL=1`` in the worker's
environment (tests only) makes every warm-up fail.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import time
import traceback
from dataclasses import dataclass

from ferstudy.train import worker_client as wc
from ferstudy.train.device import CUBLAS_WORKSPACE_DEFAULT as CUBLAS_DEFAULT

FAIL_ENV = "FERSTUDY_WORKER_WARMUP_FAIL"   # tests only: every spare's warm-up raises
MAX_FAILURES = 3
HAND_OVER_TIMEOUT_S = 10.0
# read when the CUDA driver/runtime, cuBLAS(Lt), cuDNN or torch's CUDA allocator initialise
CUDA_ENV_PREFIXES = ("CUDA_", "NVIDIA_", "CUBLAS", "CUDNN_", "PYTORCH_CUDA_", "PYTORCH_NO_CUDA",
                     "PYTORCH_ALLOC_CONF",   # torch >= 2.9's name of PYTORCH_CUDA_ALLOC_CONF
                     "PYTORCH_NVML_", "TORCH_CUDNN_", "TORCH_CUBLAS", "TORCH_BLAS_",
                     "TORCH_ALLOW_TF32_", "DISABLE_ADDMM_CUDA_LT")


def cuda_env(env: dict, *, deterministic: bool) -> dict:
    """The variables of ``env`` that CUDA's initialisation reads, with the cuBLAS workspace a
    run would set itself (device.configure: deterministic runs default to CUBLAS_DEFAULT)."""
    out = {k: v for k, v in env.items() if k.startswith(CUDA_ENV_PREFIXES)}
    if deterministic:
        out.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_DEFAULT)
    return out


def job_cuda_env(job: dict) -> dict:
    """A ``run`` message's CUDA environment (an unknown ``deterministic`` counts as False)."""
    train = job.get("kwargs", {}).get("config", {}).get("train", {})
    return cuda_env(job.get("env", {}), deterministic=train.get("deterministic") is True)


# ---- the spare's side (a forked child) ---------------------------------------------------

def warm_up() -> bool:
    """Initialise CUDA on device 0 and load cuBLAS and cuDNN; False (nothing done) without a
    GPU. Called only in a spare, never in the worker."""
    if os.environ.get(FAIL_ENV) == "1":
        raise RuntimeError(f"{FAIL_ENV}=1 (tests only): this spare's warm-up fails")
    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_DEFAULT)
    if not torch.cuda.is_available():
        return False
    torch.cuda.init()
    exercise(torch.device("cuda", 0))
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    return True


def exercise(device) -> None:
    """fp32 and bf16 (fp16 on a GPU without bf16) matmuls (cuBLAS) and Conv3d + Conv2d forward
    and backward (cuDNN), both memory layouts, on fixed zeros: no random numbers are drawn (no
    module is initialised)."""
    import torch
    import torch.nn.functional as F

    half = (torch.bfloat16 if device.type != "cuda" or torch.cuda.is_bf16_supported()
            else torch.float16)   # what autocast will use there (device.amp_dtype)
    for dtype in (torch.float32, half):
        a = torch.zeros(32, 32, device=device, dtype=dtype)
        (a @ a).sum().item()
        for conv, rank, layout in ((F.conv3d, 5, torch.channels_last_3d),
                                   (F.conv2d, 4, torch.channels_last)):
            for fmt in (torch.contiguous_format, layout):
                x = torch.zeros((2, 4) + (6,) * (rank - 2), device=device, dtype=dtype)
                w = torch.zeros((8, 4) + (3,) * (rank - 2), device=device, dtype=dtype)
                x = x.to(memory_format=fmt).requires_grad_()
                w = w.to(memory_format=fmt).requires_grad_()
                conv(x, w, padding=1).float().sum().backward()


def spare_main(ctl: socket.socket, run_job) -> None:
    """A forked spare: warm up, say so, then become the one job the worker hands over
    (``run_job(conn, job, prewarmed=True)``, which never returns) or exit when the worker
    closes ``ctl``. Never returns."""
    code = 1
    try:
        ctl.settimeout(None)
        try:
            cuda = warm_up()
        except BaseException as err:  # noqa: BLE001 - reported to the worker
            wc.send(ctl, {"failed": f"{type(err).__name__}: {err}",
                          "traceback": traceback.format_exc()})
            return
        wc.send(ctl, {"ready": os.getpid(), "cuda": cuda})
        conn, job = _receive_job(ctl)
        if job is None:
            code = 0
            return
        ctl.close()
        run_job(conn, job, prewarmed=True)
    except OSError:
        pass
    finally:
        os._exit(code)


def _receive_job(ctl: socket.socket):
    """(connection, message) of the job handed over, or (None, None): the worker closed."""
    marker, fds, _, _ = socket.recv_fds(ctl, 1, 1)
    if not marker or not fds:
        for fd in fds:
            os.close(fd)
        return None, None
    conn = socket.socket(fileno=fds[0])
    job = wc.receive(ctl)
    if job is None:
        conn.close()
        return None, None
    return conn, job


# ---- the worker's side -------------------------------------------------------------------

@dataclass
class Spare:
    pid: int
    ctl: socket.socket   # the worker's end
    key: dict            # its CUDA environment (the worker's, at fork)
    born: float
    ready: bool = False


class Spares:
    """The worker's spares: ``wanted`` of them kept forked (0: none, today's cold children).

    ``start(ctl)`` runs in each newly forked spare and never returns (the worker's: close its
    inherited sockets, die with the worker, ``spare_main``)."""

    def __init__(self, wanted: int, log: logging.Logger, start):
        self.wanted, self.log, self.start = max(0, wanted), log, start
        self.spares: dict[int, Spare] = {}
        self.dead: dict[int, float] = {}   # exited or killed, not reaped yet
        self.failures = 0
        self.disabled = self.wanted == 0

    def fill(self) -> None:
        """Fork spares up to ``wanted`` (unless they keep failing)."""
        while not self.disabled and len(self.spares) < self.wanted:
            parent_end, child_end = socket.socketpair()
            try:
                pid = os.fork()
            except OSError as err:
                parent_end.close()
                child_end.close()
                self._failed(f"no spare: fork failed: {err}")
                return
            if pid == 0:
                try:
                    parent_end.close()
                    self.start(child_end)   # never returns
                finally:
                    os._exit(1)   # a spare never goes back into the worker's loop
            child_end.close()
            self.spares[pid] = Spare(pid, parent_end, cuda_env(os.environ, deterministic=True),
                                     time.time())

    def sockets(self) -> list[socket.socket]:
        """Control sockets to watch: a warming spare says ready (or failed); any closes when
        its spare dies."""
        return [s.ctl for s in self.spares.values()]

    def on_readable(self, ctl: socket.socket) -> None:
        spare = next(s for s in self.spares.values() if s.ctl is ctl)
        try:
            message = wc.receive(ctl)
        except OSError:
            message = None
        if message and "ready" in message and not spare.ready:
            spare.ready, self.failures = True, 0
            self.log.info("spare %d ready after %.1fs (%s)", spare.pid, time.time() - spare.born,
                          "CUDA initialised" if message.get("cuda") else "no GPU: nothing to warm")
            return
        self._drop(spare)
        if message and "failed" in message:
            self.log.warning("spare %d failed its warm-up:\n%s", spare.pid,
                             message.get("traceback", message["failed"]).rstrip())
            self._failed(f"spare {spare.pid}: {message['failed']}")
        else:
            self._failed(f"spare {spare.pid} exited {'idle' if spare.ready else 'warming up'}")

    def take(self, job: dict) -> tuple[Spare | None, str]:
        """A ready spare for ``job`` (no longer kept), or None and why not."""
        ready = [s for s in self.spares.values() if s.ready]
        if not ready:
            return None, "no spare ready" if not self.disabled else "no spares kept"
        key = job_cuda_env(job)
        for spare in ready:
            if spare.key == key:
                del self.spares[spare.pid]
                return spare, ""
        names = sorted(k for k in set(key) | set(ready[0].key)
                       if key.get(k) != ready[0].key.get(k))
        return None, f"its CUDA environment differs from the spares' ({', '.join(names)})"

    def hand_over(self, spare: Spare, conn: socket.socket, job: dict) -> bool:
        """Send ``conn`` and ``job`` to ``spare``; False (spare killed) when it cannot take it."""
        try:
            spare.ctl.settimeout(HAND_OVER_TIMEOUT_S)
            socket.send_fds(spare.ctl, [b"J"], [conn.fileno()])
            wc.send(spare.ctl, job)
            return True
        except OSError as err:
            self.log.warning("spare %d did not take the job (%s)", spare.pid, err)
            _kill(spare.pid, signal.SIGKILL)
            self.dead[spare.pid] = spare.born
            return False
        finally:
            spare.ctl.close()

    def reap(self) -> None:
        for pid in list(self.dead):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                del self.dead[pid]

    def close_inherited(self) -> None:
        """In a forked child: close the worker's ends of the spares' sockets (else a spare
        would not see its socket close)."""
        for spare in self.spares.values():
            spare.ctl.close()

    def release(self) -> dict[int, float]:
        """Stop keeping spares: close their sockets (an idle spare exits); their pids (and
        those not reaped yet), for the worker to end and reap."""
        self.disabled = True
        pids = dict(self.dead)
        for spare in self.spares.values():
            spare.ctl.close()
            pids[spare.pid] = spare.born
        self.spares.clear()
        self.dead.clear()
        return pids

    def status(self) -> dict:
        return {"spares": sum(s.ready for s in self.spares.values()),
                "warming": sum(not s.ready for s in self.spares.values()),
                "spare_pids": sorted(s.pid for s in self.spares.values() if s.ready),
                "spares_wanted": 0 if self.disabled else self.wanted}

    def _drop(self, spare: Spare) -> None:
        spare.ctl.close()
        del self.spares[spare.pid]
        self.dead[spare.pid] = spare.born

    def _failed(self, why: str) -> None:
        self.failures += 1
        self.log.warning("%s", why)
        if self.failures >= MAX_FAILURES and not self.disabled:
            self.disabled = True
            self.log.warning("%d spares in a row failed: keeping no more spares; every job "
                             "runs in a cold child", self.failures)


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
