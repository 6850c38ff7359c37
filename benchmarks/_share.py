"""K concurrent training processes on one device, with and without CUDA MPS: the measurements
behind ``gpu_check.py --share`` (total and per-process clips/s, per-job start-up time) and
``--deterministic-cost`` (one process each with ``train.deterministic`` true and false).

Each process is ``_share_worker.py``. They start together, build their job, warm up, and
report ready (within ``READY_TIMEOUT_S``); then all get ``go`` at once and time ``steps``
training steps. A case whose steps do not finish within ``timeout`` seconds is killed and
recorded with ``finished: false``, its clips/s counted over the steps it reached. The share
runs train with ``train.deterministic`` false, as gpu_check's cases do.

Without MPS every process gets an empty private ``CUDA_MPS_PIPE_DIRECTORY`` (so that a daemon
already running in NVIDIA's default directory is not joined); with MPS the benchmark starts a
daemon in another private directory (``ferstudy.gpu_share``) and stops it afterwards.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ferstudy import gpu_share

WORKER = Path(__file__).resolve().with_name("_share_worker.py")
READY_TIMEOUT_S = 300.0     # start-up of K processes at once, before any step is timed


class Worker:
    """One started worker process and the JSON events it has printed so far."""

    def __init__(self, cmd: list[str], env: dict[str, str]):
        self.events: list[dict] = []
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd + ["--spawned-at", repr(time.time())], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.events.append(json.loads(line))

    def last(self, name: str) -> dict | None:
        return next((e for e in reversed(self.events) if e["event"] == name), None)

    def failure(self) -> str | None:
        """The error of a worker that exited without finishing, else None."""
        if self.proc.poll() in (None, 0):
            return None
        self.stderr.seek(0)
        lines = self.stderr.read().strip().splitlines()
        return lines[-1] if lines else f"exit {self.proc.returncode}"


def _wait(workers: list[Worker], event: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not all(w.last(event) for w in workers):
        failed = [f for f in (w.failure() for w in workers) if f]
        if failed:
            raise RuntimeError(failed[0])
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def run_processes(k: int, args: list[str], *, env: dict[str, str], timeout: float) -> dict:
    """Start ``k`` workers with ``args``; returns total and per-process clips/s, whether all
    finished in time, and the first worker's start-up (None if none got that far)."""
    workers = [Worker([sys.executable, str(WORKER), *args], env) for _ in range(k)]
    try:
        finished = _wait(workers, "ready", READY_TIMEOUT_S)
        if finished:
            for w in workers:
                w.proc.stdin.write("go\n")
                w.proc.stdin.flush()
            finished = _wait(workers, "done", timeout)
    finally:
        for w in workers:
            if w.proc.poll() is None and not w.last("done"):
                w.proc.kill()
            w.proc.wait()
            w.stderr.close()
    ready = workers[0].last("ready")
    spans = []                               # (clips, first time, last time) per worker
    for w in workers:
        go, steps = w.last("go"), [e for e in w.events if e["event"] == "step"]
        end = w.last("done") or (steps[-1] if steps else None)
        if go and end and steps:
            spans.append((len(steps) * ready["batch"], go["t"], end["t"]))
    window = max(s[2] for s in spans) - min(s[1] for s in spans) if spans else 0.0
    return {
        "total_clips_s": sum(s[0] for s in spans) / window if window > 0 else 0.0,
        "per_process_clips_s": [c / (t1 - t0) for c, t0, t1 in spans],
        "finished": finished,
        "startup": ready and {"process_to_first_step_s": ready["process_to_first_step_s"],
                              "parts": ready["parts"]}}


def worker_args(arch: str, amp: str, *, shape: str, device: str, steps: int, threads: int,
                workers: int, deterministic: bool) -> list[str]:
    return ["--arch", arch, "--amp", amp, "--shape", shape, "--device", device,
            "--steps", str(steps), "--threads", str(threads), "--workers", str(workers),
            "--deterministic", str(int(deterministic))]


def _env(pipe: Path) -> dict[str, str]:
    return {**os.environ, "CUDA_MPS_PIPE_DIRECTORY": str(pipe)}


