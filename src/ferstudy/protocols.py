"""Training-label protocols of the study grid (the ``protocol`` wildcard).

``full``            the training labels as registered.
``noisesym{pct}``   symmetric label noise (SCN, CVPR 2020): exactly round(pct% * N) training
                    labels, chosen uniformly at random, are each replaced by a uniformly chosen
                    OTHER class. Every clip is thus flipped with probability pct% (the paper's
                    "flipped with probability p"), and the realised rate equals the requested
                    one up to rounding, which matters on datasets of a few hundred clips.
``noiseflip{pct}``  class-dependent ("pair") noise: the same number of clips move to a fixed
                    confusable class (``FLIP_TARGETS``: anger<->disgust, fear<->surprise,
                    sadness->neutral (fear without neutral), happiness->contempt (surprise
                    without contempt/neutral), neutral->sadness, contempt->disgust); without
                    class names, class c -> (c + 1) mod K, the pair flip of Han et al. 2018.
``labels{n}``       n labelled clips per class (stratified, exact when a class has n clips;
                    classes with fewer keep all of theirs and are listed in ``shortfall``);
                    the rest of the training set becomes the unlabelled pool (label -1).
``frac{pct}``       pct% of each class labelled (at least one per class), rest unlabelled.

Only the TRAINING labels of a run go through here: ``apply_protocol`` receives that one array
and returns new arrays, so validation and test labels cannot be touched. The clean labels are
kept for analysis (how many noisy labels SCN cures, the realised noise rate).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence

import numpy as np

# The protocol grammar, defined once: the schema (generated $defs/protocol, schema_enums) and the Snakemake
# wildcard constraint (common.smk) are built from it.
PROTOCOL_PATTERN = r"full|noise(sym|flip)([0-9]+)|labels([0-9]+)|frac([0-9]+)"
PROTOCOL_RE = re.compile(f"^({PROTOCOL_PATTERN})$")

# Confusable partner of each canonical expression for class-flip noise: the first name in the
# list that the run trains on wins. Pairs follow the usual FER confusion matrices (anger and
# disgust, fear and surprise share action units; sadness is mistaken for neutral).
FLIP_TARGETS = {
    "anger": ["disgust"],
    "disgust": ["anger"],
    "fear": ["surprise"],
    "surprise": ["fear"],
    "sadness": ["neutral", "fear"],
    "happiness": ["contempt", "neutral", "surprise"],
    "neutral": ["sadness"],
    "contempt": ["disgust", "happiness"],
}


class ProtocolError(ValueError):
    """A protocol string or a label array the protocol cannot work with."""


@dataclass(frozen=True)
class Protocol:
    kind: str            # full | noise | labels | frac
    noise: str = ""      # sym | flip (kind == "noise")
    amount: int = 0      # percent (noise, frac) or clips per class (labels)

    @property
    def semi_supervised(self) -> bool:
        return self.kind in ("labels", "frac")


@dataclass
class ProtocolResult:
    train_labels: np.ndarray      # (N,) int64 labels to train on; -1 = unlabelled
    labelled_mask: np.ndarray     # (N,) bool
    clean_labels: np.ndarray      # (N,) int64 the labels given to apply_protocol
    actual_noise_rate: float      # fraction of labelled clips whose label differs from clean
    shortfall: dict[int, int] = field(default_factory=dict)  # class -> labelled clips it had


def parse_protocol(name: str) -> Protocol:
    match = PROTOCOL_RE.match(str(name))
    if not match:
        raise ProtocolError(
            f"unknown protocol {name!r}; expected full, noisesym<pct>, noiseflip<pct>, "
            f"labels<n> or frac<pct> (e.g. noisesym20, labels10, frac25)")
    if name == "full":
        return Protocol("full")
    if match.group(2):
        pct = int(match.group(3))
        if not 0 <= pct < 100:
            raise ProtocolError(f"protocol {name!r}: noise percent must be in 0..99")
        return Protocol("noise", match.group(2), pct)
    if match.group(4):
        n = int(match.group(4))
        if n < 1:
            raise ProtocolError(f"protocol {name!r}: at least one label per class is needed")
        return Protocol("labels", amount=n)
    pct = int(match.group(5))
    if not 0 < pct <= 100:
        raise ProtocolError(f"protocol {name!r}: labelled fraction must be in 1..100 percent")
    return Protocol("frac", amount=pct)


def apply_protocol(protocol: str | Protocol, labels: np.ndarray, num_classes: int,
                   rng: np.random.Generator, *,
                   classes: Sequence[str] | None = None) -> ProtocolResult:
    """Apply ``protocol`` to the training labels (N,) in 0..num_classes-1; return new arrays.

    ``rng`` is the run's seeded generator (same seed -> same noise/budget). ``classes`` (the
    names of label ids 0..K-1) picks the confusable partners of class-flip noise.
    """
    proto = protocol if isinstance(protocol, Protocol) else parse_protocol(protocol)
    clean = np.asarray(labels)
    if clean.ndim != 1 or not np.issubdtype(clean.dtype, np.integer):
        raise ProtocolError(f"training labels must be a 1-D integer array, got "
                            f"{clean.dtype} {clean.shape}")
    if clean.size and (clean.min() < 0 or clean.max() >= num_classes):
        raise ProtocolError(f"training labels must lie in 0..{num_classes - 1}; got "
                            f"{clean.min()}..{clean.max()} (unlabelled clips cannot take a "
                            f"protocol: pass only labelled training clips)")
    clean = clean.astype(np.int64).copy()
    train = clean.copy()
    labelled = np.ones(len(clean), dtype=bool)
    shortfall: dict[int, int] = {}
    if proto.kind == "noise":
        train = _inject_noise(clean, proto, num_classes, rng, classes)
    elif proto.semi_supervised:
        labelled, shortfall = _labelled_subset(clean, proto, num_classes, rng)
        train[~labelled] = -1
    n_lab = int(labelled.sum())
    rate = float((train[labelled] != clean[labelled]).sum() / n_lab) if n_lab else 0.0
    return ProtocolResult(train, labelled, clean, rate, shortfall)


def _inject_noise(clean: np.ndarray, proto: Protocol, num_classes: int,
                  rng: np.random.Generator, classes: Sequence[str] | None) -> np.ndarray:
    if num_classes < 2:
        raise ProtocolError("label noise needs at least two classes")
    noisy = clean.copy()
    n_flip = int(round(proto.amount / 100 * len(clean)))
    flip = rng.choice(len(clean), size=n_flip, replace=False)
    if proto.noise == "sym":
        # uniform over the K-1 other classes: draw an offset 1..K-1 and wrap around
        offset = rng.integers(1, num_classes, size=n_flip)
        noisy[flip] = (clean[flip] + offset) % num_classes
    else:
        noisy[flip] = flip_mapping(num_classes, classes)[clean[flip]]
    return noisy


def flip_mapping(num_classes: int, classes: Sequence[str] | None = None) -> np.ndarray:
    """(K,) target class of each class under class-flip noise (never the class itself)."""
    if classes is None:
        return (np.arange(num_classes) + 1) % num_classes
    if len(classes) != num_classes:
        raise ProtocolError(f"{len(classes)} class names given for {num_classes} classes")
    mapping = (np.arange(num_classes) + 1) % num_classes
    for i, name in enumerate(classes):
        for partner in FLIP_TARGETS.get(name, []):
            if partner in classes and partner != name:
                mapping[i] = list(classes).index(partner)
                break
    return mapping


def _labelled_subset(clean: np.ndarray, proto: Protocol, num_classes: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, dict[int, int]]:
    """Stratified labelled mask: the same budget rule for every class (no hard-coded counts)."""
    labelled = np.zeros(len(clean), dtype=bool)
    shortfall: dict[int, int] = {}
    for c in range(num_classes):
        members = np.flatnonzero(clean == c)
        if proto.kind == "labels":
            want = proto.amount
        else:
            want = max(1, int(round(proto.amount / 100 * len(members))))
        if len(members) < want:
            shortfall[c] = len(members)
        take = rng.permutation(members)[: min(want, len(members))]
        labelled[take] = True
    return labelled, shortfall


def write_protocol_file(path: str | Path, clip_ids: Sequence[str], result: ProtocolResult,
                        classes: Sequence[str]) -> None:
    """Publish the run's noisy labels / label budget: one row per training clip."""
    import pandas as pd

    from ferstudy import atomic

    names = np.asarray(list(classes) + [""], dtype=object)   # index -1 -> "" (unlabelled)
    frame = pd.DataFrame({
        "clip_id": list(clip_ids),
        "clean_label": names[result.clean_labels],
        "train_label": names[result.train_labels],
        "labelled": result.labelled_mask.astype(int),
        "noisy": ((result.train_labels != result.clean_labels) & result.labelled_mask).astype(int),
    })
    atomic.write_csv(path, frame)
