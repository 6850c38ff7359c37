"""MMI Facial Expression Database (Pantic, Valstar, Rademaker & Maat, ICME 2005;
mmifacedb.eu), the *Sessions* download as delivered by the web site (the zip
``mmi-facial-expression-database_download_<date>.zip`` unpacks to a ``Sessions/`` folder)::

    <root>/Sessions/1766/S001-001.avi            the session's video (one per session)
    <root>/Sessions/1766/session.xml             session metadata, holds the subject
    <root>/Sessions/1766/S001-001.xml            per-video metadata, holds the emotion
    <root>/Sessions/1766/S001-001-oao_aucs.xml   action-unit coding (not used here)

- ``Sessions/`` may be omitted (``<root>/1766/...`` is read the same way). Session folder
  names are the numeric session ids; other folders are read too (the files decide).
- Video: exactly one ``*.avi`` (or other video) file per session; its stem ``<name>`` (e.g.
  ``S001-001``) names the metadata file. Two videos in one session are rejected as ambiguous.
- ``session.xml``: root element ``<session sessionId="1766" mediaFile="S001-001.avi" ...>``
  with a child ``<subject id="1" .../>`` (also ``<track view=..>`` and ``<annotation ..>``
  children, ignored). The subject is ``subject/@id``; if the element is missing the subject
  is taken from the video name prefix ``S<digits>`` (``S001-001`` -> ``1``). Subject ids are
  written without leading zeros.
- ``<name>.xml``: ``<Metatags>`` holding ``<Metatag Name="Emotion" Value="4"/>`` (other
  Metatags, e.g. Gender, ignored). If ``<name>.xml`` has no Emotion tag, ``session.xml`` is
  searched for one. Names match case-insensitively.
- Emotion codes: 1 anger, 2 disgust, 3 fear, 4 happiness, 5 sadness, 6 surprise. A session
  without an Emotion tag (most MMI sessions are AU-only) or with another code is registered as
  *unlabelled* (label ``""``, ``label_raw`` keeps the code), never guessed. An XML file that
  does not parse, or an Emotion value that is not an integer, rejects the session.
- ``clip_id = <session folder name>``; ``kind = "video"``; clips run neutral -> apex ->
  neutral (TEMPORAL ``onset_apex_offset``). MMI has no neutral or contempt class.
- A metadata file ``<other>.xml`` carrying an Emotion tag beside a video of another name (the
  video renamed) is listed in ``{dataset}.rejected.csv`` as "label file without frames";
  ``*_aucs.xml`` (action units) and files without an Emotion tag are ignored. A UTF-8 BOM
  before ``<?xml`` is read as the release writes it.
- Still-image sessions (``*.jpg``/``*.png`` instead of a video, MMI part I): skipped unless
  option ``stills: true``, which registers each image as a one-frame clip (``kind = "image"``).
"""
from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from ferstudy.datasets.base import (DATASETS, VIDEO_EXTS, ClipRecord, DatasetAdapter, Rejection,
                                    is_clutter, list_images, natural_key)

log = logging.getLogger(__name__)

CODES = {1: "anger", 2: "disgust", 3: "fear", 4: "happiness", 5: "sadness", 6: "surprise"}
SUBJECT_IN_NAME = re.compile(r"^S(\d+)", re.IGNORECASE)


class MetadataError(ValueError):
    pass


