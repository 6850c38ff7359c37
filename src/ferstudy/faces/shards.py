"""Sharding the align stage: a dataset's manifest is cut into ``align.shards`` contiguous
slices, each aligned by its own job into ``shards/{shard}.npz``, then gathered into the store.

Shard file (``np.savez``, no pickles)::

    clips      uint8 (n_ok, T, H, W, C)
    intensity  float32 (n_ok, T)
    qc         0-d str: the QC table of every clip of the slice as CSV (ferstudy.faces.stage)

Written to a temp name and renamed, so a killed job never leaves a final ``.npz``. Slices
are contiguous in manifest order, so the gathered store keeps the manifest's order.
"""
from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ferstudy import atomic, clipstore
from ferstudy.datasets.register import read_manifest
from ferstudy.faces.stage import QC_COLUMNS, AlignedSet, AlignSettings, align_clips

log = logging.getLogger(__name__)


def shard_rows(manifest: pd.DataFrame, shards: int, shard: int) -> pd.DataFrame:
    """The manifest rows of one shard: the ``shard``-th of ``shards`` contiguous slices."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} out of range: align.shards is {shards} (0..{shards - 1})")
    parts = np.array_split(np.arange(len(manifest)), shards)
    return manifest.iloc[parts[shard]]


def write_shard(path: str | Path, aligned: AlignedSet) -> None:
    with atomic.atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, clips=aligned.clips, intensity=aligned.intensity,
                 qc=np.array(aligned.qc.to_csv(index=False)))


def read_shard(path: str | Path) -> AlignedSet:
    with np.load(path, allow_pickle=False) as z:
        qc = pd.read_csv(io.StringIO(str(z["qc"])), dtype={"clip_id": str, "subject": str,
                         "label": str, "reason": str}, keep_default_na=False)
        return AlignedSet(z["clips"], z["intensity"], qc)


def align_shard(manifest_csv: str | Path, out_npz: str | Path, cfg: dict[str, Any],
                models_dir: str | Path, temporal: str, shard: int) -> AlignedSet:
    """Align one shard of a dataset's manifest and write its ``.npz`` atomically."""
    manifest = read_manifest(manifest_csv)
    settings = AlignSettings.from_config(cfg).for_manifest(manifest)
    rows = shard_rows(manifest, int(cfg["shards"]), shard)
    log.info("shard %d/%d: %d clips from %s (%s sampling)", shard, cfg["shards"], len(rows),
             manifest_csv, temporal)
    aligned = align_clips(rows, settings, models_dir, temporal)
    write_shard(out_npz, aligned)
    return aligned


def gather_aligned(manifest_csv: str | Path, shard_files: list[str | Path], out_dir: str | Path,
                   cfg: dict[str, Any], contact_sheet: str | Path | None = None) -> pd.DataFrame:
    """Stack the shards (in shard order) into the clip store + qc.csv (+ contact sheet).

    Checks that the shards cover exactly the manifest's clips with the configured clip shape,
    so a stale shard from an older manifest or config is an error, not a silent mix."""
    from ferstudy.faces.qc import write_contact_sheet

    manifest = read_manifest(manifest_csv)
    settings = AlignSettings.from_config(cfg).for_manifest(manifest)
    parts = [read_shard(p) for p in shard_files]
    want = settings.empty_clips().shape[1:]
    for p, part in zip(shard_files, parts):
        if part.clips.shape[1:] != want:
            raise ValueError(f"{p}: clips of shape {part.clips.shape[1:]} but the align config "
                             f"asks for {want}; delete the shard files and rerun align_shard")
    qc = pd.concat([p.qc for p in parts], ignore_index=True).reindex(columns=QC_COLUMNS)
    if list(qc["clip_id"]) != list(manifest["clip_id"]):
        raise ValueError(f"shards {', '.join(map(str, shard_files))} do not cover the manifest "
                         f"{manifest_csv} clip for clip (stale shards?); rerun align_shard")
    clips = np.concatenate([p.clips for p in parts])
    intensity = np.concatenate([p.intensity for p in parts]).astype(np.float32)
    ok = (qc["status"] == "ok").to_numpy()
    index = manifest.loc[ok, ["clip_id", "dataset", "subject", "label", "fold"]].reset_index(drop=True)
    index["detection_rate"] = qc.loc[ok, "detection_rate"].to_numpy()
    index["intensity"] = qc.loc[ok, "intensity"].to_numpy()
    index["synthetic"] = 0
    index.insert(0, "row", np.arange(len(index)))
    out_dir = Path(out_dir)
    clipstore.write_store(out_dir, clips, intensity, index)
    atomic.write_csv(out_dir / "qc.csv", qc)
    if contact_sheet is not None:
        write_contact_sheet(contact_sheet, clips, index, qc, settings)
    n_bad = int((~ok).sum())
    if not len(index):
        log.warning("store %s holds no clip: all %d were rejected; see %s", out_dir, n_bad,
                    out_dir / "qc.csv")
    log.info("store %s: %d clips of shape %s, %d rejected (see qc.csv)", out_dir, len(index),
             tuple(clips.shape[1:]), n_bad)
    return qc
