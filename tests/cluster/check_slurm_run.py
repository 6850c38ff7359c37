"""Checks of run_slurm_test.sh: the jobs went through SLURM, and the outputs equal a local run's.

    python tests/cluster/check_slurm_run.py WORKDIR

WORKDIR holds ``slurm/`` and ``local/`` (the tiny study run both ways), ``squeue.txt`` (squeue
--states=all: JobID|Name|State|TRES per job|CPUs|MinMemory|TimeLimit|Comment) and
``sacct_completion.txt`` (``sacct -c``: the jobcomp/filetxt record of every finished job).
Prints one line per check and exits non-zero on the first failed group of checks.
"""
from __future__ import annotations

import json
import math
import re
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

# What the profile asks for (profiles/slurm/config.yaml), as squeue prints it: the 4 tiny
# train runs go into ONE group job holding one GPU, where the slurm-packed executor runs them
# gpu_slots = 4 at once, so Snakemake books 4 runs' CPUs (4 x 8) and memory (4 x 16000M,
# which squeue prints as 62.50G) and one round of wall time (1 h).
GPU_SLOTS = 4
EXPECTED = {
    "train_model": {"gres": "gres:gpu:1", "cpus": "32", "mem": "62.50G", "time": "1:00:00"},
    # the 2 evaluation groups (one per training set) in one group job, side by side: 2 x 4
    # CPUs, 2 x 16000M, one round of 30 min
    "evaluate_cross": {"gres": "gres:gpu:1", "cpus": "8", "mem": "32000M", "time": "30:00"},
    "register_dataset": {"gres": "N/A", "mem": "4000M", "time": "1:00:00"},
    "align_shard": {"gres": "N/A", "mem": "4000M", "time": "2:00:00"},
}
GROUPED = {"train_model": 16, "evaluate_cross": 10}   # the profile's group-components
# Values that legitimately differ between two runs of the same config: clocks and host paths.
# startup: how a run was started (in-process or forked by a train-worker), not what it made
VOLATILE_KEYS = re.compile(r"wall_time|elapsed|seconds$|_s$|^time$|timestamp|created|^startup$")
SKIP_DIRS = {"logs", "benchmarks", ".snakemake"}   # benchmarks: per-job timings


def fail(msg: str) -> None:
    print(f"FAIL {msg}")
    sys.exit(1)


def ok(msg: str) -> None:
    print(f"ok   {msg}")


def job_stats(log: str) -> Counter:
    """The 'Job stats' table Snakemake prints before running: rule -> job count."""
    block = log.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    counts = Counter()
    for line in block.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


def check_slurm_records(work: Path) -> None:
    log = (work / "slurm" / "snakemake.log").read_text()
    uuid = re.search(r"SLURM run ID: (\S+)", log).group(1)
    planned = job_stats(log)
    rows = [r.split("|") for r in (work / "squeue.txt").read_text().splitlines() if r.strip()]
    jobs = [dict(zip(["id", "name", "state", "gres", "cpus", "mem", "time", "comment", "node_gres"],
                     [c.strip() for c in r])) for r in rows]
    for job in jobs:   # --gres lands in tres-per-node, --gpus in tres-per-job
        if job.get("gres") in ("", "N/A") and job.get("node_gres") not in (None, "", "N/A"):
            job["gres"] = job["node_gres"]
    jobs = [j for j in jobs if j["name"] == uuid]
    if not jobs:
        fail(f"squeue knows no job of run {uuid}")
    bad = [j for j in jobs if j["state"] != "COMPLETED"]
    if bad:
        fail(f"jobs not COMPLETED in SLURM: {bad}")
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", log)
    if sorted(submitted, key=int) != sorted((j["id"] for j in jobs), key=int):
        fail(f"Snakemake submitted {submitted}, squeue lists {[j['id'] for j in jobs]}")
    ok(f"{len(jobs)} sbatch jobs of run {uuid}, all COMPLETED in squeue")

    def rule_of(job: dict) -> str:
        # --comment rule_<rule>_wildcards_<...> (single job) or rule_<group>_<rule> (group job)
        names = sorted(planned, key=len, reverse=True)
        body = job["comment"][len("rule_"):]
        return next((n for n in names if body.startswith(n) or f"_{n}" in body), "?")

    per_rule = Counter(rule_of(j) for j in jobs)
    # check_overlap / overlap_table are localrules: Snakemake runs them itself, no sbatch
    remote = {r: n for r, n in planned.items() if r not in ("all", "check_overlap", "overlap_table")}
    for rule, n in remote.items():
        want = math.ceil(n / GROUPED[rule]) if rule in GROUPED else n
        if per_rule.get(rule) != want:
            fail(f"rule {rule}: {n} jobs planned, expected {want} SLURM jobs, got {per_rule.get(rule)}")
    ok("every planned job ran as a SLURM job: " + ", ".join(f"{r} {per_rule[r]}" for r in remote))

    for rule, want in EXPECTED.items():
        for job in (j for j in jobs if rule_of(j) == rule):
            got = {k: job[k] for k in want}
            if got != want:
                fail(f"{rule} job {job['id']} booked {got}, the profile asks for {want}")
    ok("requests follow the profile: " + "; ".join(f"{r} {w}" for r, w in EXPECTED.items()))

    trains = [j for j in jobs if rule_of(j) == "train_model"]
    ok(f"{planned['train_model']} train_model jobs in {len(trains)} group job(s) on one GPU each, "
       f"booked for gpu_slots={GPU_SLOTS} at once ({EXPECTED['train_model']})")
    check_packing(work, planned["train_model"])
    check_overlap(work, planned["train_model"], [j["id"] for j in trains])
    check_worker(work, planned["train_model"], [j["id"] for j in trains])

    done = {}
    for line in (work / "sacct_completion.txt").read_text().splitlines():
        jobid, name, state = line.split("|")[:3]
        if name == uuid:
            done[jobid] = state
    missing = {j["id"] for j in jobs} - {k for k, v in done.items() if v == "COMPLETED"}
    if missing:
        fail(f"jobs without a COMPLETED jobcomp record (sacct -c): {sorted(missing)}")
    ok(f"sacct -c (jobcomp/filetxt) records all {len(done)} jobs COMPLETED")


