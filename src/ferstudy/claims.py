"""Studies that share a results tree never overwrite each other's outputs.

Registrations, demo renderings, aligned stores, pretraining models, GANs, synthetic stores and
runs are shared by the studies of one results tree (``ferstudy.study_dirs``) and reused where
their settings match. Where two studies name the same output with *different* settings
(``studies/pitfalls.yaml`` and ``studies/scn_noise.yaml`` both name
``ckplus/resnet3d/supervised/ft/da/full/seed0/fold0``, trained 60 vs 70 epochs; the demo and a
real-data study both name ``registry/ckplus``, from different roots), Snakemake would rerun it
for whichever study ran last and so replace the other's. Instead, the second study stops while
the job graph is built, before any job, naming both studies, the outputs and the differing
settings keys.

How: a study that runs records what it uses in ``<results>/studies/<name>/claims.json``
(``write_claims``, from the workflow's ``onstart``): each shared output with the hash of the
settings its rule is given (``ferstudy.settings``; a run: its lineage), and each distinct
settings slice once. ``check_claims`` compares the study being planned with the claims of every
other study of the tree. A study's own earlier claims never block it (an edited study reruns
what its edit shapes). To let a study replace another's outputs on purpose, remove the other's
``claims.json``; to keep both, give one its own ``results`` folder or make the settings match.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ferstudy import settings as stage_settings
from ferstudy.config import is_demo
from ferstudy.runkey import RunKey
from ferstudy.study_dirs import study_dir, study_folders

CLAIMS = "claims.json"


class ClaimError(RuntimeError):
    """Another study of the results tree made an output of this study with other settings."""


def _datasets(config: Mapping[str, Any]) -> list[str]:
    """Plain datasets the study registers and aligns: its sets' members and its ft pool's."""
    from ferstudy.evaluate.plan import study_members
    from ferstudy.train.plan import uses_pretrain_rule
    from ferstudy.train.pools import source_members

    study = config["study"]
    names = study_members(study)
    if "ft" in study["inits"] and uses_pretrain_rule(config):
        names += [m for d in study["datasets"] for m in source_members(config, d)]
    return list(dict.fromkeys(names))


def product_settings(config: Mapping[str, Any], keys: Iterable[RunKey]) -> dict[str, Any]:
    """Every shared output of the study other than runs (path without extension -> the
    settings its rule is given); ``keys``: the study's grid points."""
    from ferstudy.augment import AUGMENTS
    from ferstudy.train.plan import pretrained_model, uses_pretrain_rule

    results, study = config["results"], config["study"]
    out: dict[str, Any] = {}
    for name in _datasets(config):
        out[f"{results}/registry/{name}"] = stage_settings.register(config, name)
        out[f"{results}/aligned/{name}"] = stage_settings.align(config)
        if is_demo(config, name):
            out[f"{config['resources']}/demo/{name}"] = stage_settings.render_demo(config, name)
    if "ft" in study["inits"] and uses_pretrain_rule(config):
        pretrain = stage_settings.pretrain(config)
        seen = set()
        for key in keys:
            point = (key.dataset, key.arch, key.protocol, key.fold)
            if key.init == "ft" and point not in seen:
                seen.add(point)
                out[pretrained_model(config, *point).removesuffix("/model.pt")] = pretrain
    if any(AUGMENTS.get(a).synthetic for a in study["augments"]):
        gan, sample = stage_settings.train_gan(config), stage_settings.generate_clips(config)
        for name in study["datasets"]:
            for fold in study["folds"]:
                out[f"{results}/gan/{name}/fold{fold}"] = gan
                out[f"{results}/synthetic/{name}/fold{fold}"] = sample
    return out


