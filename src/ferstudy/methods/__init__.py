"""Learning methods (training objectives and schedules), registered by config name."""
from ferstudy.registry import Registry

METHODS = Registry("learning method")
