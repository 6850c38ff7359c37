"""One training process of ``gpu_check.py --share`` / ``--deterministic-cost`` (started by
``_share.py``; not meant to be run by hand).

Builds what a training job builds (device, data loader over in-memory clips, model, optimiser,
the supervised method's loss) from gpu_check's own pieces, timing each part from the moment
its parent spawned it; trains two warm-up steps, then reports ``ready`` and waits for ``go``
on stdin, so that K such processes time their steps over the same window. Speaks JSON lines
on stdout: ``ready`` (start-up parts), ``step`` (one per timed step, with its end time) and
``done``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time


def _say(event: str, **fields) -> None:
    print(json.dumps({"event": event, "t": time.time(), **fields}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--arch", "--amp", "--shape", "--device"):
        parser.add_argument(name, required=True)
    for name in ("--steps", "--threads", "--workers", "--deterministic"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("--spawned-at", type=float, required=True)
    args = parser.parse_args()

    import numpy as np
    import torch

    from ferstudy.train import device as dev
    from ferstudy.train.data import ClipBatches, EpochOrder, make_loader
    from gpu_check import AMP, SHAPES, _clips, _model, _trainer
    t_imports = time.time()

    device = dev.pick_device(args.device)
    dev.configure(device, threads=args.threads, deterministic=bool(args.deterministic))
    if device.type == "cuda":           # the CUDA context (and MPS client) comes up here
        torch.zeros(1, device=device)
        torch.cuda.synchronize(device)
    t_device = time.time()

    shape = SHAPES[args.shape]
    batch = shape["batch"]
    clips, labels = _clips(batch * min(args.steps + 2, 16), shape, seed=1)  # cycled
    sampler = EpochOrder()
    sampler.set(np.arange(len(labels)))
    loader = make_loader(ClipBatches(clips, labels), sampler, batch_size=batch,
                         num_workers=args.workers, pin_memory=device.type == "cuda", seed=0)
    t_data = time.time()

    torch.manual_seed(0)
    model = _model(args.arch, shape, device)
    model.train()
    t_model = time.time()
    step = _trainer(model, device, AMP[args.amp])   # the first optimiser imports torch._dynamo
    t_optimizer = time.time()

    def batches():
        while True:
            yield from loader

    stream = batches()

    def train_step() -> None:
        b = next(stream)
        step({"x": dev.to_input(b["x"], device),
              "y": b["y"].to(device, non_blocking=True), "index": b["index"]})

    train_step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t_first = time.time()
    train_step()                        # second warm-up step (cuDNN autotuning settles)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    _say("ready", batch=batch, process_to_first_step_s=t_first - args.spawned_at, parts={
        "python_and_imports_s": t_imports - args.spawned_at, "device_init_s": t_device - t_imports,
        "data_s": t_data - t_device, "model_s": t_model - t_data,
        "optimizer_s": t_optimizer - t_model, "first_step_s": t_first - t_optimizer})

    if sys.stdin.readline().strip() != "go":
        return
    _say("go")
    for i in range(args.steps):
        train_step()
        _say("step", i=i)               # queued, not synchronised: the GPU runs ahead
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    _say("done", steps=args.steps)


if __name__ == "__main__":
    main()