def train_group_log(work: Path) -> str:
    """The kept sbatch log of the train group job: its inner Snakemake's output."""
    logs = sorted((work / "slurm" / ".snakemake" / "slurm_logs").glob("group_*/**/*.log"))
    text = "\n".join(p.read_text(errors="replace") for p in logs
                      if "rule train_model" in p.read_text(errors="replace"))
    if not text:
        fail("no kept sbatch log of the train group job (--slurm-packed-keep-successful-logs)")
    return text


def check_packing(work: Path, n_train: int) -> None:
    """The group job's own Snakemake log: how many train_model jobs it ran at once."""
    text = train_group_log(work)
    if "--executor local" not in text or "slurm-jobstep" in text:
        fail("the train group's inner Snakemake did not run with the local executor "
             "(slurm-packed) but with the job-step one")
    # The group's Snakemake prints `localrule train_model:` when it starts a job and
    # `Finished jobid: N (Rule: train_model)` + `k of <group size> steps` when one ends.
    lines = text.splitlines()
    running = peak = 0
    for i, line in enumerate(lines):
        if re.match(r"(local)?rule train_model:", line):
            running += 1
            peak = max(peak, running)
        elif (re.match(r"Finished jobid: \d+ \(Rule: train_model\)", line) and i + 1 < len(lines)
              and re.match(rf"\d+ of {n_train} steps", lines[i + 1])):
            running -= 1
    if peak != min(GPU_SLOTS, n_train):
        fail(f"the train group ran at most {peak} train_model jobs at once; gpu_slots={GPU_SLOTS}")
    # the MPS wrapper's note (the test node's GPUs are count-only: no MPS here)
    mps = next((ln for ln in lines if ln.startswith("slurm-packed:")), "slurm-packed: no MPS note")
    ok(f"packed: {n_train} train_model jobs in one group job on one GPU, at most {peak} at once "
       f"(local executor, no job steps; {mps.removeprefix('slurm-packed: ')})")