def _parse(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except (ET.ParseError, OSError) as err:
        raise MetadataError(f"metadata XML does not parse: {err}") from None


def _find(root: ET.Element, tag: str) -> list[ET.Element]:
    return [el for el in root.iter() if isinstance(el.tag, str) and el.tag.lower() == tag]


def read_subject(session_xml: Path, video_stem: str) -> str:
    if session_xml.is_file():
        for el in _find(_parse(session_xml), "subject"):
            sid = el.get("id") or el.get("Id") or el.get("ID")
            if sid and sid.strip():
                return str(int(sid)) if sid.strip().isdigit() else sid.strip()
    match = SUBJECT_IN_NAME.match(video_stem)
    if match:
        return str(int(match.group(1)))
    raise MetadataError("no <subject id=...> in session.xml and no S<digits> prefix in the video name")


def read_emotion(*xml_files: Path) -> str | None:
    """The raw Emotion Metatag value of the first file that carries one, else None."""
    for path in xml_files:
        if not path.is_file():
            continue
        for el in _find(_parse(path), "metatag"):
            if (el.get("Name") or el.get("name") or "").lower() == "emotion":
                return (el.get("Value") or el.get("value") or "").strip()
    return None


@DATASETS.register("mmi")
class MMI(DatasetAdapter):
    OPTIONS = {"stills": False}
    CLASSES = tuple(CODES[i] for i in range(1, 7))
    TEMPORAL = "onset_apex_offset"
    LAYOUT = "[Sessions/]<session id>/{<name>.avi, session.xml, <name>.xml}"

    def sessions_root(self) -> Path:
        nested = self.root / "Sessions"
        return nested if nested.is_dir() else self.root

    def scan(self) -> Iterator[ClipRecord | Rejection]:
        base = self.sessions_root()
        sessions = sorted((p for p in base.iterdir() if p.is_dir() and not is_clutter(p)), key=lambda p: natural_key(p.name))
        marked = [s for s in sessions if (s / "session.xml").is_file()
                  or any(f.suffix.lower() in VIDEO_EXTS for f in s.iterdir())]
        if not marked:
            raise self.layout_error("session folders holding a video and session.xml (e.g. Sessions/1766/)")
        stills = 0
        for session in sessions:
            videos = sorted(f for f in session.iterdir() if f.is_file() and f.suffix.lower() in VIDEO_EXTS
                            and not is_clutter(f))
            if not videos:
                images = list_images(session)
                if images and not self.options["stills"]:
                    stills += 1
                    continue
                if images:
                    yield from self._stills(session, images)
                    continue
                yield Rejection(str(session), "session folder holds no video (expected <name>.avi)")
                continue
            if len(videos) > 1:
                yield Rejection(str(session), "session holds more than one video: "
                                + ", ".join(v.name for v in videos))
                continue
            yield self._record(session, videos[0], "video")
            yield from self._unmatched_labels(session, videos[0])
        if stills:
            log.info("dataset %s: skipped %d still-image session(s) (option stills: false)",
                     self.name, stills)

    def _record(self, session: Path, media: Path, kind: str, clip_id: str | None = None):
        try:
            subject = read_subject(session / "session.xml", media.stem)
            raw = read_emotion(session / f"{media.stem}.xml", session / "session.xml")
        except MetadataError as err:
            return Rejection(str(session), str(err))
        label = ""
        if raw is not None:
            try:
                label = CODES.get(int(raw), "")
            except ValueError:
                return Rejection(str(session / f"{media.stem}.xml"),
                                 f"Emotion metatag value {raw[:20]!r} is not an integer code 1..6")
        return ClipRecord(clip_id or session.name, subject, label, raw or "", str(media), kind)

    def _unmatched_labels(self, session: Path, video: Path) -> Iterator[Rejection]:
        """Per-video metadata files carrying an Emotion tag whose video is not the session's
        (a renamed video leaves its label behind): listed, never dropped silently."""
        known = {"session", video.stem.lower()}
        for xml in sorted(f for f in session.iterdir() if f.suffix.lower() == ".xml"):
            stem = xml.stem.lower()
            if stem in known or stem.endswith("_aucs"):
                continue
            try:
                code = read_emotion(xml)
            except MetadataError:
                code = None
            if code is not None:
                yield Rejection(str(xml), f"label file without frames: {xml.name} holds Emotion "
                                f"{code!r} but session {session.name}'s video is {video.name}")

    def _stills(self, session: Path, images: list[Path]) -> Iterator[ClipRecord | Rejection]:
        for img in images:
            yield self._record(session, img, "image", f"{session.name}_{img.stem}")
