"""All registries by family name: the one place config, Snakefile and CLI get names from."""
from __future__ import annotations

from ferstudy.archs import ARCHS
from ferstudy.augment import AUGMENTS
from ferstudy.datasets import DATASETS
from ferstudy.inits import INITS
from ferstudy.methods import METHODS

REGISTRIES = {
    "datasets": DATASETS,
    "archs": ARCHS,
    "methods": METHODS,
    "augments": AUGMENTS,
    "inits": INITS,
}
