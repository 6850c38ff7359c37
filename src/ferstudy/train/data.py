"""A run's data: subject-safe train / val / test split, protocol, synthetic mix, loaders.

test  = the clips of the run's fold (never seen before the single final evaluation);
val   = a subject-disjoint share of the training folds' subjects (early stopping), a pure
        function of (clips, fold, val_fraction, classes): ``validation_subjects``. It does not
        depend on the run seed, so the GAN of a (training set, fold) and the ft pretraining
        pool can leave out exactly the subjects every run of that fold validates on; seeds
        vary initialisation, batch order and the protocol's draw, not the validation set.
train = the rest of the training folds, labels passed through the run's protocol (label
        noise / label budget) and, when the augment says so, mixed with synthetic clips.
No label beyond the protocol steers selection: under label noise the validation labels carry
noise at the same rate (drawn together with the training labels); under a label budget
(``labels<n>``, ``frac<p>``) the run has no validation set (its subjects are left out of the
run): it trains the fixed ``train.epochs`` and reports the last epoch, since validation labels
would be labels beyond the budget.
Only clips whose label is one of the run's classes take part; the classes are the configured
``study.classes`` that the dataset has, in config order.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ferstudy.clipstore import ClipSet
from ferstudy.protocols import ProtocolResult, apply_protocol, parse_protocol

VAL_SPLIT_SEED = 0   # the validation split of a fold is the same for every run seed


class EmptyClassError(ValueError):
    """A class of the run has no clip in one part of a fold."""


@dataclass
class RunData:
    classes: tuple[str, ...]
    train: ClipSet                 # real (+ synthetic) training clips
    val: ClipSet
    test: ClipSet
    train_labels: np.ndarray       # (N_train,) int64 labels trained on, -1 = unlabelled
    clean_labels: np.ndarray       # (N_train,) int64 labels before the protocol
    val_labels: np.ndarray
    test_labels: np.ndarray
    protocol: ProtocolResult | None = None
    notes: dict = field(default_factory=dict)
    budget_clips: int | None = None   # clips an epoch's draws count (loop.epoch_draws); None: all

    @property
    def epoch_clips(self) -> int:
        """The training clips one epoch's budget counts: the real ones under
        ``augment.sd.epoch_steps: real`` (synthetic clips compete for their draws), else all."""
        return len(self.train_labels) if self.budget_clips is None else self.budget_clips

    @property
    def intensity(self) -> np.ndarray:
        """(N_train,) per-clip expression intensity from the store's index (0 where unknown:
        ``align.landmarks: false`` stores write it empty, and index.csv reads "" back)."""
        col = self.train.index.get("intensity")
        return (np.zeros(len(self.train), np.float32) if col is None
                else pd.to_numeric(col, errors="coerce").fillna(0.0).to_numpy(np.float32))


def run_classes(clips: ClipSet, study_classes: Sequence[str]) -> tuple[str, ...]:
    present = set(clips.index["label"].astype(str))
    classes = tuple(c for c in study_classes if c in present)
    if len(classes) < 2:
        raise ValueError(f"only {len(classes)} of study.classes {list(study_classes)} occur in "
                         f"the dataset (labels found: {sorted(present - {''})}); check study.classes")
    return classes


def validation_subjects(clips: ClipSet, *, fold: int, val_fraction: float,
                        study_classes: Sequence[str]) -> list[str]:
    """The subjects every run of ``fold`` validates on (see the module docstring); the GAN and
    the pretraining pool of that fold call this to leave them out."""
    classes = run_classes(clips, study_classes)
    index = clips.index[clips.index["label"].astype(str).isin(classes).to_numpy()]
    _, val, _ = split_subjects(index, fold, val_fraction, split_rng(fold))
    return sorted(set(index["subject"].astype(str).to_numpy()[val]))


def split_rng(fold: int | None, seed: int = VAL_SPLIT_SEED) -> np.random.Generator:
    return np.random.default_rng([seed, 0 if fold is None else fold + 1, 7])


def split_subjects(index, fold: int | None, val_fraction: float, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks (train, val, test) over ``index`` rows; subjects never straddle parts.

    Val subjects are drawn (seeded) from the training folds until they hold at least
    ``val_fraction`` of the training folds' clips; at least one subject stays in train.
    ``fold=None`` (a pretraining pool) puts nothing in test.
    """
    folds = index["fold"].astype(int).to_numpy()
    subjects = index["subject"].astype(str).to_numpy()
    test = folds == fold if fold is not None else np.zeros(len(folds), bool)
    if fold is not None and not test.any():
        raise ValueError(f"fold {fold} holds no clips (folds present: {sorted(set(folds))}); "
                         f"study.folds must lie in 0..register.folds-1")
    pool = np.unique(subjects[~test])
    straddle = set(subjects[test]) & set(pool)
    if straddle:
        raise ValueError(f"subjects {sorted(straddle)[:5]} appear both in fold {fold} and in "
                         f"other folds; the folds are not subject-independent")
    val_subjects: list[str] = []
    if val_fraction > 0 and len(pool) > 1:
        want = val_fraction * (~test).sum()
        counts = {s: int(((subjects == s) & ~test).sum()) for s in pool}
        taken = 0
        for s in rng.permutation(pool):
            if taken >= want or len(val_subjects) == len(pool) - 1:
                break
            val_subjects.append(str(s))
            taken += counts[s]
    val = np.isin(subjects, val_subjects) & ~test
    return ~test & ~val, val, test


