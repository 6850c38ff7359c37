"""The fixed rules that turn a comparison's numbers into one verdict word.

Applied in this order (documented in README "Statistics"; ``decide`` and ``alpha`` from
``evaluate.stats``):

1. fewer than 2 paired units (folds, or datasets), or   -> ``undecided`` (nothing to test against;
   a difference row resting on one fold only               a single test fold is one split)
2. P(A better) >= decide and adjusted p < alpha          -> ``A better``
3. P(B better) >= decide and adjusted p < alpha          -> ``B better``
4. P(equivalent) >= decide                               -> ``equivalent``
5. otherwise                                             -> ``undecided``

"Better" means by more than the ROPE (``evaluate.stats.rope`` accuracy points; for seed-spread
rows: a smaller seed standard deviation by more than the factor ``sd_ratio_rope``). A difference
can be significant and still ``undecided`` when its size is unclear (the interval reaches into
the ROPE); the ``reason`` column says which rule applied.
"""
from __future__ import annotations

import math

VERDICTS = ("A better", "B better", "equivalent", "undecided")
NOT_IN_STUDY = "not in this study"


def verdict(n_units: int, p_a: float, p_rope: float, p_b: float, p_adjusted: float, *,
            decide: float, alpha: float, n_folds: int | None = None) -> tuple[str, str]:
    """(verdict word, reason); n_folds: folds behind a difference row (None: seed-spread row)."""
    if n_units < 2:
        return "undecided", f"n = {n_units} paired unit: no spread to test against"
    if n_folds is not None and n_folds < 2:
        return "undecided", "n = 1 fold: one split cannot decide"
    if any(math.isnan(v) for v in (p_a, p_rope, p_b)):
        return "undecided", "no posterior (no spread estimate)"
    significant = not math.isnan(p_adjusted) and p_adjusted < alpha
    for word, prob in (("A better", p_a), ("B better", p_b)):
        if prob >= decide:
            if significant:
                return word, f"P({word.split()[0]} better) >= {decide:g} and adjusted p < {alpha:g}"
            return "undecided", f"P({word.split()[0]} better) >= {decide:g} but adjusted p >= {alpha:g}"
    if p_rope >= decide:
        return "equivalent", f"P(within ROPE) >= {decide:g}"
    if significant:
        return "undecided", "significant, but the size is unclear (interval reaches the ROPE)"
    return "undecided", "interval spans the ROPE and beyond"
