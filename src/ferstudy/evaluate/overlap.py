"""Identity overlap between a training set and the datasets its model is tested on.

A "cross-dataset" test is only a test on unseen people when no person of the test set was in
the training set. Before evaluation (rule ``check_overlap``, one table per training set) each
(member of the training set, foreign test set) pair is checked for:

- ``shared_root``: the registered roots (resolved, from ``registry/{dataset}.json``) are the
  same folder, or one lies inside the other (e.g. Oulu-CASIA VL and NI declared with one root);
- ``shared_sources``: how many clips of the test set have the sha256 of a training clip
  (a root copied or declared twice under another path);
- ``declared``: ``datasets.<a>.same_subjects_as`` names the other one (either way round:
  the relation is symmetric), for the same people recorded in another session or spectrum.

Any of them makes the pair an overlap: ``evaluate_cross`` then reports the test as kind
``overlap`` (never ``cross``/``lodo``), and ``fair_tests`` keeps such rows (and ``seen`` ones)
out of every cross-dataset statistic and heatmap mean. ``results/studies/<study>/tables/overlap.csv`` lists
every pair checked.

The datasets of the training set's ``ft`` pretraining pool (``pretraining`` rows) are checked
against the test sets the same way: a test set that shares people with a pool dataset was
seen by the set's ``ft`` runs, whose tests on it are kind ``seen`` (its ``ri`` runs never met
the pool: their tests stay ``cross``).

Table columns: ``train_set, member, pretraining, test_set, shared_root, shared_sources,
declared, overlap, reason``.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from ferstudy.config import dataset_members

log = logging.getLogger("ferstudy.evaluate")
COLUMNS = ("train_set", "member", "pretraining", "test_set", "shared_root", "shared_sources",
           "declared", "overlap", "reason")
NOT_CROSS_KINDS = ("seen", "overlap")   # foreign test rows that are no unseen-people test


def _nested(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def _record(registry: Path, name: str) -> tuple[Path, list[str]]:
    """(resolved root, sha256 of every clip) of a registered dataset."""
    record = registry / f"{name}.json"
    manifest = registry / f"{name}.csv"
    for path in (record, manifest):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: register dataset {name!r} first "
                                    f"(rule register_dataset)")
    root = Path(json.loads(record.read_text(encoding="utf-8"))["root"])
    hashes = list(pd.read_csv(manifest, usecols=["sha256"], dtype=str)["sha256"])
    return root, hashes


def declared_pairs(declared: Mapping[str, Sequence[str]]) -> set[frozenset[str]]:
    """``{a: [b]}`` -> ``{{a, b}}``: same_subjects_as read symmetrically."""
    return {frozenset((a, b)) for a, others in declared.items() for b in others or ()}


def find_overlap(train_set: str, test_sets: Iterable[str], registry: str | Path,
                 declared: Mapping[str, Sequence[str]], pool: Sequence[str] = ()) -> pd.DataFrame:
    """One row per (member of ``train_set``, test set), then per (dataset of its ``ft``
    pretraining ``pool``, test set) with ``pretraining`` true (a pool dataset that is itself
    the test set is left out: such tests are ``seen`` by name). ``registry``:
    ``results/registry``; ``declared``: dataset -> its ``same_subjects_as`` list."""
    registry = Path(registry)
    pairs = declared_pairs(declared)
    cache: dict[str, tuple[Path, list[str]]] = {}

    def record(name: str) -> tuple[Path, list[str]]:
        if name not in cache:
            cache[name] = _record(registry, name)
        return cache[name]

    rows = []
    test_sets = list(test_sets)
    sides = [(m, False) for m in dataset_members(train_set)] + [(p, True) for p in pool]
    for member, pretraining in sides:
        for test in test_sets:
            if pretraining and member == test:
                continue
            (root_a, hashes_a), (root_b, hashes_b) = record(member), record(test)
            train_hashes = set(hashes_a)
            row = {"train_set": train_set, "member": member, "pretraining": pretraining,
                   "test_set": test,
                   "shared_root": _nested(root_a, root_b),
                   # test clips whose content is a training clip's
                   "shared_sources": len([h for h in hashes_b if h in train_hashes]),
                   "declared": frozenset((member, test)) in pairs}
            reasons = [f"roots {root_a} and {root_b} are the same folder or nested"
                       if row["shared_root"] else "",
                       f"{row['shared_sources']} clip(s) with the same sha256"
                       if row["shared_sources"] else "",
                       "declared same_subjects_as" if row["declared"] else ""]
            row["reason"] = "; ".join(r for r in reasons if r)
            row["overlap"] = bool(row["reason"])
            rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def overlapping(table: pd.DataFrame) -> list[str]:
    """Test sets of an overlap table that share people with the training set."""
    return sorted(set(table.loc[table["overlap"] & ~table["pretraining"], "test_set"]))


def pool_overlapping(table: pd.DataFrame) -> list[str]:
    """Test sets that share people with a dataset of the training set's ``ft`` pool."""
    return sorted(set(table.loc[table["overlap"] & table["pretraining"], "test_set"]))


def read_overlap(path: str | Path) -> pd.DataFrame:
    frame = pd.read_csv(path, keep_default_na=False, dtype={"reason": str})
    if "pretraining" not in frame:          # a table written before pool rows existed
        frame.insert(2, "pretraining", False)
    for column in ("pretraining", "shared_root", "declared", "overlap"):
        frame[column] = frame[column].astype(str).str.lower() == "true"
    return frame


def write_overlap(train_set: str, test_sets: Iterable[str], registry: str | Path,
                  declared: Mapping[str, Sequence[str]], out_csv: str | Path,
                  pool: Sequence[str] = ()) -> pd.DataFrame:
    from ferstudy.atomic import write_csv

    table = find_overlap(train_set, test_sets, registry, declared, pool)
    for row in table[table["overlap"] & table["pretraining"]].itertuples():
        log.warning(
            "%s's ft pretraining source %s and %s share people (%s): tests of its ft runs on "
            "%s are kind 'seen', left out of cross-dataset statistics", row.train_set,
            row.member, row.test_set, row.reason, row.test_set)
    for row in table[table["overlap"] & ~table["pretraining"]].itertuples():
        log.warning(
            "%s (member %s) and %s share people (%s): tests on %s are kind 'overlap', left out "
            "of cross-dataset statistics", row.train_set, row.member, row.test_set, row.reason,
            row.test_set)
    members = dataset_members(train_set)
    for i, member in enumerate(members[1:], 1):
        inner = find_overlap(member, members[:i], registry, declared)
        for row in inner[inner["overlap"]].itertuples():
            # subjects of merged members are kept apart (a:/b: prefixes), so the same person
            # can sit in the training and the test fold of the merged set
            log.warning(
                "%s: members %s and %s share people (%s); its in-dataset folds do not keep "
                "them apart", train_set, row.member, row.test_set, row.reason)
    write_csv(out_csv, table)
    return table


def gather_overlap(paths: Iterable[str | Path], out_csv: str | Path) -> pd.DataFrame:
    from ferstudy.atomic import write_csv

    frames = [read_overlap(p) for p in paths]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(COLUMNS))
    write_csv(out_csv, table)
    return table


def fair_tests(runs: pd.DataFrame) -> pd.DataFrame:
    """Rows that may enter cross-dataset statistics and figure means: all but the foreign
    tests on people (``overlap``) or labels (``seen``) the model already met."""
    return runs[~runs["kind"].isin(NOT_CROSS_KINDS)]
