"""After a failed run, rerunning redoes only what failed: Snakemake plans exactly the failed job,
and the outputs of the jobs that had succeeded are neither rebuilt nor touched.

Two datasets are registered through the real Snakefile; the second one's root holds a zero-byte
frame under ``register.strict`` on the first run (its layout is fine, so the run starts and that
job fails) and is repaired before the second. (A root without the layout stops the workflow
before any job: tests/test_printed_commands.py.)"""
from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"

pytestmark = pytest.mark.slow


def ckplus_tree(root: Path, subjects: int = 4) -> Path:
    """A minimal CK+ release layout: 2 sequences of 3 frames per subject, all labelled."""
    for s in range(1, subjects + 1):
        for q, code in ((1, 5), (2, 7)):
            subj, seq = f"S{s:03d}", f"{q:03d}"
            folder = root / "cohn-kanade-images" / subj / seq
            folder.mkdir(parents=True)
            for i in range(3):
                img = np.full((12, 12, 3), 40 * i + 10 * s + q, np.uint8)
                cv2.imwrite(str(folder / f"{subj}_{seq}_{i + 1:08d}.png"), img)
            label = root / "Emotion" / subj / seq / f"{subj}_{seq}_00000003_emotion.txt"
            label.parent.mkdir(parents=True)
            label.write_text(f"   {code:.7e}\n")
    return root


def run(work: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(work), "--configfile",
           str(work / "config.yaml"), "--cores", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def planned_jobs(proc: subprocess.CompletedProcess) -> dict[str, int]:
    block = proc.stdout.split("Job stats:", 1)[1]
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^(\w+)\s+(\d+)$", block, re.M) if m.group(1) != "total"}


def fingerprint(paths: list[Path]) -> dict[str, tuple[str, int]]:
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in paths}


def test_rerun_after_failure_redoes_only_the_failed_job(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    broken = ckplus_tree(tmp_path / "c_root")
    bad_frame = broken / "cohn-kanade-images" / "S002" / "001" / "S002_001_00000002.png"
    bad_frame.write_bytes(b"")
    config = {
        "datasets": {"a": {"adapter": "ckplus", "root": str(ckplus_tree(tmp_path / "a_root"))},
                     "c": {"adapter": "ckplus", "root": str(broken)}},
        "register": {"folds": 2, "strict": True},
        "study": {"datasets": ["a", "c"], "archs": ["vgg3d"]},
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    targets = [f"results/registry/{d}.csv" for d in "ac"]

    first = run(work, "--keep-going", *targets)
    assert first.returncode != 0
    assert "file(s) rejected and 'register.strict' is true" in first.stderr + (
        work / "results/logs/register/c.log").read_text()
    registry = work / "results" / "registry"
    assert not (registry / "c.csv").exists() and not (registry / "c.rejected.csv").exists()
    done = [registry / f for f in ("a.csv", "a.rejected.csv")]
    assert all(p.is_file() for p in done)
    before = fingerprint(done)

    # the user repairs the root; the dry run plans the failed job and nothing else
    bad_frame.unlink()
    ckplus_tree(tmp_path / "c_fixed")
    (tmp_path / "c_fixed" / bad_frame.relative_to(broken)).rename(bad_frame)
    plan = run(work, "--dry-run", *targets)
    assert plan.returncode == 0, plan.stderr[-2000:]
    assert planned_jobs(plan) == {"register_dataset": 1}
    assert "wildcards: dataset=c" in plan.stdout and "dataset=a" not in plan.stdout

    second = run(work, *targets)
    assert second.returncode == 0, second.stderr[-2000:]
    assert (registry / "c.csv").is_file()
    assert fingerprint(done) == before          # not rebuilt, not rewritten
