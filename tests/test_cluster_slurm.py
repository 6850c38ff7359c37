"""The tiny study through a real single-node SLURM (tests/cluster/run_slurm_test.sh).

Opt-in: it needs root, installs/starts munge + slurmctld + slurmd on this machine and takes
several minutes, so it runs only with FERSTUDY_SLURM_TEST=1 (e.g. in CI on a throwaway VM).
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tests" / "cluster" / "run_slurm_test.sh"

pytestmark = pytest.mark.slow


@pytest.mark.skipif(os.environ.get("FERSTUDY_SLURM_TEST") != "1",
                    reason="opt-in: set FERSTUDY_SLURM_TEST=1 (needs root; starts a local "
                           "SLURM with slurm-wlm + munge; ~10 min)")
def test_tiny_study_through_slurm_equals_local_run(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("run_slurm_test.sh needs root (daemons, /etc/slurm)")
    if not (REPO / "resources" / "models" / "face_detection_short_range.tflite").is_file():
        pytest.skip("face models absent; run `make resources`")
    proc = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "slurm-test")],
                          capture_output=True, text=True, timeout=1800)
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report[-4000:]
    # the script's own checks, each printed as an `ok` line (tests/cluster/check_slurm_run.py)
    for check in ("all COMPLETED in squeue", "every planned job ran as a SLURM job",
                  "requests follow the profile", "booked for gpu_slots=", "packed:",
                  "grid points of one allocation overlap in time", "warm train-worker:",
                  "sacct -c",
                  "equal between the SLURM and the local run"):
        assert check in report, f"missing check {check!r}:\n{report[-4000:]}"
    assert "PASS" in report
