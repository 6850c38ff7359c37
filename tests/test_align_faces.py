"""Alignment and intensity on a real face: scikit-image's astronaut under known head motion."""
from __future__ import annotations

import numpy as np
import pytest

from align_fixtures import (astronaut, astronaut_clip, need_models, render, stretch_mouth,
                            warp_matrix, write_frames)
from ferstudy.faces.align import apply, face_points
from ferstudy.faces.stage import Aligner, AlignSettings


@pytest.fixture(scope="module")
def models():
    return need_models()


@pytest.fixture(scope="module")
def true_points(models):
    """Eyes and mouth of the astronaut photo (mesh-refined), the reference every frame's
    known warp is applied to."""
    from ferstudy.faces.intensity import face_landmarks, refined_keypoints
    from ferstudy.faces.mesh import FaceDetector, FaceMesh

    img = astronaut()
    with FaceDetector(models) as det:
        kp = det.detect(img)[0].keypoints
    return face_points(refined_keypoints(kp, face_landmarks(FaceMesh(models), img, kp)[0]))


@pytest.fixture(scope="module")
def moving_clip(tmp_path_factory):
    return astronaut_clip(tmp_path_factory.mktemp("clip") / "S001_001", n=12)


@pytest.mark.parametrize("size,color", [(48, "grey"), (64, "rgb")])
def test_aligned_eyes_land_on_canonical_positions(models, true_points, moving_clip, size, color):
    folder, warps = moving_clip
    settings = AlignSettings(size=size, color=color, frames=8)
    with Aligner(settings, models) as aligner:
        res = aligner.align_clip({"clip_id": "c", "source": str(folder), "kind": "frames"},
                                 "onset_apex")
    assert res.qc["status"] == "ok", res.qc["reason"]
    assert res.clip.shape == (8, size, size, 1 if color == "grey" else 3)
    assert res.clip.dtype == np.uint8
    # onset->apex: the first and the last frame are both stored
    assert res.frame_ids[0] == 0 and res.frame_ids[-1] == len(warps) - 1
    canon = settings.canonical.points(size)
    for t, m in zip(res.frame_ids, res.transforms):
        eyes_mouth = apply(m, apply(warps[t], true_points))
        assert np.abs(eyes_mouth[:2] - canon[:2]).max() < 1.5 * size / 48, (t, eyes_mouth)
        assert abs(eyes_mouth[0, 1] - eyes_mouth[1, 1]) < 1.0          # eyes level
    # the crops themselves are the same face at the same place: frame-to-frame differences
    # are small next to the difference from an unaligned (shifted) crop
    clip = res.clip.astype(np.float32)
    drift = np.abs(clip[1:] - clip[:-1]).mean()
    shifted = np.abs(clip[0, :, 4:] - clip[0, :, :-4]).mean()
    assert drift < 0.6 * shifted


def test_static_face_has_near_zero_intensity_and_an_expression_does_not(models, moving_clip,
                                                                         true_points, tmp_path):
    folder, _ = moving_clip
    with Aligner(AlignSettings(frames=8), models) as aligner:
        static = aligner.align_clip({"clip_id": "s", "source": str(folder), "kind": "frames"},
                                    "onset_apex")
        # the same photo with the mouth pulled open a little more in every frame
        amounts = np.linspace(0.0, 8.0, 8)
        frames = [render(stretch_mouth(astronaut(), true_points[2], a, 25.0),
                         warp_matrix(0, 1, 0, 0)) for a in amounts]
        expr_dir = write_frames(tmp_path / "S001_002", frames)
        expr = aligner.align_clip({"clip_id": "e", "source": str(expr_dir), "kind": "frames"},
                                  "onset_apex")
    assert static.intensity.shape == (8,) and static.intensity.dtype == np.float32
    assert static.intensity[0] == pytest.approx(0.0, abs=1e-6)     # frame 0 is the neutral
    assert np.abs(static.intensity).max() < 0.01
    assert static.qc["intensity"] == pytest.approx(float(static.intensity.max()), abs=1e-4)
    assert expr.intensity[-1] > 4 * np.abs(static.intensity).max()
    assert np.corrcoef(amounts, expr.intensity)[0, 1] > 0.9
    assert expr.qc["intensity"] == pytest.approx(float(expr.intensity.max()), abs=1e-4)


def test_single_image_repeats_and_landmarks_off_gives_nan(models, tmp_path):
    import cv2

    path = tmp_path / "face.png"
    cv2.imwrite(str(path), cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR))
    with Aligner(AlignSettings(frames=4, landmarks=False), models) as aligner:
        res = aligner.align_clip({"clip_id": "i", "source": str(path), "kind": "image"}, "static")
    assert res.qc["status"] == "ok"
    assert res.clip.shape == (4, 48, 48, 1)
    assert (res.clip == res.clip[0]).all()
    assert np.isnan(res.intensity).all()