def check_overlap(work: Path, n_train: int, group_ids: list[str]) -> None:
    """The train runs of one allocation overlapped in time, by two clocks: the group's inner
    Snakemake stamps each job's start (`[date]` + `localrule train_model:` ... `jobid: N`) and
    end (`[date]` + `Finished jobid: N`), to the second; each run's own log is stamped by the
    training process, its first line after the data is loaded, its last when the outputs are
    written. (File times cannot tell: the submitting Snakemake touches a group's outputs and
    benchmark files when the group job ends.)"""
    if len(group_ids) != 1:
        fail(f"expected the {n_train} train_model jobs in one group job, got {len(group_ids)}")
    text = train_group_log(work)
    stamp = r"\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]\n"
    starts = {int(j): _snakemake_time(t) for t, j in re.findall(
        stamp + r"(?:local)?rule train_model:\n(?:    .*\n)*?    jobid: (\d+)", text)}
    ends = {int(j): _snakemake_time(t) for t, j in re.findall(
        stamp + r"Finished jobid: (\d+) \(Rule: train_model\)\n\d+ of " + str(n_train), text)}
    if len(starts) != n_train or starts.keys() != ends.keys():
        fail(f"group log: train_model starts for jobs {sorted(starts)}, ends for {sorted(ends)}")
    jobs = [(starts[j], ends[j]) for j in starts]

    logs = sorted((work / "slurm" / "results" / "logs" / "train_model").rglob("*.log"))
    line = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ", re.M)
    runs = []
    for log in logs:
        times = [datetime.strptime(t, "%Y-%m-%d %H:%M:%S,%f").timestamp()
                 for t in line.findall(log.read_text(errors="replace"))]
        if len(times) < 2:
            fail(f"{log}: fewer than two timestamped lines")
        runs.append((min(times), max(times)))
    if len(runs) != n_train:
        fail(f"expected {n_train} train_model logs, got {len(runs)}")

    t0 = min(a for a, _ in jobs)

    def shown(spans):
        return ", ".join(f"{a - t0:.0f}-{b - t0:.0f}s" for a, b in sorted(spans))

    if peak(jobs) < 2:   # the training spans are seconds long here: shown, not required
        fail(f"the train_model runs of group job {group_ids[0]} did not overlap in time: jobs "
             f"{shown(jobs)}; training {shown(runs)}")
    ok(f"grid points of one allocation overlap in time: {n_train} train_model jobs of group job "
       f"{group_ids[0]}, up to {peak(jobs)} at once (jobs {shown(jobs)}); their training, by "
       f"the runs' own logs, up to {peak(runs)} at once ({shown(runs)})")


def check_worker(work: Path, n_train: int, group_ids: list[str]) -> None:
    """Every train run of the group was forked by the allocation's own warm train-worker
    (slurm-packed's wrapper starts one on a node-local socket named after the SLURM job)."""
    logs = sorted((work / "slurm" / "results" / "logs" / "train_model").rglob("*.log"))
    pattern = re.compile(r"train-worker at (\S+): child \d+ trains this job")
    sockets = [m.group(1) for log in logs
               if (m := pattern.search(log.read_text(errors="replace")))]
    want = {f"ferstudy-train-{g}.sock" for g in group_ids}
    if len(sockets) != n_train or any(Path(s).name not in want for s in sockets):
        fail(f"{len(sockets)} of {n_train} train_model runs were trained by the allocation's "
             f"train-worker (sockets {sorted(set(sockets))}; want one of {sorted(want)})")
    ok(f"warm train-worker: all {n_train} train_model runs forked from the allocation's worker "
       f"({sorted(set(sockets))[0]}), none paid its own torch import")


def _snakemake_time(text: str) -> float:
    """Snakemake's log stamp, e.g. `Fri Dec  4 22:12:41 2026`, as a POSIX time."""
    return datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y").timestamp()


def peak(spans: list[tuple[float, float]]) -> int:
    """The most spans open at one instant (an end sorts before a start at the same instant:
    touching is not overlapping)."""
    running = top = 0
    for _, step in sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans]):
        running += step
        top = max(top, running)
    return top


def _scrub(obj, roots):
    if isinstance(obj, dict):
        return {k: _scrub(v, roots) for k, v in obj.items() if not VOLATILE_KEYS.search(str(k))}
    if isinstance(obj, list):
        return [_scrub(v, roots) for v in obj]
    if isinstance(obj, str):
        for root, tag in roots:
            obj = obj.replace(root, tag)
    return obj


