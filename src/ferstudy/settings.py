"""What shapes each stage's outputs: one function per rule, returning that slice of the config.

Every rule passes its slice as ``params.settings``; Snakemake stores ``repr`` of each param in
``.snakemake/metadata`` and reruns a job when it differs (the ``params`` rerun trigger). So a
slice must hold every setting that can change the job's numbers, and nothing else:
- whole config sections are taken where the section shapes the stage, so a key added later is
  covered without editing this file; only RUNTIME_KEYS (where and how fast a job runs) are
  dropped, at any depth;
- the values are canonical: dict keys sorted, tuples as lists, so the repr is the same in every
  process and after every way of writing the same config.
Settings that depend on the job (its wildcards) are chosen per job: an ``ri`` run carries no
pretraining settings, a run without ``sd`` no GAN settings, a ``supervised`` run no other
method's settings. What a job's upstream jobs use reaches it through their output files.
Runtime values travel separately (``runtime``), in a param that Snakemake does not compare.
"""
from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

# Keys that change where or how fast a job runs, never what it computes. Dropped at any depth.
RUNTIME_KEYS = frozenset({
    "threads", "device", "num_workers", "gpu", "mem_mb", "runtime", "log_every_s",
    "batch_clips",                       # inference batch of evaluate_cross: same predictions
    "retries", "timeout_s", "keep_archives",   # download transport
})
# augment.sd keys that only the sampling (generate_clips) or the mixing (train_model) read
SD_SAMPLING_KEYS = frozenset({"clips_per_class"})
SD_MIXING_KEYS = frozenset({"ratio", "epoch_steps"})
# augment.sd values that reproduce what runs did before the key existed: left out of the slice,
# so those runs keep their settings (and nothing reruns) when a config asks for them
SD_LEGACY = {"epoch_steps": "mixed"}
# train.pretrain keys that choose the ft weights a train_model job loads (the rest: the pool)
FT_SOURCE_KEYS = frozenset({"checkpoint", "torchvision", "keep_head"})
# evaluate keys read only by the figure rules
FIGURE_KEYS = frozenset({"figures", "tsne"})


def canonical(value: Any) -> Any:
    """A copy with dict keys sorted (recursively) and tuples as lists: one repr per content."""
    if isinstance(value, Mapping):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        raise TypeError("sets have no stable order; use a sorted list in settings")
    return value


