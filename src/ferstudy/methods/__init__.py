"""Learning methods (training objectives and schedules), registered by config name.

See ``ferstudy.methods.base`` for the interface the training engine drives.
"""
from ferstudy.registry import Registry

METHODS = Registry("learning method")

from ferstudy.methods.base import Method  # noqa: E402

METHODS.register("supervised")(Method)

# Each module registers its method on import (name = config value = wildcard value).
from ferstudy.methods import adacm, curriculum, scn  # noqa: E402,F401
