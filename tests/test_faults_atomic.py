"""A process killed (SIGKILL: no cleanup runs) in the middle of writing an output through
ferstudy.atomic leaves no file under the output's name, and an earlier version of that output
stays intact. This is what keeps Snakemake from ever taking a half-written shard, store or
generator for a complete one."""
from __future__ import annotations

import hashlib
from functools import partial
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ferstudy import atomic

REPO = Path(__file__).resolve().parents[1]

# Writes a ~64 MB array through atomic.write_npy into a pipe-paced file object: np.save writes
# chunk by chunk, and after the first chunk the child reports and blocks, so the parent kills it
# provably mid-write (no sleeps, no timing races).
WRITER = textwrap.dedent("""
    import sys, numpy as np
    from ferstudy import atomic
    out = sys.argv[1]
    arr = np.arange(16 * 1024 * 1024, dtype=np.float32).reshape(1024, -1)
    state = {"written": 0}
    real_save = np.save
    def paced_save(file, a, *args, **kwargs):
        with open(file, "wb") as fh:
            for i, row in enumerate(a):
                if i == 0:
                    np.lib.format.write_array_header_1_0(fh, np.lib.format.header_data_from_array_1_0(a))
                fh.write(row.tobytes())
                if i == a.shape[0] // 2:
                    fh.flush()
                    print("half", flush=True)
                    sys.stdin.readline()          # blocks until the parent kills us
    np.save = paced_save
    atomic.write_npy(out, arr)
    print("done", flush=True)
""")


def _kill_mid_write(out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(out)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "half"
        partial = [p for p in out.parent.iterdir() if p.name.startswith(".tmp-")]
        assert partial and partial[0].stat().st_size > 16 * 1024 * 1024   # really mid-write
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_killed_writer_leaves_no_output_file(tmp_path):
    out = tmp_path / "shards" / "0.npy"
    _kill_mid_write(out)
    assert not out.exists()
    # what is left is a hidden temporary that no rule names as an output
    leftovers = list(out.parent.iterdir())
    assert leftovers and all(p.name.startswith(".tmp-0.npy-") for p in leftovers)


def test_killed_rewrite_keeps_the_earlier_output(tmp_path):
    out = tmp_path / "clips.npy"
    earlier = np.arange(12, dtype=np.uint8).reshape(3, 4)
    atomic.write_npy(out, earlier)
    before = _sha(out)
    _kill_mid_write(out)
    assert _sha(out) == before
    np.testing.assert_array_equal(np.load(out), earlier)


@pytest.mark.parametrize("writer", ["write_csv", "write_json", "write_text"])
def test_failing_serialiser_keeps_the_earlier_output(tmp_path, writer):
    """An exception while serialising (bad value, full disk) is the in-process variant."""
    out = tmp_path / "out.txt"
    atomic.write_text(out, "earlier\n")

    class Boom:
        def to_csv(self, *a, **k):
            raise OSError("disk full")

    bad = {"write_csv": Boom(), "write_json": {"x": object()}, "write_text": None}[writer]
    with pytest.raises((OSError, TypeError, AttributeError)):
        getattr(atomic, writer)(out, bad)
    assert out.read_text() == "earlier\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]   # temporaries removed


def test_atomic_outputs_get_the_umask_mode_not_mkstemps_0600(tmp_path):
    """Results must stay group-readable on shared filesystems: mkstemp's 0600 is not kept."""
    import os

    from ferstudy import atomic

    old = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "a.txt", "x")
        assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


def test_torch_files_are_byte_identical_whatever_the_temporary_name(tmp_path):
    """torch.save names the zip's root folder after the file it writes; through a random
    temporary sibling that name would differ on every save (model.pt, checkpoint.pt and
    generator.pt must be byte-identical across reruns)."""
    import torch

    state = {"weights": torch.arange(6.0).reshape(2, 3), "classes": ["anger", "fear"]}
    torch.save(state, tmp_path / "plain.pt")          # what a save to the temporary name does
    assert b"plain/data.pkl" in (tmp_path / "plain.pt").read_bytes()
    atomic.write_stream(tmp_path / "a" / "model.pt", partial(torch.save, state))
    atomic.write_stream(tmp_path / "b" / "model.pt", partial(torch.save, state))
    data = (tmp_path / "a" / "model.pt").read_bytes()
    assert data == (tmp_path / "b" / "model.pt").read_bytes()
    assert b".tmp-" not in data and b"archive/data.pkl" in data
    loaded = torch.load(tmp_path / "a" / "model.pt", weights_only=False)
    assert torch.equal(loaded["weights"], state["weights"])
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".tmp-")]
