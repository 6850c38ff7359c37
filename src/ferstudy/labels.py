"""Canonical expression labels shared by every dataset adapter.

Each adapter maps its native codes to these names; a dataset's missing classes are recorded
in its manifest, never invented.
"""
from __future__ import annotations

BASIC6 = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")
CANONICAL = ("neutral", *BASIC6, "contempt")


def check_label(name: str) -> str:
    if name not in CANONICAL:
        raise ValueError(f"{name!r} is not a canonical label; expected one of {', '.join(CANONICAL)}")
    return name


def shared_classes(a: list[str] | tuple[str, ...], b: list[str] | tuple[str, ...]) -> list[str]:
    """Classes two label sets have in common, in canonical order (cross-dataset tests use it)."""
    common = set(a) & set(b)
    return [c for c in CANONICAL if c in common]
