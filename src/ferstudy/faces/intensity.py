"""Expression intensity from dense landmarks: how far the face has moved from its neutral frame.

Landmarks: the mesh runs on the aligned 192-px crop (``align.mesh_crop``), then again on a
crop re-framed from its own eye and mouth points, as MediaPipe's tracking graph does: BlazeFace
keypoints jitter by a pixel or two and the mesh is sensitive to its framing, so the static
astronaut test clip (shifted, rotated, rescaled) scores ~0.02 with one pass and ~0.002 with
MESH_PASSES = 3.

Per frame: the 468 mesh points (x, y) are similarity-normalised onto the clip's neutral frame
(its first usable frame) by a least-squares fit on points that expressions barely move (eye
corners, nose bridge and tip, forehead, face sides), so head motion and residual alignment
jitter cancel; the score is the mean point displacement from the neutral frame divided by the
neutral inter-ocular distance (eye-centre to eye-centre). 0 = neutral; posed apexes reach
~0.05-0.15. Per clip: the maximum over its stored frames (the apex value for onset-apex
sequences, and still the peak for onset-apex-offset ones).
"""
from __future__ import annotations

import numpy as np

from ferstudy.faces.align import MESH_CANONICAL, similarity, warp
from ferstudy.faces.mesh import (KP_LEFT_EYE, KP_MOUTH, KP_RIGHT_EYE, MESH_INPUT, MESH_LEFT_EYE,
                                 MESH_RIGHT_EYE, FaceMesh)

MESH_PASSES = 3
MESH_LIPS = (13, 14)   # inner upper and lower lip: their middle is the mouth centre

# Mesh indices that stay put under expressions: eye corners, nose bridge to tip, forehead,
# the face's sides at the temples/cheekbones.
RIGID = (33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 10, 151, 9, 234, 454, 127, 356)


def face_landmarks(mesh: FaceMesh, rgb: np.ndarray, keypoints: np.ndarray,
                   passes: int = MESH_PASSES) -> tuple[np.ndarray, float]:
    """468 landmarks of the face at BlazeFace ``keypoints`` (6, 2) in an RGB frame.

    Returns (points (468, 2) float64 in image pixels, presence). Each pass re-frames the
    aligned mesh crop from the previous pass's eye and mouth points."""
    kp = keypoints.astype(np.float64, copy=True)
    for _ in range(passes):
        m = similarity(kp, MESH_CANONICAL, MESH_INPUT)
        points, presence = mesh.landmarks_on_crop(warp(rgb, m, MESH_INPUT))
        inv = np.linalg.inv(np.vstack([m, [0.0, 0.0, 1.0]]))[:2]
        xy = points[:, :2].astype(np.float64) @ inv[:, :2].T + inv[:, 2]
        kp = refined_keypoints(kp, xy)
    return xy, presence


def refined_keypoints(keypoints: np.ndarray, points: np.ndarray) -> np.ndarray:
    """BlazeFace keypoints (6, 2) with the eyes and mouth replaced by the mesh's (468, 2):
    eye centres from the eye corners, mouth centre between the inner lips."""
    kp = np.array(keypoints, np.float64, copy=True)
    kp[KP_RIGHT_EYE] = points[list(MESH_RIGHT_EYE)].mean(0)
    kp[KP_LEFT_EYE] = points[list(MESH_LEFT_EYE)].mean(0)
    kp[KP_MOUTH] = points[list(MESH_LIPS)].mean(0)
    return kp


def inter_ocular(points: np.ndarray) -> float:
    """Distance between the eye centres (mean of each eye's two corners); points (468, >=2)."""
    right = points[list(MESH_RIGHT_EYE), :2].mean(0)
    left = points[list(MESH_LEFT_EYE), :2].mean(0)
    return float(np.linalg.norm(left - right))


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity (Umeyama) taking src (k, 2) onto dst (k, 2): (s, R, t)."""
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    u, sig, vt = np.linalg.svd(b.T @ a)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.diag([1.0, d])
    rot = u @ fix @ vt
    scale = float((sig * np.diag(fix)).sum() / max((a * a).sum(), 1e-12))
    return scale, rot, md - scale * rot @ ms


def normalise(points: np.ndarray, neutral: np.ndarray) -> np.ndarray:
    """points (468, >=2) -> (468, 2) mapped onto ``neutral`` by the rigid-point similarity."""
    rigid = list(RIGID)
    s, rot, t = fit_similarity(points[rigid, :2].astype(np.float64),
                               neutral[rigid, :2].astype(np.float64))
    return points[:, :2] @ (s * rot).T + t


def frame_intensity(points: np.ndarray, neutral: np.ndarray) -> np.ndarray:
    """float32 (T,) per-frame intensity of landmarks (T, 468, >=2) against ``neutral``."""
    iod = max(inter_ocular(neutral), 1e-6)
    ref = neutral[:, :2].astype(np.float64)
    out = [np.linalg.norm(normalise(p, neutral) - ref, axis=1).mean() / iod for p in points]
    return np.asarray(out, np.float32)


def clip_intensity(per_frame: np.ndarray) -> float:
    """Per-clip score: the peak (maximum) of the per-frame scores; NaN if not computed."""
    per_frame = np.asarray(per_frame, np.float32)
    if per_frame.size == 0 or np.isnan(per_frame).all():
        return float("nan")
    return float(np.nanmax(per_frame))
