"""The study's figures by name and path, with their report captions (no plotting imports, so
the Snakefile can list the outputs cheaply)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

STUDY_FIGURES = ("variance", "cross_dataset", "comparisons")
PER_DATASET = ("tsne", "confusion", "curves")
CAPTIONS = {  # figure kind -> (caption file in workflow/report/, report category)
    "variance": ("variance", "Spread over seeds and folds"),
    "cross_dataset": ("cross_dataset", "Cross-dataset tests"),
    "comparisons": ("comparisons_figure", "Spread over seeds and folds"),
    "tsne": ("tsne", "Embeddings (t-SNE)"),
    "confusion": ("confusion", "Confusion matrices"),
    "curves": ("curves", "Training curves"),
}


def figure_caption(name: str) -> tuple[str, str, str | None]:
    """(caption name, report category, subcategory = training set or None) of a figure."""
    kind, _, dataset = name.partition("/")
    caption, category = CAPTIONS[kind]
    return caption, category, dataset or None


def figure_files(figures_dir: str | Path, datasets: Sequence[str]) -> dict[str, dict[str, str]]:
    """name -> {"png": path, "pdf": path}; names are ``variance``, ``cross_dataset``,
    ``comparisons`` and
    ``{tsne|confusion|curves}/{dataset}`` for each training dataset."""
    root = Path(figures_dir)
    names = [*STUDY_FIGURES, *(f"{kind}/{d}" for kind in PER_DATASET for d in datasets)]
    return {n: {ext: str(root / f"{n}.{ext}") for ext in ("png", "pdf")} for n in names}


