"""Which frames of a clip go into the store: a fixed number T, chosen by the clip's timing.

- ``onset_apex`` (sequences that start neutral and end at the apex: CK+, Oulu-CASIA): T frames
  evenly spaced from the first to the last usable frame, both included, so the stored clip
  always starts at the neutral onset and ends at the apex; T = 1 stores the apex.
- ``uniform`` (onset-apex-offset videos: MMI, MUG; and anything else): the centres of T equal
  segments of the clip (TSN-style), which covers the rise, the apex and the fall.
- ``static`` (single images): the one frame, repeated T times.

Clips with fewer usable frames than T repeat frames in order (e.g. 3 frames, T=8 ->
0,0,1,1,1,2,2,2): deterministic, and time never runs backwards.
"""
from __future__ import annotations

import numpy as np

MODES = ("onset_apex", "uniform", "static")
# DatasetAdapter.TEMPORAL -> sampling mode
TEMPORAL_MODES = {"onset_apex": "onset_apex", "onset_apex_offset": "uniform", "static": "static"}


def mode_for(temporal: str, kind: str) -> str:
    """The sampling mode of a clip from its dataset's TEMPORAL and the clip's kind."""
    if kind == "image":
        return "static"
    if temporal not in TEMPORAL_MODES:
        raise ValueError(f"unknown temporal structure {temporal!r}; known: "
                         f"{', '.join(TEMPORAL_MODES)}")
    return TEMPORAL_MODES[temporal]


def sample_positions(n: int, frames: int, mode: str) -> np.ndarray:
    """int64 (frames,) positions in 0..n-1, non-decreasing."""
    if n < 1:
        raise ValueError("cannot sample frames from an empty clip")
    if mode == "static" or n == 1:
        return np.zeros(frames, np.int64)
    if mode == "onset_apex":
        if frames == 1:                                  # one frame: the apex, not the onset
            return np.array([n - 1], np.int64)
        pos = np.linspace(0.0, n - 1, frames)
        return np.floor(pos + 0.5).astype(np.int64)      # round half up: deterministic
    if mode == "uniform":
        return np.floor((np.arange(frames) + 0.5) * n / frames).astype(np.int64)
    raise ValueError(f"unknown sampling mode {mode!r}; known: {', '.join(MODES)}")


def sample_frames(valid: np.ndarray, frames: int, mode: str) -> np.ndarray:
    """Frame indices (frames,) drawn from the usable frames (bool mask ``valid`` (n,))."""
    usable = np.flatnonzero(valid)
    return usable[sample_positions(len(usable), frames, mode)]
