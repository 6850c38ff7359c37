"""The GPU figures behind ``ferstudy plan --cost``, read from a gpu_check JSON.

``benchmarks/gpu_check.py`` writes per-case clips/s (``cases``), and newer versions also how
K processes share the GPU (``share``: total clips/s of K concurrent trainings, with or without
CUDA MPS) and a train job's start-up (``startup``: process start to its first optimiser
step). ``benchmarks/gpu_check_h200.json`` is the committed default; its ``measured`` and
``provenance`` keys say whether it was measured or projected. Only full-size CUDA figures
estimate GPU-hours: a ``--small`` or CPU JSON is refused. A JSON without ``share`` or
``startup`` (written before they existed) is read, and what it lacks is taken from
``ASSUMED`` and said so.

Start-up: ``startup`` is one fresh training process (gpu_check's share worker); a grid's
``train_model`` jobs may instead go through a warm train-worker, alone or with pre-warmed
spares (README "Start-up tax"), whose start-up ``benchmarks/startup_tax.py --into`` adds as
``startup_paths`` (median seconds per run: ``in_process``, ``worker``, ``prewarmed``).
``GpuFigures.startup`` gives the figure of a path, or the fresh-process one and says so.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT = "benchmarks/gpu_check_h200.json"
AMP_CASE = {"auto": "bf16", "bf16": "bf16", "fp16": "fp16", "off": "off"}
# Only where a JSON lacks the figure; every use is listed in GpuFigures.assumed.
ASSUMED = {"startup_s": 15.0, "infer_over_train": 3.0, "gan_ms_per_iteration": 150.0}
STARTUP_PATHS = {"in_process": "in-process (no train-worker)",
                 "worker": "through a warm train-worker (forked child)",
                 "prewarmed": "through a train-worker's pre-warmed spare"}


class GpuCheckRefused(ValueError):
    """A gpu_check JSON that cannot estimate GPU-hours (small shapes, or not a CUDA device)."""


@dataclass
class Sharing:
    """How one arch's training runs K at a time on one GPU: total clips/s over one process's."""
    factor: float
    k: int
    mps: bool
    basis: str          # the measured arch it comes from, and why


@dataclass
class GpuFigures:
    path: str
    device: str
    measured: bool
    provenance: str
    amp: str
    train: dict[str, float]                     # arch -> train clips/s, one process
    infer: dict[str, float]                     # arch -> inference clips/s, one process
    share: list[dict[str, Any]]
    startup_s: float
    gan_ms: float
    assumed: list[str] = field(default_factory=list)
    startup_paths: dict[str, float] = field(default_factory=dict)

    def startup(self, path: str) -> tuple[float, str]:
        """(seconds from process start to the first step of a train_model job on ``path``,
        where the figure comes from)."""
        if path not in STARTUP_PATHS:
            raise ValueError(f"unknown start-up path {path!r}; known: {', '.join(STARTUP_PATHS)}")
        if path in self.startup_paths:
            return self.startup_paths[path], f"{STARTUP_PATHS[path]}, measured (startup_tax)"
        why = "" if path == "in_process" else \
            f"; {STARTUP_PATHS[path]} not measured in this JSON: an upper bound"
        return self.startup_s, f"one fresh process (gpu_check){why}"

    def train_clips_s(self, arch: str) -> float:
        if arch not in self.train:
            raise ValueError(f"{self.path} has no {self.amp} figure for arch {arch!r} (measured: "
                             f"{', '.join(sorted(self.train)) or 'none'}): run `python "
                             f"benchmarks/gpu_check.py --archs {arch}` on the GPU")
        return self.train[arch]

    def infer_clips_s(self, arch: str) -> float:
        return self.infer.get(arch) or ASSUMED["infer_over_train"] * self.train_clips_s(arch)

    def sharing(self, arch: str, mode: str, profile_k: int) -> Sharing:
        """``mode``: ``best`` (the highest total/single ratio measured at any K, MPS or not),
        ``profile`` (measured at the profile's ``gpu_slots`` K; 1 when K is 1) or ``none``."""
        if mode == "none" or (mode == "profile" and profile_k <= 1):
            return Sharing(1.0, 1, False, "one process per GPU")
        gains: dict[str, list[tuple[float, int, bool]]] = {}
        for s in self.share:
            single = self._single(s["arch"], s["amp"])
            if s.get("finished", True) and s["k"] > 1 and single and (
                    mode == "best" or s["k"] == profile_k):
                gains.setdefault(s["arch"], []).append(
                    (s["total_clips_s"] / single, int(s["k"]), bool(s["mps"])))
        if not gains:
            return Sharing(1.0, 1, False, f"no sharing measured{'' if mode == 'best' else f' at K={profile_k}'} "
                                          "(ASSUMED none)")
        # the measured arch nearest in single-process clips/s stands for an unmeasured one
        near = arch if arch in gains else min(
            gains, key=lambda a: abs(math.log(self.train_clips_s(a) / self.train_clips_s(arch))))
        plain = [g for g in gains[near] if not g[2]]
        # a profile does not start MPS: its K as measured without MPS, when that was measured
        factor, k, mps = max(plain if mode == "profile" and plain else gains[near])
        basis = f"{near}'s at K={k}{' under MPS' if mps else ''}"
        if near != arch:
            basis += ": not measured, the nearest measured arch in clips/s"
        return Sharing(factor, k, mps, basis)

    def _single(self, arch: str, amp: str) -> float | None:
        for s in self.share:
            if s["arch"] == arch and s["amp"] == amp and s["k"] == 1:
                return s["total_clips_s"]
        return self.train.get(arch) if amp == self.amp else None


def load(path: str | Path, amp: str) -> GpuFigures:
    """The figures of ``train.amp``'s mode from a gpu_check JSON; refuses small/CPU ones."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no gpu_check JSON (the committed one is {DEFAULT}; "
                                f"`python benchmarks/gpu_check.py --out X.json` on your GPU "
                                f"writes one for --gpu-check X.json)")
    blob = json.loads(path.read_text(encoding="utf-8"))
    fix = (f"run `python benchmarks/gpu_check.py` (full size) on the GPU and pass its JSON "
           f"with --gpu-check, or use the committed {DEFAULT}")
    if blob.get("small"):
        raise GpuCheckRefused(f"{path} holds gpu_check --small figures (small clips and nets), "
                              f"not full-size ones: no GPU-hours from it; {fix}")
    device = str(blob.get("device", "?"))
    if not device.startswith("cuda"):
        raise GpuCheckRefused(f"{path} was measured on {device!r}, not a CUDA GPU: no GPU-hours "
                              f"from it; {fix}")
    mode = AMP_CASE.get(amp, "bf16")
    cases = [c for c in blob.get("cases", []) if c.get("amp") == mode and "error" not in c]
    assumed = []
    if blob.get("complete") is False:
        assumed.append("the gpu_check run that wrote this JSON was cut off (complete: false): "
                       "the stages it lacks are assumed as listed here (an arch it did not "
                       "reach has no figure: the plan then stops and names it)")
    if any(not c.get("infer_clips_s") for c in cases):
        assumed.append(f"inference clips/s = {ASSUMED['infer_over_train']:g} x training "
                       f"(not in the JSON)")
    startup = (blob.get("startup") or {}).get("process_to_first_step_s")
    if startup is None:
        assumed.append(f"start-up {ASSUMED['startup_s']:g} s per job (no 'startup' in the JSON)")
    if not blob.get("share"):
        assumed.append("no sharing figures ('share' absent): one process per GPU")
    gan = (blob.get("gan") or {}).get("ms_per_iteration")
    if gan is None:
        assumed.append(f"GAN {ASSUMED['gan_ms_per_iteration']:g} ms/iteration (no 'gan' figure)")
    return GpuFigures(
        path=str(path), device=device, measured=bool(blob.get("measured", True)),
        provenance=str(blob.get("provenance", "written by benchmarks/gpu_check.py")),
        amp=mode, train={c["arch"]: float(c["train_clips_s"]) for c in cases},
        infer={c["arch"]: float(c["infer_clips_s"]) for c in cases if c.get("infer_clips_s")},
        share=list(blob.get("share") or []),
        startup_s=float(startup if startup is not None else ASSUMED["startup_s"]),
        gan_ms=float(gan if gan is not None else ASSUMED["gan_ms_per_iteration"]),
        assumed=assumed,
        startup_paths={p: float(v) for p, v in
                       ((blob.get("startup_paths") or {}).get("paths") or {}).items()
                       if p in STARTUP_PATHS and v is not None})
