"""Learning methods (training objectives and schedules), registered by config name.

See ``ferstudy.methods.base`` for the interface the training engine drives.
"""
# The registry lives in ``ferstudy.methods.base`` (with ``supervised``, the base Method); each
# module registers its method on import (name = config value = wildcard value).
from ferstudy.methods import adacm, curriculum, scn  # noqa: F401
from ferstudy.methods.base import METHODS, Method  # noqa: F401
