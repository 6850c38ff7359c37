"""The register stage: adapter -> manifest CSV (+ folds) and a table of rejected files.

Manifest columns (``results/registry/{dataset}.csv``, one row per clip)::

    clip_id, dataset, subject, label, label_raw, source, kind, frames, fps, sha256, fold

``label`` is canonical or empty (unlabelled). ``fold`` is subject-independent and stratified.
``fps`` is the video's own rate, or for frame folders the adapter's release rate (``FPS``) or
the entry's ``fps``. Rejected clips, and label files that match no clip, go to
``{dataset}.rejected.csv`` (path, reason; one summary line of counts per reason is logged);
``strict`` makes any rejection an error, after writing that table and listing every rejection.
``{dataset}.json`` records what identity checks need: the resolved root, the adapter and its
options, the frame rate and the counts (subjects and sha256 values are in
the manifest). Nothing is ever written inside the dataset root.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from ferstudy import atomic
from ferstudy.datasets import DATASETS
from ferstudy.datasets.base import ClipRecord, DatasetError, Rejection
from ferstudy.datasets.folds import assign_folds
from ferstudy.logs import Progress
from ferstudy.media import DEFAULT_FPS, MediaError, probe, sha256_of

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = ["clip_id", "dataset", "subject", "label", "label_raw", "source", "kind",
                    "frames", "fps", "sha256", "fold"]


def make_adapter(name: str, entry: dict[str, Any]):
    adapter_cls = DATASETS.get(entry.get("adapter", name))
    return adapter_cls(name, entry["root"], entry.get("options", {}), fps=entry.get("fps"))


def check_layout(name: str, entry: dict[str, Any]) -> None:
    """Raise DatasetError unless the root exists and its top level has the adapter's layout
    (the checks an adapter's scan makes before its first clip): cheap, for the workflow to run
    before any job starts."""
    adapter = make_adapter(name, entry)
    adapter.check_root()
    next(iter(adapter.scan()), None)


def printable(text: str) -> str:
    """A file name as valid UTF-8 text: undecodable bytes (surrogate escapes) become \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def reason_key(reason: str) -> str:
    """The kind of a rejection, for the summary: the reason without the file it names (media
    errors start with it) and without the details after the first ':', ';' or ' ('."""
    head, sep, rest = reason.partition(": ")
    if sep and ("/" in head or "\\" in head):
        reason = rest
    return re.split(r":|;| \(", reason, maxsplit=1)[0].strip()


def rejection_summary(rejected: pd.DataFrame) -> str:
    counts = Counter(map(reason_key, rejected["reason"]))
    return ", ".join(f"{n} {key}" for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _probe(item: ClipRecord, fps: float | None = None) -> tuple[int, float, str] | str:
    """(frames, fps, sha256) of a clip, or the reason it cannot be read."""
    try:
        frames, fps = probe(item.source, item.kind, fps)
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
                item = Rejection(item.source, f"duplicate clip id: {item.clip_id}")
            else:
                seen.add(item.clip_id)
        items.append(item)
    clips = [i for i in items if isinstance(i, ClipRecord)]
    progress = Progress(log, f"{adapter.name}: decoded and hashed", len(clips), unit="clips")
    probed = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = pool.map(lambda clip: _probe(clip, adapter.fps), clips)
        for n, (clip, result) in enumerate(zip(clips, results), start=1):
            probed[clip.clip_id] = result
            progress.update(n)
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
             *, folds: int, seed: int, strict: bool = False, workers: int = 1,
             record_json: str | Path | None = None) -> pd.DataFrame:
    """Write the manifest, the rejection table and the registration record (default path:
    the manifest's with ``.json``)."""
    adapter = make_adapter(name, entry)
    root = adapter.root.resolve()
    record_json = Path(record_json) if record_json else Path(out_csv).with_suffix(".json")
    for out in (out_csv, rejected_csv, record_json):
        if root == Path(out).resolve() or root in Path(out).resolve().parents:
            raise DatasetError(f"dataset {name!r}: output {out} lies inside the dataset root "
                               f"{adapter.root}, which is read-only; set 'results' elsewhere")
    manifest, rejected = scan_dataset(adapter, workers)
    if strict and len(rejected):
        atomic.write_csv(rejected_csv, rejected)
        listing = "\n".join(f"  {r.path}: {r.reason}" for r in rejected.itertuples())
        raise DatasetError(
            f"dataset {name!r}: {len(rejected)} file(s) rejected and 'register.strict' is true "
            f"({rejection_summary(rejected)}; table: {rejected_csv}); fix or remove them, or set "
            f"register.strict: false to register the rest:\n{listing}"
        )
    if manifest.empty:
        raise DatasetError(
            f"dataset {name!r}: no readable clip under {adapter.root} ({len(rejected)} "
            f"rejected{': ' + rejection_summary(rejected) if len(rejected) else ''}); "
            f"expected {adapter.LAYOUT}"
        )
    fixed = adapter.fixed_folds(manifest)      # the release's own split (RAF-DB official)
    manifest["fold"] = fixed if fixed is not None else assign_folds(manifest, folds, seed,
                                                                     dataset=name)
    missing = sorted(set(adapter.CLASSES) - set(manifest["label"]))
    if missing:
        log.warning("dataset %s: no clip of class(es) %s", name, ", ".join(missing))
    if adapter.fps is None and (manifest["kind"] == "frames").any():
        log.warning("dataset %s: frame folders carry no frame rate and the adapter knows none; "
                    "fps %.0f recorded (set datasets.%s.fps)", name, DEFAULT_FPS, name)
    labelled = int((manifest["label"] != "").sum())
    atomic.write_csv(rejected_csv, rejected)
    atomic.write_json(record_json, {
        "dataset": name, "adapter": entry.get("adapter", name), "root": str(root),
        # rate of frame folders (null: none known, DEFAULT_FPS used); videos carry their own
        "options": adapter.options, "fps": adapter.fps,
        "clips": len(manifest), "labelled": labelled, "unlabelled": len(manifest) - labelled,
        "subjects": int(manifest["subject"].nunique()), "rejected": len(rejected),
        "rejected_by_reason": dict(Counter(map(reason_key, rejected["reason"]))),
    })
    atomic.write_csv(out_csv, manifest[MANIFEST_COLUMNS])
    log.info("dataset %s: %d clips (%d labelled, %d unlabelled, %d subjects); %d rejected%s",
             name, len(manifest), labelled, len(manifest) - labelled,
             manifest["subject"].nunique(), len(rejected),
             f": {rejection_summary(rejected)}" if len(rejected) else "")
    return manifest


def read_manifest(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"clip_id": str, "subject": str, "label": str,
                                    "label_raw": str}, keep_default_na=False)
