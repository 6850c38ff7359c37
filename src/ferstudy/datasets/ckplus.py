"""CK+ (Extended Cohn-Kanade), release layout as distributed by the authors::

    <root>/cohn-kanade-images/S005/001/S005_001_00000001.png ...   (frames, neutral -> apex)
    <root>/Emotion/S005/001/S005_001_00000011_emotion.txt          (one float, 1..7)

Emotion codes: 0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happiness, 6 sadness,
7 surprise. Only 327 of the 593 sequences carry an emotion file: the others are registered as
*unlabelled* clips (label ""), which the semi-supervised methods use. An emotion file that
cannot be parsed rejects that sequence with the reason (``strict: true`` makes it an error).
"""
from __future__ import annotations

from collections.abc import Iterator

from ferstudy.datasets.base import DATASETS, ClipRecord, DatasetAdapter, Rejection, list_images

CODES = {0: "neutral", 1: "anger", 2: "contempt", 3: "disgust", 4: "fear",
         5: "happiness", 6: "sadness", 7: "surprise"}


@DATASETS.register("ckplus")
class CKPlus(DatasetAdapter):
    CLASSES = tuple(CODES[i] for i in range(1, 8))
    TEMPORAL = "onset_apex"
    LAYOUT = "cohn-kanade-images/<subject>/<sequence>/*.png and Emotion/<subject>/<sequence>/*_emotion.txt"

    def scan(self) -> Iterator[ClipRecord | Rejection]:
        images = self.root / "cohn-kanade-images"
        emotions = self.root / "Emotion"
        if not images.is_dir():
            raise self.layout_error("cohn-kanade-images/")
        if not emotions.is_dir():
            raise self.layout_error("Emotion/ (the label folder of the CK+ release)")
        for subject_dir in sorted(p for p in images.iterdir() if p.is_dir()):
            for seq_dir in sorted(p for p in subject_dir.iterdir() if p.is_dir()):
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
