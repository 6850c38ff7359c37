"""RAVDESS (Ryerson Audio-Visual Database of Emotional Speech and Song; Livingstone & Russo,
PLoS ONE 2018; Zenodo record 1188976), the video archives ``Video_Speech_Actor_XX.zip`` and
``Video_Song_Actor_XX.zip`` unpacked side by side (the ``download_ravdess`` rule does this under
``resources/ravdess/``)::

    <root>/Actor_01/02-01-06-01-02-01-01.mp4     (any depth below root is searched)

- File name = seven two-digit fields ``modality-channel-emotion-intensity-statement-
  repetition-actor`` + ``.mp4``:
  modality 01 audio-video, 02 video-only, 03 audio-only; channel 01 speech, 02 song;
  emotion 01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust,
  08 surprised; intensity 01 normal, 02 strong; statement 01/02; repetition 01/02;
  actor 01..24 (odd male, even female).
- Hidden files and ``__MACOSX/`` folders (macOS zip clutter: ``._02-01-...mp4``) are skipped.
- Only video-only files (modality 02) are registered unless option ``audio_video: true``
  also registers the 01 files (same picture, with sound). Audio-only files and files whose
  name does not follow the code are ignored (counted in the log); a name with a known shape
  but an out-of-range field is rejected with the reason.
- ``subject`` = the actor number (``"01"``..``"24"``); ``clip_id`` = the file stem;
  ``label_raw`` = the emotion field; ``kind = "video"``; TEMPORAL ``onset_apex_offset``.
- Options ``channels`` (default ``[speech, song]``) and ``intensities`` (default
  ``[normal, strong]``) select subsets; ``calm`` says what calm (02) becomes: ``unlabelled``
  (default: kept as an unlabelled clip, since calm is no canonical class), ``neutral``, or
  ``skip``.

Label map: 01 neutral, 02 calm -> (option ``calm``), 03 happiness, 04 sadness, 05 anger,
06 fear, 07 disgust, 08 surprise. RAVDESS has no contempt; song has no disgust or surprise.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from ferstudy.datasets.base import DATASETS, ClipRecord, DatasetAdapter, Rejection, is_clutter

log = logging.getLogger(__name__)

EMOTIONS = {1: "neutral", 2: "calm", 3: "happiness", 4: "sadness", 5: "anger", 6: "fear",
            7: "disgust", 8: "surprise"}
CHANNELS = {1: "speech", 2: "song"}
INTENSITIES = {1: "normal", 2: "strong"}
NAME_RE = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


@DATASETS.register("ravdess")
class RAVDESS(DatasetAdapter):
    OPTIONS = {"audio_video": False, "channels": ["speech", "song"],
               "intensities": ["normal", "strong"], "calm": "unlabelled"}
    CLASSES = ("neutral", "anger", "disgust", "fear", "happiness", "sadness", "surprise")
    TEMPORAL = "onset_apex_offset"
    LAYOUT = "Actor_NN/MM-CC-EE-II-SS-RR-AA.mp4 (the unpacked Video_*_Actor_NN.zip archives)"

    def scan(self) -> Iterator[ClipRecord | Rejection]:
        calm = self.choice("calm", ("unlabelled", "neutral", "skip"))
        channels = self.subset("channels", tuple(CHANNELS.values()))
        intensities = self.subset("intensities", tuple(INTENSITIES.values()))
        modalities = {2, 1} if self.options["audio_video"] else {2}
        # macOS zips add __MACOSX/Actor_01/._02-01-...mp4: RAVDESS-named, but no video
        files = sorted(p for p in self.root.rglob("*") if p.is_file() and p.suffix.lower() == ".mp4"
                       and not any(map(is_clutter, p.relative_to(self.root).parents)) and not is_clutter(p))
        coded = [(p, NAME_RE.match(p.stem)) for p in files]
        if not any(m for _, m in coded):
            raise self.layout_error("*.mp4 files named MM-CC-EE-II-SS-RR-AA (e.g. Actor_01/02-01-06-01-02-01-01.mp4)")
        ignored = 0
        for path, match in coded:
            if match is None:
                ignored += 1
                continue
            modality, channel, emotion, intensity, statement, repetition, actor = map(int, match.groups())
            problem = self._check(channel, emotion, intensity, statement, repetition, actor)
            if modality not in (1, 2, 3) or problem:
                yield Rejection(str(path), problem or f"modality field {modality:02d} is not 01..03")
                continue
            if modality not in modalities:
                ignored += 1
                continue
            if CHANNELS[channel] not in channels or INTENSITIES[intensity] not in intensities:
                continue
            label = EMOTIONS[emotion]
            if label == "calm":
                if calm == "skip":
                    continue
                label = "neutral" if calm == "neutral" else ""
            yield ClipRecord(path.stem, f"{actor:02d}", label, f"{emotion:02d}", str(path), "video")
        if ignored:
            log.info("dataset %s: ignored %d file(s) (not video-only or not RAVDESS-named)",
                     self.name, ignored)

    @staticmethod
    def _check(channel: int, emotion: int, intensity: int, statement: int, repetition: int,
               actor: int) -> str:
        if channel not in CHANNELS:
            return f"vocal channel field {channel:02d} is not 01 (speech) or 02 (song)"
        if emotion not in EMOTIONS:
            return f"emotion field {emotion:02d} is not 01..08"
        if intensity not in INTENSITIES:
            return f"intensity field {intensity:02d} is not 01..02"
        if statement not in (1, 2) or repetition not in (1, 2):
            return "statement/repetition fields must be 01 or 02"
        if not 1 <= actor <= 24:
            return f"actor field {actor:02d} is not 01..24"
        return ""
