"""The shipped config schema is standard JSON Schema: plain `jsonschema` + `referencing`, given
only the schema files, accepts and rejects exactly what ferstudy does."""
from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ferstudy import config as fcfg
from ferstudy import schema_enums

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = Path(fcfg.SCHEMA_PATH).parent


def plain_validator() -> jsonschema.Draft202012Validator:
    """What a user of any JSON-Schema tool would write: files served by their names."""
    def retrieve(uri: str) -> Resource:
        return Resource.from_contents(yaml.safe_load((SCHEMAS / uri).read_text()),
                                      default_specification=DRAFT202012)
    schema = yaml.safe_load((SCHEMAS / "config.schema.yaml").read_text())
    return jsonschema.Draft202012Validator(schema, registry=Registry(retrieve=retrieve))


def with_defaults(config: dict) -> dict:
    """Defaults are filled before validation in ferstudy; do the same for the plain check (a
    JSON-Schema `default` is an annotation, not something validators apply)."""
    config = copy.deepcopy(config)
    fcfg._fill_defaults(config, fcfg.load_schema())
    return config


def demo() -> dict:
    return fcfg.load_yaml(REPO / "config.yaml")


def edited(path: str, value) -> dict:
    config = demo()
    node = config
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return config


GOOD = {
    "config.yaml": demo,
    **{f"config.yaml + studies/{p.name}":
       (lambda p=p: fcfg.deep_update(demo(), fcfg.load_yaml(p)))
       for p in sorted((REPO / "studies").glob("*.yaml"))},
    "minimal": lambda: {"datasets": {"ckplus": {"root": "/x"}},
                        "study": {"datasets": ["ckplus"], "archs": ["vgg3d"]}},
}
BAD = {
    "unknown top-level key": (lambda: {**demo(), "trian": {}}, ""),
    "unknown arch": (lambda: edited("study.archs", ["vgg16"]), "study.archs.0"),
    "unknown method": (lambda: edited("study.methods", ["mixup"]), "study.methods.0"),
    "unknown augment": (lambda: edited("study.augments", ["gan"]), "study.augments.0"),
    "unknown adapter": (lambda: edited("datasets.ckplus.adapter", "ck"), "datasets.ckplus.adapter"),
    "wrong type in a section file": (lambda: edited("train.epochs", "ten"), "train.epochs"),
    "unknown key in a section file": (lambda: edited("align.sizee", 48), "align"),
    "enum in a nested section": (lambda: edited("augment.sd.generator", "stylegan"), "augment.sd.generator"),
    "bad protocol": (lambda: edited("study.protocols", ["noise20"]), "study.protocols.0"),
    "missing datasets": (lambda: {"study": {"datasets": ["a"], "archs": ["vgg3d"]}}, ""),
}


def test_registry_enums_file_is_up_to_date():
    """registries.schema.yaml is generated from the registries; a new entry needs
    `python -m ferstudy.schema_enums` (this test says so when it was forgotten)."""
    shipped = (SCHEMAS / schema_enums.FILE).read_text()
    assert shipped == schema_enums.render(), "stale: run `python -m ferstudy.schema_enums`"


def test_schema_files_use_no_private_keywords():
    for path in SCHEMAS.glob("*.schema.yaml"):
        text = path.read_text()
        assert "x-include" not in text and "x-registry" not in text, path.name
        jsonschema.Draft202012Validator.check_schema(yaml.safe_load(text))


@pytest.mark.parametrize("name", list(GOOD))
def test_good_configs_pass_both(name):
    config = GOOD[name]()
    assert list(plain_validator().iter_errors(with_defaults(config))) == []
    fcfg.validate(config)


@pytest.mark.parametrize("name", list(BAD))
def test_bad_configs_fail_both_at_the_same_key(name):
    make, where = BAD[name]
    errors = list(plain_validator().iter_errors(with_defaults(make())))
    assert errors, f"plain jsonschema accepted: {name}"
    assert where in {".".join(map(str, e.absolute_path)) for e in errors}
    with pytest.raises(fcfg.ConfigError) as err:
        fcfg.validate(make())
    shown = where.replace(".0", "[0]") if where.endswith(".0") else where
    assert (f"'{shown}'" in str(err.value)) if shown else "<top level>" in str(err.value)
