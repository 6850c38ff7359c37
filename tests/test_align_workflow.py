"""The align rules (align_shard x 2 shards -> gather_aligned) run by Snakemake in a tmp dir on
a CK+-layout tree of real-face sequences (the astronaut photo, moving) plus one without a face."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import yaml

from align_fixtures import astronaut, need_models, render, resources_copy, warp_matrix, write_frames
from ferstudy import clipstore

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def ckplus_tree(tmp: Path) -> Path:
    """S001..S003: 6-frame sequences of the astronaut under different head motions (labelled
    anger, happiness, unlabelled); S004: a sequence of a face-less texture."""
    root = tmp / "CK+"
    img = astronaut()
    motions = {"S001": (-8, 0.55, -20, 5), "S002": (6, 0.6, 15, -5), "S003": (0, 0.5, 0, 10)}
    for subject, (angle, scale, dx, dy) in motions.items():
        frames = [render(img, warp_matrix(angle * t / 5, scale + 0.02 * t, dx + 2 * t, dy),
                         canvas=(320, 240)) for t in range(6)]
        write_frames(root / "cohn-kanade-images" / subject / "001", frames)
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), (9, 9), 3)
    write_frames(root / "cohn-kanade-images" / "S004" / "001", [texture] * 4)
    for subject, code in {"S001": 1, "S002": 5, "S004": 7}.items():
        label = root / "Emotion" / subject / "001" / f"{subject}_001_00000006_emotion.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text(f"   {code:.7e}\n")
    return root


def test_align_rules_on_fixture_ckplus(tmp_path):
    need_models()
    root = ckplus_tree(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    config = {"resources": str(resources_copy(tmp_path)),   # the face models: nothing to download
              "datasets": {"ckplus": {"root": str(root)}}, "register": {"folds": 2},
              "study": {"datasets": ["ckplus"], "archs": ["vgg3d"]},
              "align": {"size": 32, "frames": 4, "shards": 2}}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    out = "results/aligned/ckplus"
    targets = [f"{out}/{n}" for n in ("index.csv", "qc.csv", "contact_sheet.png")]
    cmd = [str(SNAKEMAKE), *targets, "-s", str(REPO / "Snakefile"), "-d", str(work),
           "--configfile", str(work / "config.yaml"), "--cores", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=150)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for rule in ("align_shard", "gather_aligned"):
        assert f"rule {rule}:" in proc.stderr or f"localrule {rule}:" in proc.stderr
    # shards are temp(): gone once gathered; each shard job left its benchmark
    assert not list((work / out).glob("shards/*.npz"))
    bench = work / "results" / "benchmarks" / "align_shard" / "ckplus"
    assert sorted(p.name for p in bench.iterdir()) == ["0.tsv", "1.tsv"]
    assert pd.read_csv(bench / "0.tsv", sep="\t")["max_rss"].notna().all()
    store = clipstore.read_store(work / out)
    assert store.clips.shape == (3, 4, 32, 32, 1)
    assert list(store.index["clip_id"]) == ["S001_001", "S002_001", "S003_001"]
    assert list(store.index["label"]) == ["anger", "happiness", ""]
    assert (store.index["detection_rate"] == 1.0).all()
    assert np.abs(store.intensity).max() < 0.05      # the same (small) face throughout
    qc = pd.read_csv(work / out / "qc.csv", keep_default_na=False)
    s4 = qc.set_index("clip_id").loc["S004_001"]
    assert s4["status"] == "rejected" and s4["reason"].startswith("no face")
    assert (work / "results" / "logs" / "align_shard" / "ckplus" / "1.log").is_file()
    sheet = cv2.imread(str(work / out / "contact_sheet.png"))
    assert sheet is not None and sheet.shape[1] >= 4 * 72
    # nothing to do on a second run
    again = subprocess.run(cmd + ["-n"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
