"""Every default and grammar has one home; the schema and the workflow derive from it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ferstudy import config as fcfg
from ferstudy.demo.render import ADAPTERS, dataset_settings
from ferstudy.protocols import PROTOCOL_PATTERN, ProtocolError, parse_protocol
from ferstudy.resolution import resolve_layers

ROOT = Path(__file__).resolve().parents[1]
DEMO = {name: {"adapter": adapter, "root": f"resources/demo/{name}", "demo": True}
        for name, adapter in (("ckplus", "ckplus"), ("mug", "mug"), ("mmi", "mmi"), ("oulu", "oulu"))}


@pytest.mark.parametrize("name,key,value", [("mug", "subjects", 20), ("mmi", "subjects", 5),
                                            ("oulu", "frames", [8, 9]), ("ckplus", "takes", 2)])
def test_one_demo_key_keeps_the_layouts_other_defaults(name, key, value):
    config = resolve_layers([{"datasets": DEMO, "study": {"datasets": [name], "archs": ["vgg3d"]},
                              "demo": {"datasets": {name: {key: value}}}}])
    settings = dataset_settings(name, config["datasets"][name], config["demo"])
    assert settings == {**ADAPTERS[name]["defaults"], key: value}
    # e.g. mug keeps its 256x256 frames and 14-20 frames per clip, mmi its unlabelled sessions
    for other in set(DEMO) - {name}:
        assert dataset_settings(other, config["datasets"][other], config["demo"]) == \
            ADAPTERS[other]["defaults"]


NAMES = ["full", "noisesym20", "noiseflip5", "labels10", "frac25", "noise20", "labels", "fullx",
         "frac", "noisesym", "Full", "labels-1"]


@pytest.mark.parametrize("name", NAMES)
def test_protocol_grammar_is_the_same_in_code_schema_and_workflow(name):
    try:
        parse_protocol(name)
        parsed = True
    except ProtocolError as err:
        parsed = "expected full" not in str(err)   # a range error: the grammar accepted it
    schema_ok = True
    try:
        fcfg.validate({"datasets": {"ckplus": {"root": "/x"}},
                       "study": {"datasets": ["ckplus"], "archs": ["vgg3d"], "protocols": [name]}})
    except fcfg.ConfigError:
        schema_ok = False
    # Snakemake wraps a wildcard constraint as (?P<protocol>...) and matches the whole field
    wildcard_ok = re.fullmatch(f"(?P<protocol>{PROTOCOL_PATTERN})", name) is not None
    assert parsed == schema_ok == wildcard_ok


def test_the_grammar_is_written_once():
    from ferstudy.config import SCHEMA_PATH
    from ferstudy.schema_enums import render

    schema = Path(SCHEMA_PATH).read_text()
    smk = (ROOT / "workflow" / "rules" / "common.smk").read_text()
    for text in (schema, smk):
        assert "noise(sym|flip)" not in text and "noise(?:sym|flip)" not in text
    # the schema refers to the generated definition, which is written from PROTOCOL_PATTERN
    assert '"registries.schema.yaml#/$defs/protocol"' in schema and "protocol=PROTOCOL_PATTERN" in smk
    assert f"^({PROTOCOL_PATTERN})$" in yaml.safe_load(render())["$defs"]["protocol"]["pattern"]
