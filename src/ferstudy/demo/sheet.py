"""Contact sheet of a demo dataset: one row per subject, one column per expression, each tile
the clip's apex frame, so a person can check at a glance that the expressions read."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ferstudy import atomic

TILE = 128


def _tile(frame: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB) if frame.ndim == 2 else frame
    h, w = rgb.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    return cv2.resize(rgb[y0:y0 + side, x0:x0 + side], (TILE, TILE), interpolation=cv2.INTER_AREA)


def contact_sheet(apexes: dict[tuple[int, str], np.ndarray], expressions: list[str],
                  title: str) -> np.ndarray:
    """apexes: (subject, expression) -> apex frame. Returns an RGB uint8 sheet."""
    subjects = sorted({s for s, _ in apexes})
    head = 22
    sheet = np.full((head + 18 + TILE * len(subjects), 40 + TILE * len(expressions), 3), 255, np.uint8)
    cv2.putText(sheet, title, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    for j, e in enumerate(expressions):
        cv2.putText(sheet, e, (44 + TILE * j, head + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.42,
                    (0, 0, 0), 1, cv2.LINE_AA)
    for i, s in enumerate(subjects):
        y = head + 18 + TILE * i
        cv2.putText(sheet, str(s), (4, y + TILE // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
        for j, e in enumerate(expressions):
            if (s, e) in apexes:
                sheet[y:y + TILE, 40 + TILE * j:40 + TILE * (j + 1)] = _tile(apexes[(s, e)])
    return sheet


def write_sheet(path: str | Path, sheet: np.ndarray) -> None:
    with atomic.atomic_path(path, suffix=".png") as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
            raise OSError(f"{path}: could not write the contact sheet")
