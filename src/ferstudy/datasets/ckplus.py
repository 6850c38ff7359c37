"""CK+ (Extended Cohn-Kanade), release layout as distributed by the authors::

    <root>/cohn-kanade-images/S005/001/S005_001_00000001.png ...   (frames, neutral -> apex)
    <root>/Emotion/S005/001/S005_001_00000011_emotion.txt          (one float, 1..7)

Emotion codes: 0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happiness, 6 sadness,
7 surprise. Only 327 of the 593 sequences carry an emotion file: the others are registered as
*unlabelled* clips (label ""), which the semi-supervised methods use. An emotion file that
cannot be parsed rejects that sequence with the reason (``strict: true`` makes it an error).
An emotion file whose sequence folder does not exist under ``cohn-kanade-images/`` (e.g. a
subject folder misnamed ``S0O7``) is listed in ``{dataset}.rejected.csv`` as "label file
without frames", with the closest folder name, never dropped silently. ``FACS/``,
``Landmarks/`` and stray files (``.DS_Store``, ``Thumbs.db``) are ignored.

Frame rate: ``FPS = 30``. The frames were digitised from the frontal camera's S-VHS (NTSC,
29.97 fps) recordings (Kanade, Cohn & Tian 2000; CMU project page); the CK+ README states no
rate. Override with ``datasets.<name>.fps``.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

from ferstudy.datasets.base import DATASETS, ClipRecord, DatasetAdapter, Rejection, is_clutter, list_images

CODES = {0: "neutral", 1: "anger", 2: "contempt", 3: "disgust", 4: "fear",
         5: "happiness", 6: "sadness", 7: "surprise"}


@DATASETS.register("ckplus")
class CKPlus(DatasetAdapter):
    CLASSES = tuple(CODES[i] for i in range(1, 8))
    FPS = 30.0
    TEMPORAL = "onset_apex"
    LAYOUT = "cohn-kanade-images/<subject>/<sequence>/*.png and Emotion/<subject>/<sequence>/*_emotion.txt"

    def scan(self) -> Iterator[ClipRecord | Rejection]:
        images = self.root / "cohn-kanade-images"
        emotions = self.root / "Emotion"
        if not images.is_dir():
            raise self.layout_error("cohn-kanade-images/")
        if not emotions.is_dir():
            raise self.layout_error("Emotion/ (the label folder of the CK+ release)")
        for subject_dir in sorted(p for p in images.iterdir() if p.is_dir() and not is_clutter(p)):
            for seq_dir in sorted(p for p in subject_dir.iterdir() if p.is_dir() and not is_clutter(p)):
                clip_id = f"{subject_dir.name}_{seq_dir.name}"
                if not list_images(seq_dir):
                    yield Rejection(str(seq_dir), "sequence folder holds no image frames")
                    continue
                label_files = sorted((emotions / subject_dir.name / seq_dir.name).glob("*_emotion.txt"))
                label, raw = "", ""
                if label_files:
                    try:
                        raw = label_files[-1].read_text(encoding="ascii").strip()
                        label = CODES[int(float(raw))]
                    except (ValueError, KeyError, UnicodeDecodeError):
                        yield Rejection(str(label_files[-1]),
                                        f"emotion file does not hold a code 0..7 (read {raw[:20]!r})")
                        continue
                yield ClipRecord(clip_id, subject_dir.name, label, raw, str(seq_dir), "frames")
        yield from self._unmatched_labels(images, emotions)

    def _unmatched_labels(self, images: Path, emotions: Path) -> Iterator[Rejection]:
        """Emotion files whose sequence folder is absent from cohn-kanade-images/ (a subject
        folder misnamed S0O7 for S007 leaves all its labels behind): listed, never dropped."""
        subjects = sorted(p.name for p in images.iterdir() if p.is_dir())
        for label_file in sorted(emotions.glob("*/*/*_emotion.txt")):
            subject, sequence = label_file.parent.parent.name, label_file.parent.name
            if (images / subject / sequence).is_dir():
                continue
            if (images / subject).is_dir():
                hint = f"subject {subject} has no sequence {sequence}"
            else:
                close = difflib.get_close_matches(subject, subjects, n=1, cutoff=0.6)
                hint = f"no subject folder {subject}" + (
                    f" (a misnamed {close[0]}?)" if close else "")
            yield Rejection(str(label_file), f"label file without frames: "
                            f"cohn-kanade-images/{subject}/{sequence}/ does not exist; {hint}")
