"""Tracking, smoothing, gap filling and frame sampling on known inputs (no models needed)."""
from __future__ import annotations

import numpy as np
import pytest

from ferstudy.faces.mesh import Detection
from ferstudy.faces.sample import mode_for, sample_frames, sample_positions
from ferstudy.faces.track import fill_gaps, select_track, smooth, track_faces


def det(x: float, y: float, side: float = 100.0, score: float = 0.9) -> Detection:
    kps = np.array([[x + 0.3 * side, y + 0.4 * side], [x + 0.7 * side, y + 0.4 * side],
                    [x + 0.5 * side, y + 0.6 * side], [x + 0.5 * side, y + 0.8 * side],
                    [x, y + 0.4 * side], [x + side, y + 0.4 * side]], np.float32)
    return Detection((x, y, side, side), score, kps)


def test_track_follows_one_face_among_several():
    # the main face drifts right; a smaller face sits elsewhere; the main face is missed in
    # frame 3 while the other is still there: the track must not jump to it
    frames = [[det(100 + 5 * t, 100), det(400, 300, side=60)] for t in range(8)]
    frames[3] = [det(400, 300, side=60)]
    track = select_track(frames, max_gap=2)
    assert track.max_faces == 2
    assert list(track.detected) == [True, True, True, False, True, True, True, True]
    xs = track.boxes[track.detected, 0]
    assert np.allclose(xs, [100 + 5 * t for t in range(8) if t != 3])


def test_track_reacquires_after_a_long_absence_and_fills_short_gaps():
    frames = [[det(100 + 2 * t, 100)] for t in range(10)]
    frames[2] = []                                   # 1-frame gap: filled
    for t in range(5, 9):                            # 4-frame gap > max_gap 2: not filled
        frames[t] = []
    frames[9] = [det(300, 100)]                      # the face comes back elsewhere
    track = track_faces(frames, smooth_window=1, max_gap=2)
    assert track.detection_rate == pytest.approx(5 / 10)
    assert list(track.valid) == [True] * 5 + [False] * 4 + [True]   # long gap left out
    assert track.keypoints[2, 0, 0] == pytest.approx(104 + 30, abs=1e-4)  # interpolated
    assert track.boxes[9, 0] == pytest.approx(300)


def test_fill_gaps_linear_inside_held_at_ends_long_gaps_kept():
    v = np.array([np.nan, 0.0, np.nan, np.nan, 3.0, np.nan, np.nan, np.nan, 7.0, np.nan])[:, None]
    out = fill_gaps(v, max_gap=2)[:, 0]
    assert out[0] == 0.0 and out[2] == pytest.approx(1.0) and out[3] == pytest.approx(2.0)
    assert np.isnan(out[5:8]).all() and out[9] == 7.0


def test_smooth_keeps_steady_motion_and_reduces_jitter():
    rng = np.random.default_rng(0)
    t = np.arange(30, dtype=np.float64)
    line = np.stack([2.0 * t + 5, -t], axis=1)
    assert np.allclose(smooth(line, 5), line, atol=1e-3)          # no lag, even at the ends
    noisy = line + rng.normal(0, 1.0, line.shape)
    noisy[[4, 17]] = np.nan
    out = smooth(noisy, 5)
    assert np.isnan(out[[4, 17]]).all()
    ok = ~np.isnan(out[:, 0])
    assert np.abs(out[ok] - line[ok]).mean() < 0.8 * np.abs(noisy[ok] - line[ok]).mean()


def test_sampling_modes():
    assert list(sample_positions(20, 5, "onset_apex")) == [0, 5, 10, 14, 19]
    assert list(sample_positions(20, 4, "uniform")) == [2, 7, 12, 17]
    short = sample_positions(3, 8, "onset_apex")
    assert list(short) == sorted(short) and set(short) == {0, 1, 2} and short[-1] == 2
    assert list(sample_positions(1, 3, "uniform")) == [0, 0, 0]
    valid = np.array([False, True, True, False, True, True])
    assert list(sample_frames(valid, 3, "onset_apex")) == [1, 4, 5]
    assert mode_for("onset_apex_offset", "video") == "uniform"
    assert mode_for("onset_apex", "image") == "static"
    with pytest.raises(ValueError, match="unknown temporal"):
        mode_for("sideways", "video")


def test_align_cli_names_the_missing_piece(tmp_path, capsys, monkeypatch):
    import yaml

    from ferstudy.cli import main

    monkeypatch.chdir(tmp_path)   # no ./config.yaml underneath: c.yaml is the whole config

    config = {"results": str(tmp_path / "results"), "datasets": {"ckplus": {"root": str(tmp_path)}},
              "study": {"datasets": ["ckplus"], "archs": ["vgg3d"]}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    assert main(["align", "--config", str(tmp_path / "c.yaml"), "--dataset", "mug"]) == 2
    assert "dataset 'mug' is not declared under 'datasets'" in capsys.readouterr().err
    assert main(["align", "--config", str(tmp_path / "c.yaml"), "--dataset", "ckplus"]) == 2
    assert "run `ferstudy register --dataset ckplus` first" in capsys.readouterr().err
    assert main(["align", "--config", str(tmp_path / "c.yaml"), "--dataset", "ckplus",
                 "--set", "align.color=sepia"]) == 2
    assert "align.color" in capsys.readouterr().err
