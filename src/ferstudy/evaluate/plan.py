"""What the evaluate rules need from the config: the grid of runs and each run's test stores.

Pure functions of the config, used by workflow/rules/evaluate.smk (so the rule file holds no
logic of its own) and testable without Snakemake.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ferstudy.config import dataset_members, is_merged
from ferstudy.train.plan import RUN_PATTERN, study_runs  # noqa: F401 (the one grid, re-exported)

# evaluate_cross runs once per (training set, architecture, test fold): the models of one
# group share their test stores, and 800 jobs plan and submit far faster than 19,200 (issue
# #14). Every run keeps its own cross.csv; a changed run re-evaluates its group (seconds per
# run). The fold is a group key (not a member axis) because a dataset on its release's split
# (RAF-DB official) has test fold 0 only: its other folds are no runs.
GROUP_PATTERN = "{dataset}/{arch}"
GROUP_AXES = ("method", "init", "augment", "protocol", "seed")


def study_members(study: Mapping[str, Any]) -> list[str]:
    """The plain datasets of the study, merged sets expanded to their members."""
    names: list[str] = []
    for name in study["datasets"]:
        names += [m for m in dataset_members(name) if m not in names]
    return names


def eval_stores(dataset: str, study: Mapping[str, Any], results: str) -> dict[str, str]:
    """Aligned stores a run on ``dataset`` is tested on (name -> folder): every other dataset
    of the study when ``study.cross_dataset`` is on (cross / leave-one-dataset-out), plus the
    members of a merged set (read for their class sets only)."""
    members = dataset_members(dataset)
    names = [n for n in study_members(study) if n not in members] if study["cross_dataset"] else []
    if is_merged(dataset):
        names = members + names
    return {n: f"{results}/aligned/{n}" for n in names}


# The train_model output evaluate_cross declares per run. It also reads the run's model.pt and
# predictions.csv (params.run_dirs), written by the same job: one file per run is enough for the
# job graph (a missing or newer run file reruns the run, then its group), and each declared
# file costs planning time over the 19,200 runs of the full grid.
RUN_FILES = ("metrics",)


def foreign_sets(dataset: str, study: Mapping[str, Any]) -> list[str]:
    """The test sets of a run on ``dataset`` that are not its own members."""
    members = dataset_members(dataset)
    return [n for n in eval_stores(dataset, study, "") if n not in members]


def overlap_csv(dataset: str, results: str) -> str:
    """The check_overlap table of a training set (input of its evaluate_cross jobs)."""
    return f"{results}/overlap/{dataset}.csv"


def pool_sources(dataset: str, config: Mapping[str, Any]) -> list[str]:
    """The datasets of ``dataset``'s ft pretraining pool other than its own members (none
    when the study has no ft runs of the pretrain rules): check_overlap checks them too."""
    from ferstudy.train.plan import uses_pretrain_rule
    from ferstudy.train.pools import external_members

    if "ft" not in config["study"]["inits"] or not uses_pretrain_rule(config):
        return []
    return external_members(config, dataset)


def overlap_inputs(dataset: str, study: Mapping[str, Any], results: str,
                   pool: Sequence[str] = ()) -> dict[str, list[str]]:
    """Named inputs of check_overlap: manifests and registration records of the training
    set's members, of its ft pool's datasets (``pool_sources``) and of its foreign test sets."""
    names = list(dict.fromkeys(dataset_members(dataset) + list(pool)
                               + foreign_sets(dataset, study)))
    return {"manifests": [f"{results}/registry/{n}.csv" for n in names],
            "records": [f"{results}/registry/{n}.json" for n in names]}


def declared_overlap(dataset: str, study: Mapping[str, Any],
                     datasets: Mapping[str, Any], pool: Sequence[str] = ()) -> dict[str, list[str]]:
    """The declared ``same_subjects_as`` pairs (either way round) between the members of
    ``dataset`` and its foreign test sets (or its other members), as member -> datasets:
    check_overlap's params, so a declaration reruns the checks (and evaluations) it concerns,
    and only those."""
    def same_people(a: str, b: str) -> bool:     # same_subjects_as, read either way round
        return (b in (datasets[a].get("same_subjects_as") or [])
                or a in (datasets[b].get("same_subjects_as") or []))

    members, foreign = dataset_members(dataset), foreign_sets(dataset, study)
    declared = {member: [o for o in [m for m in members if m != member] + foreign
                         if same_people(member, o)] for member in members}
    for source in pool:          # the ft pool's datasets, against the foreign test sets
        if source not in declared:
            declared[source] = [o for o in foreign if o != source and same_people(source, o)]
    return declared


def evaluate_inputs(run_files: Mapping[str, str], stores: Mapping[str, str],
                    overlap: str | None = None) -> dict[str, Any]:
    """Named inputs of evaluate_cross: the run's files (name -> path, ``RUN_FILES``), the
    stores' clips and index, and the training set's identity-overlap table."""
    return {
        **{name: run_files[name] for name in RUN_FILES},
        "store_index": [f"{s}/index.csv" for s in stores.values()],
        "store_clips": [f"{s}/clips.npy" for s in stores.values()],
        **({"overlap": overlap} if overlap else {}),
    }


def group_wildcards(study: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The wildcards below a group (``GROUP_AXES``) of every run of one (dataset, arch)
    group, in ``study_runs`` order."""
    from itertools import product

    plural = {"method": "methods", "init": "inits", "augment": "augments",
              "protocol": "protocols", "seed": "seeds", "fold": "folds"}
    return [dict(zip(GROUP_AXES, values))
            for values in product(*(study[plural[a]] for a in GROUP_AXES))]


def group_members(study: Mapping[str, Any]) -> list[str]:
    """The part of ``RUN_PATTERN`` below ``GROUP_PATTERN`` for every run of a group, with
    ``{fold}`` left as a wildcard."""
    rest = RUN_PATTERN.removeprefix(GROUP_PATTERN + "/")
    return [rest.format(**wildcards, fold="{fold}") for wildcards in group_wildcards(study)]


def group_runs(dataset: str, arch: str, fold: int | str,
               study: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The wildcards of every run of one evaluate_cross group (format ``RUN_PATTERN`` or a
    train_model output with them)."""
    return [{"dataset": dataset, "arch": arch, **w, "fold": fold} for w in group_wildcards(study)]


def group_outputs(results: str, study: Mapping[str, Any]) -> list[str]:
    """evaluate_cross's outputs: one cross.csv per run of the group, with ``{dataset}``,
    ``{arch}`` and ``{fold}`` left as wildcards."""
    return [f"{results}/eval/{GROUP_PATTERN}/{member}/cross.csv" for member in group_members(study)]


def group_inputs(run_files: Sequence[Mapping[str, str]], stores: Mapping[str, str],
                 overlap: str | None = None) -> dict[str, Any]:
    """Named inputs of one evaluate_cross group: each ``RUN_FILES`` name -> the list of that
    file over the group's runs (same order as the outputs), plus the stores and overlap table
    of ``evaluate_inputs``."""
    shared = evaluate_inputs(run_files[0], stores, overlap) if run_files else {}
    return {**shared, **{name: [files[name] for files in run_files] for name in RUN_FILES}}


def alternation(names) -> str:
    """A regex matching exactly one of ``names`` (longest first), for wildcard constraints."""
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
