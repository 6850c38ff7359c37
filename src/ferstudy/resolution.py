"""One resolution of a study's config for the Snakefile and the ``ferstudy`` commands.

A study is config.yaml (the workflow's ``configfile:``, in the working directory) with the
study file on top and the overrides on top of that, validated with the schema's defaults
filled in. Snakemake and the CLI only differ in where the layers come from:
- ``snakemake [--configfile S ...] [--config k=v ...]``: :func:`snakemake_layers`;
- ``ferstudy <command> --config S [--set k=v ...]``: :func:`cli_layers`.
Both then go through :func:`resolve_layers`, so ``ferstudy check-config --config S`` prints
the config that ``snakemake --configfile S`` runs.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ferstudy import config as fcfg

BASE = "config.yaml"   # the Snakefile's `configfile:`, relative to the working directory


def named_study(layers: list[dict[str, Any]], study_file: str | Path) -> list[dict[str, Any]]:
    """``layers`` whose top file layer is ``study_file``, plus the study's default name: a
    study file (one with a ``study`` section) that sets no ``study.name`` is named by its stem
    (``studies/pitfalls.yaml``: ``pitfalls``), never by the name of the file under it
    (config.yaml's ``demo``). A file without a study section (datasets only, laid over
    config.yaml) keeps the name of the study it runs."""
    own = layers[-1].get("study") if layers else None
    if not isinstance(own, dict) or "name" in own:
        return layers
    return [*layers, {"study": {"name": Path(study_file).stem}}]


def cli_layers(config_path: str | Path, overrides: dict[str, Any] | None = None, *,
               base: str | Path = BASE) -> list[dict[str, Any]]:
    """config.yaml (when it exists and is not the study file itself), the study file (named:
    ``named_study``), the ``--set`` overrides."""
    study, base = Path(config_path), Path(base)
    layers = []
    if base.is_file() and not (study.exists() and study.resolve() == base.resolve()):
        layers.append(fcfg.load_yaml(base))
    layers = named_study([*layers, fcfg.load_yaml(study)], study)
    if overrides:
        layers.append(overrides)
    return layers


def snakemake_layers(workflow: Any) -> list[dict[str, Any]]:
    """The layers Snakemake merged into ``config``, in its order: the ``configfile:`` files
    it loaded (unless ``--replace-workflow-config``), the ``--configfile`` files (the last one
    names the study: ``named_study``), ``--config``."""
    settings = workflow.config_settings
    cli_files = [Path(f).resolve() for f in settings.configfiles]
    directive = [f for f in workflow.configfiles if Path(f).resolve() not in cli_files]
    if getattr(settings, "replace_workflow_config", False):
        directive = []
    files = [*directive, *cli_files]
    layers = [fcfg.load_yaml(f) for f in files]
    if files:
        layers = named_study(layers, files[-1])
    if settings.config:
        layers.append(copy.deepcopy(dict(settings.config)))
    return layers


def resolve_layers(layers: list[dict[str, Any]], *, cli_overrides: dict[str, Any] | None = None,
                   need_study: bool = True) -> dict[str, Any]:
    """Deep-merge ``layers`` (later wins, dicts merged key by key, like Snakemake) and validate.
    ``cli_overrides``: Snakemake's ``--config`` dict, whose strings take the schema's types.
    ``need_study=False``: a config without a ``study`` section is valid (``ferstudy register``
    needs only the dataset's section)."""
    config: dict[str, Any] = {}
    for layer in layers:
        fcfg.deep_update(config, copy.deepcopy(layer))
    schema = None
    if not need_study:
        schema = fcfg.load_schema()
        schema["required"] = [k for k in schema.get("required", []) if k != "study"]
    return fcfg.validate(config, schema, cli_overrides=cli_overrides, study_checks=need_study)


def resolve_cli(config_path: str | Path, overrides: dict[str, Any] | None = None, *,
                need_study: bool = True) -> dict[str, Any]:
    """What ``ferstudy <command> --config S --set ...`` runs with."""
    return resolve_layers(cli_layers(config_path, overrides), need_study=need_study)
