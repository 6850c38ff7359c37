"""Expression templates: landmark displacements in the spirit of FACS action units (AUs).

Each AU is a displacement of the 468 mesh points written in face units (IOD, eyes on the x
axis, y down the face), so it fits any face. An expression is a weighted set of AUs
(after the EMFACS prototypes: happiness 6+12+25, sadness 1+4+15+17, surprise 1+2+5+26,
fear 1+2+4+5+20+25, anger 4+5+7+23, disgust 9+10+15+16, contempt unilateral 12+14).
Per-subject gains and per-clip jitter, plus weak stray AUs, keep the classes from being
trivially separable. ``render_mouth`` paints the inside of an opened mouth.
"""
from __future__ import annotations

import cv2
import numpy as np

from ferstudy.demo import landmarks as lm

EXPRESSIONS = {
    "neutral": {},
    "happiness": {"AU6": 1.2, "AU12": 1.0, "AU25": 0.7},
    "sadness": {"AU1": 1.0, "AU4": 0.6, "AU15": 1.0, "AU17": 0.7},
    "surprise": {"AU1": 1.0, "AU2": 1.0, "AU5": 1.0, "AU26": 1.0},
    "fear": {"AU1": 1.0, "AU2": 0.5, "AU4": 0.7, "AU5": 1.0, "AU20": 1.0, "AU25": 1.0, "AU26": 0.35},
    "anger": {"AU4": 1.3, "AU5": 0.5, "AU7": 1.0, "AU23": 1.0},
    "disgust": {"AU9": 1.0, "AU10": 1.0, "AU15": 0.5, "AU16": 0.5, "AU4": 0.4, "AU25": 0.4},
    "contempt": {"AU12u": 0.8, "AU14u": 1.0},
}
AUS = ("AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10", "AU12", "AU14", "AU15", "AU16",
       "AU17", "AU20", "AU23", "AU25", "AU26")
STRAY = tuple(au for au in AUS if au != "AU26")   # a stray jaw drop would read as surprise


def _near(u: np.ndarray, centre: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-((u - centre) ** 2).sum(1) / (2 * sigma ** 2))


def _sides(u: np.ndarray, right: int, left: int, side: str) -> list[tuple[np.ndarray, float]]:
    """(anchor position, outward x sign) per face side used: side = both | right | left."""
    out = []
    if side in ("both", "right"):
        out.append((u[right], -1.0))
    if side in ("both", "left"):
        out.append((u[left], 1.0))
    return out


def _lips(upper: bool, lower: bool) -> list[int]:
    idx = []
    if upper:
        idx += list(lm.UPPER_OUTER[1:-1] + lm.UPPER_INNER[1:-1])
    if lower:
        idx += list(lm.LOWER_OUTER[1:-1] + lm.LOWER_INNER[1:-1])
    return idx


