"""Every dataset adapter against a tiny tree in its native layout (see dataset_trees.py)."""
from __future__ import annotations

import pytest

import dataset_trees as trees
from ferstudy.datasets import DATASETS
from ferstudy.datasets.base import DatasetError
from ferstudy.datasets.register import make_adapter, register, scan_dataset


def scan(name, root, adapter=None, **options):
    entry = {"root": str(root), "options": options}
    if adapter:
        entry["adapter"] = adapter
    manifest, rejected = scan_dataset(make_adapter(name, entry))
    return manifest.set_index("clip_id"), rejected


def reasons(rejected, fragment):
    return [r for p, r in zip(rejected["path"], rejected["reason"]) if fragment in p]


def test_every_adapter_documents_layout_and_labels():
    import importlib

    for name in DATASETS.names():
        cls = DATASETS.get(name)
        doc = importlib.import_module(cls.__module__).__doc__ or ""
        assert len(doc) > 400 and ("Label" in doc or "label" in doc), name
        assert cls.LAYOUT and cls.TEMPORAL in ("onset_apex", "onset_apex_offset", "static")
        assert set(cls.CLASSES) <= {"neutral", "anger", "disgust", "fear", "happiness",
                                    "sadness", "surprise", "contempt"}


def test_ckplus(tmp_path):
    m, rej = scan("ckplus", trees.ckplus(tmp_path))
    assert m.loc["S001_001", "label"] == "anger" and m.loc["S002_002", "label"] == "surprise"
    assert m.loc["S004_002", "label"] == ""                     # no emotion file: unlabelled
    assert "S003_001" not in m.index                            # zero-byte frame
    assert "empty" in reasons(rej, "S003/001")[0] and len(rej) == 1
    assert (m["frames"] == 4).all() and (m["kind"] == "frames").all()
    assert m.loc["S002_001", "subject"] == "S002"


def test_mug(tmp_path):
    m, rej = scan("mug", trees.mug(tmp_path))
    assert m.loc["001_anger_take000", "label"] == "anger"
    assert m.loc["001_happiness_take001", "label"] == "happiness"
    assert m.loc["002_neutral_take000", "label"] == "neutral"
    assert m.loc["001_anger_take000", "frames"] == 3 and m.loc["002_anger_take000", "frames"] == 4
    assert set(m["subject"]) == {"001", "002", "003", "004"}
    assert "004_anger_take000" not in m.index and reasons(rej, "004/anger/take000")
    assert "no image frames" in reasons(rej, "002/anger/take001")[0]
    assert "unknown expression folder 'smirk'" in reasons(rej, "003/smirk")[0]
    assert len(m) == 12 and len(rej) == 3                       # extras/README ignored
    m2, _ = scan("mug", trees.mug(tmp_path / "b") / "subjects3", include_neutral=False)
    assert "neutral" not in set(m2["label"]) and len(m2) == 8


def test_mmi(tmp_path):
    m, rej = scan("mmi", trees.mmi(tmp_path))
    assert m.loc["101", "label"] == "disgust" and m.loc["101", "subject"] == "1"
    assert m.loc["102", "label"] == "happiness" and m.loc["102", "label_raw"] == "4"
    assert m.loc["200", "label"] == "" and m.loc["200", "subject"] == "5"   # AU-only session
    assert m.loc["201", "subject"] == "6"                                   # from S006-001.avi
    assert (m["kind"] == "video").all() and (m["frames"] == 5).all() and (m["fps"] == 25).all()
    assert "202" not in m.index and "cannot be opened" in reasons(rej, "202")[0]
    assert "does not parse" in reasons(rej, "203")[0]
    assert "no video" in reasons(rej, "205")[0]
    assert "204" not in m.index and "204_S009-001" not in m.index          # stills skipped
    m2, _ = scan("mmi", tmp_path / "MMI", stills=True)
    assert m2.loc["204_S009-001", "kind"] == "image" and m2.loc["204_S009-001", "subject"] == "9"


def test_oulu(tmp_path):
    root = trees.oulu(tmp_path)
    m, rej = scan("oulu", root)
    assert set(m.index) == {"P001_Happiness", "P001_Surprise", "P002_Anger", "P002_Happiness",
                            "P002_Surprise", "P003_Anger", "P003_Happiness", "P003_Surprise"}
    assert "empty" in reasons(rej, "P001/Anger")[0]
    assert "unknown expression folder 'Bored'" in reasons(rej, "P002/Bored")[0]
    assert "no image frames" in reasons(rej, "P003/Fear")[0]
    assert all("VL/Strong" in s for s in m["source"])
    m2, rej2 = scan("oulu", root, spectrum="NI", illumination="Dark")
    assert len(m2) == 9 and rej2.empty and all("NI/Dark" in s for s in m2["source"])
    with pytest.raises(DatasetError, match=r"options.illumination.*allowed values: Strong, Weak, Dark"):
        scan("oulu", root, illumination="dim")
    with pytest.raises(DatasetError, match=r"OriginalImg/VL/Weak/"):
        scan("oulu", root, illumination="Weak")


