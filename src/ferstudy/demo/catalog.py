"""The demo datasets' catalogue: which layouts the demo renders, each one's classes, time
course and default settings, and the subject numbering across demo datasets.

Pure Python (no image libraries): the workflow and the settings slices (``ferstudy.settings``)
read it without pulling in the renderer; ``ferstudy.demo.render`` uses it to render.
"""
from __future__ import annotations

from typing import Any


# Per adapter: the classes its release has, its time course, and the defaults of
# config ``demo.datasets.<name>`` (see ferstudy/schemas/demo.schema.yaml).
ADAPTERS = {
    "ckplus": {"expressions": ("anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise"),
               "temporal": "onset_apex",
               "defaults": {"subjects": 12, "frames": [10, 16], "size": [320, 240], "takes": 1, "unlabelled": 1}},
    "oulu": {"expressions": ("anger", "disgust", "fear", "happiness", "sadness", "surprise"),
             "temporal": "onset_apex",
             "defaults": {"subjects": 12, "frames": [10, 14], "size": [320, 240], "takes": 1, "unlabelled": 0}},
    "mug": {"expressions": ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"),
            "temporal": "onset_apex_offset",
            "defaults": {"subjects": 12, "frames": [14, 20], "size": [256, 256], "takes": 1, "unlabelled": 0}},
    "mmi": {"expressions": ("anger", "disgust", "fear", "happiness", "sadness", "surprise"),
            "temporal": "onset_apex_offset",
            "defaults": {"subjects": 12, "frames": [16, 24], "size": [320, 240], "takes": 1, "unlabelled": 1}},
}


class DemoError(RuntimeError):
    pass


def demo_datasets(config: dict[str, Any]) -> list[str]:
    """Datasets marked ``demo: true`` (subject numbering runs over all of them, so that it
    does not shift when one of them is pointed at real data)."""
    return [n for n, e in config["datasets"].items() if e.get("demo")]


def rendered_datasets(config: dict[str, Any]) -> list[str]:
    """Demo datasets that are rendered: marked ``demo: true`` and rooted at
    ``resources/demo/<name>`` (``ferstudy.config.is_demo``); another root means real data."""
    from ferstudy.config import is_demo

    return [n for n in demo_datasets(config) if is_demo(config, n)]


def adapter_of(name: str, entry: dict[str, Any]) -> str:
    adapter = entry.get("adapter", name)
    if adapter not in ADAPTERS:
        raise DemoError(f"config key 'datasets.{name}.demo': the demo renders only the layouts "
                        f"{', '.join(ADAPTERS)}; adapter {adapter!r} has no demo renderer")
    return adapter


UNLABELLED_LAYOUTS = ("ckplus", "mmi")   # layouts where a clip can lack its label file


def dataset_settings(name: str, entry: dict[str, Any], demo: dict[str, Any]) -> dict[str, Any]:
    adapter = adapter_of(name, entry)
    settings = {**ADAPTERS[adapter]["defaults"], **demo["datasets"].get(name, {})}
    if settings["unlabelled"] and adapter not in UNLABELLED_LAYOUTS:
        raise DemoError(f"config key 'demo.datasets.{name}.unlabelled': the {adapter} layout "
                        "cannot hold unlabelled clips (the expression folder is the label); set 0")
    lo, hi = settings["frames"]
    if lo > hi:
        raise DemoError(f"config key 'demo.datasets.{name}.frames': [min, max] with min > max")
    return settings


def subject_ranges(config: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Demo dataset -> (first global subject number, count): consecutive ranges in name
    order, so no subject appears in two datasets (the real ones share none either)."""
    out, first = {}, 0
    for name in sorted(demo_datasets(config)):
        count = dataset_settings(name, config["datasets"][name], config["demo"])["subjects"]
        out[name] = (first, count)
        first += count
    return out
