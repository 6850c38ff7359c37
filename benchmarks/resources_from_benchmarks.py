"""Suggest `set-resources` for profiles/slurm from the `benchmark:` files of finished jobs.

    .venv/bin/python benchmarks/resources_from_benchmarks.py                  # results/benchmarks
    .venv/bin/python benchmarks/resources_from_benchmarks.py results/benchmarks --margin 1.5

The rules `align_shard`, `pretrain_external`, `pretrain_model`, `train_model` and `train_gan` write one Snakemake
benchmark TSV per job under `results/benchmarks/<rule>/...` (wall seconds `s`, peak resident
memory `max_rss` in MB, ...). Per rule this prints the largest job's memory and wall time times
`--margin`, rounded up, as the YAML block `set-resources:` of profiles/slurm/config.yaml takes
(with `* attempt`, so a retry still grows), beside the profile's current value. Run a pilot
slice of the study on the cluster itself first (e.g. `--batch gather_results=1/20`): numbers
measured on another machine (a CPU laptop for a GPU node) size nothing.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
COLUMNS = ("s", "max_rss")


class BenchmarkError(ValueError):
    pass


def read_benchmarks(root: Path) -> pd.DataFrame:
    """One row per benchmark file: rule (first folder under root), file, s, max_rss (MB)."""
    files = sorted(Path(root).glob("*/**/*.tsv"))
    if not files:
        raise BenchmarkError(f"{root}: no benchmark files (<rule>/.../*.tsv); run the workflow "
                             "first, or pass the folder that holds them")
    rows = []
    for path in files:
        table = pd.read_csv(path, sep="\t")
        missing = [c for c in COLUMNS if c not in table.columns]
        if missing:
            raise BenchmarkError(f"{path}: not a Snakemake benchmark file (no column "
                                 f"{', '.join(missing)})")
        for _, row in table.iterrows():  # one row per repeat of `benchmark: repeat(...)`
            rows.append({"rule": path.relative_to(root).parts[0], "file": str(path),
                         "s": pd.to_numeric(row["s"], errors="coerce"),
                         "max_rss": pd.to_numeric(row["max_rss"], errors="coerce")})
    return pd.DataFrame(rows)


def round_up(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


def suggest(bench: pd.DataFrame, *, margin: float = 1.5, min_mem_mb: int = 1000,
            min_runtime: int = 5) -> dict[str, dict[str, int | float]]:
    """rule -> {mem_mb, runtime (minutes), jobs, max_rss, max_s}; memory rounded up to 500 MB,
    runtime to 5 minutes; a rule whose files hold no memory figure (`NA`) gets no mem_mb."""
    out: dict[str, dict[str, int | float]] = {}
    for rule, group in bench.groupby("rule", sort=True):
        entry: dict[str, int | float] = {"jobs": len(group)}
        if group["max_rss"].notna().any():
            peak = float(group["max_rss"].max())
            entry.update(max_rss=peak, mem_mb=max(min_mem_mb, round_up(peak * margin, 500)))
        if group["s"].notna().any():
            longest = float(group["s"].max())
            entry.update(max_s=longest,
                         runtime=max(min_runtime, round_up(longest * margin / 60, 5)))
        out[str(rule)] = entry
    return out


def current_profile(profile: Path) -> dict[str, dict]:
    if not profile.is_file():
        return {}
    return (yaml.safe_load(profile.read_text()) or {}).get("set-resources", {}) or {}


def render(suggestions: dict[str, dict], profile: dict[str, dict], margin: float) -> str:
    lines = [f"# from benchmark files: the largest job x {margin}, rounded up; "
             "paste under set-resources: in a copy of profiles/slurm/config.yaml",
             "set-resources:"]
    for rule, s in suggestions.items():
        lines.append(f"  {rule}:  # {s['jobs']} job(s)")
        now = profile.get(rule, {})
        if "mem_mb" in s:
            lines.append(f"    mem_mb: {s['mem_mb']} * attempt  # peak {s['max_rss']:.0f} MB; "
                         f"profile now: {now.get('mem_mb', '-')}")
        if "runtime" in s:
            lines.append(f"    runtime: {s['runtime']} * attempt  # longest {s['max_s']:.0f} s; "
                         f"profile now: {now.get('runtime', '-')}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="results/benchmarks", type=Path)
    parser.add_argument("--margin", type=float, default=1.5,
                        help="factor over the largest job (default: %(default)s)")
    parser.add_argument("--profile", type=Path, default=REPO / "profiles" / "slurm" / "config.yaml",
                        help="profile whose current values are shown (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.margin < 1:
        parser.error("--margin below 1 would size jobs smaller than they were measured")
    try:
        bench = read_benchmarks(args.root)
    except BenchmarkError as err:
        print(f"resources_from_benchmarks: {err}", file=sys.stderr)
        return 2
    print(render(suggest(bench, margin=args.margin), current_profile(args.profile), args.margin),
          end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
