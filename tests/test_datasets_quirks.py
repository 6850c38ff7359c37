"""Registration of trees carrying the releases' quirks (tests/release_trees.py): the expected
registered / labelled / unlabelled / rejected counts per adapter, the reasons, the summary
line, the fps recorded, and a root left untouched."""
from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

import dataset_trees as trees
import release_trees as quirks
from ferstudy.datasets.register import read_manifest, register

ADAPTER = {"generic": "generic"}   # dataset name -> adapter, where they differ


def register_tree(tmp_path, name, root, **entry):
    out = tmp_path / "results" / "registry"
    entry = {"root": str(root), **({"adapter": ADAPTER[name]} if name in ADAPTER else {}), **entry}
    register(name, entry, out / f"{name}.csv", out / f"{name}.rejected.csv", folds=2, seed=0)
    return (read_manifest(out / f"{name}.csv").set_index("clip_id"),
            pd.read_csv(out / f"{name}.rejected.csv", keep_default_na=False),
            json.loads((out / f"{name}.json").read_text()))


@pytest.mark.parametrize("name", sorted(quirks.BUILDERS))
def test_quirk_tree_counts(tmp_path, name, caplog):
    root, expected = quirks.BUILDERS[name](tmp_path)
    before = trees.snapshot(root)
    with caplog.at_level(logging.INFO):
        manifest, rejected, record = register_tree(tmp_path, name, root)
    labelled = int((manifest["label"] != "").sum())
    counts = {"registered": len(manifest), "labelled": labelled,
              "unlabelled": len(manifest) - labelled, "rejected": len(rejected)}
    assert counts == expected, rejected.to_string()
    assert {k: record[k] for k in ("labelled", "unlabelled", "rejected")} == {
        k: expected[k] for k in ("labelled", "unlabelled", "rejected")}
    assert record["clips"] == expected["registered"] and record["root"] == str(root.resolve())
    # one summary line with the counts per reason
    summary = [r.getMessage() for r in caplog.records if f"dataset {name}: " in r.getMessage()
               and "rejected" in r.getMessage()]
    assert len(summary) == 1 and summary[0].count(" ") > 5
    assert sum(record["rejected_by_reason"].values()) == expected["rejected"]
    # frame folders without a known rate: said, with the key that sets it
    assert ("set datasets.generic.fps" in caplog.text) == (name == "generic")
    # clutter never becomes a clip, a frame or a rejection
    for text in (*manifest["source"], *rejected["path"]):
        assert not any(s in text for s in (".DS_Store", "Thumbs.db", "__MACOSX", "/._"))
    assert trees.snapshot(root) == before


def test_ckplus_quirks(tmp_path):
    root, _ = quirks.ckplus(tmp_path)
    m, rej, record = register_tree(tmp_path, "ckplus", root)
    assert m.loc["S005_001", "label"] == "disgust" and m.loc["S005_001", "label_raw"] == "3.0000000e+00"
    assert m.loc["S010_001", "label"] == "surprise"            # colour 720x480 beside grey
    assert m.loc["S005_001", "frames"] == m.loc["S010_001", "frames"] == 3
    assert m.loc["S0O7_001", "label"] == "" and m.loc["S011_001", "label"] == ""
    assert (m["fps"] == 30).all() and record["fps"] == 30
    reasons = dict(zip(rej["path"].str.replace(str(root) + "/", ""), rej["reason"]))
    orphans = {p: r for p, r in reasons.items() if p.startswith("Emotion/S007/")}
    assert len(orphans) == 2
    for reason in orphans.values():
        assert reason.startswith("label file without frames: cohn-kanade-images/S007/")
        assert "no subject folder S007 (a misnamed S0O7?)" in reason
    assert "no image frames" in reasons["cohn-kanade-images/S011/002"]
    assert "not a decodable image" in reasons["cohn-kanade-images/S014/001"]
    assert "S014_002_00000009.png: empty" in reasons["cohn-kanade-images/S014/002"]
    assert record["rejected_by_reason"] == {
        "label file without frames": 2, "sequence folder holds no image frames": 1,
        "not a decodable image": 1, "empty or missing image file": 1}


def test_mmi_quirks(tmp_path):
    root, _ = quirks.mmi(tmp_path)
    m, rej, _ = register_tree(tmp_path, "mmi", root)
    assert m.loc["1767", "label"] == "surprise" and m.loc["1767", "subject"] == "1"   # BOM
    assert m.loc["1769", "subject"] == "2" and m.loc["1769", "label"] == ""          # BOM, AUs
    assert m.loc["1768", "label"] == "" and m.loc["1771", "label"] == ""
    reasons = dict(zip(rej["path"].str.replace(str(root) + "/Sessions/", ""), rej["reason"]))
    assert reasons["1770"].startswith("session holds more than one video: S003-001.avi, S003-001b.avi")
    assert reasons["1771/S003-009.xml"].startswith("label file without frames: S003-009.xml "
                                                   "holds Emotion '5'")


def test_mug_quirks_and_release_fps(tmp_path):
    root, _ = quirks.mug(tmp_path)
    m, rej, record = register_tree(tmp_path, "mug", root)
    assert m.loc["001_anger_take000", "frames"] == 3          # the ._img_0000.jpg is no frame
    assert m.loc["002_surprise_take000", "label"] == "surprise"
    assert (m["fps"] == 19).all() and record["fps"] == 19      # MUG's release rate
    m2, _, record2 = register_tree(tmp_path / "b", "mug", root, fps=25)   # datasets.mug.fps
    assert (m2["fps"] == 25).all() and record2["fps"] == 25


def test_oulu_quirks(tmp_path):
    root, _ = quirks.oulu(tmp_path)
    m, _, _ = register_tree(tmp_path, "oulu", root)
    assert "PN001" in set(m["subject"]) and (m["fps"] == 25).all()
    ni, rej_ni, _ = register_tree(tmp_path / "ni", "oulu", root, options={"spectrum": "NI"})
    assert len(ni) == 9 and rej_ni.empty


def test_rafdb_quirks(tmp_path):
    root, _ = quirks.rafdb(tmp_path)
    m, rej, _ = register_tree(tmp_path, "rafdb", root)
    assert m.loc["train_00001", "label"] == "surprise"        # first line, after the BOM
    assert m.loc["test_00006", "label"] == "anger" and "train_00099" not in m.index
    assert (m["fps"] == 0).all()
    assert rej["path"].str.endswith("list_patition_label.txt:8").sum() == 1
    assert "label file without frames: line 8 lists train_00077.jpg" in " ".join(rej["reason"])


def test_ravdess_and_generic_quirks(tmp_path):
    root, _ = quirks.ravdess(tmp_path)
    m, rej, _ = register_tree(tmp_path, "ravdess", root)
    assert all(c.startswith("02-") for c in m.index) and (m["fps"] == 25).all()   # video's own
    root, _ = quirks.generic(tmp_path)
    m, rej, record = register_tree(tmp_path / "g", "generic", root)
    assert m.loc["Angry/s01-clip", "frames"] == 3 and (m.loc["Angry/s01-clip", "fps"] == 30)
    assert record["fps"] is None                              # no release rate: default used
    assert record["rejected_by_reason"] == {"clip folder holds no image frames": 1,
                                            "empty or missing image file": 1}