def _check_classes(name: str, fold: int, part: str, labels: np.ndarray,
                   classes: Sequence[str]) -> None:
    missing = [c for i, c in enumerate(classes) if not (labels == i).any()]
    if missing:
        raise EmptyClassError(
            f"{name} fold {fold}: no {part} clips of class(es) {', '.join(missing)}; use fewer "
            f"folds (register.folds), drop the class from study.classes, or add data")


def build_run_data(clips: ClipSet, *, name: str, fold: int | None, study_classes: Sequence[str],
                   val_fraction: float, seed: int, protocol: str = "full",
                   synthetic: ClipSet | None = None, synthetic_ratio: float = 1.0,
                   synthetic_steps: str = "real", log=print) -> RunData:
    """Split ``clips`` (one dataset or a merged set) for the run (``name`` is for messages).
    ``synthetic_steps`` (``augment.sd.epoch_steps``): ``real`` keeps an epoch's budget at the
    real training clips (``RunData.budget_clips``), ``mixed`` counts the synthetic ones too."""
    classes = run_classes(clips, study_classes)
    keep = clips.index["label"].astype(str).isin(classes).to_numpy()
    clips = clips.subset(keep) if not keep.all() else clips
    # the pool's split (fold None) follows the pretraining seed; a run's split never the seed
    split_seed = seed if fold is None else VAL_SPLIT_SEED
    tr, va, te = split_subjects(clips.index, fold, val_fraction, split_rng(fold, split_seed))
    rng = np.random.default_rng([seed, 0 if fold is None else fold + 1, 11])   # the protocol
    lookup = {c: i for i, c in enumerate(classes)}
    labels = clips.index["label"].astype(str).map(lookup).to_numpy(np.int64)
    if fold is not None:
        _check_classes(name, fold, "test", labels[te], classes)
    _check_classes(name, fold, "training", labels[tr | va], classes)
    proto = parse_protocol(protocol)
    if proto.semi_supervised:
        va = np.zeros(len(va), bool)          # no labels beyond the budget: no validation set
    result, val_labels, notes = _protocol_labels(protocol, labels, tr, va, classes, rng)
    train, val, test = clips.subset(tr), clips.subset(va), clips.subset(te)
    train_labels, clean = result.train_labels, result.clean_labels
    notes = {"actual_noise_rate": result.actual_noise_rate,
             "n_labelled": int(result.labelled_mask.sum()), **notes}
    if result.shortfall:
        log(f"protocol {protocol}: classes short of labels {result.shortfall}")
    budget = None                     # every training clip counts, unless SD mixing says not
    if synthetic is not None:
        from ferstudy.augment.mixing import mix_synthetic

        names = np.asarray(list(classes) + [""], dtype=object)
        train.index["label"] = names[train_labels]       # mix by the labels trained on
        mixed = mix_synthetic(train, synthetic.subset(
            synthetic.index["label"].astype(str).isin(classes).to_numpy()), synthetic_ratio, rng)
        extra = mixed.index["label"].astype(str).iloc[len(train):].map(lookup).to_numpy(np.int64)
        train_labels = np.concatenate([train_labels, extra])
        clean = np.concatenate([clean, extra])
        mixed.index.loc[: len(train) - 1, "label"] = np.asarray(list(classes))[labels[tr]]
        notes["n_synthetic"] = len(extra)
        if synthetic_steps not in ("real", "mixed"):
            raise ValueError(f"augment.sd.epoch_steps {synthetic_steps!r} unknown; allowed: "
                             f"real, mixed")
        budget = len(train) if synthetic_steps == "real" else None
        train = mixed
    return RunData(classes, train, val, test, train_labels, clean, val_labels, labels[te],
                   result, notes, budget_clips=budget)


