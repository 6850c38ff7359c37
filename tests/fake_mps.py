"""A fake ``nvidia-cuda-mps-control`` for CPU tests: it records its argv, stdin and MPS
environment, and creates (``-d``) or removes (``quit`` on stdin) the control pipe in
``$CUDA_MPS_PIPE_DIRECTORY`` as the real daemon does."""
from __future__ import annotations

import stat
from pathlib import Path

from ferstudy import gpu_share

FAKE = """#!/bin/bash
# fake nvidia-cuda-mps-control: -d starts the "daemon" (a control pipe), quit on stdin stops it
echo "argv=$* pipe=$CUDA_MPS_PIPE_DIRECTORY log=$CUDA_MPS_LOG_DIRECTORY" >> "$FAKE_MPS_RECORD"
if [ "$1" = "-d" ]; then
    [ -n "$FAKE_MPS_FAIL" ] && { echo "cannot start: $FAKE_MPS_FAIL" >&2; exit 1; }
    mkfifo "$CUDA_MPS_PIPE_DIRECTORY/control"
    exit 0
fi
read -r line
echo "stdin=$line" >> "$FAKE_MPS_RECORD"
[ "$line" = quit ] && rm -f "$CUDA_MPS_PIPE_DIRECTORY/control"
exit 0
"""


def install_fake_mps(tmp_path: Path, monkeypatch) -> Path:
    """Put the fake first on PATH (``FAKE_MPS_FAIL`` makes ``-d`` fail); returns its record."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / gpu_share.CONTROL
    exe.write_text(FAKE)
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / "record.txt"
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_MPS_RECORD", str(record))
    monkeypatch.delenv("CUDA_MPS_PIPE_DIRECTORY", raising=False)
    return record
