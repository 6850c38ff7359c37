"""Similarity alignment on eyes and mouth, and cropping to the configured size and colour.

The rotation comes from the eye line alone, so the eyes are exactly level in every crop. Scale
and translation are the least-squares fit of both eyes and the mouth centre to their canonical
places, so the face size follows both inter-ocular and eye-to-mouth distance (robust to yaw,
which shrinks the eye distance only). Canonical places are fractions of the crop side: eyes at
``(0.5 -+ eye_distance/2, eye_y)``, mouth at ``(0.5, mouth_y)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ferstudy.faces.mesh import KP_LEFT_EYE, KP_MOUTH, KP_RIGHT_EYE, MESH_INPUT


@dataclass(frozen=True)
class Canonical:
    """Where the right eye, left eye and mouth centre go, as fractions of the crop side.

    Subject's right eye = image left (BlazeFace convention)."""
    eye_y: float = 0.36
    eye_distance: float = 0.40
    mouth_y: float = 0.76

    def points(self, size: float) -> np.ndarray:
        """float64 (3, 2): right eye, left eye, mouth in crop pixels of a (size x size) crop."""
        half = self.eye_distance / 2.0
        return np.array([[0.5 - half, self.eye_y], [0.5 + half, self.eye_y],
                         [0.5, self.mouth_y]]) * size


# How the face-mesh model wants its input framed: MediaPipe's ROI is the detection box scaled
# by 1.5; a BlazeFace box is ~2.25 inter-ocular distances wide and centred ~0.55 of them below
# the eyes (measured on real faces), hence these fractions of the 192-px mesh input.
MESH_CANONICAL = Canonical(eye_y=0.34, eye_distance=0.294, mouth_y=0.634)


def face_points(keypoints: np.ndarray) -> np.ndarray:
    """(6, 2) BlazeFace keypoints -> float64 (3, 2) right eye, left eye, mouth centre."""
    return keypoints[[KP_RIGHT_EYE, KP_LEFT_EYE, KP_MOUTH]].astype(np.float64)


def similarity(keypoints: np.ndarray, canonical: Canonical, size: int) -> np.ndarray:
    """2x3 float64 matrix mapping image px to crop px: eyes level, least-squares scale/shift."""
    src = face_points(keypoints)
    dst = canonical.points(size)
    d = src[1] - src[0]
    angle = math.atan2(d[1], d[0])
    c, s = math.cos(-angle), math.sin(-angle)
    rot = np.array([[c, -s], [s, c]])
    r = src @ rot.T
    rc, dc = r - r.mean(0), dst - dst.mean(0)
    scale = float((rc * dc).sum() / max((rc * rc).sum(), 1e-12))
    shift = dst.mean(0) - scale * r.mean(0)
    return np.hstack([scale * rot, shift[:, None]])


def apply(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine to points (..., 2)."""
    return points @ m[:, :2].T + m[:, 2]


def warp(rgb: np.ndarray, m: np.ndarray, size: int) -> np.ndarray:
    """Crop an RGB frame (H, W, 3) through ``m`` to uint8 (size, size, 3).

    When the face shrinks by more than 2x the warp goes to an integer multiple of ``size``
    first and is then area-averaged down, so small crops do not alias."""
    import cv2

    scale = float(np.linalg.norm(m[:, 0]))
    k = int(min(4, max(1, math.floor(1.0 / max(scale, 1e-6)))))
    if k == 1:
        return cv2.warpAffine(rgb, m, (size, size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    big = cv2.warpAffine(rgb, m * np.float64(k), (size * k, size * k), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    return cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)


def to_color(crop: np.ndarray, color: str) -> np.ndarray:
    """RGB uint8 (H, W, 3) -> (H, W, 1) for ``grey`` (ITU-R 601 luma) or (H, W, 3) for ``rgb``."""
    if color == "rgb":
        return crop
    if color == "grey":
        import cv2

        return cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)[:, :, None]
    raise ValueError(f"config key 'align.color': {color!r} is not allowed; allowed: grey, rgb")


def align_face(rgb: np.ndarray, keypoints: np.ndarray, canonical: Canonical, size: int,
               color: str) -> np.ndarray:
    """One aligned face crop, uint8 (size, size, C) with C = 1 (grey) or 3 (rgb)."""
    return to_color(warp(rgb, similarity(keypoints, canonical, size), size), color)


def mesh_crop(rgb: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """The aligned (192, 192, 3) RGB crop framed the way the face-mesh model expects."""
    return warp(rgb, similarity(keypoints, MESH_CANONICAL, MESH_INPUT), MESH_INPUT)