def same_file(a: Path, b: Path, roots_a, roots_b) -> str | None:
    """None when equal, else a short reason."""
    suffix = a.suffix.lower()
    if suffix == ".npy":
        x, y = np.load(a, allow_pickle=False), np.load(b, allow_pickle=False)
        return None if _arrays_equal(x, y) else "arrays differ"
    if suffix == ".npz":
        x, y = np.load(a, allow_pickle=False), np.load(b, allow_pickle=False)
        if sorted(x.files) != sorted(y.files):
            return "npz members differ"
        bad = [k for k in x.files if not _arrays_equal(x[k], y[k])]
        return f"npz arrays differ: {bad}" if bad else None
    if suffix in (".csv", ".parquet"):
        read = pd.read_csv if suffix == ".csv" else pd.read_parquet
        x, y = read(a), read(b)
        keep = [c for c in x.columns if not VOLATILE_KEYS.search(str(c))]
        x, y = _frame_scrub(x[keep], roots_a), _frame_scrub(y[[c for c in keep if c in y]], roots_b)
        try:
            pd.testing.assert_frame_equal(x, y, check_exact=True)
        except AssertionError as err:
            return f"tables differ: {str(err).splitlines()[0]}"
        return None
    if suffix in (".json", ".yaml", ".yml"):
        load = json.loads if suffix == ".json" else yaml.safe_load
        x, y = _scrub(load(a.read_text()), roots_a), _scrub(load(b.read_text()), roots_b)
        return None if x == y else "values differ"
    if suffix == ".pt":
        import torch

        x, y = torch.load(a, map_location="cpu"), torch.load(b, map_location="cpu")
        return None if _same_torch(x, y) else "checkpoints differ"
    if suffix in (".png", ".pdf", ".mp4", ".avi", ".jpg", ".html"):
        # images: matplotlib stamps creation dates into PDFs; require both non-empty (the
        # verdict page embeds the verdict figure; its table is verdicts.csv, compared above)
        return None if a.stat().st_size > 0 and b.stat().st_size > 0 else "empty image"
    x, y = a.read_bytes(), b.read_bytes()
    for (ra, tag), (rb, _) in zip(roots_a, roots_b):
        x, y = x.replace(ra.encode(), tag.encode()), y.replace(rb.encode(), tag.encode())
    if x == y:
        return None
    try:   # JSON under another name (e.g. the demo's <dataset>.done stamp, which holds timings)
        same = _scrub(json.loads(x), roots_a) == _scrub(json.loads(y), roots_b)
    except ValueError:
        same = False
    return None if same else "bytes differ"


def _arrays_equal(x: np.ndarray, y: np.ndarray) -> bool:
    nan_ok = x.dtype.kind in "fc" and y.dtype.kind in "fc"
    return x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=nan_ok)


def _frame_scrub(frame: pd.DataFrame, roots) -> pd.DataFrame:
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: _scrub(v, roots))
    return frame.reset_index(drop=True)


def _same_torch(x, y) -> bool:
    import torch

    if isinstance(x, torch.Tensor):
        return isinstance(y, torch.Tensor) and x.shape == y.shape and torch.equal(x, y)
    if isinstance(x, dict):
        return isinstance(y, dict) and x.keys() == y.keys() and all(
            _same_torch(x[k], y[k]) for k in x if not VOLATILE_KEYS.search(str(k)))
    if isinstance(x, (list, tuple)):
        return len(x) == len(y) and all(_same_torch(p, q) for p, q in zip(x, y))
    return x == y


def check_outputs(work: Path) -> None:
    a_root, b_root = work / "slurm", work / "local"
    roots_a = [(str(a_root), "<WORK>")]
    roots_b = [(str(b_root), "<WORK>")]

    def files(root: Path) -> set[str]:
        out = set()
        for sub in ("results", "resources/demo"):
            for p in (root / sub).rglob("*"):
                rel = p.relative_to(root)
                if p.is_file() and not SKIP_DIRS & set(rel.parts) and not p.name.startswith(".tmp-"):
                    out.add(str(rel))
        return out

    fa, fb = files(a_root), files(b_root)
    if fa != fb:
        fail(f"file sets differ: only SLURM {sorted(fa - fb)[:10]}, only local {sorted(fb - fa)[:10]}")
    if not any(f.endswith("metrics.json") for f in fa) or not any("eval/" in f for f in fa):
        fail("the tiny study produced no trained runs or evaluations")
    diffs = [(f, why) for f in sorted(fa) if (why := same_file(a_root / f, b_root / f, roots_a, roots_b))]
    if diffs:
        fail("outputs differ from the local run: " + "; ".join(f"{f}: {w}" for f, w in diffs[:10]))
    ok(f"{len(fa)} output files equal between the SLURM and the local run "
       "(arrays/tables/checkpoints exactly; clocks and workdir paths ignored; images non-empty)")


def main() -> None:
    work = Path(sys.argv[1])
    check_slurm_records(work)
    check_outputs(work)


if __name__ == "__main__":
    main()