def study_claims(config: Mapping[str, Any], runs: Iterable[str],
                 run_settings: stage_settings.RunSettings) -> dict[str, Any]:
    """What ``config``'s study would write to the shared tree: ``products`` (path -> settings
    hash), ``runs`` (run -> lineage hash) and ``settings`` (hash -> slice)."""
    keys = {run: RunKey.parse(run) for run in runs}   # parsed once: 19,200 in the full grid
    settings: dict[str, Any] = {}
    products = {}
    for path, value in product_settings(config, keys.values()).items():
        digest = stage_settings.settings_hash(value)
        settings[digest] = value
        products[path] = digest
    run_hashes = {}
    for run, key in keys.items():
        wildcards = key.as_dict()
        digest = run_settings.lineage_hash(wildcards)
        if digest not in settings:
            settings[digest] = run_settings.lineage(wildcards)
        run_hashes[run] = digest
    return {"study": config["study"]["name"], "products": products, "runs": run_hashes,
            "settings": settings}


def write_claims(config: Mapping[str, Any], claims: Mapping[str, Any]) -> Path:
    from ferstudy import atomic

    path = Path(study_dir(config)) / CLAIMS
    atomic.write_json(path, dict(claims))
    return path


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def differing_keys(a: Any, b: Any, limit: int = 6) -> list[str]:
    """``key: value_a vs value_b`` for each settings key (dotted) whose values differ."""
    flat_a, flat_b = _flatten(a), _flatten(b)
    keys = sorted(k for k in flat_a.keys() | flat_b.keys() if flat_a.get(k) != flat_b.get(k))

    def show(v: Any) -> str:
        text = "(absent)" if v is None else json.dumps(v)
        return text if len(text) <= 120 else text[:117] + "..."

    lines = [f"{k}: {show(flat_a.get(k))} vs {show(flat_b.get(k))}" for k in keys[:limit]]
    return lines + ([f"... and {len(keys) - limit} more keys"] if len(keys) > limit else [])


def conflicts(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[str]:
    """One line per output (runs: per distinct settings pair) that both studies name with
    different settings, with the differing keys (theirs vs mine)."""
    lines = []
    for path, digest in mine["products"].items():
        other = theirs["products"].get(path)
        if other is not None and other != digest:
            keys = differing_keys(theirs["settings"].get(other), mine["settings"].get(digest))
            lines.append(f"{path}: " + "; ".join(keys))
    pairs: dict[tuple[str, str], list[str]] = {}
    for run, digest in mine["runs"].items():
        other = theirs["runs"].get(run)
        if other is not None and other != digest:
            pairs.setdefault((other, digest), []).append(run)
    for (other, digest), runs in pairs.items():
        more = f" (and {len(runs) - 1} more runs like it)" if len(runs) > 1 else ""
        keys = differing_keys(theirs["settings"].get(other), mine["settings"].get(digest))
        lines.append(f"runs/{runs[0]}{more}: " + "; ".join(keys))
    return lines


def check_claims(config: Mapping[str, Any], claims: Mapping[str, Any]) -> None:
    """Raise ClaimError when another study of the results tree claims an output of this
    study with other settings (every clash of every study, then the ways out)."""
    name = claims["study"]
    report = []
    for folder in study_folders(config["results"]):
        path = folder / CLAIMS
        if folder.name == name or not path.is_file():
            continue
        theirs = json.loads(path.read_text(encoding="utf-8"))
        lines = conflicts(claims, theirs)
        if lines:
            report.append(f"study {theirs.get('study', folder.name)!r} ({path}) made these "
                          f"with other settings (theirs vs {name!r}'s):\n    "
                          + "\n    ".join(lines[:12])
                          + (f"\n    ... and {len(lines) - 12} more" if len(lines) > 12 else ""))
    if report:
        raise ClaimError(
            f"study {name!r} would overwrite outputs of other studies in "
            f"{config['results']}/; nothing was run.\n  " + "\n  ".join(report)
            + f"\n  Either make the settings match, give study {name!r} its own results folder "
            f"(--config results=results-{name}), or, to let {name!r} replace those outputs, "
            "remove the other study's claims.json (it reruns what it needs when run again).")
