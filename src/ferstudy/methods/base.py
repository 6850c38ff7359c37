"""The learning-method interface the training engine drives.

The engine owns the loop (devices, AMP, loaders, checkpoints, early stopping); a method owns
the objective and its schedule. Per epoch the engine calls::

    pool = method.train_indices(epoch, n_train)     # which training clips are in play
    for batch in loader(pool):                      # batch: dict, tensors on the device
        loss, logs = method.loss(model, batch, ctx)
        ...backward/step...
        method.after_step(model)
    method.on_epoch_end(epoch, val_metrics, ctx)   # may change the LR via ctx.optimizer

and evaluates ``method.eval_model(model)``. Batches hold ``x`` (B, C, T, H, W float in [0, 1],
already augmented when the run's augment says so), ``y`` (B,) long, ``index`` (B,) positions in
the training set; a method with ``needs_unlabelled = True`` also gets ``ux`` (B, C, T, H, W),
raw unlabelled clips, and builds its own views with ``ctx.augment(x, strength)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class StepContext:
    epoch: int
    device: torch.device
    optimizer: torch.optim.Optimizer | None = None
    augment: Callable[[torch.Tensor, str], torch.Tensor] = lambda x, strength: x
    generator: torch.Generator | None = None      # the run's seeded RNG for anything random
    log: Callable[[str], None] = print
    extra: dict[str, Any] = field(default_factory=dict)


class Method:
    """Plain supervised cross-entropy; subclasses override what their paper changes."""

    needs_unlabelled = False

    def __init__(self, cfg: dict[str, Any], *, num_classes: int, embed_dim: int):
        self.cfg = cfg
        self.num_classes = num_classes
        self.embed_dim = embed_dim
        self.heads = nn.ModuleDict()   # extra trainable modules (optimised with the model)

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
