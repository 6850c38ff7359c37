"""Bad input sweep across the stages' public functions: every defect gives a clear error (naming
the file or config key and the fix) or a recorded rejection, and never damages an output that
an earlier run wrote.

Per-stage tests check their own happy paths and main defects; this file is the checklist of
the messy folders users really feed a pipeline, run against one shared "earlier results" tree
whose bytes are compared before and after every case.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import dataset_trees as trees
from ferstudy import atomic
from ferstudy import config as fcfg
from ferstudy.datasets.base import VIDEO_EXTS, DatasetError
from ferstudy.datasets.register import register

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "resources" / "models"


def tree_hash(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def earlier(tmp_path):
    """results/ of an earlier, successful run: a manifest, its rejections and a clip store."""
    results = tmp_path / "results"
    register("ckplus", {"root": str(trees.ckplus(tmp_path / "clean"))},
             results / "registry" / "ckplus.csv", results / "registry" / "ckplus.rejected.csv",
             folds=2, seed=0)
    atomic.write_npy(results / "aligned" / "ckplus" / "clips.npy", np.zeros((2, 4, 8, 8, 1), np.uint8))
    before = tree_hash(results)
    yield results
    after = tree_hash(results)
    changed = [f for f in before if after.get(f) != before[f]]
    assert not changed, f"earlier outputs changed or removed: {changed}"


def reg(name, entry, results, **kw):
    out = results / "registry"
    return register(name, entry, out / f"{name}.csv", out / f"{name}.rejected.csv",
                    folds=2, seed=0, **kw), pd.read_csv(out / f"{name}.rejected.csv")


def rejected_for(rejected: pd.DataFrame, path: Path) -> str:
    """The reason of the rejection row for ``path``: the row names the file itself, or the clip
    (folder) holding it."""
    hits = [r for r in rejected.itertuples()
            if str(path).startswith(str(r.path)) and Path(str(r.path)).name]
    assert len(hits) == 1, f"{path} not listed in the rejections: {rejected.to_dict('records')}"
    return hits[0].reason


# ---- registration: files inside a dataset root --------------------------------------------

def test_corrupt_video_is_a_recorded_rejection(tmp_path, earlier):
    root = trees.generic(tmp_path)
    bad = trees.garbage(root / "happiness" / "s9_take1.avi")
    manifest, rejected = reg("gen", {"adapter": "generic", "root": str(root)}, earlier)
    assert "cannot be opened" in rejected_for(rejected, bad)
    assert str(bad) not in set(manifest["source"])


def test_zero_byte_frame_is_a_recorded_rejection(tmp_path, earlier):
    root = trees.ckplus(tmp_path)
    seq = root / "cohn-kanade-images" / "S001" / "001"
    empty = sorted(seq.iterdir())[1]
    empty.write_bytes(b"")
    manifest, rejected = reg("ck", {"adapter": "ckplus", "root": str(root)}, earlier)
    assert "empty" in rejected_for(rejected, empty)
    assert "S001_001" not in set(manifest["clip_id"])


@pytest.mark.parametrize("adapter", ["ckplus", "mmi"])
def test_truncated_label_file_is_a_recorded_rejection(tmp_path, earlier, adapter):
    root = getattr(trees, adapter)(tmp_path)
    pattern = "Emotion/**/*_emotion.txt" if adapter == "ckplus" else "**/S*-*.xml"
    label = sorted(root.glob(pattern))[0]
    data = label.read_bytes()
    # cut where the content no longer parses: CK+ "   5.0000000e+00" -> "   ", XML mid-tag
    label.write_bytes(data[:3] if adapter == "ckplus" else data[: len(data) // 3])
    manifest, rejected = reg(f"{adapter}_cut", {"adapter": adapter, "root": str(root)}, earlier)
    reason = rejected_for(rejected, label)
    assert reason and len(manifest) > 0


def test_non_utf8_file_name_is_a_recorded_rejection(tmp_path, earlier):
    root = trees.generic(tmp_path)
    clip = next(p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix.lower() in VIDEO_EXTS)
    odd = clip.parent / os.fsdecode(b"clip_\xff\xfe" + clip.suffix.encode())   # latin-1 bytes
    shutil.copy(clip, odd)
    manifest, rejected = reg("gen", {"adapter": "generic", "root": str(root)}, earlier)
    # the table names the file with its undecodable bytes escaped, so it can be found and renamed
    row = rejected[rejected["path"] == str(clip.parent / "clip_\\xff\\xfe") + clip.suffix]
    assert list(row["reason"]) == ["file name is not valid UTF-8; rename it"]
    assert len(manifest) > 0
    for name in ("gen.csv", "gen.rejected.csv"):           # the tables stay valid UTF-8
        (earlier / "registry" / name).read_text(encoding="utf-8")


# ---- registration: the dataset root itself ------------------------------------------------

def test_root_that_is_a_file_is_an_error_naming_the_key(tmp_path, earlier):
    """Re-registering ckplus against a wrong root fails before its old manifest is touched."""
    not_a_dir = tmp_path / "CK+.zip"
    not_a_dir.write_bytes(b"PK\x03\x04")
    with pytest.raises(DatasetError, match=r"is a file, not a folder; 'datasets\.ckplus\.root'"):
        register("ckplus", {"root": str(not_a_dir)}, earlier / "registry" / "ckplus.csv",
                 earlier / "registry" / "ckplus.rejected.csv", folds=2, seed=0)


def test_root_without_any_readable_clip_is_an_error(tmp_path, earlier):
    root = tmp_path / "CK+"
    (root / "cohn-kanade-images" / "S001" / "001").mkdir(parents=True)
    (root / "Emotion").mkdir()
    with pytest.raises(DatasetError, match="no readable clip"):
        register("ckplus", {"root": str(root)}, earlier / "registry" / "ckplus.csv",
                 earlier / "registry" / "ckplus.rejected.csv", folds=2, seed=0)


# ---- alignment: frames that break after registration, faces that never appear -------------

def test_align_records_faceless_and_broken_clips(tmp_path, earlier):
    if not (MODELS / "face_detection_short_range.tflite").is_file():
        pytest.skip(f"face models absent from {MODELS}; run `make resources`")
    from ferstudy.faces.shards import align_shard

    root = trees.ckplus(tmp_path)   # flat grey squares: no face anywhere
    manifest, _ = reg("ck", {"adapter": "ckplus", "root": str(root)}, earlier)
    broken = Path(manifest.iloc[0]["source"])
    sorted(broken.iterdir())[0].write_bytes(b"")       # truncated after registration
    cfg = fcfg.validate({"datasets": {"ck": {"adapter": "ckplus", "root": str(root)}},
                         "study": {"datasets": ["ck"], "archs": ["vgg3d"]}})["align"]
    cfg = {**cfg, "shards": 1, "landmarks": False}
    out = earlier / "aligned" / "ck" / "shards" / "0.npz"
    aligned = align_shard(earlier / "registry" / "ck.csv", out, cfg, MODELS, "onset_apex", 0)
    qc = aligned.qc.set_index("clip_id")
    assert (qc["status"] == "rejected").all() and len(aligned.clips) == 0
    assert qc.loc[manifest.iloc[0]["clip_id"], "reason"].startswith("undecodable")
    assert qc["reason"].str.startswith("no face").sum() == len(qc) - 1
    out.unlink()                                       # keep the earlier tree as it was
    for parent in (out.parent, out.parent.parent):
        parent.rmdir()


# ---- config ---------------------------------------------------------------------------

def base_config() -> dict:
    return {"datasets": {"ckplus": {"root": "/data/CK+"}},
            "study": {"datasets": ["ckplus"], "archs": ["vgg3d"]}}


SECTIONS = ["register", "study", "align", "train", "augment", "evaluate", "demo", "methods",
            "face_models", "compute"]


@pytest.mark.parametrize("section", SECTIONS)
def test_unknown_key_in_any_section_names_it(section):
    config = base_config()
    config.setdefault(section, {})["epochz"] = 3
    with pytest.raises(fcfg.ConfigError, match=rf"'{section}': unknown key\(s\) 'epochz'( \(did you mean 'epochs'\?\))?; allowed"):
        fcfg.validate(config)


@pytest.mark.parametrize("key, value", [
    ("register.folds", 2.5), ("study.seeds", "0"), ("align.size", "48"), ("train.epochs", "ten"),
    ("train.gpu", True), ("evaluate.batch_clips", [64]), ("datasets.ckplus.root", 7),
])
def test_wrong_type_names_the_key(key, value):
    config = base_config()
    node = config
    *parents, leaf = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    with pytest.raises(fcfg.ConfigError, match=rf"config key '{key}'"):
        fcfg.validate(config)


# ---- checkpoints ----------------------------------------------------------------------------

def test_checkpoint_of_another_architecture_is_refused(tmp_path, earlier):
    from ferstudy.archs import build_model
    from ferstudy.train.pretrained import CheckpointError, load_pretrained

    kw = dict(num_classes=3, in_channels=1, frames=4, size=32, width=0.125)
    other = build_model("resnet3d", **kw)
    ckpt = tmp_path / "model.pt"
    torch.save({"arch": "resnet3d", "arch_kwargs": kw, "state_dict": other.state_dict()}, ckpt)
    model = build_model("vgg3d", **kw)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match=r"holds arch 'resnet3d', but this run trains 'vgg3d'"):
        load_pretrained(model, arch="vgg3d", checkpoint=ckpt)
    # a bare state dict of the other architecture: nothing fits, and nothing was loaded
    torch.save(other.state_dict(), ckpt)
    with pytest.raises(CheckpointError, match="no tensor matches arch 'vgg3d'"):
        load_pretrained(model, arch="vgg3d", checkpoint=ckpt)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_truncated_model_file_is_an_error_naming_it(tmp_path):
    from ferstudy.archs import build_model
    from ferstudy.train.predict import load_run_model

    kw = dict(num_classes=3, in_channels=1, frames=4, size=32, width=0.125)
    run = tmp_path / "run"
    run.mkdir()
    torch.save({"arch": "vgg3d", "arch_kwargs": kw,
                "state_dict": build_model("vgg3d", **kw).state_dict()}, run / "model.pt")
    data = (run / "model.pt").read_bytes()
    (run / "model.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=rf"{run / 'model.pt'}: cannot read as a ferstudy model"):
        load_run_model(run)
