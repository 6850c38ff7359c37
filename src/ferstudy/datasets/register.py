"""The register stage: adapter -> manifest CSV (+ folds) and a table of rejected files.

Manifest columns (``results/registry/{dataset}.csv``, one row per clip)::

    clip_id, dataset, subject, label, label_raw, source, kind, frames, fps, sha256, fold

``label`` is canonical or empty (unlabelled). ``fold`` is subject-independent and stratified.
Rejected clips go to ``{dataset}.rejected.csv`` (path, reason); ``strict`` makes them errors.
Nothing is ever written inside the dataset root.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from ferstudy import atomic
from ferstudy.datasets import DATASETS
from ferstudy.datasets.base import ClipRecord, DatasetError, Rejection
from ferstudy.datasets.folds import assign_folds
from ferstudy.media import MediaError, probe, sha256_of

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = ["clip_id", "dataset", "subject", "label", "label_raw", "source", "kind",
                    "frames", "fps", "sha256", "fold"]


def make_adapter(name: str, entry: dict[str, Any]):
    adapter_cls = DATASETS.get(entry.get("adapter", name))
    return adapter_cls(name, entry["root"], entry.get("options", {}))


def printable(text: str) -> str:
    """A file name as valid UTF-8 text: undecodable bytes (surrogate escapes) become \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _probe(item: ClipRecord) -> tuple[int, float, str] | str:
    """(frames, fps, sha256) of a clip, or the reason it cannot be read."""
    try:
        frames, fps = probe(item.source, item.kind)
        return frames, fps, sha256_of(item.source, item.kind)
    except (MediaError, OSError) as err:
        return printable(str(err))


def scan_dataset(adapter, workers: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the adapter and probe every clip (decode every frame, hash the files) with
    ``workers`` threads (OpenCV decodes outside the GIL). Returns (manifest without folds,
    rejected), both in the adapter's order whatever ``workers`` is."""
    adapter.check_root()
    items: list[ClipRecord | Rejection] = []
    seen: set[str] = set()
    for item in adapter.scan():
        if isinstance(item, ClipRecord):
            if not all(map(_utf8, (item.clip_id, item.subject, item.source))):
                # The manifest is UTF-8 text read by later stages: such a path cannot round-trip.
                item = Rejection(item.source, "file name is not valid UTF-8; rename it")
            elif item.clip_id in seen:
                item = Rejection(item.source, f"duplicate clip id {item.clip_id}")
            else:
                seen.add(item.clip_id)
        items.append(item)
    clips = [i for i in items if isinstance(i, ClipRecord)]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        probed = dict(zip((c.clip_id for c in clips), pool.map(_probe, clips)))
    rows, rejected = [], []
    for item in items:
        if isinstance(item, Rejection):
            rejected.append({"path": printable(item.path), "reason": printable(item.reason)})
            continue
        result = probed[item.clip_id]
        if isinstance(result, str):
            rejected.append({"path": item.source, "reason": result})
            continue
        frames, fps, digest = result
        rows.append({
            "clip_id": item.clip_id, "dataset": adapter.name, "subject": item.subject,
            "label": item.label, "label_raw": item.label_raw, "source": item.source,
            "kind": item.kind, "frames": frames, "fps": fps, "sha256": digest,
        })
    manifest = pd.DataFrame(rows, columns=MANIFEST_COLUMNS[:-1])
    return manifest, pd.DataFrame(rejected, columns=["path", "reason"])


def register(name: str, entry: dict[str, Any], out_csv: str | Path, rejected_csv: str | Path,
             *, folds: int, seed: int, strict: bool = False, workers: int = 1) -> pd.DataFrame:
    adapter = make_adapter(name, entry)
    root = adapter.root.resolve()
    for out in (out_csv, rejected_csv):
        if root == Path(out).resolve() or root in Path(out).resolve().parents:
            raise DatasetError(f"dataset {name!r}: output {out} lies inside the dataset root "
                               f"{adapter.root}, which is read-only; set 'results' elsewhere")
    manifest, rejected = scan_dataset(adapter, workers)
    if strict and len(rejected):
        first = rejected.iloc[0]
        raise DatasetError(
            f"dataset {name!r}: {len(rejected)} file(s) rejected and 'register.strict' is true; "
            f"first: {first.path}: {first.reason}"
        )
    if manifest.empty:
        raise DatasetError(
            f"dataset {name!r}: no readable clip under {adapter.root} "
            f"({len(rejected)} rejected; see {rejected_csv}); expected {adapter.LAYOUT}"
        )
    fixed = adapter.fixed_folds(manifest)      # the release's own split (RAF-DB official)
    manifest["fold"] = fixed if fixed is not None else assign_folds(manifest, folds, seed,
                                                                     dataset=name)
    missing = sorted(set(adapter.CLASSES) - set(manifest["label"]))
    if missing:
        log.warning("dataset %s: no clip of class(es) %s", name, ", ".join(missing))
    atomic.write_csv(rejected_csv, rejected)
    atomic.write_csv(out_csv, manifest[MANIFEST_COLUMNS])
    log.info("dataset %s: %d clips (%d labelled, %d subjects), %d rejected", name, len(manifest),
             int((manifest["label"] != "").sum()), manifest["subject"].nunique(), len(rejected))
    return manifest


def read_manifest(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"clip_id": str, "subject": str, "label": str,
                                    "label_raw": str}, keep_default_na=False)
