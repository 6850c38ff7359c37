"""Dataset adapters, registered by the name used in config (``datasets.<name>.adapter``)."""
from ferstudy.registry import Registry

DATASETS = Registry("dataset adapter")

# Importing a module registers its adapter(s).
from ferstudy.datasets import ckplus, generic, mmi, mug, oulu, rafdb, ravdess  # noqa: E402,F401
