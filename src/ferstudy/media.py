"""Reading clips from disk: videos, folders of frames and single images, all as RGB uint8.

Every reader raises ``MediaError`` naming the file and what went wrong, so that callers can
record a rejection instead of crashing a whole dataset on one bad file.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ferstudy.datasets.base import list_images

# Frame folders carry no rate: an adapter's FPS (the release's) or `datasets.<name>.fps` gives
# it; this is the last resort, for collections that state neither.
DEFAULT_FPS = 30.0


class MediaError(RuntimeError):
    pass


def _cv2():
    import cv2

    return cv2


def frame_files(folder: Path) -> list[Path]:
    return list_images(folder)   # the adapters' frame list: the same files, the same order


def read_image(path: str | Path) -> np.ndarray:
    """One image as RGB uint8 (H, W, 3); grey images are expanded to three channels."""
    cv2 = _cv2()
    path = Path(path)
    data = np.fromfile(path, dtype=np.uint8) if path.is_file() else None
    if data is None or data.size == 0:
        raise MediaError(f"{path}: empty or missing image file")
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if img is None:
        raise MediaError(f"{path}: not a decodable image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def iter_frames(source: str | Path, kind: str) -> Iterator[np.ndarray]:
    """Yield RGB uint8 frames (H, W, 3) of a clip, in temporal order."""
    source = Path(source)
    if kind == "image":
        yield read_image(source)
    elif kind == "frames":
        files = frame_files(source)
        if not files:
            raise MediaError(f"{source}: frame folder holds no images")
        for f in files:
            yield read_image(f)
    elif kind == "video":
        cv2 = _cv2()
        cap = cv2.VideoCapture(str(source))
        if not cap.isOpened():
            raise MediaError(f"{source}: video cannot be opened (corrupt or unsupported codec)")
        n = 0
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                n += 1
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        finally:
            cap.release()
        if n == 0:
            raise MediaError(f"{source}: video holds no decodable frame")
    else:
        raise ValueError(f"unknown clip kind {kind!r}")


def probe(source: str | Path, kind: str, fps: float | None = None) -> tuple[int, float]:
    """(frame count, fps) after checking that every frame decodes. ``fps``: the rate of a
    frame folder (and of a video whose container states none); default ``DEFAULT_FPS``."""
    source = Path(source)
    fps = float(fps or DEFAULT_FPS)
    if kind == "video":
        cv2 = _cv2()
        cap = cv2.VideoCapture(str(source))
        rate = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else 0.0
        cap.release()
        fps = float(rate) if rate and rate > 0 else fps
    count = sum(1 for _ in iter_frames(source, kind))
    return count, (0.0 if kind == "image" else fps)


def sha256_of(source: str | Path, kind: str) -> str:
    """Content hash of a clip: the file, or every frame file (name and bytes) in order."""
    source = Path(source)
    h = hashlib.sha256()
    files = frame_files(source) if kind == "frames" else [source]
    for f in files:
        if kind == "frames":
            h.update(f.name.encode("utf-8", "surrogateescape"))
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()
