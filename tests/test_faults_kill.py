"""An align shard or a GAN killed (SIGKILL, as a scheduler's time limit or a preemption does)
while writing its output leaves no file under the output's name, so Snakemake reruns the job
instead of taking a half-written shard or generator for a finished one.

Each stage runs in a child process whose writer (np.savez / torch.save) is paced: it writes the
first half of the file, reports, and blocks; the test then kills it. A stage that wrote its
output in place (not through ferstudy.atomic) would leave the half file and fail here.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import dataset_trees as trees

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "resources" / "models"

pytestmark = pytest.mark.slow

# Replaces `module.attr` (a writer whose argument `pos` is the target path) by one that writes
# the real bytes to an in-memory buffer, then half of them to the target, then blocks.
PACED = textwrap.dedent("""
    import io, sys
    def pace(module, attr, pos=0):
        real = getattr(module, attr)
        def paced(*args, **kwargs):
            args, buf = list(args), io.BytesIO()
            target, args[pos] = args[pos], buf
            real(*args, **kwargs)
            data = buf.getvalue()
            if hasattr(target, "write"):          # an open file (atomic.write_stream)
                target.write(data[: len(data) // 2])
                target.flush()
                target = target.name
            else:
                with open(target, "wb") as fh:
                    fh.write(data[: len(data) // 2])
                    fh.flush()
            print("half", target, flush=True)
            sys.stdin.readline()
        setattr(module, attr, paced)
""")

ALIGN = PACED + textwrap.dedent("""
    import numpy as np
    from ferstudy import config as fcfg
    from ferstudy.faces.shards import align_shard
    manifest, out, models = sys.argv[1:4]
    cfg = fcfg.validate({"datasets": {"ck": {"adapter": "ckplus", "root": "/x"}},
                         "study": {"datasets": ["ck"], "archs": ["vgg3d"]}})["align"]
    pace(np, "savez")
    align_shard(manifest, out, {**cfg, "shards": 1, "landmarks": False}, models, "onset_apex", 0)
""")

GAN = PACED + textwrap.dedent("""
    import torch
    torch.set_num_threads(1)
    from cartoon_clips import cartoon_clipset
    from ferstudy.augment.gan.stage import train_gan
    cs = cartoon_clipset(subjects=8, clips_per_subject=3, frames=4, size=16, folds=4,
                         classes=("anger", "happiness", "surprise"))
    pace(torch, "save", pos=1)
    train_gan(cs, sys.argv[1], dataset="cartoon", test_fold=1,
              classes=["anger", "happiness", "surprise"], device=torch.device("cpu"),
              cfg={"iterations": 2, "batch": 4, "size": 16, "width": 4, "latent_dim": 8,
                   "log_every": 1, "frame_samples": 2, "r1_every": 2})
""")


def kill_when_half_written(code: str, *args: str) -> Path:
    """Run ``code``; when its paced writer reports, SIGKILL it. Returns the temp file path."""
    # src for the code under test, tests/ for the cartoon-clip fixture
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(REPO / "src"), str(REPO / "tests")))}
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline().split()
        assert line[:1] == ["half"], proc.stderr.read()[-3000:]
        partial = Path(line[1])
        assert partial.is_file() and partial.stat().st_size > 0
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    return partial


def test_killed_align_shard_leaves_no_shard(tmp_path):
    if not (MODELS / "face_detection_short_range.tflite").is_file():
        pytest.skip(f"face models absent from {MODELS}; run `make resources`")
    from ferstudy.datasets.register import register

    results = tmp_path / "results"
    manifest = results / "registry" / "ck.csv"
    register("ck", {"adapter": "ckplus", "root": str(trees.ckplus(tmp_path))}, manifest,
             results / "registry" / "ck.rejected.csv", folds=2, seed=0)
    out = results / "aligned" / "ck" / "shards" / "0.npz"
    partial = kill_when_half_written(ALIGN, str(manifest), str(out), str(MODELS))
    assert partial != out and partial.name.startswith(".tmp-0.npz-")
    assert not out.exists()


def test_killed_gan_leaves_no_generator(tmp_path):
    out = tmp_path / "gan" / "cartoon" / "fold1"
    partial = kill_when_half_written(GAN, str(out))
    assert partial.name.startswith(".tmp-generator.pt-")
    assert not (out / "generator.pt").exists()
    # Outputs written before the kill are whole files (each written atomically); the job's
    # output set is incomplete, so Snakemake reruns train_gan and generate_clips cannot start.
    from ferstudy.augment.gan.stage import GAN_FILES

    present = [name for name in GAN_FILES if (out / name).exists()]
    assert "generator.pt" not in present and len(present) < len(GAN_FILES)
    for name in present:
        if name.endswith(".json"):
            json.loads((out / name).read_text())
        elif name.endswith(".csv"):
            assert len(pd.read_csv(out / name)) > 0
