"""The augment config section: schema defaults = code defaults, config.yaml block validates."""
import copy
from pathlib import Path

import pytest

from ferstudy import config as fcfg
from ferstudy.augment.affine import DA_DEFAULTS
from ferstudy.augment.gan.trainer import SD_DEFAULTS


def _section(schema, name):
    return schema["properties"]["augment"]["properties"][name]["properties"]


def test_schema_defaults_match_code_defaults():
    schema = fcfg.load_schema()
    for name, code in (("da", DA_DEFAULTS), ("sd", SD_DEFAULTS)):
        section = _section(schema, name)
        assert set(section) == set(code), name
        for key, spec in section.items():
            assert spec["default"] == code[key], f"augment.{name}.{key}"
            assert spec.get("description"), f"augment.{name}.{key} has no description"


def test_bad_augment_values_are_rejected_with_the_key():
    config = fcfg.load_yaml(Path(__file__).resolve().parents[1] / "config.yaml")
    bad = copy.deepcopy(config)
    bad.setdefault("augment", {}).setdefault("sd", {})["diffaugment"] = "color,zoom"
    with pytest.raises(fcfg.ConfigError, match="augment.sd.diffaugment"):
        fcfg.validate(bad)
    bad = copy.deepcopy(config)
    bad.setdefault("augment", {}).setdefault("da", {})["rotate"] = 5
    with pytest.raises(fcfg.ConfigError, match="'rotate'"):
        fcfg.validate(bad)
    assert fcfg.validate(copy.deepcopy(config))["augment"]["sd"]["size"] % 8 == 0
