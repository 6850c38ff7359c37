"""Grow a few real faces into many distinct demo subjects.

Subject ``k`` is a landmark-aligned morph of two source faces: both are warped onto their
blended landmark shape and cross-dissolved inside the face oval (the head, hair and background
come from the first face), reshaped (face width, eye spacing, mouth width, nose length),
re-toned, and possibly made of mirrored halves (a chimeric symmetric face) and/or mirrored. The result must still be found by MediaPipe; a subject that
fails is regenerated from the next sub-seed, so the outcome is a function of (seed, k) alone.
"""
from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import cv2
import numpy as np

from ferstudy.demo import landmarks as lm
from ferstudy.demo.sources import CANVAS, SourceFace
from ferstudy.demo.warp import LandmarkWarp

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12


@dataclass
class Subject:
    index: int                  # global subject number: disjoint ranges per dataset
    canvas: np.ndarray          # (CANVAS, CANVAS, 3) uint8 RGB, neutral face
    points: np.ndarray          # (468, 2) float32 landmarks found by MediaPipe on ``canvas``
    warp: LandmarkWarp          # dense warps for this face
    recipe: dict                # how it was made, for the subjects table


def face_mask(points: np.ndarray, shape: tuple[int, int], shrink: float, feather: float,
              brow_cut: float | None = None) -> np.ndarray:
    """(H, W) float32 in [0, 1]: the face oval scaled by ``shrink`` about its centre, blurred;
    with ``brow_cut`` the forehead above that height (IOD units, eyes at 0) is left out."""
    frame = lm.FaceFrame.of(points)
    oval = frame.to_face(points[list(lm.FACE_OVAL)])
    oval = oval.mean(0) + (oval - oval.mean(0)) * shrink
    if brow_cut is not None:
        oval[:, 1] = np.maximum(oval[:, 1], brow_cut)
    poly = frame.origin + frame.vectors_to_pixels(oval)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 255)
    return cv2.GaussianBlur(mask, (0, 0), feather).astype(np.float32) / 255.0


def mouth_mask(points: np.ndarray, shape: tuple[int, int], iod: float) -> np.ndarray:
    """(H, W) float32: a soft ellipse over the mouth and the skin around it."""
    mask = np.zeros(shape, np.uint8)
    c = lm.mouth_centre(points)
    cv2.ellipse(mask, (int(c[0]), int(c[1] + 0.05 * iod)), (int(0.75 * iod), int(0.45 * iod)),
                0, 0, 360, 255, -1)
    return cv2.GaussianBlur(mask, (0, 0), 0.12 * iod).astype(np.float32) / 255.0


