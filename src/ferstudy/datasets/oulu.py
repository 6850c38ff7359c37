"""Oulu-CASIA NIR&VIS facial expression database (Zhao, Huang, Taini, Li & Pietikainen, 2011),
release layout of the ``OriginalImg`` (and the identically laid out ``Cropped``) folders::

    <root>/OriginalImg/VL/Strong/P001/Anger/000.jpeg, 001.jpeg, ...   (neutral -> apex)
    <root>/OriginalImg/NI/Dark/P080/Surprise/000.jpeg ...

- Spectrum folder: ``VL`` (visible light) or ``NI`` (near infrared): option ``spectrum``.
- Illumination folder: ``Strong``, ``Weak`` or ``Dark``: option ``illumination``.
  One (spectrum, illumination) pair is registered per dataset entry; declare two entries with
  the same root to use two. They record the same 80 people: tests between them are kind
  ``overlap`` (same root; on two roots, declare ``same_subjects_as``), never cross-dataset.
- Image folder: ``OriginalImg`` (default) or ``Cropped``: option ``variant``.
- Subject folders ``P001`` .. ``P080`` (the manifest's ``subject``; some releases name the
  first ten ``PN001``..: any folder name is used as given). Other files are ignored.
- Expression folders ``Anger, Disgust, Fear, Happiness, Sadness, Surprise`` (case-insensitive);
  any other folder is listed in ``{dataset}.rejected.csv`` as unknown.
- Frames: ``NNN.jpeg`` (or any image extension), in natural-sort order, from neutral to apex
  (TEMPORAL ``onset_apex``). An expression folder without images is rejected.
- Frame rate 25 fps (``FPS``; Zhao et al. 2011: "the imaging hardware works at the rate of 25
  frames per second", 320x240 pixels).
- ``clip_id = <subject>_<Expression>`` (e.g. ``P001_Anger``), ``kind = "frames"``.

Label map: Anger->anger, Disgust->disgust, Fear->fear, Happiness->happiness,
Sadness->sadness, Surprise->surprise. Oulu-CASIA has no neutral and no contempt class.
"""
from __future__ import annotations

from collections.abc import Iterator

from ferstudy.datasets.base import (DATASETS, ClipRecord, DatasetAdapter, Rejection, is_clutter,
                                    list_images, natural_key)

LABELS = {"anger": "anger", "disgust": "disgust", "fear": "fear", "happiness": "happiness",
          "sadness": "sadness", "surprise": "surprise"}
SPECTRA = ("VL", "NI")
ILLUMINATIONS = ("Strong", "Weak", "Dark")
VARIANTS = ("OriginalImg", "Cropped")


@DATASETS.register("oulu")
class OuluCASIA(DatasetAdapter):
    OPTIONS = {"spectrum": "VL", "illumination": "Strong", "variant": "OriginalImg"}
    CLASSES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")
    FPS = 25.0
    TEMPORAL = "onset_apex"
    LAYOUT = "OriginalImg/<VL|NI>/<Strong|Weak|Dark>/<P001>/<Anger|Disgust|Fear|Happiness|Sadness|Surprise>/000.jpeg"

    def scan(self) -> Iterator[ClipRecord | Rejection]:
        spectrum = self.choice("spectrum", SPECTRA)
        light = self.choice("illumination", ILLUMINATIONS)
        variant = self.choice("variant", VARIANTS)
        if not (self.root / variant).is_dir():
            raise self.layout_error(f"{variant}/")
        base = self.root / variant / spectrum / light
        if not base.is_dir():
            raise self.layout_error(f"{variant}/{spectrum}/{light}/ (options spectrum={spectrum}, "
                                    f"illumination={light})")
        subjects = sorted((p for p in base.iterdir() if p.is_dir() and not is_clutter(p)), key=lambda p: natural_key(p.name))
        if not subjects:
            raise self.layout_error(f"subject folders (P001, ...) under {variant}/{spectrum}/{light}/")
        for subject_dir in subjects:
            for expr_dir in sorted(p for p in subject_dir.iterdir() if p.is_dir() and not is_clutter(p)):
                label = LABELS.get(expr_dir.name.lower())
                if label is None:
                    yield Rejection(str(expr_dir), f"unknown expression folder {expr_dir.name!r}; "
                                    "expected Anger, Disgust, Fear, Happiness, Sadness or Surprise")
                    continue
                if not list_images(expr_dir):
                    yield Rejection(str(expr_dir), "expression folder holds no image frames")
                    continue
                yield ClipRecord(f"{subject_dir.name}_{expr_dir.name}", subject_dir.name, label,
                                 expr_dir.name, str(expr_dir), "frames")
