"""MediaPipe face detection and 468-point face mesh on whole RGB images.

``FaceDetector`` wraps the Tasks API (mediapipe 1.2 has no ``mp.solutions``) around BlazeFace
short-range. ``FaceMesh`` runs ``face_landmark.tflite`` through LiteRT on a square crop rotated
so the eyes are level, the way MediaPipe's own graph builds its region of interest (box scaled
by 1.5 around the detection), and maps the 468 points back to image pixels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferstudy.resources import DETECTOR, LANDMARKS

# BlazeFace keypoint order; "right"/"left" are the subject's (right eye is on the image left).
KP_RIGHT_EYE, KP_LEFT_EYE, KP_NOSE, KP_MOUTH, KP_RIGHT_EAR, KP_LEFT_EAR = range(6)
# Face-mesh indices of the eye corners and mouth corners (canonical MediaPipe topology).
MESH_RIGHT_EYE = (33, 133)
MESH_LEFT_EYE = (362, 263)
MESH_MOUTH = (61, 291)
MESH_INPUT = 192


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x, y, w, h in pixels
    score: float
    keypoints: np.ndarray                   # (6, 2) pixels, BlazeFace order

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.keypoints[KP_LEFT_EYE] - self.keypoints[KP_RIGHT_EYE]))


class FaceDetector:
    """BlazeFace through the MediaPipe Tasks API (IMAGE mode: frames are independent)."""

    def __init__(self, models_dir: str | Path, min_confidence: float = 0.5):
        from mediapipe.tasks.python import BaseOptions, vision

        path = Path(models_dir) / DETECTOR
        if not path.is_file():
            raise FileNotFoundError(f"{path}: face detector model missing; run "
                                    f"`ferstudy fetch-resources` or the get_face_models rule")
        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.IMAGE, min_detection_confidence=min_confidence)
        self._detector = vision.FaceDetector.create_from_options(options)

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """All faces in an RGB uint8 image (H, W, 3), best score first."""
        import mediapipe as mp

        h, w = rgb.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        found = []
        for d in self._detector.detect(image).detections:
            b = d.bounding_box
            kps = np.array([[k.x * w, k.y * h] for k in d.keypoints], dtype=np.float32)
            found.append(Detection((b.origin_x, b.origin_y, b.width, b.height),
                                   float(d.categories[0].score), kps))
        return sorted(found, key=lambda d: -d.score)

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()
            self._detector = None

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # mediapipe's own __del__ fails at interpreter exit
        try:
            self.close()
        except Exception:
            pass


def roi_transform(det: Detection, scale: float = 1.5, size: int = MESH_INPUT) -> np.ndarray:
    """2x3 affine mapping image pixels to a (size, size) crop around the face, eyes level."""
    right, left = det.keypoints[KP_RIGHT_EYE], det.keypoints[KP_LEFT_EYE]
    angle = math.degrees(math.atan2(left[1] - right[1], left[0] - right[0]))
    x, y, w, h = det.box
    center = (x + w / 2.0, y + h / 2.0)
    side = max(w, h) * scale
    import cv2

    m = cv2.getRotationMatrix2D(center, angle, size / side)
    m[:, 2] += np.array([size / 2.0, size / 2.0]) - np.array(center)
    return m


class FaceMesh:
    """468 landmarks (x, y in image pixels; z in the same pixel scale) for a detected face."""

    def __init__(self, models_dir: str | Path, num_threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        path = Path(models_dir) / LANDMARKS
        if not path.is_file():
            raise FileNotFoundError(f"{path}: face mesh model missing; run "
                                    f"`ferstudy fetch-resources` or the get_face_models rule")
        self._it = Interpreter(model_path=str(path), num_threads=num_threads)
        self._it.allocate_tensors()
        self._in = self._it.get_input_details()[0]["index"]
        outs = {tuple(o["shape"]): o["index"] for o in self._it.get_output_details()}
        self._points = outs[(1, 1, 1, 1404)]
        self._presence = outs[(1, 1, 1, 1)]

    def landmarks(self, rgb: np.ndarray, det: Detection) -> tuple[np.ndarray, float]:
        """(points (468, 3) float32 in image pixels, face presence probability)."""
        import cv2

        m = roi_transform(det)
        crop = cv2.warpAffine(rgb, m, (MESH_INPUT, MESH_INPUT), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        pts, presence = self.landmarks_on_crop(crop)
        inv = cv2.invertAffineTransform(m)
        xy = pts[:, :2] @ inv[:, :2].T + inv[:, 2]
        z = pts[:, 2:] * float(np.linalg.norm(inv[:, 0]))
        return np.concatenate([xy, z], axis=1).astype(np.float32), presence

    def landmarks_on_crop(self, crop: np.ndarray) -> tuple[np.ndarray, float]:
        """Landmarks of a face already framed for the model: RGB uint8 (192, 192, 3), eyes
        level, face box x 1.5 filling the crop (``ferstudy.faces.align.mesh_crop`` makes one).
        Returns (points (468, 3) float32 in crop pixels, face presence probability)."""
        if crop.shape != (MESH_INPUT, MESH_INPUT, 3):
            raise ValueError(f"face-mesh input must be ({MESH_INPUT}, {MESH_INPUT}, 3), "
                             f"got {crop.shape}")
        self._it.set_tensor(self._in, (crop.astype(np.float32) / 255.0)[None])
        self._it.invoke()
        pts = self._it.get_tensor(self._points).reshape(468, 3).astype(np.float32)
        presence = 1.0 / (1.0 + math.exp(-float(self._it.get_tensor(self._presence).ravel()[0])))
        return pts, presence
