"""Speed of the SD clip GAN: time per iteration and the full demo-size training time.

    .venv/bin/python benchmarks/gan_speed.py                  # full run, config defaults
    .venv/bin/python benchmarks/gan_speed.py --timed 30       # time 30 iterations, extrapolate
    .venv/bin/python benchmarks/gan_speed.py --store results/aligned/ckplus

Training set: the fold's training clips of an aligned store when --store is given, else drawn
cartoon clips of demo size (8 frames x 48 x 48 grey, 16 subjects x 6 clips = 96 clips, the
size of a demo dataset). Threads: --threads (default 2, the target machine). CUDA is used when
present (bf16 autocast), as in the workflow.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ferstudy.augment.gan.data import build_gan_data
from ferstudy.augment.gan.models import count_parameters
from ferstudy.augment.gan.trainer import SD_DEFAULTS, GanTrainer, pick_device
from ferstudy.augment.gan.generate import generate_clipset
from ferstudy.clipstore import read_store
from ferstudy.labels import BASIC6

# The cartoon clips are a test fixture (tests/cartoon_clips.py), not part of the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from cartoon_clips import cartoon_clipset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None, help="an aligned store folder (default: cartoon clips)")
    parser.add_argument("--fold", type=int, default=0, help="test fold held out")
    parser.add_argument("--iterations", type=int, default=SD_DEFAULTS["iterations"])
    parser.add_argument("--timed", type=int, default=0,
                        help="only time this many iterations (after 5 warm-up) and extrapolate")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    clipset = read_store(args.store) if args.store else cartoon_clipset(subjects=16, clips_per_subject=6)
    classes = [c for c in BASIC6 if c in set(clipset.index["label"])]
    cfg = {**SD_DEFAULTS, "iterations": args.iterations}
    device = pick_device()
    data = build_gan_data(clipset, name=args.store or "cartoon", test_fold=args.fold,
                          classes=classes, batch=cfg["batch"], size=cfg["size"])
    trainer = GanTrainer(data, cfg, device)
    print(f"device {device}, threads {args.threads}; {len(data)} training clips, "
          f"clip shape {tuple(data.clips.shape[1:])} (C, T, H, W), batch {cfg['batch']}")
    print(f"parameters: generator {count_parameters(trainer.G):,}, frame critic "
          f"{count_parameters(trainer.Df):,}, clip critic {count_parameters(trainer.Dc):,}")
    if args.timed:
        for i in range(5):
            trainer.step(i)
        times, cpu0 = [], time.process_time()
        for i in range(args.timed):
            t0 = time.perf_counter()
            trainer.step(5 + i)
            times.append(time.perf_counter() - t0)
        cpu = (time.process_time() - cpu0) / args.timed
        per_it = float(np.median(times))
        print(f"time per iteration: median {per_it * 1000:.1f} ms, mean "
              f"{np.mean(times) * 1000:.1f} ms over {args.timed} iterations; CPU time "
              f"{cpu * 1000:.1f} ms per iteration (summed over threads; on an idle machine "
              f"wall time is about this / threads used); load average "
              f"{open('/proc/loadavg').read().split()[0] if Path('/proc/loadavg').exists() else '?'}")
        print(f"extrapolated training time for {args.iterations} iterations: "
              f"{per_it * args.iterations:.1f} s")
    else:
        t0 = time.perf_counter()
        history = trainer.fit()
        total = time.perf_counter() - t0
        print(f"full training: {args.iterations} iterations in {total:.1f} s "
              f"({total / args.iterations * 1000:.1f} ms per iteration); final d_loss "
              f"{history['d_loss'].iloc[-1]:.3f}, g_loss {history['g_loss'].iloc[-1]:.3f}")
    t0 = time.perf_counter()
    syn = generate_clipset(trainer.checkpoint(dataset="bench", test_fold=args.fold), 100,
                           seed=0, device=device)
    print(f"generation: {len(syn)} clips in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
