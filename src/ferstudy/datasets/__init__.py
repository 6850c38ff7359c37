"""Dataset adapters, registered by the name used in config (``datasets.<name>.adapter``).

The registry lives in ``ferstudy.datasets.base``; importing an adapter module registers it, so
this package imports them all and ``from ferstudy.datasets import DATASETS`` is complete."""
from ferstudy.datasets import ckplus, generic, mmi, mug, oulu, rafdb, ravdess  # noqa: F401
from ferstudy.datasets.base import DATASETS  # noqa: F401