def shaping(section: Mapping[str, Any], drop: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``section`` without RUNTIME_KEYS (any depth) and without the top-level keys ``drop``."""
    def strip(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {k: strip(v) for k, v in node.items() if k not in RUNTIME_KEYS}
        return node

    return canonical({k: strip(v) for k, v in section.items()
                      if k not in drop and k not in RUNTIME_KEYS})


def runtime(config: Mapping[str, Any], *sections: str) -> dict[str, Any]:
    """The RUNTIME_KEYS of config sections (any depth), shaped like the config."""
    def keep(node: Any) -> Any:
        out = {}
        for key, value in node.items():
            if key in RUNTIME_KEYS:
                out[key] = copy.deepcopy(value)
            elif isinstance(value, Mapping) and (sub := keep(value)):
                out[key] = sub
        return out

    return canonical({s: keep(config[s]) for s in sections if isinstance(config.get(s), Mapping)})


def job_config(settings: Mapping[str, Any], *extra: Mapping[str, Any]) -> dict[str, Any]:
    """A job's config: its settings slice with runtime values (and paths) laid over it."""
    from ferstudy.config import deep_update

    out = copy.deepcopy(dict(settings))
    for part in extra:
        deep_update(out, copy.deepcopy(dict(part)))
    return out


def command_config(config: Mapping[str, Any], stage: Mapping[str, Any], *sections: str) -> dict:
    """For a ``ferstudy`` command: the config its rule's script rebuilds from ``params`` (the
    stage slice, the sections' runtime values, ``results``), so both compute the same thing."""
    return job_config(stage, runtime(config, *sections), {"results": config["results"]})


def settings_hash(settings: Any) -> str:
    """Short sha256 of the canonical JSON of ``settings`` (runs.csv's settings_hash)."""
    text = json.dumps(canonical(settings), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# ---- one function per rule -----------------------------------------------------------------

def register(config: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    # same_subjects_as shapes only check_overlap: declaring it re-registers nothing
    entry = {k: v for k, v in config["datasets"][dataset].items() if k != "same_subjects_as"}
    return {"entry": shaping(entry),
            "register": shaping(config["register"])}


def render_demo(config: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """The demo's global keys, this dataset's own demo settings (adapter defaults filled) and
    its subject range (which depends on the demo datasets declared before it)."""
    from ferstudy.demo.catalog import dataset_settings, subject_ranges

    entry = config["datasets"][dataset]
    return {"entry": shaping(entry), "demo": shaping(config["demo"], drop=frozenset({"datasets"})),
            "dataset": shaping(dataset_settings(dataset, entry, config["demo"])),
            "subjects": list(subject_ranges(config)[dataset])}


def face_models(config: Mapping[str, Any]) -> dict[str, Any]:
    return shaping(config["face_models"])


def download(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    return shaping(config["download"][name])


def align(config: Mapping[str, Any]) -> dict[str, Any]:
    return shaping(config["align"])


def train_gan(config: Mapping[str, Any]) -> dict[str, Any]:
    # val_fraction: the GAN leaves out the validation subjects the engine picks for the fold
    return {"classes": list(config["study"]["classes"]),
            "sd": shaping(config["augment"]["sd"], drop=SD_SAMPLING_KEYS | SD_MIXING_KEYS),
            "val_fraction": config["train"]["val_fraction"]}


def generate_clips(config: Mapping[str, Any]) -> dict[str, Any]:
    sd = config["augment"]["sd"]
    return canonical({"clips_per_class": sd["clips_per_class"], "seed": sd["seed"]})


def pretrain(config: Mapping[str, Any]) -> dict[str, Any]:
    """Config-shaped: what ``ferstudy.train.pretrain.run_pretrain`` reads. ``study.datasets``
    only when the pool is "every other dataset of the study" (``sources: []``)."""
    tcfg = config["train"]
    study = {"classes": list(config["study"]["classes"])}
    if not tcfg["pretrain"]["sources"]:
        study["datasets"] = list(config["study"]["datasets"])
    train = shaping(tcfg, drop=frozenset({"pretrain"}))
    train["pretrain"] = shaping(tcfg["pretrain"], drop=FT_SOURCE_KEYS)
    return canonical({"study": study, "train": train})


def train(config: Mapping[str, Any], wildcards: Mapping[str, Any]) -> dict[str, Any]:
    """Config-shaped: what ``ferstudy.train.run.train_run`` reads for this grid point."""
    from ferstudy.augment import AUGMENTS

    tcfg = config["train"]
    train_cfg = shaping(tcfg, drop=frozenset({"pretrain"}))
    if wildcards["init"] == "ft":
        train_cfg["pretrain"] = canonical({k: tcfg["pretrain"][k] for k in sorted(FT_SOURCE_KEYS)
                                           if k in tcfg["pretrain"]})
    out: dict[str, Any] = {"study": {"classes": list(config["study"]["classes"])},
                           "train": train_cfg}
    method = config.get("methods", {}).get(wildcards["method"])
    if method:
        out["methods"] = {wildcards["method"]: shaping(method)}
    augment = AUGMENTS.get(wildcards["augment"])
    aug: dict[str, Any] = {}
    if augment.affine:
        aug["da"] = shaping(config["augment"]["da"])
    if augment.synthetic:
        sd = config["augment"]["sd"]
        aug["sd"] = {k: sd[k] for k in sorted(SD_MIXING_KEYS)
                     if k not in SD_LEGACY or sd[k] != SD_LEGACY[k]}
    if aug:
        out["augment"] = aug
    if still_images(config, wildcards["dataset"]):
        # the T a still store is repeated to for a clip arch (ferstudy.archs.zoo.clip_frames);
        # read the same for every arch, so the slice stays one per LINEAGE_AXES
        out["align"] = {"frames": int(config["align"]["frames"])}
    entry = config.get("datasets", {}).get(wildcards["dataset"])
    if entry:   # adapter + options decide a release's own split (RAF-DB official), not the root
        out["datasets"] = {wildcards["dataset"]: {k: entry[k] for k in ("adapter", "options")
                                                   if k in entry}}
    return canonical(out)


def still_images(config: Mapping[str, Any], dataset: str) -> bool:
    """Whether ``dataset`` (or a member of a merged set) is a still-image dataset (adapter
    ``TEMPORAL`` or option ``temporal`` = ``static``): its store holds T = 1."""
    from ferstudy.config import dataset_members
    from ferstudy.datasets import DATASETS

    for member in dataset_members(dataset):
        entry = config.get("datasets", {}).get(member) or {}
        adapter = DATASETS.get(entry.get("adapter", member))
        if (entry.get("options") or {}).get("temporal", adapter.TEMPORAL) == "static":
            return True
    return False


def check_overlap(config: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """The test sets a training set is checked against, its ft pool's datasets and the
    declared shared identities (the registered roots, hashes and subjects come in as files)."""
    from ferstudy.evaluate.plan import declared_overlap, foreign_sets, pool_sources

    pool = pool_sources(dataset, config)
    return canonical({"test_sets": foreign_sets(dataset, config["study"]), "pool": pool,
                      "declared": declared_overlap(dataset, config["study"], config["datasets"],
                                                   pool)})


def evaluate_cross(config: Mapping[str, Any]) -> dict[str, Any]:
    """The test stores come in as files (the rule's inputs); the rest of what shapes cross.csv."""
    return shaping({"min_shared_classes": config["evaluate"]["min_shared_classes"],
                    "cross_dataset": config["study"]["cross_dataset"]})


def gather(config: Mapping[str, Any]) -> dict[str, Any]:
    return shaping(config["evaluate"], drop=FIGURE_KEYS)


def plot(config: Mapping[str, Any]) -> dict[str, Any]:
    """plot_figures / figures: the figure keys and the statistics behind the verdict figure."""
    return shaping(config["evaluate"])


def run_lineage(config: Mapping[str, Any], wildcards: Mapping[str, Any]) -> dict[str, Any]:
    """Every slice a run's numbers depend on: its own, and those of the jobs upstream of it
    (registration and demo rendering of its datasets, alignment, ft pretraining, the SD GAN).
    Its settings_hash is what runs.csv records and gather_results checks."""
    from ferstudy.augment import AUGMENTS
    from ferstudy.config import dataset_members, is_demo
    from ferstudy.train.plan import uses_pretrain_rule
    from ferstudy.train.pools import source_members

    members = dataset_members(wildcards["dataset"])
    out: dict[str, Any] = {"train": train(config, wildcards), "align": align(config)}
    if wildcards["init"] == "ft" and uses_pretrain_rule(config):
        out["pretrain"] = pretrain(config)
        members += [m for m in source_members(config, wildcards["dataset"]) if m not in members]
    if AUGMENTS.get(wildcards["augment"]).synthetic:
        out["sd"] = {"train_gan": train_gan(config), "generate_clips": generate_clips(config)}
    out["register"] = {m: register(config, m) for m in members}
    demo = {m: render_demo(config, m) for m in members if is_demo(config, m)}
    if demo:
        out["render_demo"] = demo
    return canonical(out)


# The wildcards ``train`` and ``run_lineage`` read: seeds, folds, archs and protocols of one
# (dataset, method, init, augment) share their slices (tested with wildcards holding these only).
LINEAGE_AXES = ("dataset", "method", "init", "augment")


class RunSettings:
    """``run_lineage`` and its ``settings_hash`` for one fixed config (a workflow's, which does
    not change once parsed), memoised on ``LINEAGE_AXES``: the 19,200 runs of the pitfalls grid
    share 64 lineages, so planning computes 64 instead of 19,200 x 2. A run's own slice is its
    lineage's ``["train"]``. The returned dicts are shared between jobs: read them, never
    change them."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self._lineages: dict[tuple, dict[str, Any]] = {}
        self._hashes: dict[tuple, str] = {}

    def lineage(self, wildcards: Mapping[str, Any]) -> dict[str, Any]:
        key = tuple(wildcards[a] for a in LINEAGE_AXES)
        if key not in self._lineages:
            self._lineages[key] = run_lineage(self.config, dict(zip(LINEAGE_AXES, key)))
        return self._lineages[key]

    def lineage_hash(self, wildcards: Mapping[str, Any]) -> str:
        key = tuple(wildcards[a] for a in LINEAGE_AXES)
        if key not in self._hashes:
            self._hashes[key] = settings_hash(self.lineage(wildcards))
        return self._hashes[key]
