"""The register stage on bad input: clear errors, rejections recorded, roots never written."""
from __future__ import annotations

import logging
import os

import pandas as pd
import pytest

import dataset_trees as trees
from ferstudy.datasets.base import DatasetError
from ferstudy.datasets.register import read_manifest, register


def run(tmp_path, name, root, strict=False, folds=2, **entry):
    out = tmp_path / "results" / "registry"
    m = register(name, {"root": str(root), **entry}, out / f"{name}.csv",
                 out / f"{name}.rejected.csv", folds=folds, seed=0, strict=strict)
    return m, out


def test_missing_root_names_dataset_and_key(tmp_path):
    with pytest.raises(DatasetError, match=r"dataset 'mug': root .*nowhere does not exist; set "
                                           r"'datasets.mug.root'"):
        run(tmp_path, "mug", tmp_path / "nowhere")


def test_root_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetError, match=r"is a file, not a folder; 'datasets.oulu.root'"):
        run(tmp_path, "oulu", tmp_path / "file")


def test_strict_lists_every_rejection_writes_the_table_and_no_manifest(tmp_path):
    root = trees.mug(tmp_path)               # three rejections of three different kinds
    with pytest.raises(DatasetError, match=r"3 file\(s\) rejected and 'register.strict' is true "
                                           r"\(1 not a decodable image, 1 take folder holds no "
                                           r"image frames, 1 unknown expression folder 'smirk'") as err:
        run(tmp_path, "mug", root, strict=True)
    listed = [line for line in str(err.value).splitlines() if line.startswith("  ")]
    assert len(listed) == 3
    assert any("002/anger/take001" in line for line in listed)
    assert any("004/anger/take000" in line for line in listed)
    assert any("003/smirk" in line for line in listed)
    out = tmp_path / "results" / "registry"
    rejected = pd.read_csv(out / "mug.rejected.csv")
    assert len(rejected) == 3 and list(rejected.columns) == ["path", "reason"]
    assert not (out / "mug.csv").exists() and not (out / "mug.json").exists()


def test_register_never_writes_inside_the_root(tmp_path):
    root = trees.mmi(tmp_path)
    before = trees.snapshot(root)
    os.chmod(root, 0o555)                         # a read-only root must be enough
    try:
        m, out = run(tmp_path, "mmi", root)
    finally:
        os.chmod(root, 0o755)
    assert trees.snapshot(root) == before
    assert len(read_manifest(out / "mmi.csv")) == len(m) == 10
    with pytest.raises(DatasetError, match="inside the dataset root"):
        register("mmi", {"root": str(root)}, root / "registry" / "mmi.csv",
                 root / "registry" / "mmi.rejected.csv", folds=2, seed=0)
    assert trees.snapshot(root) == before


def test_non_utf8_file_names_are_recorded_not_fatal(tmp_path):
    root = trees.generic(tmp_path)
    good = trees.video(root / "happy" / "s09_cafe.avi")
    # A Latin-1 name, invalid UTF-8 (OpenCV cannot even write to it: rename at the byte level).
    os.rename(os.fsencode(good), os.fsencode(root / "happy") + b"/s09_caf\xe9.avi")
    m, out = run(tmp_path, "mine", root, adapter="generic", options={"label_map": {"joy": "happiness"}})
    rejected = (out / "mine.rejected.csv").read_text(encoding="utf-8")
    assert "caf\\xe9" in rejected and "not valid UTF-8" in rejected
    assert not any("caf" in c for c in m["clip_id"])
    read_manifest(out / "mine.csv")                                # still valid UTF-8 CSV


def test_no_readable_clip_is_an_error_naming_the_layout(tmp_path):
    root = tmp_path / "MUG" / "subjects3" / "001" / "anger" / "take000"
    trees.garbage(root / "img_0000.jpg")
    with pytest.raises(DatasetError, match=r"no readable clip .*1 rejected.*expected"):
        run(tmp_path, "mug", tmp_path / "MUG")


def test_missing_classes_are_logged_not_invented(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        m, _ = run(tmp_path, "oulu", trees.oulu(tmp_path))
    assert set(m["label"]) == {"anger", "happiness", "surprise"}
    assert "no clip of class(es) disgust, fear, sadness" in caplog.text


def test_parallel_probing_gives_the_same_tables(tmp_path):
    from ferstudy.datasets.register import make_adapter, scan_dataset

    adapter = make_adapter("mug", {"root": str(trees.mug(tmp_path))})
    one, rej_one = scan_dataset(adapter, workers=1)
    four, rej_four = scan_dataset(adapter, workers=4)
    assert one.equals(four) and rej_one.equals(rej_four) and len(one) == 12
