"""The config of one ``ferstudy`` command: the ``--config`` file plus ``--set`` overrides."""
from __future__ import annotations

import argparse
from typing import Any

import yaml


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["a.b=1", "c=[x, y]"]`` -> ``{"a": {"b": 1}, "c": ["x", "y"]}`` (values read as YAML)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"ferstudy: --set expects key.path=value, got {item!r}")
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = yaml.safe_load(value)
    return out


def load_config(args: argparse.Namespace) -> dict[str, Any]:
    from ferstudy import config as fcfg

    return fcfg.resolve(args.config, parse_overrides(args.set))
