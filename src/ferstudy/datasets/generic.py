"""Generic layout for any other collection, one folder per label::

    <root>/<label>/<clip>.mp4              a clip is a video file (any of base.VIDEO_EXTS),
    <root>/<label>/<clip>/0001.png ...     or a folder of frames (natural-sort order),
    <root>/<label>/<clip>.jpg              or a single image (a one-frame clip, kind "image").

- Label folders: canonical names (``neutral, anger, disgust, fear, happiness, sadness,
  surprise, contempt``) or common synonyms (``angry, disgusted, fearful, happy, sad,
  surprised, contemptuous``, case-insensitive); option ``label_map`` maps any other folder
  name to a canonical name (``{Joy: happiness}``) or to ``""`` (unlabelled clips). A folder
  that maps to nothing is rejected as a whole with the fix in the reason. Files directly
  under the root, hidden entries (``.*``, e.g. ``.DS_Store``, macOS ``._*`` files) and
  ``Thumbs.db``/``desktop.ini``/``__MACOSX`` are ignored.
- Frame folders carry no rate: ``fps`` is ``datasets.<name>.fps`` (default 30, with a warning).
- Subject: option ``subject_regex`` is searched in the clip name (file stem or folder name);
  the named group ``subject`` is used, else group 1, else the whole match. Default
  ``^([^_\\-\\s.]+)``: the text before the first ``_``, ``-``, space or dot
  (``S012_001.mp4`` -> ``S012``). A clip name without a match is rejected.
- ``clip_id = <label folder>/<clip name>``; ``label_raw`` = the label folder name.
- Option ``temporal`` (``onset_apex_offset`` default, ``onset_apex``, ``static``) says how
  the clips evolve; it sets this adapter instance's ``TEMPORAL``.
- Any other file inside a label folder is rejected as "not a video, image or frame folder".
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ferstudy.datasets.base import (DATASETS, IMAGE_EXTS, VIDEO_EXTS, ClipRecord, DatasetAdapter,
                                    DatasetError, Rejection, is_clutter, list_images, natural_key)
from ferstudy.labels import CANONICAL

SYNONYMS = {"angry": "anger", "disgusted": "disgust", "fearful": "fear", "afraid": "fear",
            "happy": "happiness", "sad": "sadness", "surprised": "surprise",
            "contemptuous": "contempt", **{c: c for c in CANONICAL}}
TEMPORALS = ("onset_apex_offset", "onset_apex", "static")


@DATASETS.register("generic")
class GenericFolders(DatasetAdapter):
    OPTIONS = {"subject_regex": r"^([^_\-\s.]+)", "label_map": {}, "temporal": "onset_apex_offset"}
    CLASSES = CANONICAL
    LAYOUT = "<label>/<clip video file | clip frame folder | image>"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.TEMPORAL = self.choice("temporal", TEMPORALS)

    def label_of(self, folder: str) -> str | None:
        custom = {str(k).lower(): v for k, v in (self.options["label_map"] or {}).items()}
        label = custom.get(folder.lower(), SYNONYMS.get(folder.lower()))
        if label is not None and label != "" and label not in CANONICAL:
            raise DatasetError(
                f"config key 'datasets.{self.name}.options.label_map': {folder!r} maps to "
                f"{label!r}, which is not a canonical label; allowed: {', '.join(CANONICAL)} or \"\"")
        return label

    def subject_of(self, clip_name: str) -> str | None:
        try:
            pattern = re.compile(self.options["subject_regex"])
        except re.error as err:
            raise DatasetError(f"config key 'datasets.{self.name}.options.subject_regex': "
                               f"not a valid regular expression: {err}") from None
        match = pattern.search(clip_name)
        if match is None:
            return None
        if "subject" in match.groupdict():
            return match.group("subject")
        return match.group(1) if pattern.groups else match.group(0)

    def scan(self) -> Iterator[ClipRecord | Rejection]:
        folders = sorted(p for p in self.root.iterdir() if p.is_dir() and not is_clutter(p))
        if not folders:
            raise self.layout_error("one folder per label (e.g. happiness/)")
        for folder in folders:
            label = self.label_of(folder.name)
            if label is None:
                yield Rejection(str(folder), f"label folder {folder.name!r} is no canonical label or "
                                f"known synonym; map it with datasets.{self.name}.options.label_map")
                continue
            entries = sorted((p for p in folder.iterdir() if not is_clutter(p)),
                             key=lambda p: natural_key(p.name))
            for entry in entries:
                yield self._clip(folder.name, label, entry)

    def _clip(self, label_dir: str, label: str, entry: Path) -> ClipRecord | Rejection:
        if entry.is_dir():
            if not list_images(entry):
                return Rejection(str(entry), "clip folder holds no image frames")
            kind, name = "frames", entry.name
        elif entry.suffix.lower() in VIDEO_EXTS:
            kind, name = "video", entry.stem
        elif entry.suffix.lower() in IMAGE_EXTS:
            kind, name = "image", entry.stem
        else:
            return Rejection(str(entry), "not a video, image or frame folder")
        subject = self.subject_of(name)
        if not subject:
            return Rejection(str(entry), f"clip name {name!r} does not match subject_regex "
                             f"{self.options['subject_regex']!r}")
        return ClipRecord(f"{label_dir}/{name}", subject, label, label_dir, str(entry), kind)
