"""Plan a full study grid with a Snakemake dry run: job count per rule vs the grid's arithmetic,
and how long parsing and building the DAG take.

    .venv/bin/python benchmarks/plan_grid.py [--study studies/pitfalls.yaml] [--profile]

The dry run happens in a scratch folder against tiny fake release trees (a dry run checks a
root's layout but reads no clip, because register_dataset has no file inputs for real data), so
it needs no data and writes nothing in the checkout. Target: the full pitfalls grid plans in under 30 s.

Times are given as wall clock and as CPU time of the snakemake process (what it costs on an
idle core; robust to other load on a shared machine). A grid too big to plan at once is run in
slices with Snakemake's ``--batch gather_results=i/N`` (each slice plans and runs the runs
behind 1/N of the gathered tables): ``--batches N`` times the first slice's plan.
``--profile`` adds a cProfile of the full plan (top functions by cumulative time), to find out
which input function or Snakemake step the time goes to.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ferstudy import config as fcfg  # noqa: E402

SNAKEMAKE = Path(sys.executable).parent / "snakemake"
TARGET_S = 30.0


def resolved_config(study: Path) -> dict:
    """config.yaml with the study file deep-merged on top, as Snakemake does."""
    return fcfg.validate(fcfg.deep_update(fcfg.load_yaml(REPO / "config.yaml"),
                                          fcfg.load_yaml(study)))


def grid_arithmetic(cfg: dict) -> dict[str, int]:
    """Expected job count per rule, from the study's list lengths (not from the workflow)."""
    from ferstudy.grid_cost import job_counts

    return job_counts(cfg)


def fake_roots(cfg: dict, scratch: Path) -> dict:
    """Point every real dataset at a tiny release tree in ``scratch`` (the tests' quirk trees,
    ``tests/release_trees.py``): the workflow checks a root's layout while it builds the job
    graph, and never reads more of it in a dry run. Demo and download entries keep theirs."""
    sys.path.insert(0, str(REPO / "tests"))
    import release_trees

    roots = {}
    for name, entry in cfg["datasets"].items():
        if entry.get("demo") or entry.get("download"):
            continue
        adapter = entry.get("adapter", name)
        root, _counts = getattr(release_trees, adapter)(scratch / "roots" / name)
        roots[name] = {"root": str(root)}
    return roots


def job_stats(text: str) -> dict[str, int]:
    block = text.split("Job stats:", 1)[1]
    counts = {}
    for line in block.splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts


def snakemake(args: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of the snakemake process, output) of one snakemake call."""
    cpu0 = os.times()
    start = time.perf_counter()
    proc = subprocess.run([str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(cwd), *args],
                          capture_output=True, text=True, cwd=cwd)
    elapsed = time.perf_counter() - start
    cpu1 = os.times()
    cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    if proc.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return elapsed, cpu, proc.stdout + proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=REPO / "studies" / "pitfalls.yaml")
    parser.add_argument("--batches", type=int, default=10,
                        help="also time the plan of slice 1/N (--batch gather_results=1/N); 0: skip")
    parser.add_argument("--profile", action="store_true", help="cProfile the planning run")
    args = parser.parse_args()

    cfg = resolved_config(args.study)
    expected = grid_arithmetic(cfg)
    with tempfile.TemporaryDirectory(prefix="ferstudy-plan-") as tmp:
        scratch = Path(tmp)
        # the Snakefile's `configfile: "config.yaml"` is read from the working directory
        (scratch / "config.yaml").write_text((REPO / "config.yaml").read_text())
        overrides = scratch / "roots.yaml"
        overrides.write_text(yaml.safe_dump({"datasets": fake_roots(cfg, scratch)}))
        common = ["--configfile", str(args.study), str(overrides)]
        # parsing alone (config validation, rule files, wildcard constraints): no DAG
        parse_s, parse_cpu, _ = snakemake([*common, "--list-rules"], scratch)
        plan_s, plan_cpu, out = snakemake([*common, "--dry-run", "--quiet", "rules"], scratch)
        if args.batches:
            batch_s, batch_cpu, batch_out = snakemake(
                [*common, "--dry-run", "--quiet", "rules", "--batch",
                 f"gather_results=1/{args.batches}", "gather_results"], scratch)
        if args.profile:
            prof = Path(os.environ.get("PLAN_PROF", scratch / "plan.prof"))
            subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), str(SNAKEMAKE),
                            "-s", str(REPO / "Snakefile"), "-d", str(scratch), *common,
                            "--dry-run", "--quiet", "rules"], capture_output=True, cwd=scratch)
            import pstats

            print("\n== cProfile of the dry run: top 25 by cumulative time ==")
            pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(25)

    planned = job_stats(out)
    print(f"study {args.study.relative_to(REPO) if args.study.is_relative_to(REPO) else args.study}")
    print(f"{'rule':<18}{'planned':>10}{'arithmetic':>12}")
    mismatch = []
    for rule in sorted(set(planned) | set(expected), key=lambda r: (-planned.get(r, 0), r)):
        if rule in ("all", "total"):
            continue
        got, want = planned.get(rule, 0), expected.get(rule)
        flag = "" if want is None or got == want else "  <- differs"
        if flag:
            mismatch.append(rule)
        print(f"{rule:<18}{got:>10}{'-' if want is None else want:>12}{flag}")
    total = sum(v for k, v in planned.items() if k != "total")
    print(f"{'total jobs':<18}{total:>10}")
    s = cfg["study"]
    print("grid: " + " x ".join(f"{len(s[k])} {k}" for k in ("datasets", "archs", "methods", "inits",
          "augments", "protocols", "seeds", "folds")) + f" = {expected['train_model']} runs")
    print(f"{'':<32}{'wall s':>8}{'CPU s':>8}")
    print(f"{'parse (snakemake --list-rules)':<32}{parse_s:>8.1f}{parse_cpu:>8.1f}")
    print(f"{'dry run, full grid':<32}{plan_s:>8.1f}{plan_cpu:>8.1f}"
          f"   ({total} jobs; DAG + dry-run scheduling ~{plan_cpu - parse_cpu:.1f} CPU s)")
    verdict = "meets" if plan_cpu < TARGET_S else "MISSES"
    print(f"target: full grid plans in under {TARGET_S:.0f} s (CPU): {verdict}")
    if args.batches:
        sliced = sum(v for k, v in job_stats(batch_out).items() if k != "total")
        print(f"{f'dry run, slice 1/{args.batches}':<32}{batch_s:>8.1f}{batch_cpu:>8.1f}"
              f"   ({sliced} jobs; --batch gather_results=1/{args.batches} gather_results)")
        verdict = "meets" if batch_cpu < TARGET_S else "MISSES"
        print(f"target per slice, under {TARGET_S:.0f} s (CPU): {verdict}")
    if mismatch:
        print(f"planned counts differ from the arithmetic for: {', '.join(mismatch)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