def test_ravdess(tmp_path):
    root = trees.ravdess(tmp_path)
    m, rej = scan("ravdess", root)
    assert all(c.startswith("02-") for c in m.index)            # video-only files
    assert m.loc["02-01-05-01-01-01-03", "label"] == "anger"
    assert m.loc["02-01-02-01-01-01-01", "label"] == "" and m.loc["02-01-02-01-01-01-01", "label_raw"] == "02"
    assert m.loc["02-02-04-02-02-02-01", "label"] == "sadness"
    assert m.loc["02-01-03-01-01-01-04", "subject"] == "04"
    assert len(m) == 17
    assert "emotion field 09" in reasons(rej, "02-01-09")[0]
    assert reasons(rej, "02-01-06-01-01-02-03")                 # corrupt video
    m2, _ = scan("ravdess", root, audio_video=True, calm="neutral", channels=["speech"])
    assert len(m2) == 32 and m2.loc["01-01-02-01-01-01-01", "label"] == "neutral"
    m3, _ = scan("ravdess", root, calm="skip", intensities=["strong"])
    assert list(m3.index) == ["02-02-04-02-02-02-01"]
    with pytest.raises(DatasetError, match=r"options.channels.*speech, song"):
        scan("ravdess", root, channels=["rap"])


def test_generic(tmp_path):
    root = trees.generic(tmp_path)
    m, rej = scan("mine", root, adapter="generic", label_map={"joy": "happiness"})
    assert m.loc["happy/s01_take1", "label"] == "happiness" and m.loc["happy/s01_take1", "kind"] == "video"
    assert m.loc["Anger/s02-clip", "label"] == "anger" and m.loc["Anger/s02-clip", "frames"] == 3
    assert m.loc["joy/s03_x", "label"] == "happiness" and m.loc["joy/s03_x", "subject"] == "s03"
    assert m.loc["sad/s04_still", "kind"] == "image" and m.loc["sad/s04_still", "frames"] == 1
    assert set(m["subject"]) == {"s01", "s02", "s03", "s04"}
    assert "not a video, image or frame folder" in reasons(rej, "notes.txt")[0]
    assert "subject_regex" in reasons(rej, "_nosubject")[0]
    assert reasons(rej, "s05_broken")
    _, rej2 = scan("mine", root, adapter="generic")
    assert "label_map" in reasons(rej2, "joy")[0]
    m3, _ = scan("mine", root, adapter="generic", subject_regex=r"_(?P<subject>take\d)",
                 label_map={"joy": ""})
    assert set(m3["subject"]) == {"take1"} and "" not in set(m3.loc[m3.index.str.startswith("happy"), "label"])
    with pytest.raises(DatasetError, match="options.label_map"):
        scan("mine", root, adapter="generic", label_map={"joy": "glee"})
    with pytest.raises(DatasetError, match="options.subject_regex"):
        scan("mine", root, adapter="generic", subject_regex="(")


def test_rafdb(tmp_path):
    root = trees.rafdb(tmp_path)
    m, rej = scan("rafdb", root)
    assert len(m) == 8 and (m["kind"] == "image").all() and (m["frames"] == 1).all()
    assert m.loc["train_00001", "label"] == "fear" and m.loc["train_00006", "label"] == "neutral"
    assert m.loc["train_00005", "label"] == "anger" and m.loc["train_00005", "subject"] == "train_00005"
    missing = rej[rej["reason"].str.contains("train_09999")]
    assert missing["reason"].str.startswith("label file without frames: line 9 lists").all()
    assert missing["path"].str.endswith("list_patition_label.txt:9").all() and len(missing) == 1
    assert "not '<name> <code 1..7>'" in rej["reason"].iloc[-1]
    m2, _ = scan("rafdb", root, partition="test")
    assert sorted(m2.index) == ["test_00007", "test_00008"]


@pytest.mark.parametrize("name", ["ckplus", "mug", "mmi", "oulu", "rafdb", "ravdess", "generic"])
def test_unrecognised_layout_says_expected_and_found(tmp_path, name):
    root = tmp_path / "wrong"
    root.mkdir()
    (root / "stuff.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"expected .*found: stuff.txt") as err:
        scan(name, root, adapter=name)
    assert repr(name) in str(err.value)


def test_register_writes_manifest_and_rejections(tmp_path):
    root = trees.mug(tmp_path)
    out = tmp_path / "results" / "registry"
    manifest = register("mug", {"root": str(root)}, out / "mug.csv", out / "mug.rejected.csv",
                        folds=2, seed=0)
    assert (out / "mug.csv").read_text().splitlines()[0] == (
        "clip_id,dataset,subject,label,label_raw,source,kind,frames,fps,sha256,fold")
    assert len((out / "mug.rejected.csv").read_text().splitlines()) == 4
    assert manifest.groupby("subject")["fold"].nunique().max() == 1
    assert manifest["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