def action_unit(name: str, u: np.ndarray, side: str = "both") -> np.ndarray:
    """Displacement (468, 2) in IOD units of one AU at full intensity for face-unit points u."""
    d = np.zeros_like(u)
    above_eyes = np.clip((-u[:, 1] - 0.08) / 0.15, 0, 1)[:, None]
    centre_x = np.exp(-(u[:, 0] / 0.3) ** 2)
    if name in ("AU1", "AU2", "AU4"):
        anchors = (lm.RIGHT_INNER_BROW, lm.LEFT_INNER_BROW) if name != "AU2" else \
            (lm.RIGHT_OUTER_BROW, lm.LEFT_OUTER_BROW)
        for c, sign in _sides(u, *anchors, side):
            w = _near(u, c, 0.2 if name != "AU4" else 0.26)[:, None]
            if name == "AU4":
                d += w * np.clip((-u[:, 1] - 0.02) / 0.15, 0, 1)[:, None] * [-sign * 0.06, 0.085]
            else:
                d += w * above_eyes * [0.0, -0.13 if name == "AU1" else -0.11]
    elif name in ("AU5", "AU7"):
        for lid, low in ((lm.RIGHT_UPPER_LID, lm.RIGHT_LOWER_LID), (lm.LEFT_UPPER_LID, lm.LEFT_LOWER_LID)):
            if name == "AU5":
                d[list(lid[:7])] += [0, -0.05]
                d[list(lid[7:])] += [0, -0.03]
            else:
                d[list(low)] += [0, -0.04]
                d[list(lid[:7])] += [0, 0.015]
    elif name == "AU6":
        for c, _ in _sides(u, lm.RIGHT_CHEEK, lm.LEFT_CHEEK, side):
            d += _near(u, c + [0, -0.15], 0.25)[:, None] * [0, -0.07]
        d[list(lm.RIGHT_LOWER_LID + lm.LEFT_LOWER_LID)] += [0, -0.035]
    elif name == "AU9":
        for c, sign in _sides(u, 129, 358, side):
            d += _near(u, c, 0.16)[:, None] * [-sign * 0.01, -0.07]
        d += _near(u, (u[lm.RIGHT_INNER_BROW] + u[lm.LEFT_INNER_BROW]) / 2, 0.15)[:, None] * [0, 0.04]
        d[_lips(True, False)] += [0, -0.03]
    elif name == "AU10":
        upper = _lips(True, False)
        d[upper] += centre_x[upper, None] * [0, -0.08] + [0, -0.02]
        d[list(lm.NOSE_WINGS)] += [0, -0.02]
    elif name in ("AU12", "AU12u", "AU14", "AU14u", "AU15", "AU20"):
        motion = {"AU12": (0.10, -0.13), "AU14": (0.04, -0.035), "AU15": (-0.01, 0.10),
                  "AU20": (0.11, 0.025)}[name.rstrip("u")]
        for c, sign in _sides(u, lm.RIGHT_CORNER, lm.LEFT_CORNER, side):
            d += _near(u, c, 0.2)[:, None] * [sign * motion[0], motion[1]]
    elif name == "AU16":
        lower = _lips(False, True)
        d[lower] += centre_x[lower, None] * [0, 0.06]
    elif name == "AU17":
        d += _near(u, (u[17] + u[lm.CHIN]) / 2, 0.25)[:, None] * [0, -0.05]
        d[list(lm.LOWER_OUTER[1:-1])] += [0, -0.03]
    elif name == "AU23":
        d[list(lm.UPPER_OUTER[1:-1])] += [0, 0.025]
        d[list(lm.LOWER_OUTER[1:-1])] += [0, -0.025]
        for c, sign in _sides(u, lm.RIGHT_CORNER, lm.LEFT_CORNER, side):
            d += _near(u, c, 0.15)[:, None] * [-sign * 0.035, 0]
    elif name in ("AU25", "AU26"):
        # The jaw rotates down: everything below the lip line follows the lower lip.
        lip_y = u[list(lm.LOWER_INNER[1:-1]), 1].mean()
        jaw = np.clip((u[:, 1] - lip_y + 0.04) / 0.06, 0, 1)
        jaw *= np.exp(-np.maximum(np.abs(u[:, 0]) - 0.5, 0) ** 2 / 0.3 ** 2)
        jaw[_lips(True, False)] = 0
        jaw[_lips(False, True)] = 1
        jaw[[lm.RIGHT_CORNER, lm.LEFT_CORNER, 78, 308]] = 0.35
        if name == "AU25":
            jaw[[i for i in range(len(u)) if u[i, 1] > lip_y + 0.25]] *= 0.5
        d[:, 1] += jaw * (0.07 if name == "AU25" else 0.3)
    else:
        raise ValueError(f"unknown action unit {name!r}; known: {', '.join(AUS)}")
    return d


def expression_displacement(points: np.ndarray, weights: dict[str, float], side: str = "left") -> np.ndarray:
    """Apex motion (468, 2) in pixels for AU weights, e.g. ``EXPRESSIONS['happiness']``.
    Names ending in ``u`` are unilateral, on ``side``."""
    frame = lm.FaceFrame.of(points)
    u = frame.to_face(points)
    d = np.zeros_like(u)
    for name, w in weights.items():
        if w:
            d += w * action_unit(name.rstrip("u") if name.endswith("u") else name, u,
                                 side if name.endswith("u") else "both")
    return frame.vectors_to_pixels(d).astype(np.float32)


