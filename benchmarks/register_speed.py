"""Registration throughput: probe (decode every frame) + sha256 of a MUG-like frame tree.

    .venv/bin/python benchmarks/register_speed.py --takes 24 --frames 30 --size 896 --workers 1 2

Writes a synthetic tree (JPEG frames of the given size, MUG release layout) in a temp folder,
then times ``scan_dataset`` per worker count and prints frames/s and the projected time for
the real MUG posed set (~1460 takes x ~100 frames at 896x896).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from ferstudy.datasets.register import make_adapter, scan_dataset

EXPRESSIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")


def build(root: Path, takes: int, frames: int, size: int) -> int:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    base = cv2.GaussianBlur(base, (0, 0), 8)            # photo-like, compresses like a face image
    n = 0
    for t in range(takes):
        folder = root / "subjects3" / f"{t // 6 + 1:03d}" / EXPRESSIONS[t % 6] / "take000"
        folder.mkdir(parents=True)
        for f in range(frames):
            cv2.imwrite(str(folder / f"img_{f:04d}.jpg"), np.roll(base, f, axis=1))
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takes", type=int, default=24)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", type=int, default=896)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        n = build(Path(tmp), args.takes, args.frames, args.size)
        adapter = make_adapter("mug", {"root": tmp})
        print(f"tree: {args.takes} takes x {args.frames} frames of {args.size}x{args.size} JPEG = {n} frames")
        for workers in args.workers:
            start = time.perf_counter()
            manifest, _ = scan_dataset(adapter, workers)
            secs = time.perf_counter() - start
            assert len(manifest) == args.takes
            rate = n / secs
            print(f"workers={workers}: {secs:.2f} s, {rate:.0f} frames/s; projected MUG posed "
                  f"(~146000 frames): {146000 / rate / 60:.1f} min")


if __name__ == "__main__":
    main()
