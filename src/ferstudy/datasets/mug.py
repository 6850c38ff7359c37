"""MUG Facial Expression Database (Aristotle University of Thessaloniki; Aifanti, Papachristou
& Delopoulos, WIAMIS 2010), the *posed* part as released by the authors (per-subject archives
unpacked side by side under ``subjects3/``)::

    <root>/subjects3/001/anger/take000/img_0000.jpg ...      (frames of one take, in order)
    <root>/subjects3/001/happiness/take001/img_0000.jpg ...
    <root>/subjects3/086/surprise/take000/...

- ``subjects3/`` may be omitted: ``<root>/001/anger/take000/`` is read the same way.
- Subject folders: the subject id, three digits (``001`` .. ``086``); it is the manifest's
  ``subject``. Folders that are not all digits are skipped (logged), so README/PDF files and
  stray folders beside the subjects do no harm.
- Expression folders (lower case, as released): ``anger, disgust, fear, happiness, neutral,
  sadness, surprise``. Any other folder under a subject (e.g. a mixed expression) is listed in
  ``{dataset}.rejected.csv`` as an unknown expression folder, never guessed.
- Take folders: ``take000``, ``take001``, ... each holding the frames ``img_NNNN.jpg`` (JPEG,
  896x896 in the release, captured at 19 fps (``FPS``; Aifanti et al. 2010); frame order = natural sort of the file names). A take folder
  without images is rejected.
- Each take is one clip: ``clip_id = <subject>_<expression>_<take>`` (e.g. ``001_anger_take000``),
  ``kind = "frames"``, ``label_raw`` = the expression folder name.

Label map (folder -> canonical): anger->anger, disgust->disgust, fear->fear,
happiness->happiness, neutral->neutral, sadness->sadness, surprise->surprise. MUG has no
contempt. Takes go neutral -> apex -> neutral (TEMPORAL ``onset_apex_offset``).

Options: ``include_neutral`` (default true): register the ``neutral`` takes (label
``neutral``); false skips them.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from ferstudy.datasets.base import (DATASETS, ClipRecord, DatasetAdapter, Rejection, is_clutter,
                                    list_images, natural_key)

log = logging.getLogger(__name__)

LABELS = {"anger": "anger", "disgust": "disgust", "fear": "fear", "happiness": "happiness",
          "neutral": "neutral", "sadness": "sadness", "surprise": "surprise"}


@DATASETS.register("mug")
class MUG(DatasetAdapter):
    OPTIONS = {"include_neutral": True}
    CLASSES = ("neutral", "anger", "disgust", "fear", "happiness", "sadness", "surprise")
    FPS = 19.0
    TEMPORAL = "onset_apex_offset"
    LAYOUT = "[subjects3/]<NNN subject>/<anger|disgust|fear|happiness|neutral|sadness|surprise>/take<NNN>/img_<NNNN>.jpg"

    def subjects_root(self) -> Path:
        nested = self.root / "subjects3"
        return nested if nested.is_dir() else self.root

    def scan(self) -> Iterator[ClipRecord | Rejection]:
        base = self.subjects_root()
        subjects = sorted((p for p in base.iterdir() if p.is_dir() and p.name.isdigit()),
                          key=lambda p: natural_key(p.name))
        if not subjects:
            raise self.layout_error("subject folders named by number (e.g. subjects3/001/)")
        skipped = sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.isdigit()
                         and p.name != "subjects3")
        if skipped:
            log.info("dataset %s: skipped non-subject folder(s) %s", self.name, ", ".join(skipped))
        for subject_dir in subjects:
            for expr_dir in sorted(p for p in subject_dir.iterdir() if p.is_dir() and not is_clutter(p)):
                label = LABELS.get(expr_dir.name.lower())
                if label is None:
                    yield Rejection(str(expr_dir), f"unknown expression folder {expr_dir.name!r}; "
                                    f"expected one of {', '.join(LABELS)}")
                    continue
                if label == "neutral" and not self.options["include_neutral"]:
                    continue
                yield from self._takes(subject_dir.name, expr_dir, label)

    def _takes(self, subject: str, expr_dir: Path, label: str) -> Iterator[ClipRecord | Rejection]:
        takes = sorted((p for p in expr_dir.iterdir() if p.is_dir() and not is_clutter(p)), key=lambda p: natural_key(p.name))
        if not takes and list_images(expr_dir):
            # Some re-distributions drop the take level: the frames sit in the expression folder.
            takes = [expr_dir]
        for take in takes:
            if not list_images(take):
                yield Rejection(str(take), "take folder holds no image frames")
                continue
            take_name = take.name if take != expr_dir else "take000"
            yield ClipRecord(f"{subject}_{expr_dir.name.lower()}_{take_name}", subject, label,
                             expr_dir.name, str(take), "frames")
