"""The config of one ``ferstudy`` command: config.yaml, the ``--config`` file, ``--set`` overrides."""
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


def load_config(args: argparse.Namespace, *, need_study: bool = True) -> dict[str, Any]:
    """config.yaml <- ``--config`` file <- ``--set``: the resolution Snakemake uses too."""
    from ferstudy.resolution import resolve_cli

    return resolve_cli(args.config, parse_overrides(args.set), need_study=need_study)
