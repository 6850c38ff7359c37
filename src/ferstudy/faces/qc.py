"""QC of the align stage: a contact sheet to judge alignment by eye.

One row per stored clip (at most MAX_ROWS, evenly spread over the store): its T aligned frames
side by side, upscaled to at least TILE px, with clip id, label, detection rate and intensity
on the left. Small ticks on each tile's edges mark the canonical eye height and the canonical
eye columns: level, centred faces have their eyes on them. Rejected clips follow as text rows
with the reason. The detection statistics themselves are in ``qc.csv`` (ferstudy.faces.stage).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ferstudy import atomic
from ferstudy.faces.stage import AlignSettings

MAX_ROWS = 40
MAX_REJECTED = 20
TILE = 72
LABEL_W = 260
FONT_SCALE = 0.4


def _tile(frame: np.ndarray, px: int, settings: AlignSettings) -> np.ndarray:
    import cv2

    rgb = np.repeat(frame, 3, axis=2) if frame.shape[2] == 1 else frame
    tile = cv2.resize(rgb, (px, px), interpolation=cv2.INTER_NEAREST)
    c = settings.canonical
    ey = int(round(c.eye_y * px))
    tick = max(3, px // 12)
    for x in ((0.5 - c.eye_distance / 2) * px, (0.5 + c.eye_distance / 2) * px):
        tile[:tick, int(round(x))] = (0, 255, 0)
    tile[ey, :tick] = (0, 255, 0)
    tile[ey, -tick:] = (0, 255, 0)
    return tile


def _text_panel(lines: list[str], height: int, width: int, color=(0, 0, 0)) -> np.ndarray:
    import cv2

    panel = np.full((height, width, 3), 255, np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(panel, line[:width // 7], (4, 14 + 14 * i), cv2.FONT_HERSHEY_SIMPLEX, FONT_SCALE,
                    color, 1, cv2.LINE_AA)
    return panel


def contact_sheet(clips: np.ndarray, index: pd.DataFrame, qc: pd.DataFrame,
                  settings: AlignSettings) -> np.ndarray:
    """RGB uint8 image: clips (N, T, H, W, C) with their index rows, then rejected clips."""
    px = max(TILE, settings.size)
    width = LABEL_W + settings.frames * (px + 2)
    rows = [_text_panel([f"aligned clips: {len(index)} stored, "
                         f"{int((qc['status'] != 'ok').sum())} rejected",
                         f"{settings.frames} frames, {settings.size}px {settings.color}; "
                         f"green ticks: canonical eyes"], 34, width)]
    picks = np.unique(np.linspace(0, len(index) - 1, min(MAX_ROWS, len(index))).round()
                      .astype(int)) if len(index) else []
    for i in picks:
        r = index.iloc[i]
        tiles = [np.pad(_tile(f, px, settings), ((1, 1), (1, 1), (0, 0)), constant_values=255)
                 for f in clips[i]]
        label = [str(r["clip_id"]), f"label: {r['label'] or '(unlabelled)'}",
                 f"detection rate {float(r['detection_rate']):.2f}",
                 f"intensity {float(r['intensity']):.3f}"]
        rows.append(np.hstack([_text_panel(label, px + 2, LABEL_W)] + tiles))
    rejected = qc[qc["status"] != "ok"]
    for _, r in rejected.head(MAX_REJECTED).iterrows():
        rows.append(_text_panel([f"REJECTED {r['clip_id']}: {r['reason']}"], 20, width,
                                color=(200, 0, 0)))
    if len(rejected) > MAX_REJECTED:
        rows.append(_text_panel([f"... {len(rejected) - MAX_REJECTED} more rejected, see qc.csv"],
                                20, width, color=(200, 0, 0)))
    return np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255)
                      for r in rows])


def write_contact_sheet(path: str | Path, clips: np.ndarray, index: pd.DataFrame,
                        qc: pd.DataFrame, settings: AlignSettings) -> None:
    import cv2

    image = contact_sheet(clips, index, qc, settings)
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError(f"{path}: PNG encoding of the contact sheet failed")
    with atomic.atomic_path(path, suffix=".png") as tmp:
        tmp.write_bytes(data.tobytes())
