"""Training / inference throughput per architecture, and the data pipeline's overhead.

For each architecture and size (demo: 8 x 48 px grey, width 0.125; full: 16 x 112 px RGB,
width 1.0) it prints clips/s of

- ``train``: forward + backward + optimiser step on float tensors already on the device
  (model-only: what the GPU/CPU can do),
- ``infer``: forward without gradients,
- ``pipeline``: the engine's real batch path (uint8 clips in host memory -> ClipBatches /
  DataLoader -> device -> float -> the method's loss -> step), and the data part's overhead:
  time to fetch and convert a batch / time of the model step (target: < 15 %).

On CUDA it also prints the GPU, the AMP dtype and the peak memory per configuration.

    python benchmarks/train_throughput.py                       # all archs, demo + full
    python benchmarks/train_throughput.py --archs resnet3d vgg2d_lstm --sizes demo --iters 20
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from ferstudy.archs import ARCHS, build_model
from ferstudy.methods.base import Method, StepContext
from ferstudy.train import device as dev
from ferstudy.train.data import ClipBatches, EpochOrder, make_loader
from _timing import sync, timed_step  # noqa: E402  (benchmarks/_timing.py)

SIZES = {  # name: (frames, size, channels, width)
    "demo": (8, 48, 1, 0.125),
    "full": (16, 112, 3, 1.0),
}


def _timed(fn, iters: int, warmup: int, device: torch.device) -> float:
    """Seconds per call of ``fn`` (median of ``iters`` after ``warmup`` calls)."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def bench(arch: str, size: str, *, batch: int, iters: int, device: torch.device, amp: str,
          workers: int) -> dict:
    frames, px, channels, width = SIZES[size]
    torch.manual_seed(0)
    model = dev.prepare_model(build_model(arch, num_classes=6, in_channels=channels,
                                          frames=frames, size=px, width=width), device)
    dtype = dev.amp_dtype(device, amp)
    scaler = dev.make_scaler(device, dtype)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    method = Method({}, num_classes=6, embed_dim=model.embed_dim)
    ctx = StepContext(epoch=0, device=device)
    y = torch.randint(0, 6, (batch,), device=device)
    x = torch.rand(batch, channels, frames, px, px, device=device)
    if device.type == "cuda":
        x = x.contiguous(memory_format=torch.channels_last_3d)

    def step(batch_dict) -> None:
        with dev.autocast(device, dtype):
            loss, _ = method.loss(model, batch_dict, ctx)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    model.train()
    t_train = _timed(lambda: step({"x": x, "y": y, "index": y}), iters, 2, device)

    @torch.no_grad()
    def infer() -> None:
        with dev.autocast(device, dtype):
            model.eval()(x)
        model.train()

    t_infer = _timed(infer, iters, 1, device)

    # the engine's batch path: uint8 host clips -> loader -> device -> float -> step
    n = batch * (iters + 4)
    clips = np.random.default_rng(0).integers(0, 256, (n, frames, px, px, channels), dtype=np.uint8)
    dataset = ClipBatches(clips, np.random.default_rng(1).integers(0, 6, n))
    sampler = EpochOrder()
    sampler.set(np.arange(n))
    loader = make_loader(dataset, sampler, batch_size=batch, num_workers=workers,
                         pin_memory=device.type == "cuda", seed=0)
    batches = iter(loader)
    for _ in range(2):   # warm-up (workers start, allocator settles)
        b = next(batches)
        step({"x": dev.to_input(b["x"], device), "y": b["y"].to(device), "index": b["index"]})
    # interleaved: data fetch, then a model-only step, per iteration, so that load changes on a
    # shared machine hit both alike; overhead = median of per-iteration (data / model) ratios
    ratios, t_pipes = [], []
    for _ in range(iters):
        t_data, t_step = timed_step(batches, step, device)
        ratios.append(t_data / t_step)
        t_pipes.append(t_data + t_step)
    t_pipe = float(np.median(t_pipes))
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    return {"arch": arch, "size": size, "train": batch / t_train, "infer": batch / t_infer,
            "pipeline": batch / t_pipe, "overhead": float(np.median(ratios)),
            "params": sum(p.numel() for p in model.parameters()), "peak_gib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="*", default=ARCHS.names())
    parser.add_argument("--sizes", nargs="*", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--batch", type=int, default=None, help="default: 16 demo, 4 CPU full, 16 GPU full")
    parser.add_argument("--iters", type=int, default=None, help="default: 10 demo, 3 CPU full, 10 GPU")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--amp", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers of the pipeline")
    args = parser.parse_args()
    device = dev.pick_device(args.device)
    dev.configure(device, threads=args.threads, deterministic=False)
    print(f"device {dev.describe(device)}  amp {dev.amp_dtype(device, args.amp)}  "
          f"threads {args.threads}  workers {args.workers}  torch {torch.__version__}")
    print(f"{'arch':<15}{'size':<6}{'batch':>6}{'params':>12}{'train clip/s':>14}"
          f"{'infer clip/s':>14}{'pipe clip/s':>13}{'overhead':>10}"
          + (f"{'peak GiB':>10}" if device.type == "cuda" else ""))
    overheads = []
    for size in args.sizes:
        cpu_full = size == "full" and device.type == "cpu"
        batch = args.batch or (4 if cpu_full else 16)
        iters = args.iters or (3 if cpu_full else 10)
        for arch in args.archs:
            r = bench(arch, size, batch=batch, iters=iters, device=device, amp=args.amp,
                      workers=args.workers)
            overheads.append(r["overhead"])
            print(f"{arch:<15}{size:<6}{batch:>6}{r['params']:>12,}{r['train']:>14.1f}"
                  f"{r['infer']:>14.1f}{r['pipeline']:>13.1f}{100 * r['overhead']:>9.1f}%"
                  + (f"{r['peak_gib']:>10.2f}" if r["peak_gib"] is not None else ""), flush=True)
    print(f"data pipeline overhead over model-only steps: median {100 * np.median(overheads):.1f}% "
          f"(target < 15%)")


if __name__ == "__main__":
    main()
