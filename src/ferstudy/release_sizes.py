"""Labelled clips per dataset for planning: the study's own registration, else the release's
documented size.

``ferstudy plan --cost`` needs clips per dataset before anything is registered. A manifest in
``results/registry/`` counts only when its registration record (``{name}.json``) names the
root and options that the study declares for that dataset: a demo registered under the same
name (``ckplus`` from ``resources/demo/``) says nothing about the real CK+. Otherwise the
release's documented size in the six basic classes (anger, disgust, fear, happiness, sadness,
surprise) is used, marked as assumed, with its source.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

BASIC_SIX = frozenset({"anger", "disgust", "fear", "happiness", "sadness", "surprise"})


@dataclass(frozen=True)
class ReleaseSize:
    clips: int          # labelled clips (images for RAF-DB) in the six basic classes
    source: str         # where the number comes from


# Keyed by adapter. Counts are for the six basic classes (the pitfalls study's classes).
RELEASE_SIZES: dict[str, ReleaseSize] = {
    "ckplus": ReleaseSize(309, "Lucey et al. 2010 (CVPRW), CK+: 327 labelled sequences of 593; "
                               "minus contempt's 18 = 309 in the six basic classes"),
    "mmi": ReleaseSize(205, "Pantic et al. 2005 (ICME) / Valstar & Pantic 2010 (LREC workshop): "
                            "about 205 sessions of frontal posed basic expressions carry an "
                            "emotion label (the subset the FER literature uses; approximate)"),
    "mug": ReleaseSize(1400, "Aifanti et al. 2010 (WIAMIS), MUG: 86 subjects posing the six "
                             "basic expressions, several takes each; about 1,400 sequences in "
                             "the released part (approximate)"),
    "oulu": ReleaseSize(480, "Zhao et al. 2011 (IVC), Oulu-CASIA: 80 subjects x 6 expressions "
                             "per spectrum (VL/NI) and illumination (Strong/Weak/Dark)"),
    "rafdb": ReleaseSize(12_135, "Li et al. 2017 (CVPR), RAF-DB basic subset: 15,339 images "
                                 "(12,271 train + 3,068 test) in 7 classes; without neutral's "
                                 "3,204 = 12,135 in the six basic classes"),
}


def registered_here(results: str | Path, name: str, entry: Mapping[str, Any]) -> Path | None:
    """The manifest of ``name`` when its registration record names ``entry``'s root (resolved)
    and the options ``entry`` gives; None otherwise (absent, or registered from elsewhere)."""
    registry = Path(results) / "registry"
    manifest, record = registry / f"{name}.csv", registry / f"{name}.json"
    if not (manifest.is_file() and record.is_file() and entry.get("root")):
        return None
    rec = json.loads(record.read_text(encoding="utf-8"))
    if rec.get("root") != str(Path(entry["root"]).resolve()):
        return None
    options = rec.get("options") or {}
    if any(options.get(k) != v for k, v in (entry.get("options") or {}).items()):
        return None
    return manifest


def labelled_clips(cfg: Mapping[str, Any], names: set[str], fallback: int,
                   ) -> dict[str, tuple[int, str]]:
    """Labelled clips of the study's classes per dataset: (count, source). The source says
    ``manifest <path>``, ``ASSUMED release size: <citation>`` or ``ASSUMED --clips``."""
    classes = set(cfg["study"]["classes"])
    out = {}
    for name in sorted(names):
        entry = cfg["datasets"][name]
        manifest = registered_here(cfg["results"], name, entry)
        release = RELEASE_SIZES.get(entry.get("adapter", name))
        if manifest is not None:
            labels = pd.read_csv(manifest, usecols=["label"], dtype=str)["label"]
            out[name] = (int(labels.isin(classes).sum()), f"manifest {manifest}")
        elif release is not None and not entry.get("demo"):
            note = "" if classes == BASIC_SIX else " (counted in the six basic classes)"
            out[name] = (release.clips, f"ASSUMED release size{note}: {release.source}")
        else:
            out[name] = (fallback, "ASSUMED --clips (no registration from the study's root, "
                                   "no documented release size)")
    return out
