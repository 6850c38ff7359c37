"""Figures of the study (PNG + PDF, matplotlib Agg): variance plots, cross-dataset heatmap,
t-SNE of embeddings, confusion matrices, training curves, and the QC sheets of other stages.

``catalog`` names the files, ``draw`` draws them all, ``regenerate`` is the ``figures`` target.
"""
