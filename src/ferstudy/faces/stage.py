"""The align stage for a set of manifest clips: decode -> detect -> track -> align -> crop ->
landmarks on the aligned crops -> intensity.

Every clip ends up either stored (T aligned frames + per-frame intensity) or rejected with a
reason in the QC table: ``undecodable`` (the file or a frame cannot be read), ``no face``
(not one detection), ``low detection rate`` (fewer than ``align.min_detection_rate`` of its
frames had a detection before gap filling). Nothing is dropped silently.

The stored frames are aligned on the mesh's eye corners and inner lips (found on an aligned
crop framed from the tracked, smoothed BlazeFace keypoints and re-framed twice): BlazeFace's
own eye keypoints are off by up to ~10 px (~10 degrees of roll) on a small face. Where the
mesh is off (``align.landmarks: false``) or misses the face, the tracked keypoints are used.

Frames are decoded once; a clip too large to keep in memory (> FRAME_BUDGET bytes decoded) is
decoded a second time for the few frames the store needs. The mesh runs only on the stored
frames and the neutral (first usable) frame.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ferstudy.faces.align import Canonical, similarity, to_color, warp
from ferstudy.faces.intensity import (clip_intensity, face_landmarks, frame_intensity,
                                      refined_keypoints)
from ferstudy.faces.sample import mode_for, sample_frames
from ferstudy.faces.track import Track, track_faces
from ferstudy.media import MediaError, iter_frames

log = logging.getLogger(__name__)

MIN_PRESENCE = 0.5       # mesh face presence needed to align on the mesh's eyes and mouth
FRAME_BUDGET = 1 << 30   # bytes of decoded frames kept per clip before falling back to re-decode
QC_COLUMNS = ["clip_id", "dataset", "subject", "label", "fold", "kind", "status", "reason",
              "frames", "detected", "usable", "detection_rate", "mean_score", "max_faces",
              "presence", "intensity"]


@dataclass(frozen=True)
class AlignSettings:
    """The ``align`` config section as typed values (see config.yaml for each key)."""
    size: int = 48
    color: str = "grey"
    frames: int = 8
    min_detection_rate: float = 0.5
    min_confidence: float = 0.5
    smooth_window: int = 5
    max_gap: int = 5
    canonical: Canonical = field(default_factory=Canonical)
    landmarks: bool = True

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> AlignSettings:
        return cls(size=int(cfg["size"]), color=cfg["color"], frames=int(cfg["frames"]),
                   min_detection_rate=float(cfg["min_detection_rate"]),
                   min_confidence=float(cfg["min_confidence"]),
                   smooth_window=int(cfg["smooth_window"]), max_gap=int(cfg["max_gap"]),
                   canonical=Canonical(cfg["eye_y"], cfg["eye_distance"], cfg["mouth_y"]),
                   landmarks=bool(cfg["landmarks"]))

    def for_manifest(self, manifest) -> AlignSettings:
        """These settings for a dataset: a still-image dataset (every clip ``kind = image``)
        is stored with T = 1 (``ferstudy.clipstore``: repeated at load time where needed)."""
        if len(manifest) and (manifest["kind"].astype(str) == "image").all():
            return dataclasses.replace(self, frames=1)
        return self

    @property
    def channels(self) -> int:
        return 1 if self.color == "grey" else 3

    def empty_clips(self) -> np.ndarray:
        return np.zeros((0, self.frames, self.size, self.size, self.channels), np.uint8)


@dataclass
class ClipResult:
    qc: dict[str, Any]                    # one QC row (status ok or rejected)
    clip: np.ndarray | None = None        # uint8 (T, size, size, C) when ok
    intensity: np.ndarray | None = None   # float32 (T,) when ok (NaN if landmarks are off)
    frame_ids: np.ndarray | None = None   # int64 (T,) source frame of each stored frame
    transforms: np.ndarray | None = None  # float64 (T, 2, 3) image px -> crop px per frame
    detected: np.ndarray | None = None    # bool (n,) frames with a detection (once decoded)


class Aligner:
    """Holds the detector and the mesh for a run over many clips."""

    def __init__(self, settings: AlignSettings, models_dir: str | Path):
        from ferstudy.faces.mesh import FaceDetector, FaceMesh

        self.settings = settings
        self.detector = FaceDetector(models_dir, settings.min_confidence)
        self.mesh = FaceMesh(models_dir) if settings.landmarks else None

    def close(self) -> None:
        self.detector.close()

    def __enter__(self) -> Aligner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _decode_and_detect(self, source: str, kind: str) -> tuple[list, list | None]:
        per_frame, kept, used = [], [], 0
        for rgb in iter_frames(source, kind):
            per_frame.append(self.detector.detect(rgb))
            if kept is not None:
                kept.append(rgb)
                used += rgb.nbytes
                if used > FRAME_BUDGET:
                    kept = None
        return per_frame, kept

    @staticmethod
    def _fetch(source: str, kind: str, kept: list | None, wanted: set[int]) -> dict[int, np.ndarray]:
        if kept is not None:
            return {t: kept[t] for t in wanted}
        return {t: f for t, f in enumerate(iter_frames(source, kind)) if t in wanted}

    def align_clip(self, row: dict[str, Any], temporal: str) -> ClipResult:
        """Align one manifest clip (a dict with clip_id, source, kind, ...)."""
        s = self.settings
        qc = {k: row.get(k, "") for k in ("clip_id", "dataset", "subject", "label", "fold", "kind")}
        qc.update(status="rejected", reason="", frames=0, detected=0, usable=0,
                  detection_rate=0.0, mean_score=0.0, max_faces=0, presence=np.nan,
                  intensity=np.nan)
        source, kind = str(row["source"]), str(row["kind"])
        try:
            per_frame, kept = self._decode_and_detect(source, kind)
        except (MediaError, OSError) as err:
            qc["reason"] = f"undecodable: {err}"
            return ClipResult(qc)
        track = track_faces(per_frame, smooth_window=s.smooth_window, max_gap=s.max_gap)
        n, rate = len(track), track.detection_rate
        result = ClipResult(qc, detected=track.detected)
        qc.update(frames=n, detected=int(track.detected.sum()), usable=int(track.valid.sum()),
                  detection_rate=round(rate, 4), max_faces=track.max_faces,
                  mean_score=round(float(track.scores[track.detected].mean()), 4)
                  if track.detected.any() else 0.0)
        if not track.detected.any():
            qc["reason"] = f"no face: no face detected in any of its {n} frame(s)"
            return result
        if rate < s.min_detection_rate:
            qc["reason"] = (f"low detection rate: {rate:.2f} < align.min_detection_rate "
                            f"{s.min_detection_rate:.2f} ({qc['detected']} of {n} frames)")
            return result
        chosen = sample_frames(track.valid, s.frames, mode_for(temporal, kind))
        neutral = int(np.flatnonzero(track.valid)[0])
        try:
            frames = self._fetch(source, kind, kept, set(chosen.tolist()) | {neutral})
        except (MediaError, OSError) as err:   # changed on disk between the two passes
            qc["reason"] = f"undecodable: {err}"
            return result
        keypoints, intensity = self._landmarks(frames, track, chosen, neutral, qc)
        transforms = np.stack([similarity(keypoints[t], s.canonical, s.size) for t in chosen])
        clip = np.stack([to_color(warp(frames[t], m, s.size), s.color)
                         for t, m in zip(chosen, transforms)])
        qc.update(status="ok", intensity=round(clip_intensity(intensity), 5))
        result.clip, result.intensity = clip, intensity
        result.frame_ids, result.transforms = chosen, transforms
        return result

    def _landmarks(self, frames: dict[int, np.ndarray], track: Track, chosen: np.ndarray,
                   neutral: int, qc: dict[str, Any]) -> tuple[dict[int, np.ndarray], np.ndarray]:
        """Keypoints to align each stored frame on, and the per-frame intensity (T,).

        BlazeFace eye keypoints are off by up to ~10 px (~10 degrees of roll) on a 40-px
        inter-ocular face; the mesh's eye corners are not, so where the mesh finds the face
        (presence >= MIN_PRESENCE) its eyes and mouth replace the tracked keypoints."""
        keypoints = {t: track.keypoints[t] for t in frames}
        if self.mesh is None:
            return keypoints, np.full(len(chosen), np.nan, np.float32)
        points, presence = {}, []
        for t in sorted(frames):
            points[t], p = face_landmarks(self.mesh, frames[t], track.keypoints[t])
            presence.append(p)
            if p >= MIN_PRESENCE:
                keypoints[t] = refined_keypoints(track.keypoints[t], points[t])
        qc["presence"] = round(float(np.mean(presence)), 4)
        intensity = frame_intensity(np.stack([points[t] for t in chosen]), points[neutral])
        return keypoints, intensity


@dataclass
class AlignedSet:
    clips: np.ndarray        # uint8 (N, T, size, size, C), accepted clips only
    intensity: np.ndarray    # float32 (N, T)
    qc: pd.DataFrame         # one row per input clip, QC_COLUMNS, input order


def align_clips(rows: pd.DataFrame, settings: AlignSettings, models_dir: str | Path,
                temporal: str) -> AlignedSet:
    """Align every manifest row (in order); rejected clips are kept in ``qc`` with the reason."""
    clips, intensity, qc = [], [], []
    with Aligner(settings, models_dir) as aligner:
        for i, row in enumerate(rows.to_dict("records")):
            res = aligner.align_clip(row, temporal)
            qc.append(res.qc)
            if res.clip is not None:
                clips.append(res.clip)
                intensity.append(res.intensity)
            else:
                log.warning("clip %s rejected: %s", row["clip_id"], res.qc["reason"])
            if (i + 1) % 25 == 0 or i + 1 == len(rows):
                log.info("aligned %d/%d clips (%d rejected)", i + 1, len(rows),
                         i + 1 - len(clips))
    return AlignedSet(np.stack(clips) if clips else settings.empty_clips(),
                      np.stack(intensity).astype(np.float32) if intensity
                      else np.zeros((0, settings.frames), np.float32),
                      pd.DataFrame(qc, columns=QC_COLUMNS))
