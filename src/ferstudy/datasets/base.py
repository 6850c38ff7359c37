"""The adapter contract: one class per dataset layout, registered under its config name.

An adapter only *reads* a dataset root (raw roots are read-only to the pipeline) and yields
one ``ClipRecord`` per clip, or a ``Rejection`` naming the file and the reason. The
``register`` stage turns these into the manifest ``results/registry/{dataset}.csv``.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ferstudy.registry import Registry

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
DATASETS = Registry("dataset adapter")
VIDEO_EXTS = (".avi", ".mp4", ".mov", ".mkv", ".wmv", ".mpg", ".mpeg", ".webm", ".flv")


class DatasetError(RuntimeError):
    """The dataset cannot be registered at all (missing root, unrecognised layout...)."""


@dataclass(frozen=True)
class ClipRecord:
    clip_id: str          # unique within the dataset, stable across runs
    subject: str          # identity; folds never split a subject
    label: str            # canonical label, or "" when the clip is unlabelled
    label_raw: str        # the dataset's own code, for audit
    source: str           # a video file, a folder of frames, or one image
    kind: str             # "video" | "frames" | "image"


@dataclass(frozen=True)
class Rejection:
    path: str
    reason: str


class DatasetAdapter:
    """Base class. Subclasses set the class variables and implement ``scan``."""

    OPTIONS: ClassVar[dict[str, Any]] = {}   # option name -> default (config: datasets.X.options)
    CLASSES: ClassVar[tuple[str, ...]] = ()  # canonical classes the dataset can have
    # How a clip evolves in time; alignment samples frames accordingly:
    # "onset_apex" (ends at the apex: CK+, Oulu), "onset_apex_offset" (MMI, MUG), "static".
    TEMPORAL: ClassVar[str] = "onset_apex_offset"
    LAYOUT: ClassVar[str] = ""               # what the root must look like, for error messages
    # Frame rate of the release's frame-folder clips (frames carry none; a video's own rate is
    # read from its container). None: unknown, the entry's `fps` or media.DEFAULT_FPS is used.
    FPS: ClassVar[float | None] = None

    def __init__(self, name: str, root: str | Path, options: dict[str, Any] | None = None,
                 fps: float | None = None):
        self.name = name
        self.root = Path(root)
        self.options = {**self.OPTIONS, **(options or {})}
        self.fps = fps or self.FPS   # config `datasets.<name>.fps` wins over the release value

    def check_root(self) -> None:
        if not self.root.exists():
            raise DatasetError(
                f"dataset {self.name!r}: root {self.root} does not exist; set "
                f"'datasets.{self.name}.root' (e.g. snakemake --config "
                f"'datasets={{{self.name}: {{root: /data/...}}}}', or in a study file)"
            )
        if not self.root.is_dir():
            raise DatasetError(
                f"dataset {self.name!r}: root {self.root} is a file, not a folder; "
                f"'datasets.{self.name}.root' must point to the folder that holds {self.LAYOUT}"
            )

    def layout_error(self, missing: str) -> DatasetError:
        found = sorted(p.name for p in self.root.iterdir())[:12]
        return DatasetError(
            f"dataset {self.name!r}: {self.root} ('datasets.{self.name}.root') does not look like "
            f"a {type(self).__name__} root: expected {self.LAYOUT}; missing {missing}; found: "
            f"{', '.join(found) or '(empty)'}"
        )

    def fixed_folds(self, manifest):
        """Folds the release itself defines (a pandas Series per manifest row), or None for
        ferstudy's subject-independent k-fold (``register.folds``)."""
        return None

    @classmethod
    def official_split(cls, options: dict[str, Any] | None) -> bool:
        """True when ``fixed_folds`` applies: one test fold, 0 (the release's test split)."""
        return False

    def choice(self, option: str, allowed: tuple[str, ...] | list[str]) -> str:
        """An option whose value must be one of ``allowed``; a clear error names the key."""
        value = self.options[option]
        if value not in allowed:
            raise DatasetError(
                f"config key 'datasets.{self.name}.options.{option}': {value!r} is not allowed; "
                f"allowed values: {', '.join(map(str, allowed))}"
            )
        return value

    def subset(self, option: str, allowed: tuple[str, ...] | list[str]) -> list[str]:
        """A list option whose items must all be in ``allowed``."""
        value = self.options[option]
        items = [value] if isinstance(value, str) else list(value)
        bad = [v for v in items if v not in allowed]
        if bad or not items:
            raise DatasetError(
                f"config key 'datasets.{self.name}.options.{option}': {bad or items!r} is not "
                f"allowed; give a non-empty list of: {', '.join(map(str, allowed))}"
            )
        return items

    def scan(self) -> Iterator[ClipRecord | Rejection]:
        raise NotImplementedError


# Files that archive tools and file browsers leave in released trees: never clips or frames.
# ("._name.jpg" AppleDouble files from macOS zips even carry an image extension.)
CLUTTER = {"thumbs.db", "desktop.ini", "__macosx", "ehthumbs.db"}


def is_clutter(path: Path) -> bool:
    return path.name.startswith(".") or path.name.lower() in CLUTTER


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTS and not is_clutter(p))


def natural_key(text: str) -> list[Any]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]
