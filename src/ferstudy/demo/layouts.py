"""Writers for the native release layouts, exactly as the registration adapters read them
(see the docstrings of ``ferstudy.datasets.ckplus``, ``oulu``, ``mug`` and ``mmi``).

A writer gets one clip at a time (subject number within the dataset, expression, take,
whether it carries a label, frames) and puts the frames, label files and metadata where the
real release has them. Frames are (H, W) grey or (H, W, 3) RGB uint8.
"""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import cv2
import numpy as np

from ferstudy.datasets import ckplus, mmi

CKPLUS_CODES = {v: k for k, v in ckplus.CODES.items()}
MMI_CODES = {v: k for k, v in mmi.CODES.items()}
VIDEO_FPS = 25.0


def _write_image(path: Path, frame: np.ndarray, jpeg_quality: int = 90) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if path.suffix in (".jpg", ".jpeg") else \
        [cv2.IMWRITE_PNG_COMPRESSION, 3]
    if not cv2.imwrite(str(path), img, params):
        raise OSError(f"{path}: could not write image")


class LayoutWriter:
    """Base: ``root`` is the dataset root being built (a temporary folder until complete)."""

    def __init__(self, root: Path, options: dict):
        self.root = Path(root)
        self.options = options

    def add(self, subject: int, expression: str, take: int, labelled: bool,
            frames: list[np.ndarray]) -> str:
        """Write one clip; returns its path relative to the root."""
        raise NotImplementedError


class CKPlusWriter(LayoutWriter):
    """cohn-kanade-images/S005/001/S005_001_00000001.png + Emotion/S005/001/..._emotion.txt;
    sequences numbered per subject in recording order; unlabelled ones have no emotion file."""

    def __init__(self, root: Path, options: dict):
        super().__init__(root, options)
        self._seq: dict[int, int] = {}

    def add(self, subject, expression, take, labelled, frames):
        seq = self._seq[subject] = self._seq.get(subject, 0) + 1
        sid, qid = f"S{subject:03d}", f"{seq:03d}"
        folder = self.root / "cohn-kanade-images" / sid / qid
        for k, frame in enumerate(frames, 1):
            _write_image(folder / f"{sid}_{qid}_{k:08d}.png", frame)
        (self.root / "Emotion").mkdir(parents=True, exist_ok=True)
        if labelled:
            label = self.root / "Emotion" / sid / qid / f"{sid}_{qid}_{len(frames):08d}_emotion.txt"
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text(f"   {float(CKPLUS_CODES[expression]):.7e}\n", encoding="ascii")
        return str(folder.relative_to(self.root))


class OuluWriter(LayoutWriter):
    """<variant>/<spectrum>/<illumination>/P001/<Expression>/000.jpeg (neutral -> apex)."""

    def add(self, subject, expression, take, labelled, frames):
        o = self.options
        folder = (self.root / o.get("variant", "OriginalImg") / o.get("spectrum", "VL")
                  / o.get("illumination", "Strong") / f"P{subject:03d}" / expression.capitalize())
        for k, frame in enumerate(frames):
            _write_image(folder / f"{k:03d}.jpeg", frame, jpeg_quality=85)
        return str(folder.relative_to(self.root))


class MUGWriter(LayoutWriter):
    """subjects3/001/<expression>/take000/img_0000.jpg (neutral -> apex -> neutral)."""

    def add(self, subject, expression, take, labelled, frames):
        folder = self.root / "subjects3" / f"{subject:03d}" / expression / f"take{take:03d}"
        for k, frame in enumerate(frames):
            _write_image(folder / f"img_{k:04d}.jpg", frame, jpeg_quality=92)
        return str(folder.relative_to(self.root))


class MMIWriter(LayoutWriter):
    """Sessions/<id>/S001-001.avi + session.xml (subject) + S001-001.xml (Emotion metatag;
    absent for unlabelled, AU-only sessions). Video: Motion-JPEG in AVI."""

    def __init__(self, root: Path, options: dict):
        super().__init__(root, options)
        self._session = 0
        self._videos: dict[int, int] = {}

    def add(self, subject, expression, take, labelled, frames):
        self._session += 1
        n = self._videos[subject] = self._videos.get(subject, 0) + 1
        folder = self.root / "Sessions" / f"{1700 + self._session}"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"S{subject:03d}-{n:03d}"
        write_video(folder / f"{stem}.avi", frames)
        (folder / "session.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<session sessionId={quoteattr(folder.name)} mediaFile={quoteattr(stem + ".avi")}>\n'
            f'  <subject id="{subject}" />\n'
            '  <track view="frontal" />\n</session>\n', encoding="utf-8")
        tags = [f'  <Metatag Name="Emotion" Value="{MMI_CODES[expression]}" />'] if labelled else []
        (folder / f"{stem}.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<Metatags>\n'
            + "".join(t + "\n" for t in tags) + '  <Metatag Name="Demo" Value="rendered" />\n'
            '</Metatags>\n', encoding="utf-8")
        return str(folder.relative_to(self.root))


def write_video(path: Path, frames: list[np.ndarray], fps: float = VIDEO_FPS) -> None:
    """Motion-JPEG AVI (OpenCV's built-in writer: no external codec needed)."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h), True)
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV cannot open an MJPG video writer")
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2
                     else cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()


LAYOUTS = {"ckplus": CKPlusWriter, "oulu": OuluWriter, "mug": MUGWriter, "mmi": MMIWriter}
