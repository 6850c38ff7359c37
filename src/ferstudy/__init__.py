"""ferstudy: facial-expression recognition under limited data, as a reproducible study."""
__version__ = "0.1.0"
