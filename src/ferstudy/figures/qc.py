"""Quality-control sheets made by other stages, gathered under results/studies/<study>/figures/qc/ for the report.

Alignment contact sheets (``results/aligned/{dataset}/contact_sheet.png``) become
``aligned_{dataset}.png``; GAN QC sheets (any PNG under ``results/gan/``) become
``gan_{path parts joined by _}.png``. Only sheets that exist are copied, palette-compressed and
at most ``MAX_SIDE`` px on the longer side (``style.compress_png``) so that the report stays
small (a demo contact sheet: 3.3 MB -> about 0.3 MB); the originals are untouched.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from ferstudy.atomic import atomic_path
from ferstudy.figures.style import compress_png

MAX_SIDE = 1600


def find_sheets(results: str | Path) -> dict[str, Path]:
    """Target file name -> source sheet."""
    results = Path(results)
    sheets = {f"aligned_{p.parent.name}.png": p
              for p in sorted(results.glob("aligned/*/contact_sheet.png"))}
    for p in sorted((results / "gan").rglob("*.png")):
        sheets["gan_" + "_".join(p.relative_to(results / "gan").parts)] = p
    return sheets


def collect_sheets(results: str | Path, out_dir: str | Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, source in find_sheets(results).items():
        with atomic_path(out_dir / name, suffix=".png") as tmp:
            shutil.copyfile(source, tmp)
            compress_png(tmp, max_side=MAX_SIDE)
        written.append(out_dir / name)
    return written
