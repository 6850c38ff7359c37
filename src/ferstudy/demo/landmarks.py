"""Named groups of the 468-point MediaPipe face mesh and a face-normalised frame.

Indices follow MediaPipe's canonical topology. "Right"/"left" are the subject's: the right
eye appears on the image left. The face frame puts the origin between the eye centres, the
x axis along the eyes and the unit at the inter-ocular distance (IOD), so expression
templates can be written once in IOD units and applied to any face size and roll.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_POINTS = 468
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_UPPER_LID = (246, 161, 160, 159, 158, 157, 173, 247, 30, 29, 27, 28, 56)
LEFT_UPPER_LID = (466, 388, 387, 386, 385, 384, 398, 467, 260, 259, 257, 258, 286)
RIGHT_LOWER_LID = (7, 163, 144, 145, 153, 154, 155)
LEFT_LOWER_LID = (249, 390, 373, 374, 380, 381, 382)
RIGHT_BROW = (70, 63, 105, 66, 107, 46, 53, 52, 65, 55)
LEFT_BROW = (300, 293, 334, 296, 336, 276, 283, 282, 295, 285)
RIGHT_INNER_BROW, LEFT_INNER_BROW = 107, 336
RIGHT_OUTER_BROW, LEFT_OUTER_BROW = 70, 300
# Inner lip contour, corner to corner: upper and lower lip pair up index by index.
UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
RIGHT_CORNER, LEFT_CORNER = 61, 291
NOSE_TIP = 1
NOSE_WINGS = (48, 64, 98, 129, 278, 294, 327, 358, 115, 344)
RIGHT_CHEEK, LEFT_CHEEK = 205, 425
CHIN = 152
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54,
             103, 67, 109)


@dataclass(frozen=True)
class FaceFrame:
    """Similarity frame of one face: ``to_face`` maps pixels to IOD units, eyes on the x axis."""

    origin: np.ndarray   # (2,) pixel position of the eye midpoint
    axis: np.ndarray     # (2,) unit vector from the right eye to the left eye (image coords)
    iod: float           # inter-ocular distance in pixels (eye centre to eye centre)

    @classmethod
    def of(cls, points: np.ndarray) -> FaceFrame:
        """points: (468, 2|3) pixel landmarks."""
        right = points[list(RIGHT_EYE), :2].mean(0)
        left = points[list(LEFT_EYE), :2].mean(0)
        d = left - right
        iod = float(np.linalg.norm(d))
        return cls((right + left) / 2.0, d / iod, iod)

    def rotation(self) -> np.ndarray:
        """(2, 2): columns are the face x axis and the face y axis (pointing down the face)."""
        ax = self.axis
        return np.array([[ax[0], -ax[1]], [ax[1], ax[0]]])

    def to_face(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) pixels -> (N, 2) IOD units: x towards the subject's left eye, y down."""
        return (xy[:, :2] - self.origin) @ self.rotation() / self.iod

    def vectors_to_pixels(self, d: np.ndarray) -> np.ndarray:
        """(N, 2) displacements in IOD units -> pixels."""
        return d @ self.rotation().T * self.iod


def eye_centres(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(right, left) eye centres in pixels of (468, 2|3) landmarks."""
    return points[list(RIGHT_EYE), :2].mean(0), points[list(LEFT_EYE), :2].mean(0)


def mouth_centre(points: np.ndarray) -> np.ndarray:
    return points[[RIGHT_CORNER, LEFT_CORNER, 13, 14], :2].mean(0)


def control_points() -> np.ndarray:
    """Indices the dense warps are solved on: every point of the lips, eyes, lids, brows, nose
    wings and face oval (where motion is sharp), and a thinned set elsewhere (where it is
    smooth). Roughly halves the spline size without losing the features that move."""
    keep = set(RIGHT_EYE + LEFT_EYE + RIGHT_UPPER_LID + LEFT_UPPER_LID + RIGHT_BROW + LEFT_BROW
               + UPPER_INNER + LOWER_INNER + UPPER_OUTER + LOWER_OUTER + NOSE_WINGS + FACE_OVAL
               + (NOSE_TIP, RIGHT_CHEEK, LEFT_CHEEK, CHIN, 17, 0, 13, 14))
    keep.update(range(0, N_POINTS, 4))
    return np.array(sorted(keep))


CONTROL = control_points()
