"""Config as validated data: load YAML, check it against the JSON schema, fill defaults.

The schema (``ferstudy/schemas/config.schema.yaml``, package data) is standard JSON Schema:
stage sections and the registries' names (``registries.schema.yaml``, generated from the code by
``ferstudy.schema_enums`` and checked by a test) are joined with relative ``$ref``s, so the
allowed names in error messages are always the ones the code can actually run.
Unknown keys fail loudly (every object in the schema has ``additionalProperties: false``).
"""
from __future__ import annotations

import copy
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

# Package data, so that an installed (non-editable) ferstudy and a workflow deployed as a
# Snakemake module find it without a source checkout.
SCHEMA_PATH = Path(str(files("ferstudy").joinpath("schemas", "config.schema.yaml")))
MERGED_RE = re.compile(r"^merged-([a-z0-9_]+(?:\+[a-z0-9_]+)+)$")


class ConfigError(ValueError):
    """A config problem, with the offending key path in the message."""


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from None
    return data or {}


def schema_registry(folder: str | Path | None = None) -> Any:
    """A ``referencing.Registry`` that serves the schema files of ``folder`` (default: the
    package's) by file name: how the relative ``$ref``s of config.schema.yaml resolve, here and
    for any other JSON-Schema tool given the same files."""
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    folder = Path(folder or Path(SCHEMA_PATH).parent)

    def retrieve(uri: str) -> Any:
        return DRAFT202012.create_resource(load_yaml(folder / uri))

    return Registry(retrieve=retrieve)


def patterns() -> dict[str, str]:
    """Grammars defined in code (one home each), anchored for the schema."""
    from ferstudy.protocols import PROTOCOL_PATTERN

    return {"protocol": f"^({PROTOCOL_PATTERN})$"}


def load_schema(schema_path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """config.schema.yaml with every ``$ref`` (the stage sections, the generated registry
    enums) replaced by what it points to: one self-contained schema, for filling defaults and
    looking keys up. Validating with it equals validating the files with their ``$ref``s."""
    schema_path = Path(schema_path)
    resolver = schema_registry(schema_path.parent).resolver()

    def inline(node: Any, resolver: Any) -> Any:
        if isinstance(node, list):
            return [inline(value, resolver) for value in node]
        if not isinstance(node, dict):
            return node
        node = dict(node)
        ref = node.pop("$ref", None)
        if ref is None:
            return {key: inline(value, resolver) for key, value in node.items()}
        resolved = resolver.lookup(ref)
        target = inline(resolved.contents, resolved.resolver)
        target = {k: v for k, v in target.items() if k != "$schema"}
        return {**target, **{key: inline(value, resolver) for key, value in node.items()}}

    return inline(load_yaml(schema_path), resolver)


def _key_path(error: Any) -> str:
    parts: list[str] = []
    for p in error.absolute_path:
        parts.append(f"[{p}]" if isinstance(p, int) else (("." if parts else "") + str(p)))
    return "".join(parts) or "<top level>"


def _message(error: Any) -> str:
    where = _key_path(error)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return (
            f"config key '{where}': unknown key(s) {', '.join(map(_did_you_mean(allowed), extra))}; "
            f"allowed: {', '.join(allowed)}"
        )
    if error.validator == "enum":
        return (
            f"config key '{where}': {error.instance!r} is not allowed; "
            f"allowed values: {', '.join(map(str, error.validator_value))}"
        )
    return f"config key '{where}': {error.message}"


def _did_you_mean(allowed: list[str]):
    """``'trian'`` -> ``"'trian' (did you mean 'train'?)"`` when a valid key is close."""
    import difflib

    def name(key: str) -> str:
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        return f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key)

    return name


def _fill_defaults(node: Any, schema: dict[str, Any]) -> None:
    if not isinstance(node, dict):
        return
    for key, sub in schema.get("properties", {}).items():
        if key not in node and "default" in sub:
            node[key] = copy.deepcopy(sub["default"])
        if key in node:
            _fill_defaults(node[key], sub)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key, value in node.items():
            if key not in schema.get("properties", {}):
                _fill_defaults(value, extra)


