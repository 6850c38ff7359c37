"""One grid point of a study: the ``{run}`` path fragment and its parts.

``{run} = {dataset}/{arch}/{method}/{init}/{augment}/{protocol}/seed{seed}/fold{fold}``
(docs/architecture.md): training writes ``results/runs/{run}/``, evaluation
``results/eval/{run}/``. Shared by both, so it lives in neither.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

AXES = ("dataset", "arch", "method", "init", "augment", "protocol", "seed", "fold")
CONFIG_AXES = ("dataset", "arch", "method", "init", "augment", "protocol")  # a configuration
_SEED_RE = re.compile(r"^seed(\d+)$")
_FOLD_RE = re.compile(r"^fold(\d+)$")


@dataclass(frozen=True)
class RunKey:
    """One grid point; ``str(key)`` is the ``{run}`` path fragment."""

    dataset: str
    arch: str
    method: str
    init: str
    augment: str
    protocol: str
    seed: int
    fold: int

    def __str__(self) -> str:
        return (f"{self.dataset}/{self.arch}/{self.method}/{self.init}/{self.augment}/"
                f"{self.protocol}/seed{self.seed}/fold{self.fold}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def parse(cls, run: str | Path) -> RunKey:
        """``"ckplus/resnet3d/supervised/ft/da/full/seed0/fold1"`` (the last 8 parts of a path)."""
        parts = Path(run).parts[-8:]
        seed = _SEED_RE.match(parts[6]) if len(parts) == 8 else None
        fold = _FOLD_RE.match(parts[7]) if len(parts) == 8 else None
        if not (seed and fold):
            raise ValueError(
                f"{run!s} is not a run path: expected "
                "{dataset}/{arch}/{method}/{init}/{augment}/{protocol}/seed{N}/fold{K}"
            )
        return cls(*parts[:6], int(seed.group(1)), int(fold.group(1)))