def clip_weights(expression: str, gains: dict[str, float], rng: np.random.Generator,
                 stray: float) -> dict[str, float]:
    """AU weights of one clip: the prototype x subject gains x clip jitter, plus weak stray AUs."""
    if expression not in EXPRESSIONS:
        raise ValueError(f"unknown expression {expression!r}; known: {', '.join(EXPRESSIONS)}")
    w = {au: v * gains.get(au.rstrip("u"), 1.0) * float(rng.lognormal(0, 0.15))
         for au, v in EXPRESSIONS[expression].items()}
    for au in rng.choice(STRAY, size=2, replace=False):
        w[au] = w.get(au, 0.0) + float(rng.uniform(0, stray))
    return w


def subject_gains(rng: np.random.Generator, spread: float) -> dict[str, float]:
    """Per-subject AU gains: some people frown more, some smile less."""
    return {au: float(rng.lognormal(0, spread)) for au in AUS}


def lip_gap(points: np.ndarray) -> float:
    """Largest vertical distance between the inner lips, pixels."""
    return float(np.max(points[list(lm.LOWER_INNER[3:8]), 1] - points[list(lm.UPPER_INNER[3:8]), 1]))


def render_mouth(canvas: np.ndarray, points: np.ndarray, neutral_gap: float) -> np.ndarray:
    """Paint the inside of the mouth between the inner lips of ``points`` (468, 2) px: a dark
    cavity, the upper teeth under the upper lip and a hint of the lower teeth. Nothing is
    painted unless the lips opened by more than 3% IOD beyond ``neutral_gap`` (px)."""
    upper = points[list(lm.UPPER_INNER), :2]
    lower = points[list(lm.LOWER_INNER), :2]
    iod = lm.FaceFrame.of(points).iod
    gap = lip_gap(points)
    if gap - neutral_gap < 0.03 * iod:
        return canvas
    x0, y0 = np.floor(np.minimum(upper.min(0), lower.min(0))).astype(int) - 3
    x1, y1 = np.ceil(np.maximum(upper.max(0), lower.max(0))).astype(int) + 4
    h, w = canvas.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return canvas
    off = np.float32([x0, y0])
    poly = np.round(np.concatenate([upper, lower[::-1][1:-1]]) - off).astype(np.int32)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [poly], 255, cv2.LINE_AA)
    paint = np.empty((y1 - y0, x1 - x0, 3), np.float32)
    paint[:] = (50, 22, 24)                                   # dark oral cavity
    # Teeth and cavity take the exposure of the surrounding skin (dark styles stay dark).
    lips = canvas[int(np.clip(upper[5, 1] - 0.1 * iod, 0, h - 1)), int(np.clip(upper[5, 0], 0, w - 1))]
    light = float(np.clip(lips.astype(np.float32).mean() / 150.0, 0.25, 1.2))
    paint *= light
    tooth = (0.7 * np.float32([208, 200, 186]) + 0.3 * lips.astype(np.float32)) * min(light, 1.0)
    teeth = np.zeros_like(mask)
    tooth_h = min(gap * 0.35, 0.075 * iod)
    # Tooth rows follow the lips and taper towards the corners (no square "fangs").
    taper = np.sin(np.linspace(0, np.pi, len(upper))) ** 0.6
    band = np.concatenate([upper, (upper + np.outer(taper * tooth_h, [0, 1]))[::-1]]) - off
    cv2.fillPoly(teeth, [np.round(band).astype(np.int32)], 255, cv2.LINE_AA)
    if gap > 0.12 * iod:
        low = min(gap * 0.18, 0.05 * iod)
        band = np.concatenate([lower, (lower - np.outer(taper * low, [0, 1]))[::-1]]) - off
        cv2.fillPoly(teeth, [np.round(band).astype(np.int32)], 200, cv2.LINE_AA)
    teeth = cv2.bitwise_and(teeth, mask)
    t = cv2.GaussianBlur(teeth, (3, 3), 0.8).astype(np.float32)[..., None] / 255.0
    paint = paint * (1 - t) + tooth * t
    # faint gaps between teeth so they do not read as one white bar
    for x in np.arange(upper[5, 0] - 0.4 * iod, upper[5, 0] + 0.4 * iod, 0.085 * iod):
        xi = int(round(x - x0))
        if 0 <= xi < paint.shape[1]:
            paint[:, xi] *= 0.9
    a = cv2.GaussianBlur(mask, (3, 3), 0.7).astype(np.float32)[..., None] / 255.0
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    out = canvas.copy()
    out[y0:y1, x0:x1] = (region * (1 - a) + paint * a).clip(0, 255).astype(np.uint8)
    return out


