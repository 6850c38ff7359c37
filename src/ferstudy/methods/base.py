"""The learning-method interface the training engine drives.

The engine owns the loop (devices, AMP, loaders, checkpoints, early stopping); a method owns
the objective and its schedule. Per epoch the engine calls::

    pool = method.train_indices(epoch, n_train)     # which training clips are in play
    for batch in loader(pool):                      # batch: dict, tensors on the device
        loss, logs = method.loss(model, batch, ctx)
        ...backward/step...
        method.after_step(model)
    method.on_epoch_end(epoch, val_metrics, ctx)   # may change the LR via ctx.optimizer

and evaluates ``method.eval_model(model)`` (also the module whose weights go to ``model.pt``:
Ada-CM's mean teacher, not the student). Batches hold ``x`` (B, C, T, H, W float in [0, 1],
already augmented when the run's augment says so), ``y`` (B,) long, ``index`` (B,) positions in
the training set; a method with ``needs_unlabelled = True`` also gets ``ux`` (B, C, T, H, W),
raw unlabelled clips, and ``uindex`` (B,) their positions (CPU), and builds its own views with
``ctx.augment(x, strength)``.

Optional extensions (backwards compatible; a method that ignores them behaves as before):

- ``cfg`` passed to the constructor is the method's own config block,
  ``config["methods"].get(name, {})`` (schema defaults filled); each method also keeps its
  defaults in ``DEFAULTS`` so an empty dict works.
- ``epoch`` (in ``train_indices``, ``on_epoch_end`` and ``ctx.epoch``) counts from 0.
- Before the first epoch (and before ``load_state_dict`` on resume) the engine calls
  ``method.prepare(TrainData(...))`` with what it knows about the training set, positions
  matching ``batch["index"]``: the labels trained on (after the protocol, -1 = unlabelled),
  per-clip intensity (``index.csv`` ``intensity``), the clean labels (before label noise) and
  the uint8 clips. Curriculum needs ``intensity`` (or ``clips`` for confidence scoring);
  SCN uses ``clean_labels`` to log how many relabellings are correct; Ada-CM uses ``clips``
  and ``labels`` to measure the teacher's confidence on labelled data after each epoch.
- How many clips an epoch draws is the engine's one rule (``train.steps_per_epoch``, see
  ``ferstudy.train.loop``), the same for every method, so arms get equal budgets.
- ``method.stage_moved()`` (after ``on_epoch_end``): True once after a schedule stage change
  (the engine resets its patience); ``method.epochs_in_stage(epochs_done)``: epochs trained in
  the current stage (the engine stops early only after ``min_epochs`` of the final stage).
- ``Method.arch_options(cfg)`` (a classmethod): model settings the method needs (Ada-CM's dropout 0.5 and
  L2-normalised feature before the classifier); they are saved with the model.
- ``method.epoch_logs()`` (after ``on_epoch_end``) returns method-specific numbers for the
  epoch (e.g. SCN's relabel counts, Ada-CM's thresholds), for extra ``curve.csv`` columns.
- ``method.diagnostics(curve)`` turns the run's curve rows (``epoch_logs`` included) into the
  mechanism diagnostics written to ``diagnostics.csv`` (``DIAGNOSTIC_COLUMNS`` less
  ``method``): a pure function of the curve, so a resumed run writes the same file. Labels
  the protocol withheld or corrupted (``TrainData.clean_labels``) may be counted for these
  numbers only; they never enter a loss, a pseudo-label or model selection.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ferstudy.registry import Registry

METHODS = Registry("learning method")

# diagnostics.csv (docs/architecture.md, "Run outputs"): one row per (step, metric);
# unit = "epoch" (step = epoch, from 0) or "stage" (step = curriculum stage, from 0)
DIAGNOSTIC_COLUMNS = ("method", "unit", "step", "metric", "value")


def epoch_diagnostics(curve: list[dict[str, Any]], metrics: Sequence[str]) -> list[dict[str, Any]]:
    """One (epoch, metric, value) row per curve row and listed metric present in it."""
    return [{"unit": "epoch", "step": int(row["epoch"]), "metric": name,
             "value": float(row[name])}
            for row in curve for name in metrics if name in row]


@dataclass
class StepContext:
    epoch: int
    device: torch.device
    optimizer: torch.optim.Optimizer | None = None
    augment: Callable[[torch.Tensor, str], torch.Tensor] = lambda x, strength: x
    generator: torch.Generator | None = None      # the run's seeded RNG for anything random
    log: Callable[[str], None] = print
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainData:
    """The training set as the engine indexes it (row i <-> ``batch["index"] == i``)."""

    labels: np.ndarray                        # (N,) int64 labels trained on; -1 = unlabelled
    intensity: np.ndarray | None = None       # (N,) float per-clip expression intensity
    clean_labels: np.ndarray | None = None    # (N,) int64 labels before the protocol's noise
    clips: np.ndarray | None = None           # (N, T, H, W, C) uint8 (may be a memmap)
    classes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.labels)


class Method:
    """Plain supervised cross-entropy; subclasses override what their paper changes."""

    needs_unlabelled = False

    def __init__(self, cfg: dict[str, Any], *, num_classes: int, embed_dim: int):
        self.cfg = cfg
        self.num_classes = num_classes
        self.embed_dim = embed_dim
        self.heads = nn.ModuleDict()   # extra trainable modules (optimised with the model)

    def prepare(self, data: TrainData) -> None:
        """Called once before training (see the module docstring); default: nothing needed."""

    @classmethod
    def arch_options(cls, cfg: dict[str, Any]) -> dict[str, Any]:
        """Model keyword arguments the method needs, from its config block (module docstring)."""
        return {}

    def stage_moved(self) -> bool:
        """True once after a schedule stage change (see the module docstring)."""
        return False

    def epochs_in_stage(self, epochs_done: int) -> int:
        """Epochs trained in the current stage; a method without stages has one stage."""
        return epochs_done

    def epoch_logs(self) -> dict[str, float]:
        """Method-specific numbers for the epoch just ended (extra curve.csv columns)."""
        return {}

    def diagnostics(self, curve: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Mechanism diagnostics from the run's curve rows (module docstring); none here."""
        return []

    def train_indices(self, epoch: int, n_train: int) -> np.ndarray:
        return np.arange(n_train)

    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor],
             ctx: StepContext) -> tuple[torch.Tensor, dict[str, float]]:
        logits, _ = model(batch["x"])
        loss = F.cross_entropy(logits, batch["y"])
        acc = (logits.argmax(1) == batch["y"]).float().mean().item()
        return loss, {"acc": acc}

    def after_step(self, model: nn.Module) -> None:
        pass

    def on_epoch_end(self, epoch: int, val_metrics: dict[str, float], ctx: StepContext) -> None:
        pass

    def eval_model(self, model: nn.Module) -> nn.Module:
        return model

    def stop_early_allowed(self) -> bool:
        """False while a schedule (e.g. curriculum stages) still has steps to take."""
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"heads": self.heads.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.heads.load_state_dict(state["heads"])


# The base Method is plain cross-entropy on the labelled clips.
METHODS.register("supervised")(Method)
