"""Augmentations of the study grid: DA (``affine``), SD (the clip GAN in ``gan``), how
synthetic clips are mixed into training (``mixing``). The registry is ``specs.AUGMENTS``."""
from ferstudy.augment.specs import AUGMENTS, AugmentSpec  # noqa: F401