def _match_colour(src: np.ndarray, ref: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Shift ``src``'s Lab mean/std inside ``mask`` onto ``ref``'s (hides seams in a blend)."""
    a = cv2.cvtColor(src, cv2.COLOR_RGB2LAB).astype(np.float32)
    b = cv2.cvtColor(ref, cv2.COLOR_RGB2LAB).astype(np.float32)
    sel = mask > 0.5
    out = (a - a[sel].mean(0)) / (a[sel].std(0) + 1e-3) * b[sel].std(0) + b[sel].mean(0)
    return cv2.cvtColor(out.clip(0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def morph(a: SourceFace, b: SourceFace, weight: float, reshape: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Face of ``a`` (head, hair, background) blended with ``b`` (``weight`` = share of ``a``)
    on their blended landmark shape plus ``reshape`` (468, 2) px.
    Returns (canvas RGB uint8, target landmarks (468, 2))."""
    target = weight * a.points + (1 - weight) * b.points + reshape
    shape = a.canvas.shape[:2]
    wa = a.warp.warp(a.canvas, target - a.points)
    wb = b.warp.warp(b.canvas, target - b.points)
    iod = lm.FaceFrame.of(target).iod
    # Inner face only: foreheads carry hair and hands that do not line up between photos.
    face = face_mask(target, shape, 0.9, 0.07 * iod, brow_cut=-0.5)
    wb = _match_colour(wb, wa, face)
    blend = np.full(shape, 1 - weight, np.float32)
    if a.mouth_ok != b.mouth_ok:  # the mouth region comes from the face whose mouth is clean
        mouth = mouth_mask(target, shape, iod)
        blend = blend * (1 - mouth) + mouth * (0.0 if a.mouth_ok else 1.0)
    alpha = (face * blend)[..., None]
    out = wa.astype(np.float32) * (1 - alpha) + wb.astype(np.float32) * alpha
    return out.clip(0, 255).astype(np.uint8), target.astype(np.float32)


def reshape_displacement(points: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Random identity shape change (468, 2) px: face width, eye spacing, mouth width, nose."""
    frame = lm.FaceFrame.of(points)
    u = frame.to_face(points)
    p = {"face_width": rng.uniform(0.92, 1.08), "eye_spacing": rng.uniform(-0.05, 0.05),
         "mouth_width": rng.uniform(0.9, 1.1), "nose_length": rng.uniform(-0.06, 0.06)}
    d = np.zeros_like(u)
    d[:, 0] += (p["face_width"] - 1) * u[:, 0] * np.clip(u[:, 1] + 0.3, 0, 1.5) / 1.5
    eyes = list(lm.RIGHT_EYE + lm.RIGHT_UPPER_LID + lm.LEFT_EYE + lm.LEFT_UPPER_LID)
    d[eyes, 0] += np.sign(u[eyes, 0]) * p["eye_spacing"] / 2
    mouth = list(set(lm.UPPER_OUTER + lm.LOWER_OUTER + lm.UPPER_INNER + lm.LOWER_INNER))
    d[mouth, 0] += (p["mouth_width"] - 1) * (u[mouth, 0] - u[mouth, 0].mean())
    nose = np.exp(-((u - u[lm.NOSE_TIP]) ** 2).sum(1) / (2 * 0.15 ** 2))
    d[:, 1] += nose * p["nose_length"]
    return frame.vectors_to_pixels(d), {k: round(float(v), 3) for k, v in p.items()}


def retone(canvas: np.ndarray, points: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Skin tone shift inside the face (Lab a/b, lightness) and a global exposure change."""
    p = {"skin_l": rng.uniform(-14, 14), "skin_a": rng.uniform(-6, 8), "skin_b": rng.uniform(-8, 10),
         "gain": rng.uniform(0.9, 1.1)}
    iod = lm.FaceFrame.of(points).iod
    mask = face_mask(points, canvas.shape[:2], 1.0, 0.1 * iod)[..., None]
    lab = cv2.cvtColor(canvas, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab += mask * np.float32([p["skin_l"], p["skin_a"], p["skin_b"]])
    rgb = cv2.cvtColor(lab.clip(0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB).astype(np.float32)
    return (rgb * p["gain"]).clip(0, 255).astype(np.uint8), {k: round(float(v), 2) for k, v in p.items()}


def half_mirror(canvas: np.ndarray, keep_left: bool, feather: float = 6.0) -> np.ndarray:
    """A chimeric symmetric face: one half of the canvas mirrored onto the other about the
    canvas midline (faces are aligned with the eye midpoint on it), with a soft seam."""
    flipped = canvas[:, ::-1]
    x = np.arange(canvas.shape[1], dtype=np.float32) - canvas.shape[1] / 2
    w = 1.0 / (1.0 + np.exp(-x / feather))          # 0 on the image left, 1 on the right
    w = (1 - w) if not keep_left else w             # weight of the mirrored copy
    out = canvas.astype(np.float32) * (1 - w[None, :, None]) + flipped.astype(np.float32) * w[None, :, None]
    return out.clip(0, 255).astype(np.uint8)


def source_pairs(sources: list[SourceFace], seed: int) -> list[tuple[int, int]]:
    """Ordered (head, partner) pairs, shuffled by seed; two faces with unusable mouths never pair."""
    pairs = [(i, j) for i, j in itertools.permutations(range(len(sources)), 2)
             if sources[i].mouth_ok or sources[j].mouth_ok]
    order = np.random.default_rng([seed, 7]).permutation(len(pairs))
    return [pairs[i] for i in order]


def find_face(canvas: np.ndarray, detector, mesh) -> tuple[np.ndarray, float, float] | None:
    """MediaPipe check: (landmarks (468, 3), detection score, mesh presence) or None."""
    dets = detector.detect(canvas)
    if not dets:
        return None
    det = dets[0]
    cx, cy = det.box[0] + det.box[2] / 2, det.box[1] + det.box[3] / 2
    if abs(cx - CANVAS / 2) > CANVAS * 0.15 or abs(cy - CANVAS / 2) > CANVAS * 0.2:
        return None  # found something, but not the face in the middle
    points, presence = mesh.landmarks(canvas, det)
    return points, det.score, presence


def make_subject(index: int, sources: list[SourceFace], seed: int, detector, mesh) -> Subject:
    """Subject ``index`` (deterministic in seed and index); retries failed MediaPipe checks."""
    pairs = source_pairs(sources, seed)
    for attempt in range(MAX_ATTEMPTS):
        rng = np.random.default_rng([seed, 11, index, attempt])
        head, partner = pairs[(index + attempt * 7) % len(pairs)]
        weight = float(rng.uniform(0.5, 0.75))
        a, b = sources[head], sources[partner]
        disp, shape = reshape_displacement(weight * a.points + (1 - weight) * b.points, rng)
        canvas, points = morph(a, b, weight, disp)
        recipe = {"subject_index": index, "attempt": attempt, "head": a.source_id,
                  "partner": b.source_id, "head_weight": round(weight, 3)}
        canvas, tone = retone(canvas, points, rng)
        halves = "" if rng.random() < 0.75 else ("left" if rng.random() < 0.5 else "right")
        if halves:
            canvas = half_mirror(canvas, keep_left=halves == "left")
        mirrored = bool(rng.random() < 0.5)
        if mirrored:
            canvas = np.ascontiguousarray(canvas[:, ::-1])
        recipe.update(shape, **tone, mirrored_halves=halves, mirrored=mirrored)
        found = find_face(canvas, detector, mesh)
        if found is None or found[1] < 0.6 or found[2] < 0.9:
            log.info("subject %d attempt %d: MediaPipe check failed, regenerating", index, attempt)
            continue
        pts = found[0][:, :2].astype(np.float32)
        recipe.update(detection_score=round(found[1], 3), mesh_presence=round(found[2], 3))
        return Subject(index, canvas, pts, LandmarkWarp(pts, canvas.shape[:2]), recipe)
    raise RuntimeError(f"demo subject {index}: no variant passed the MediaPipe check in "
                       f"{MAX_ATTEMPTS} attempts (seed {seed})")
