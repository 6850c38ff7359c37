"""One small registry per family (datasets, archs, methods, augments, inits).

A registry maps the name used in config, wildcards and test ids to the object that implements
it. The Snakefile's wildcard constraints and the config schema's enums are built from
``Registry.names()``, so a new entry is one decorated function plus its test.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


class UnknownNameError(KeyError):
    """Raised for a name that no entry of the registry carries."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


class Registry:
    def __init__(self, family: str):
        self.family = family
        self._entries: dict[str, Any] = {}

    def register(self, name: str | None = None) -> Callable[[Any], Any]:
        """Decorator: ``@ARCHS.register("c3d")`` (default name: the object's ``__name__``)."""

        def add(obj: Any) -> Any:
            key = name or obj.__name__
            if key in self._entries:
                raise ValueError(f"{self.family} registry: {key!r} registered twice")
            self._entries[key] = obj
            return obj

        return add

    def get(self, name: str) -> Any:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(
                f"unknown {self.family} {name!r}; known: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def pattern(self) -> str:
        """Regex alternation of the names, for Snakemake wildcard constraints."""
        import re

        return "|".join(re.escape(n) for n in sorted(self._entries, key=len, reverse=True))