def share_cases(archs: list[str], amp: str, ks: list[int], *, use_mps: bool, timeout: float,
                say=print, **job) -> tuple[list[dict], dict | None]:
    """Every arch x K x (no MPS, MPS if ``use_mps``): the ``share`` entries of gpu_check's
    JSON, and the start-up of the first single-process job (``startup``)."""
    entries, startup = [], None
    with tempfile.TemporaryDirectory(prefix="ferstudy-mps-", ignore_cleanup_errors=True) as tmp:
        for mps in [False] + [True] * use_mps:
            pipe = Path(tmp) / ("on" if mps else "off")
            pipe.mkdir()
            if mps:
                say(gpu_share.start(pipe))
            try:
                for arch in archs:
                    for k in ks:
                        r = run_processes(k, worker_args(arch, amp, deterministic=False, **job),
                                          env=_env(pipe), timeout=timeout)
                        if startup is None and r["startup"] and not mps and k == min(ks):
                            startup = {"arch": arch, "amp": amp, **r["startup"]}
                        entries.append({"arch": arch, "amp": amp, "k": k, "mps": mps,
                                        **{key: r[key] for key in ("total_clips_s",
                                           "per_process_clips_s", "finished")}})
                        e = entries[-1]
                        say(f"{arch:<15}{amp:<6}K={k:<3}{'MPS' if mps else 'no MPS':<8}"
                            f"{e['total_clips_s']:>10.1f} clip/s total  per process "
                            f"{' '.join(f'{c:.1f}' for c in e['per_process_clips_s'])}"
                            f"{'' if e['finished'] else '  (NOT FINISHED in time)'}")
            finally:
                if mps:
                    say(gpu_share.stop(pipe))
    return entries, startup


def deterministic_cases(archs: list[str], amps: list[str], *, timeout: float, say=print,
                        **job) -> list[dict]:
    """Training clips/s of one fresh process per arch x amp x ``train.deterministic``."""
    entries = []
    for arch in archs:
        for amp in amps:
            rates = {}
            for det in (True, False):
                entry = {"arch": arch, "amp": amp, "deterministic": det, "train_clips_s": None}
                try:
                    r = run_processes(1, worker_args(arch, amp, deterministic=det, **job),
                                      env=dict(os.environ), timeout=timeout)
                    entry["train_clips_s"] = rates[det] = r["total_clips_s"]
                except RuntimeError as err:      # a kernel this device lacks for this dtype
                    entry["error"] = str(err)
                entries.append(entry)
            if len(rates) == 2:
                say(f"{arch:<15}{amp:<6}deterministic {rates[True]:>9.1f} clip/s   "
                    f"off {rates[False]:>9.1f} clip/s   cost "
                    f"{100 * (1 - rates[True] / rates[False]):+.0f} %")
            else:
                say(f"{arch:<15}{amp:<6}FAILED: {entries[-1].get('error') or entries[-2]['error']}")
    return entries


def share_archs(args) -> list[str]:
    """--share-archs, else resnet3d and msanet where --archs has them, else its first."""
    return args.share_archs or [a for a in ("resnet3d", "msanet") if a in args.archs] \
        or args.archs[:1]


def measure_processes(args, device: str, workers: int, save=lambda **_: None):
    """--share and --deterministic-cost: (share entries, startup, deterministic entries);
    ``save(share=, startup=)`` is called once the share figures are in."""
    job = {"shape": "small" if args.small else "full", "device": device,
           "steps": args.share_steps or (8 if args.small else 150), "threads": args.threads,
           "workers": workers}
    share, startup = [], None
    if args.share:
        ks = [int(k) for k in args.share.split(",")]
        archs = share_archs(args)
        amp = args.share_amp or ("bf16" if device == "cuda" else "off")
        use_mps = device == "cuda" and gpu_share.mps_available()
        print(f"sharing one {device} device: K = {ks} processes x {job['steps']} steps, "
              f"{'without and with MPS' if use_mps else 'without MPS (none here)'}", flush=True)
        share, startup = share_cases(archs, amp, ks, use_mps=use_mps,
                                     timeout=args.share_timeout, **job)
        if startup:
            print(f"start-up of one job ({startup['arch']}, process start to first step): "
                  f"{startup['process_to_first_step_s']:.1f} s = " + ", ".join(
                      f"{k[:-2]} {v:.1f}" for k, v in startup["parts"].items()), flush=True)
    save(share=share, startup=startup)
    determinism = []
    if args.deterministic_cost:
        print("train.deterministic true vs false (one fresh process each):", flush=True)
        archs = args.deterministic_archs or (share_archs(args) if args.share else args.archs)
        determinism = deterministic_cases(archs, args.amp, timeout=args.share_timeout, **job)
    return share, startup, determinism