def validate(config: dict[str, Any], schema: dict[str, Any] | None = None, *,
             cli_overrides: dict[str, Any] | None = None,
             study_checks: bool = True) -> dict[str, Any]:
    """Validate ``config`` in place (defaults filled) and return it; raise ConfigError.

    All schema errors are reported together, one line each, so a user fixes them in one go.
    ``study_checks=False`` skips the checks of the study grid (ft sources, sd protocols), for
    commands that use one dataset's section only (``ferstudy register``).
    """
    import jsonschema

    schema = schema or load_schema()
    _fill_defaults(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    if cli_overrides:
        _coerce_cli_strings(config, validator, cli_overrides)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(_message(e) for e in errors))
    _check_cross_references(config)
    if study_checks:
        _check_ft_sources(config)
        _check_sd_protocols(config)
    return config


def _in_overrides(path: list[Any], overrides: Any) -> bool:
    for key in path:
        try:
            overrides = overrides[key]
        except (KeyError, IndexError, TypeError):
            return False
    return True


def _coerce_cli_strings(config: dict[str, Any], validator: Any, overrides: dict[str, Any]) -> None:
    """Snakemake reads nested ``--config key={...}`` values with YAML's BaseLoader, so every
    scalar given that way arrives as a string (``seeds: ['0', '1']``). For those values only
    (paths present in ``overrides``, Snakemake's ``--config`` dict), where the schema asks for an
    integer, number or boolean and the string reads as exactly that in YAML, take the typed
    value. A quoted ``"48"`` in a config file, or ``'ten'`` anywhere, still fails validation."""
    for _ in range(8):  # a fix can expose errors deeper down; bounded
        fixed = False
        for err in validator.iter_errors(config):
            if err.validator != "type" or not isinstance(err.instance, str) \
                    or not _in_overrides(list(err.absolute_path), overrides):
                continue
            wanted = err.validator_value if isinstance(err.validator_value, list) \
                else [err.validator_value]
            try:
                value = yaml.safe_load(err.instance)
            except yaml.YAMLError:
                continue
            if not (isinstance(value, bool) and "boolean" in wanted
                    or type(value) is int and ("integer" in wanted or "number" in wanted)
                    or type(value) is float and "number" in wanted):
                continue
            node = config
            *parents, leaf = list(err.absolute_path)
            for key in parents:
                node = node[key]
            node[leaf] = value
            fixed = True
        if not fixed:
            return


def _check_cross_references(config: dict[str, Any]) -> None:
    """Checks a schema cannot express: names that must refer to other parts of the config."""
    from ferstudy.datasets import DATASETS

    declared = config.get("datasets", {})
    for name, entry in declared.items():
        adapter = entry.get("adapter", name)
        if adapter not in DATASETS:
            raise ConfigError(
                f"config key 'datasets.{name}.adapter': unknown adapter {adapter!r} "
                f"(defaults to the dataset's name); allowed: {', '.join(DATASETS.names())}"
            )
        adapter_cls = DATASETS.get(adapter)
        unknown = sorted(set(entry.get("options", {})) - set(adapter_cls.OPTIONS))
        if unknown:
            raise ConfigError(
                f"config key 'datasets.{name}.options': unknown option(s) "
                f"{', '.join(map(repr, unknown))} for adapter {adapter!r}; "
                f"allowed: {', '.join(sorted(adapter_cls.OPTIONS)) or '(none)'}"
            )
        for other in entry.get("same_subjects_as") or []:
            if other == name or other not in declared:
                raise ConfigError(
                    f"config key 'datasets.{name}.same_subjects_as': {other!r} is "
                    f"{'the dataset itself' if other == name else 'not declared under datasets'}"
                    f"; give other declared datasets: {', '.join(n for n in declared if n != name)}"
                )
    models = config.get("face_models", {})
    if models.get("source") == "path" and models.get("path") and "resources" in config and \
            Path(models["path"]).resolve() == (Path(config["resources"]) / "models").resolve():
        # get_face_models writes that folder: a rerun would first delete the very files it reads
        raise ConfigError(
            f"config key 'face_models.path': {models['path']} is the folder the pipeline keeps "
            f"its face models in ('resources'/models); models already there are used as they "
            f"are, so drop the face_models override, or copy them elsewhere and point path there"
        )
    for i, name in enumerate(config.get("study", {}).get("datasets", [])):
        for member in dataset_members(name):
            if member not in declared:
                raise ConfigError(
                    f"config key 'study.datasets[{i}]': {name!r} uses dataset {member!r}, "
                    f"which is not declared under 'datasets'; declared: {', '.join(declared)}"
                )


