"""Shared figure plumbing: headless backend, consistent look, atomic PNG + PDF output."""
from __future__ import annotations

from pathlib import Path

import logging

import matplotlib

matplotlib.use("Agg")  # no display on cluster nodes or CI

import matplotlib.pyplot as plt  # noqa: E402

from ferstudy.atomic import atomic_path  # noqa: E402

plt.rcParams.update({
    "figure.dpi": 100, "savefig.bbox": "tight", "axes.grid": True, "grid.alpha": 0.3,
    "axes.spines.top": False, "axes.spines.right": False, "font.size": 9,
    "axes.titlesize": 9, "legend.fontsize": 8, "pdf.fonttype": 42,
})
logging.getLogger("fontTools").setLevel(logging.WARNING)  # PDF font subsetting is chatty
PALETTE = plt.get_cmap("tab10").colors


def compress_png(path: str | Path, max_side: int | None = None) -> None:
    """Rewrite a PNG in place as a 256-colour palette image, zlib-optimised (and scaled down to
    ``max_side`` pixels on its longer side): plots and QC sheets lose nothing visible and shrink
    several-fold, which keeps report.html small."""
    from PIL import Image

    with Image.open(path) as image:
        image.load()
    if max_side and max(image.size) > max_side:
        scale = max_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    if image.mode not in ("P", "L"):
        image = image.convert("RGB").quantize(colors=256)
    image.save(path, format="PNG", optimize=True)


def save_figure(fig, png: str | Path, pdf: str | Path | None = None, *, dpi: int = 150) -> None:
    """Write ``fig`` to ``png`` (palette-compressed) and ``pdf``, each atomically, then close it."""
    try:
        with atomic_path(png, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=dpi, format="png")
            compress_png(tmp)
        if pdf is not None:
            with atomic_path(pdf, suffix=".pdf") as tmp:
                fig.savefig(tmp, format="pdf")
    finally:
        plt.close(fig)


def message_figure(title: str, message: str):
    """A figure that says why there is nothing to draw (kept so the report stays complete)."""
    fig, ax = plt.subplots(figsize=(5, 2))
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, transform=ax.transAxes)
    return fig


def config_label(row, axes=("arch", "method", "init", "augment", "protocol")) -> str:
    """A short configuration label: the axes' values joined by '/'."""
    return "/".join(str(row[a]) for a in axes)


def grid(n_rows: int, n_cols: int, *, width: float, height: float, **kwargs):
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(width * n_cols, height * n_rows),
                             squeeze=False, **kwargs)
    return fig, axes
