"""The augmentation registry (``study.augments``): what each grid value switches on.

``none``: raw clips. ``da``: classic clip-consistent affine + jitter, online in the loader.
``sd``: synthetic clips from a GAN trained on the run's training subjects, mixed in.
``da+sd``: both.
"""
from __future__ import annotations

from dataclasses import dataclass

from ferstudy.registry import Registry

AUGMENTS = Registry("augmentation")


@dataclass(frozen=True)
class AugmentSpec:
    name: str
    affine: bool      # apply the DA transform to training batches
    synthetic: bool   # mix generated clips into the training set


for _spec in (AugmentSpec("none", False, False), AugmentSpec("da", True, False),
              AugmentSpec("sd", False, True), AugmentSpec("da+sd", True, True)):
    AUGMENTS.register(_spec.name)(_spec)