def _protocol_labels(protocol: str, labels: np.ndarray, tr: np.ndarray, va: np.ndarray,
                     classes: Sequence[str], rng: np.random.Generator
                     ) -> tuple[ProtocolResult, np.ndarray, dict]:
    """The protocol applied to the training rows and, for label noise, the validation rows in
    the same draw (noisy selection labels, as a real noisy dataset has); the training rows'
    share of the result is returned with the validation labels to select on."""
    if parse_protocol(protocol).kind != "noise" or not va.any():
        return apply_protocol(protocol, labels[tr], len(classes), rng, classes=classes), \
            labels[va], {}
    both = tr | va
    joint = apply_protocol(protocol, labels[both], len(classes), rng, classes=classes)
    in_train = tr[both]
    part = joint.train_labels[in_train]
    clean = joint.clean_labels[in_train]
    val_noisy = joint.train_labels[~in_train]
    result = ProtocolResult(part, joint.labelled_mask[in_train], clean,
                            float((part != clean).mean()) if len(part) else 0.0)
    val_rate = float((val_noisy != labels[va]).mean())
    return result, val_noisy, {"val_noise_rate": val_rate}


class ClipBatches(torch.utils.data.Dataset):
    """uint8 clips + labels; ``__getitems__`` fetches a whole batch with one fancy index.

    Batches are dicts of CPU tensors: ``x`` uint8 (B, T, H, W, C), ``y`` (B,) long,
    ``index`` (B,) positions in the set. Conversion to float happens on the device.
    """

    def __init__(self, clips: np.ndarray, labels: np.ndarray):
        self.clips, self.labels = clips, np.asarray(labels, np.int64)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        return self.__getitems__([i])

    def __getitems__(self, indices: Sequence[int]) -> dict:
        idx = np.asarray(indices, dtype=np.int64)
        order = np.argsort(idx, kind="stable")       # sorted reads are faster on a memmap
        x = np.empty((len(idx),) + self.clips.shape[1:], np.uint8)
        x[order] = self.clips[idx[order]]
        return {"x": torch.from_numpy(x), "y": torch.from_numpy(self.labels[idx]),
                "index": torch.from_numpy(idx)}


class EpochOrder(torch.utils.data.Sampler):
    """The epoch's order of positions, set by the loop before each epoch (resume-safe: the
    order depends only on the run seed and the epoch, never on how many epochs ran before)."""

    def __init__(self):
        self.order: list[int] = []

    def set(self, positions: np.ndarray) -> None:
        self.order = np.asarray(positions, dtype=np.int64).tolist()

    def __iter__(self):
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)


def _batch_identity(batch: dict) -> dict:
    return batch


def _seed_worker(worker_id: int) -> None:
    # workers only index arrays, but seed them anyway so any future randomness is reproducible
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    import random

    random.seed(seed)


def make_loader(dataset: ClipBatches, sampler: EpochOrder, *, batch_size: int,
                num_workers: int, pin_memory: bool, seed: int) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, sampler=sampler, collate_fn=_batch_identity,
        num_workers=num_workers, pin_memory=pin_memory, worker_init_fn=_seed_worker,
        persistent_workers=num_workers > 0, generator=torch.Generator().manual_seed(seed))
