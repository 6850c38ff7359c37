"""Every registry family, populated, by name: the one place config, Snakefile and CLI get
names from. (``ferstudy.registry`` is the ``Registry`` class; each family's instance lives in
a leaf module beside its entries, and importing the package registers them all.)"""
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
