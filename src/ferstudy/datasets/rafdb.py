"""RAF-DB (Real-world Affective Faces Database, Li, Deng & Du, CVPR 2017), the *basic emotion*
subset as released (``basic/`` folder of the distribution)::

    <root>/EmoLabel/list_patition_label.txt        one line per image: "<name> <code>"
    <root>/Image/aligned/train_00001_aligned.jpg   100x100 aligned faces (option aligned: true)
    <root>/Image/original/train_00001.jpg          the original images  (option aligned: false)

- ``list_patition_label.txt`` (sic, the release's spelling): lines such as
  ``train_00001.jpg 5`` or ``test_0001.jpg 1``; blank lines are ignored, a line that is not
  ``<name> <integer>`` is rejected with its line number; a UTF-8 BOM and CRLF line ends are
  read as the release writes them.
- With ``aligned: true`` image ``train_00001.jpg`` is read from
  ``Image/aligned/train_00001_aligned.jpg``; with ``aligned: false`` from
  ``Image/original/train_00001.jpg``. A listed image that is missing is rejected as "label
  file without frames" (path ``list_patition_label.txt:<line>``); images that no line lists
  are not registered (no label, no identity).
- Option ``partition``: ``official`` (default): every image, with the release's split as the
  folds: the test partition is fold 0, the one test fold, and the train partition is fold 1
  (training and validation), so SCN / Ada-CM numbers are comparable with the papers' (which
  train on train and report test). Only fold 0 is in the study grid for such a dataset
  (``ferstudy.train.plan.study_runs``). ``cv`` (or ``all``): the pooled train + test images in
  ferstudy's subject-independent k-fold (``register.folds``); ``train`` / ``test``: one
  partition only, k-fold.
- The papers' official code picks its epoch on the test split (the SCN code validates on
  ``phase='test'`` and saves models above 0.87 test accuracy); ferstudy never does. For
  comparison with published figures only, a run on the official split also records
  ``accuracy_optimistic`` (test accuracy of the best epoch *on test*), a separate, labelled
  column of runs.csv that no verdict, summary or figure headline uses.
- Each image is a one-frame clip (``kind = "image"``, TEMPORAL ``static``); RAF-DB carries no
  identity labels, so each image is its own subject (``subject = clip_id = <name stem>``).

Label codes (release README): 1 surprise, 2 fear, 3 disgust, 4 happiness, 5 sadness,
6 anger, 7 neutral. RAF-DB basic has no contempt.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ferstudy.datasets.base import DATASETS, ClipRecord, DatasetAdapter, Rejection

CODES = {1: "surprise", 2: "fear", 3: "disgust", 4: "happiness", 5: "sadness", 6: "anger",
         7: "neutral"}
LABEL_FILE = Path("EmoLabel") / "list_patition_label.txt"


@DATASETS.register("rafdb")
class RAFDB(DatasetAdapter):
    OPTIONS = {"aligned": True, "partition": "official"}
    PARTITIONS = ("official", "cv", "all", "train", "test")
    CLASSES = ("neutral", "anger", "disgust", "fear", "happiness", "sadness", "surprise")
    TEMPORAL = "static"
    LAYOUT = "EmoLabel/list_patition_label.txt and Image/aligned/<name>_aligned.jpg"

    def image_path(self, name: str) -> Path:
        stem, ext = Path(name).stem, Path(name).suffix or ".jpg"
        if self.options["aligned"]:
            return self.root / "Image" / "aligned" / f"{stem}_aligned{ext}"
        return self.root / "Image" / "original" / name

    @classmethod
    def official_split(cls, options) -> bool:
        return {**cls.OPTIONS, **(options or {})}["partition"] == "official"

    def fixed_folds(self, manifest):
        if self.choice("partition", self.PARTITIONS) != "official":
            return None
        return (~manifest["clip_id"].astype(str).str.startswith("test_")).astype(int)

    def scan(self) -> Iterator[ClipRecord | Rejection]:
        partition = self.choice("partition", self.PARTITIONS)
        labels = self.root / LABEL_FILE
        if not labels.is_file():
            raise self.layout_error(str(LABEL_FILE))
        folder = self.image_path("x.jpg").parent
        if not folder.is_dir():
            raise self.layout_error(f"{folder.relative_to(self.root)}/ (option aligned: "
                                    f"{self.options['aligned']})")
        text = labels.read_bytes().decode("utf-8-sig", errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split()
            code = int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else None
            if code not in CODES:
                yield Rejection(f"{labels}:{lineno}",
                                f"label line {line.strip()[:40]!r} is not '<name> <code 1..7>'")
                continue
            name = parts[0]
            if partition in ("train", "test") and not name.startswith(partition + "_"):
                continue
            path = self.image_path(name)
            if not path.is_file():
                yield Rejection(f"{labels}:{lineno}", f"label file without frames: line {lineno} "
                                f"lists {name}, but {path.relative_to(self.root)} is missing")
                continue
            stem = Path(name).stem
            yield ClipRecord(stem, stem, CODES[code], str(code), str(path), "image")