def _fold_strength(weights: dict[str, float], *terms: tuple[str, float]) -> float:
    return float(sum(weights.get(au, 0.0) * k + weights.get(au + "u", 0.0) * k * 0.5 for au, k in terms))


def render_wrinkles(canvas: np.ndarray, points: np.ndarray, weights: dict[str, float],
                    amount: float) -> np.ndarray:
    """Darken the skin folds an expression creases, scaled by ``amount`` (its intensity now):
    nasolabial folds (AU6/9/10/12), horizontal forehead lines (AU1/2), vertical lines between
    the brows (AU4) and across the nose bridge (AU9). ``points``: (468, 2) px, already moved."""
    if amount <= 0.05:
        return canvas
    frame = lm.FaceFrame.of(points)
    u = frame.to_face(points)
    strokes: list[tuple[np.ndarray, float]] = []
    fold = _fold_strength(weights, ("AU12", 1.0), ("AU6", 0.5), ("AU10", 0.7), ("AU9", 0.5))
    for wing, corner, sign in ((129, lm.RIGHT_CORNER, -1.0), (358, lm.LEFT_CORNER, 1.0)):
        top = u[wing] + [sign * 0.06, -0.02]
        bottom = u[corner] + [sign * 0.1, 0.04]
        mid = (top + bottom) / 2 + [sign * 0.07, 0.0]
        strokes.append((np.stack([top, mid, bottom]), fold))
    brow_y = min(u[lm.RIGHT_INNER_BROW, 1], u[lm.LEFT_INNER_BROW, 1])
    raise_ = _fold_strength(weights, ("AU1", 0.5), ("AU2", 0.35))
    for k, dy in enumerate((0.2, 0.32, 0.44)):
        xs = np.linspace(-0.45 + 0.08 * k, 0.45 - 0.08 * k, 5)
        ys = brow_y - dy - 0.03 * np.cos(xs * 3.0)
        strokes.append((np.stack([xs, ys], 1), raise_))
    frown = _fold_strength(weights, ("AU4", 0.9))
    for x in (-0.07, 0.07):
        strokes.append((np.array([[x, brow_y + 0.02], [x * 1.2, brow_y - 0.2]]), frown))
    bridge = u[168] if len(u) > 168 else u[lm.NOSE_TIP]
    wrinkle = _fold_strength(weights, ("AU9", 1.0))
    for dy in (0.0, 0.07):
        strokes.append((np.array([[-0.1, bridge[1] + dy], [0.1, bridge[1] + dy]]), wrinkle))
    mask = np.zeros(canvas.shape[:2], np.float32)
    width = max(1, int(round(0.035 * frame.iod)))
    for stroke, strength in strokes:
        if strength > 0.05:
            poly = np.round(frame.origin + frame.vectors_to_pixels(stroke)).astype(np.int32)
            cv2.polylines(mask, [poly], False, min(strength, 1.5), width, cv2.LINE_AA)
    if not mask.any():
        return canvas
    mask = cv2.GaussianBlur(mask, (0, 0), 0.025 * frame.iod + 0.5)
    shade = 1.0 - 0.3 * np.float32(amount) * mask
    return (canvas.astype(np.float32) * shade[..., None]).clip(0, 255).astype(np.uint8)
