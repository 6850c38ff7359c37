"""Dense image warps driven by sparse landmark displacements.

A thin-plate spline through the 468 mesh points (plus a ring of fixed anchors around the face
and on the canvas border, so the background stays put) interpolates their displacement on a
coarse grid. The spline is linear in the displacements, so ``LandmarkWarp`` solves it once per
face and then turns any displacement set into a field with one small matrix product; the
coarse field is upsampled with ``cv2.remap`` and inverted by two fixed-point steps, giving
the backward map that ``cv2.remap`` needs. A frame then costs one remap.
"""
from __future__ import annotations

import cv2
import numpy as np

from ferstudy.demo.landmarks import CONTROL

GRID_STEP = 10       # pixels between coarse field samples
SMOOTHING = 1e-6     # TPS regulariser (normalised canvas units): near-exact fit at the landmarks


def _tps_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = 0.5 * r2 * np.log(r2)
    return np.nan_to_num(k, nan=0.0, posinf=0.0, neginf=0.0)


def _anchors(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Zero-displacement points: an ellipse well outside the face and the canvas border."""
    h, w = shape
    centre = points.mean(0)
    spread = points.max(0) - points.min(0)
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    ring = centre + np.stack([np.cos(t) * spread[0] * 0.95, np.sin(t) * spread[1] * 0.85], 1)
    edge = np.linspace(0, 1, 9)
    border = np.concatenate([
        np.stack([edge * (w - 1), np.zeros_like(edge)], 1),
        np.stack([edge * (w - 1), np.full_like(edge, h - 1)], 1),
        np.stack([np.zeros_like(edge), edge * (h - 1)], 1),
        np.stack([np.full_like(edge, w - 1), edge * (h - 1)], 1)])
    return np.concatenate([ring, border]).astype(np.float64)


class LandmarkWarp:
    """Warps of one (H, W) canvas whose face has the given (468, 2) pixel landmarks."""

    def __init__(self, points: np.ndarray, shape: tuple[int, int], step: int = GRID_STEP):
        h, w = shape
        self.shape, self.step = (h, w), step
        pts = np.asarray(points, np.float64)[CONTROL, :2]
        centres = np.concatenate([pts, _anchors(pts, shape)])
        scale = float(max(h, w))
        c = centres / scale
        n = len(c)
        p = np.concatenate([np.ones((n, 1)), c], 1)
        a = np.zeros((n + 3, n + 3))
        a[:n, :n] = _tps_kernel(c, c) + SMOOTHING * np.eye(n)
        a[:n, n:], a[n:, :n] = p, p.T
        gy, gx = np.mgrid[0:h + step:step, 0:w + step:step].astype(np.float64)
        self.grid_shape = gy.shape
        g = np.stack([gx.ravel(), gy.ravel()], 1) / scale
        basis = np.concatenate([_tps_kernel(g, c), np.ones((len(g), 1)), g], 1)
        # grid values = basis @ inv(a) @ [v; 0]; only the landmark columns carry values.
        self._operator = (basis @ np.linalg.inv(a)[:, :len(pts)]).astype(np.float32)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        self._identity = np.stack([xs, ys], -1)
        self._up = (xs / step, ys / step)
        cy, cx = np.mgrid[0:self.grid_shape[0], 0:self.grid_shape[1]].astype(np.float32)
        self._coarse = np.stack([cx, cy], -1)

    def backward(self, displacement: np.ndarray) -> np.ndarray:
        """Forward landmark motion (468, 2) px -> backward field (H, W, 2) float32 px:
        the output pixel p samples the input at p + field[p]. Only the control points'
        motion enters the spline; the others follow smoothly."""
        disp = np.asarray(displacement, np.float32)[CONTROL]
        fwd = (self._operator @ disp).reshape(*self.grid_shape, 2)
        back = -fwd
        for _ in range(2):  # fixed point of b(p) = -f(p + b(p)), on the coarse grid
            where = self._coarse + back / self.step
            back = -cv2.remap(fwd, where[..., 0], where[..., 1], cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        return cv2.remap(back, self._up[0], self._up[1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)

    def apply(self, image: np.ndarray, field: np.ndarray, amount: float = 1.0) -> np.ndarray:
        """Warp ``image`` (H, W[, C]) by ``amount`` times a backward field."""
        m = self._identity + np.float32(amount) * field
        return cv2.remap(image, m[..., 0], m[..., 1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT101)

    def warp(self, image: np.ndarray, displacement: np.ndarray) -> np.ndarray:
        return self.apply(image, self.backward(displacement))
