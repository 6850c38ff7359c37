"""Figures of the study (PNG + PDF, matplotlib Agg): variance plots, cross-dataset heatmap,
t-SNE of embeddings, confusion matrices, training curves, and the QC sheets of other stages."""
from ferstudy.figures import style  # noqa: F401  (selects the Agg backend first)
from ferstudy.figures.draw import draw_figures, figure_files  # noqa: F401
from ferstudy.figures.qc import collect_sheets  # noqa: F401
