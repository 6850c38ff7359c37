"""The study's figures by name and path, with their report captions (no plotting imports, so
the Snakefile can list the outputs cheaply)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ferstudy.config import is_merged

STUDY_FIGURES = ("verdicts", "variance", "cross_dataset")
PER_DATASET = ("tsne", "confusion", "curves")
DIAGNOSED = ("scn", "adacm", "curriculum")   # methods with a mechanism-diagnostics figure
CAPTIONS = {  # figure kind -> (caption file in workflow/report/, report category)
    "verdicts": ("verdicts_figure", "1. Verdicts"),
    "comparisons": ("comparisons_figure", "2. Comparisons by question"),
    "variance": ("variance", "Spread over seeds and folds"),
    "cross_dataset": ("cross_dataset", "Cross-dataset tests"),
    "tsne": ("tsne", "Embeddings (t-SNE)"),
    "confusion": ("confusion", "Confusion matrices"),
    "curves": ("curves", "Training curves"),
    "diagnostics": ("diagnostics", "3. Method mechanism diagnostics"),
}


def figure_caption(name: str) -> tuple[str, str, str | None]:
    """(caption name, report category, subcategory = training set / question or None)."""
    kind, _, sub = name.partition("/")
    caption, category = CAPTIONS[kind]
    return caption, category, sub or None


def answerable(questions: Sequence[str], study: Mapping[str, Any]) -> list[str]:
    """The comparison questions whose two arms are both in the study grid (one forest figure
    each)."""
    arms = {"ft_vs_ri": {"ft", "ri"} <= set(study["inits"]),
            "da_vs_none": {"da", "none"} <= set(study["augments"]),
            "sd_vs_none": {"sd", "none"} <= set(study["augments"]),
            "dasd_vs_none": {"da+sd", "none"} <= set(study["augments"]),
            "method_vs_supervised": "supervised" in study["methods"] and len(study["methods"]) > 1,
            "merged_vs_single": any(is_merged(d) for d in study["datasets"]),
            "in_vs_cross": bool(study["cross_dataset"]) and len(study["datasets"]) > 1}
    return [q for q in questions if arms.get(q, False)]


def figure_files(figures_dir: str | Path, datasets: Sequence[str],
                 questions: Sequence[str] = (), methods: Sequence[str] = ()
                 ) -> dict[str, dict[str, str]]:
    """name -> {"png": path, "pdf": path}; names are ``verdicts``, ``variance``,
    ``cross_dataset``, ``comparisons/{question}`` for each question,
    ``{tsne|confusion|curves}/{dataset}`` for each training dataset and
    ``diagnostics/{method}`` for each of ``methods`` with diagnostics (``DIAGNOSED``)."""
    root = Path(figures_dir)
    names = [*STUDY_FIGURES, *(f"comparisons/{q}" for q in questions),
             *(f"{kind}/{d}" for kind in PER_DATASET for d in datasets),
             *(f"diagnostics/{m}" for m in DIAGNOSED if m in methods)]
    return {n: {ext: str(root / f"{n}.{ext}") for ext in ("png", "pdf")} for n in names}


def in_report(name: str, datasets: Sequence[str], sample: int) -> bool:
    """Whether a figure is embedded in report.html: every study figure, and the per-dataset
    ones (t-SNE, confusion, curves) for the first ``sample`` training sets only, which keeps
    the report small; the others stay files under results/studies/<study>/figures/."""
    kind, _, dataset = name.partition("/")
    return kind not in PER_DATASET or dataset in list(datasets)[:sample]
