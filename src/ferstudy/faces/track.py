"""One face track per clip: pick the face, follow it, smooth its keypoints, fill short gaps.

Per-frame detections (``FaceDetector.detect``) may hold several faces, none, or a spurious
one. ``select_track`` starts from the clip's most prominent detection (largest box x score,
over all frames) and follows it forwards and backwards, each frame taking the detection
nearest to the last accepted box; a detection too far away or of a very different size is
someone (or something) else and is ignored. After a gap longer than ``max_gap`` frames the
track re-acquires the most prominent face, so a person who leaves and re-enters is found again.

Keypoints are then smoothed with a centred local-linear fit over detected frames only (no lag,
no mixing with gap values) and gaps of at most ``max_gap`` frames are filled by linear
interpolation (held at the clip's ends). Frames in longer gaps stay invalid (NaN).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ferstudy.faces.mesh import Detection

# A detection continues the track when its box centre lies within GATE x (last box side) of
# the last accepted box centre and its side is within a factor SIZE_RATIO of it.
GATE = 0.5
SIZE_RATIO = 1.6


@dataclass
class Track:
    keypoints: np.ndarray   # float32 (n, 6, 2) image px, BlazeFace order; NaN where no face
    boxes: np.ndarray       # float32 (n, 4) x, y, w, h; NaN where no face
    scores: np.ndarray      # float32 (n,) detection score; 0 where not detected
    detected: np.ndarray    # bool (n,) a detection was assigned (before gap filling)
    max_faces: int          # most faces seen in one frame

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def detection_rate(self) -> float:
        return float(self.detected.mean()) if len(self) else 0.0

    @property
    def valid(self) -> np.ndarray:
        """bool (n,): frames with keypoints (detected, or filled by interpolation)."""
        return ~np.isnan(self.keypoints[:, 0, 0])


def _prominence(d: Detection) -> float:
    return d.box[2] * d.box[3] * d.score


def _centre_side(d: Detection) -> tuple[np.ndarray, float]:
    x, y, w, h = d.box
    return np.array([x + w / 2.0, y + h / 2.0]), float(max(w, h))


def _continues(prev: Detection, cand: Detection) -> float | None:
    """Distance (in units of the previous box side) if ``cand`` continues ``prev``, else None."""
    pc, ps = _centre_side(prev)
    cc, cs = _centre_side(cand)
    dist = float(np.linalg.norm(cc - pc)) / max(ps, 1e-6)
    ratio = cs / max(ps, 1e-6)
    if dist > GATE or not (1 / SIZE_RATIO <= ratio <= SIZE_RATIO):
        return None
    return dist


def _follow(per_frame: list[list[Detection]], order: range, start: Detection,
            chosen: list[Detection | None], max_gap: int) -> None:
    last, missing = start, 0
    for t in order:
        cands = per_frame[t]
        scored = [(d, _continues(last, d)) for d in cands]
        scored = [(d, s) for d, s in scored if s is not None]
        if scored:
            pick = min(scored, key=lambda ds: ds[1])[0]
        elif missing >= max_gap and cands:   # lost for long: re-acquire the main face
            pick = max(cands, key=_prominence)
        else:
            pick = None
        chosen[t] = pick
        if pick is None:
            missing += 1
        else:
            last, missing = pick, 0


def select_track(per_frame: list[list[Detection]], max_gap: int) -> Track:
    """One consistent face per frame from all detections of a clip (n frames)."""
    n = len(per_frame)
    chosen: list[Detection | None] = [None] * n
    allf = [(t, d) for t, ds in enumerate(per_frame) for d in ds]
    if allf:
        t0, start = max(allf, key=lambda td: _prominence(td[1]))
        chosen[t0] = start
        _follow(per_frame, range(t0 + 1, n), start, chosen, max_gap)
        _follow(per_frame, range(t0 - 1, -1, -1), start, chosen, max_gap)
    kps = np.full((n, 6, 2), np.nan, np.float32)
    boxes = np.full((n, 4), np.nan, np.float32)
    scores = np.zeros(n, np.float32)
    for t, d in enumerate(chosen):
        if d is not None:
            kps[t], boxes[t], scores[t] = d.keypoints, d.box, d.score
    detected = scores > 0
    return Track(kps, boxes, scores, detected, max((len(ds) for ds in per_frame), default=0))


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Centred local-linear smoothing over time (axis 0) that ignores NaN frames.

    Each detected frame gets the value at its own time of a straight line fitted (least
    squares) to the detected frames within ``window``: jitter averages out while steady head
    motion, even at the clip's ends, is followed without lag (a plain moving average would
    pull the ends towards the clip's middle). values: float (n, ...) with NaN rows for missing
    frames; returns the same shape, NaN rows kept NaN. ``window`` <= 2 returns a copy.
    """
    out = values.astype(np.float32, copy=True)
    n = len(values)
    if window <= 2 or n < 3:
        return out
    flat = values.reshape(n, -1).astype(np.float64)
    ok = ~np.isnan(flat[:, 0])
    t = np.arange(n, dtype=np.float64)
    y = np.where(ok[:, None], flat, 0.0)
    w = ok.astype(np.float64)

    def window_sum(a: np.ndarray) -> np.ndarray:
        c = np.concatenate([np.zeros((1,) + a.shape[1:]), np.cumsum(a, axis=0)])
        lo = np.clip(np.arange(n) - window // 2, 0, n)
        hi = np.clip(np.arange(n) + window // 2 + 1, 0, n)
        return c[hi] - c[lo]

    s0, s1, s2 = window_sum(w), window_sum(w * t), window_sum(w * t * t)
    y0, y1 = window_sum(y), window_sum(y * t[:, None])
    det = s0 * s2 - s1 * s1
    line = det > 1e-9                       # >= 2 distinct detected frames in the window
    safe = np.where(line, det, 1.0)[:, None]
    slope = (s0[:, None] * y1 - s1[:, None] * y0) / safe
    icept = (s2[:, None] * y0 - s1[:, None] * y1) / safe
    fitted = np.where(line[:, None], icept + slope * t[:, None], y0 / np.maximum(s0, 1)[:, None])
    out.reshape(n, -1)[ok] = fitted[ok]
    return out


def fill_gaps(values: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill NaN runs of at most ``max_gap`` frames: linear inside the clip, held at its ends.

    values: float (n, ...) with NaN rows; longer runs stay NaN.
    """
    out = values.astype(np.float32, copy=True)
    n = len(values)
    ok = ~np.isnan(out.reshape(n, -1)[:, 0]) if n else np.zeros(0, bool)
    if not ok.any() or ok.all() or max_gap <= 0:
        return out
    t = 0
    while t < n:
        if ok[t]:
            t += 1
            continue
        end = t
        while end < n and not ok[end]:
            end += 1
        if end - t <= max_gap:
            if t == 0:
                out[t:end] = out[end]
            elif end == n:
                out[t:end] = out[t - 1]
            else:
                a, b = out[t - 1], out[end]
                w = (np.arange(t, end) - (t - 1)) / float(end - (t - 1))
                out[t:end] = a + (b - a) * w.reshape((-1,) + (1,) * (out.ndim - 1))
        t = end
    return out


def track_faces(per_frame: list[list[Detection]], *, smooth_window: int, max_gap: int) -> Track:
    """select_track -> smooth keypoints and boxes -> fill gaps of at most ``max_gap`` frames."""
    track = select_track(per_frame, max_gap)
    track.keypoints = fill_gaps(smooth(track.keypoints, smooth_window), max_gap)
    track.boxes = fill_gaps(smooth(track.boxes, smooth_window), max_gap)
    return track
