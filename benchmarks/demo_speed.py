"""Rendering speed of the demo datasets: renders every rendered demo dataset of the config into
a temporary folder, `--jobs` datasets in parallel, and prints wall time and frames per second.
Target: all four in under 3 minutes on 2 CPU cores.

    .venv/bin/python benchmarks/demo_speed.py [--config config.yaml] [--jobs 2] [--set key=value ...]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ferstudy.command_config import parse_overrides  # noqa: E402
from ferstudy.resolution import resolve_cli  # noqa: E402
from ferstudy.demo.render import render_all, rendered_datasets  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--set", action="append", default=[])
    args = parser.parse_args(argv)
    config = resolve_cli(args.config, parse_overrides(args.set))
    resources = Path(config["resources"]).resolve()
    names = rendered_datasets(config)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for sub in ("models", "media"):
            (tmp / sub).symlink_to(resources / sub)
        config["resources"] = str(tmp)
        for name in names:
            config["datasets"][name]["root"] = str(tmp / "demo" / name)
        t0 = time.perf_counter()
        summaries = render_all(config, names, jobs=args.jobs)
        wall = time.perf_counter() - t0
    frames = sum(s["frames"] for s in summaries)
    for s in summaries:
        print(f"{s['dataset']:8s} {s['subjects']:3d} subjects {s['clips']:4d} clips "
              f"{s['frames']:5d} frames  {s['seconds']:6.1f} s")
    print(f"all {len(summaries)} demo datasets: {frames} frames in {wall:.1f} s wall with "
          f"{args.jobs} job(s) on {os.cpu_count()} CPU(s) ({frames / wall:.0f} frames/s); "
          f"target < 180 s on 2 cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
