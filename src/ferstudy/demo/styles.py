"""Capture styles: what makes each demo dataset look like its real counterpart.

- ``ckplus``: grey frontal studio shots, plain grey wall, steady framing (CK+).
- ``mug``: colour, frontal, bright even light on a plain light background, face large (MUG).
- ``oulu``: near-infrared-like grey (skin bright and smooth, red channel dominant) under dark
  conditions: low signal, strong fall-off from the centre, heavy sensor noise (Oulu-CASIA NI/Dark).
- ``mmi``: colour with per-session pose and scale: roll, distance, off-centre framing and a
  horizontal squeeze standing in for yaw; varied backgrounds (MMI).

A style turns a subject's neutral canvas into a styled canvas once (background, skin tone,
lighting), then maps each animated canvas into an output frame (framing, head motion,
spectrum, noise) with one affine warp.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ferstudy.demo.animate import sensor_noise
from ferstudy.demo.sources import CANVAS, CANVAS_EYES_Y, CANVAS_IOD


@dataclass(frozen=True)
class CaptureStyle:
    name: str
    spectrum: str                 # "rgb" | "grey" | "nir"
    iod_frac: float               # eye distance as a fraction of the frame width
    eyes_y_frac: float            # eye height as a fraction of the frame height
    backgrounds: tuple            # RGB colours a session draws its background from
    gain: tuple                   # (low, high) exposure gain per subject
    gamma: float                  # > 1 darkens mid-tones (low light)
    vignette: float               # 0 = flat light, 1 = strong centre fall-off
    noise: float                  # sensor noise sigma, grey levels
    motion: float                 # head motion amount (animate.head_motion)
    roll: float = 0.0             # per-clip roll range, degrees (+-)
    scale: float = 0.0            # per-clip log-scale range (+-)
    offset: float = 0.0           # per-clip offset range, fraction of frame size (+-)
    squeeze: float = 0.0          # per-clip horizontal squeeze up to this fraction (yaw stand-in)
    side_light: float = 0.0       # strength of a key light from one side (per subject side)
    contrast: float = 1.0         # contrast about mid-grey after exposure


STYLES = {
    "ckplus": CaptureStyle("ckplus", "grey", 0.21, 0.42, ((150, 150, 146), (132, 134, 136)),
                           (0.95, 1.1), 1.0, 0.25, 2.5, 0.6, side_light=0.35, contrast=1.3),
    "mug": CaptureStyle("mug", "rgb", 0.27, 0.42, ((206, 210, 214), (196, 204, 216)),
                        (1.0, 1.15), 0.9, 0.1, 1.5, 0.8),
    "oulu": CaptureStyle("oulu", "nir", 0.24, 0.43, ((18, 18, 18), (26, 26, 26)),
                         (0.45, 0.6), 1.35, 0.8, 7.0, 0.8, side_light=0.1),
    "mmi": CaptureStyle("mmi", "rgb", 0.2, 0.42, ((120, 128, 150), (190, 180, 160), (90, 96, 90)),
                        (0.85, 1.1), 1.0, 0.3, 3.0, 1.2, roll=9.0, scale=0.25, offset=0.08,
                        squeeze=0.16, side_light=0.2),
}


def _head_mask() -> np.ndarray:
    """(CANVAS, CANVAS, 1) float32: 1 over the head and shoulders, fading to 0 at the edges."""
    mask = np.zeros((CANVAS, CANVAS), np.uint8)
    cv2.ellipse(mask, (CANVAS // 2, int(CANVAS * 0.5)), (int(CANVAS * 0.36), int(CANVAS * 0.46)),
                0, 0, 360, 255, -1)
    return cv2.GaussianBlur(mask, (0, 0), CANVAS * 0.05).astype(np.float32)[..., None] / 255.0


HEAD_MASK = _head_mask()


def prepare_canvas(canvas: np.ndarray, style: CaptureStyle, rng: np.random.Generator) -> np.ndarray:
    """Subject canvas (CANVAS, CANVAS, 3) uint8 -> styled canvas: studio background, exposure,
    spectrum (NIR-like tone mapping keeps 3 equal channels) and lighting fall-off."""
    bg = np.float32(style.backgrounds[int(rng.integers(len(style.backgrounds)))])
    bg = bg * np.float32(rng.uniform(0.93, 1.07))
    ramp = np.linspace(1.06, 0.94, CANVAS, dtype=np.float32)[:, None, None]   # light from above
    img = canvas.astype(np.float32) * HEAD_MASK + bg * ramp * (1 - HEAD_MASK)
    if style.spectrum == "nir":
        # Skin reflects near infrared strongly and evenly: red-dominant grey, softened texture.
        g = img @ np.float32([0.72, 0.23, 0.05])
        g = cv2.GaussianBlur(g, (0, 0), 0.9)
        img = np.repeat(g[..., None], 3, axis=2)
    img = img * np.float32(rng.uniform(*style.gain)) / 255.0
    if style.side_light:
        sign = 1.0 if rng.random() < 0.5 else -1.0
        ramp = 1.0 + sign * style.side_light * np.linspace(-1, 1, CANVAS, dtype=np.float32)
        img = img * ramp[None, :, None]
    if style.contrast != 1.0:
        img = (img - 0.5) * np.float32(style.contrast) + 0.5
    img = np.power(np.clip(img, 0, 1), style.gamma)
    if style.vignette:
        yy, xx = np.mgrid[0:CANVAS, 0:CANVAS].astype(np.float32)
        r2 = ((xx - CANVAS / 2) ** 2 + (yy - CANVAS_EYES_Y) ** 2) / (CANVAS * 0.55) ** 2
        img = img * (1 - style.vignette * np.clip(r2, 0, 1.5)[..., None] * 0.6)
    return (img * 255).clip(0, 255).astype(np.uint8)


def clip_framing(style: CaptureStyle, rng: np.random.Generator) -> dict:
    """Per-clip camera set-up: roll (deg), log scale, offset (fractions), squeeze."""
    return {"roll": float(rng.uniform(-style.roll, style.roll)),
            "scale": float(rng.uniform(-style.scale, style.scale)),
            "dx": float(rng.uniform(-style.offset, style.offset)),
            "dy": float(rng.uniform(-style.offset, style.offset) * 0.6),
            "squeeze": float(rng.uniform(0, style.squeeze))}


def frame_transform(style: CaptureStyle, size: tuple[int, int], framing: dict,
                    motion: np.ndarray) -> np.ndarray:
    """2x3 affine mapping canvas pixels to a (width, height) frame for one time step.
    ``motion`` = (roll deg, dx, dy in IOD fractions, log scale) from ``head_motion``."""
    w, h = size
    iod = style.iod_frac * w * math.exp(framing["scale"] + float(motion[3]))
    s = iod / CANVAS_IOD
    a = math.radians(framing["roll"] + float(motion[0]))
    rot = s * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    rot = np.diag([1.0 - framing["squeeze"], 1.0]) @ rot
    target = np.array([w / 2 + framing["dx"] * w + float(motion[1]) * iod,
                       style.eyes_y_frac * h + framing["dy"] * h + float(motion[2]) * iod])
    shift = target - rot @ np.array([CANVAS / 2, CANVAS_EYES_Y])
    return np.concatenate([rot, shift[:, None]], 1).astype(np.float32)


def to_frame(canvas: np.ndarray, style: CaptureStyle, size: tuple[int, int], m: np.ndarray,
             rng: np.random.Generator) -> np.ndarray:
    """Animated styled canvas -> output frame: (H, W) uint8 for grey/NIR, (H, W, 3) for RGB."""
    frame = cv2.warpAffine(canvas, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if style.spectrum != "rgb":
        frame = frame[..., 0] if style.spectrum == "nir" else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    noisy = frame.astype(np.float32) + sensor_noise(frame.shape, rng, style.noise)
    return noisy.clip(0, 255).astype(np.uint8)