def _check_sd_protocols(config: dict[str, Any]) -> None:
    """The GAN of a (training set, fold) learns from the registered labels of its training
    subjects: a run whose protocol withholds or corrupts labels must not get its clips."""
    study = config.get("study", {})
    sd = [a for a in study.get("augments", []) if "sd" in str(a).split("+")]
    other = [p for p in study.get("protocols", []) if p != "full"]
    if sd and other:
        raise ConfigError(f"config key 'study.augments': {sd} with protocols {other}: the GAN "
                          f"is trained on the full labels of the training folds, which these "
                          f"protocols withhold or corrupt; run sd studies with protocols [full]")


def _check_ft_sources(config: dict[str, Any]) -> None:
    """``ft`` from the pretrain_model rule on real data needs sources the user chose: the
    demo's stand-in pool is never silently used for a dataset that is not a demo, and runs
    whose protocol is not ``full`` need a source other than the target (ferstudy.train.pretrain)."""
    study = config.get("study", {})
    pcfg = config.get("train", {}).get("pretrain", {})
    if "ft" not in study.get("inits", []) or pcfg.get("checkpoint") or pcfg.get("torchvision"):
        return
    declared = config.get("datasets", {})
    sources = [m for s in pcfg.get("sources", []) for m in dataset_members(s)]
    for src in sources:
        if src not in declared:
            raise ConfigError(f"config key 'train.pretrain.sources': {src!r} is not declared "
                              f"under 'datasets'; declared: {', '.join(declared)}")
    choices = ("set train.pretrain.sources to an external dataset you hold (declared under "
               "'datasets', e.g. [rafdb]), train.pretrain.checkpoint to a weights file, or "
               "train.pretrain.torchvision: true")
    for name in study.get("datasets", []):
        members = dataset_members(name)
        real = [m for m in members if m in declared and not is_demo(config, m)]
        if real and not sources:
            raise ConfigError(f"config key 'train.pretrain.sources': study dataset {name!r} is "
                              f"real data and study.inits has ft, but no pretraining source is "
                              f"named (the demo's pool is never used for real data); {choices}")
        demo_sources = [m for m in sources if is_demo(config, m)]
        if real and demo_sources:
            raise ConfigError(f"config key 'train.pretrain.sources': {demo_sources} is a rendered "
                              f"demo stand-in, but study dataset {name!r} is real data; {choices}")
        external = [m for m in sources or [m for d in study.get("datasets", [])
                                           for m in dataset_members(d)] if m not in members]
        if not external and any(p != "full" for p in study.get("protocols", [])):
            raise ConfigError(f"config key 'train.pretrain.sources': ft runs on {name!r} under "
                              f"protocols other than full leave {name!r} out of their pool (its "
                              f"labels are withheld or noisy), which then holds nothing; {choices}")


def dataset_members(name: str) -> list[str]:
    """``merged-ckplus+mug`` -> ``['ckplus', 'mug']``; a plain name -> ``[name]``."""
    match = MERGED_RE.match(name)
    return match.group(1).split("+") if match else [name]


def demo_root(config: dict[str, Any], name: str) -> Path:
    """Where the render_demo rule writes the stand-in for dataset ``name``."""
    return Path(config["resources"]) / "demo" / name


def is_demo(config: dict[str, Any], name: str) -> bool:
    """True when ``name`` is a rendered demo stand-in: marked ``demo: true`` *and* rooted at
    its demo folder. A root pointed elsewhere (your real copy, e.g. ``--config
    'datasets={ckplus: {root: /data/CK+}}'``) is real data, so nothing is ever rendered into it."""
    entry = config["datasets"][name]
    return bool(entry.get("demo")) and Path(entry["root"]).resolve() == demo_root(config, name).resolve()


def is_merged(name: str) -> bool:
    return MERGED_RE.match(name) is not None


def deep_update(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_update(base[key], value)
        else:
            base[key] = value
    return base
