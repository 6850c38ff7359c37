"""README "Faults", step by step: Snakemake killed hard (SIGKILL to it and its job) while a job
runs leaves its lock and an incomplete job: the next run names `--rerun-incomplete`, which is
refused while the lock stands; `snakemake --unlock` clears it and `--rerun-incomplete` redoes
the job. (A job killed before it wrote any output just runs again: outputs are atomic.)"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import dataset_trees as trees

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
TARGET = "results/registry/mine.csv"

pytestmark = pytest.mark.slow


def command(work: Path, *args: str) -> list[str]:
    return [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(work), "--configfile",
            str(work / "config.yaml"), "--cores", "1", *args]


def marked_incomplete(work: Path) -> set[str]:
    """The output paths Snakemake has marked incomplete (one marker file per output, named by
    the path in urlsafe base64)."""
    import base64

    names = set()
    folder = work / ".snakemake" / "incomplete"
    for path in (folder.rglob("*") if folder.is_dir() else ()):
        try:
            names.add(base64.urlsafe_b64decode(path.name).decode())
        except ValueError:
            continue
    return names


def hard_kill_during_the_job(work: Path) -> None:
    """Start Snakemake; SIGKILL it and its job as soon as the job is marked as running: once
    the output written below (rejected.csv) has its marker (they are written one by one, so
    waiting for the first one raced with the rest)."""
    proc = subprocess.Popen(command(work, TARGET), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while not any(n.endswith("mine.rejected.csv") for n in marked_incomplete(work)):
            assert proc.poll() is None and time.monotonic() < deadline, "the job never started"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert not (work / TARGET).exists()


def run(work: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(work, *args), capture_output=True, text=True, timeout=120)


def test_hard_kill_then_unlock_then_rerun(tmp_path):
    root = tmp_path / "mine"
    for s in ("s01", "s02"):
        trees.frames(root / "happy" / f"{s}_clip", 40)
    work = tmp_path / "work"
    work.mkdir()
    (work / "config.yaml").write_text(yaml.safe_dump({
        "datasets": {"mine": {"adapter": "generic", "root": str(root)}},
        "register": {"folds": 2}, "study": {"datasets": ["mine"], "archs": ["vgg3d"]}}))

    hard_kill_during_the_job(work)
    # a moment later the job would have written part of its outputs (rejected.csv and the
    # record go before the manifest), each whole: what a hard kill can leave behind
    (work / "results" / "registry" / "mine.rejected.csv").write_text("path,reason\n")
    plain = run(work, TARGET)             # the job is incomplete: Snakemake names the fix
    assert plain.returncode != 0 and "--rerun-incomplete" in plain.stderr
    locked = run(work, "--rerun-incomplete", TARGET)
    assert locked.returncode != 0 and "cannot be locked" in locked.stderr
    assert run(work, "--unlock").returncode == 0
    again = run(work, "--rerun-incomplete", TARGET)
    assert again.returncode == 0, again.stderr[-2000:]
    assert (work / TARGET).is_file()
