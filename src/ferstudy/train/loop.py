"""The epoch loop: optimiser, LR schedule, early stopping on validation, checkpoints, resume.

The method (``ferstudy.methods``) supplies the loss and its schedule; this loop owns devices,
AMP, batches, and bookkeeping. Randomness is re-seeded from (run seed, epoch) at the start of
every epoch, so a run resumed from its epoch-e checkpoint draws exactly the batches, dropout
masks and augmentations an uninterrupted run draws: resumed and uninterrupted runs end equal.
The model reported is the best-validation epoch's (or the last when there is no validation
set); the test fold is never looked at here.

Equal budgets (``steps_per_epoch``, one rule for every method of a comparison): with
``train_set`` (default) every epoch draws as many labelled clips as the run's training set
holds clips, labelled or not, the labelled pool cycled in fresh shuffles; so supervised,
SCN, curriculum (whose pool grows by stage) and Ada-CM (whose unlabelled batches ride along
1:1) all take ceil(N_train / batch_size) optimiser steps per epoch. An SD run's N_train is its
real training clips (``augment.sd.epoch_steps: real``, ``RunData.epoch_clips``): the synthetic
clips compete for those draws, so SD and no-SD arms take the same steps (``mixed``: real +
synthetic, (1 + ratio) x the steps, as before 2026-12). ``pool`` draws each
method's own pool once (Ada-CM: max(labelled, unlabelled)), which gives a 5-labels-per-class
supervised baseline a few steps per epoch against Ada-CM's dozens: kept only to reproduce
earlier runs.

Patience: a method whose schedule has stages (curriculum) resets the early-stopping counter
at each stage move (``Method.stage_moved``), and early stopping needs ``min_epochs`` epochs in
the final stage (``Method.epochs_in_stage``), so a move is never the epoch the run stops at.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ferstudy.methods.base import Method, StepContext, TrainData
from ferstudy.train import device as dev
from ferstudy.train.checkpoint import load_checkpoint, save_checkpoint
from ferstudy.train.data import ClipBatches, EpochOrder, RunData, make_loader
from ferstudy.train.metrics import nll
from ferstudy.train.predict import predict


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the message names the epoch and the batch."""


@dataclass
class LoopConfig:
    """The loop's share of config ``train`` (see ferstudy/schemas/train.schema.yaml)."""

    epochs: int = 8
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "adamw"           # adam | adamw | sgd (momentum 0.9, Nesterov)
    scheduler: str = "cosine"          # none | cosine | step | exponential
    step_size: int = 10                # step: epochs between LR drops
    gamma: float = 0.1                 # step / exponential: LR factor
    min_lr_ratio: float = 0.01         # cosine: final LR / initial LR
    patience: int = 5                  # epochs without validation improvement before stopping
    min_epochs: int = 0                # never stop early before this many epochs
    monitor: str = "val_loss"          # val_loss (lower is better) | val_acc
    grad_clip: float = 0.0             # max gradient norm (0 = off)
    amp: str = "auto"                  # auto | bf16 | fp16 | off (CUDA only)
    num_workers: int = -1              # -1: CPU 0 (data in memory), CUDA threads - 1
    log_every_s: float = 30.0          # progress line within an epoch at most this often
    steps_per_epoch: str = "train_set"  # train_set (equal across methods) | pool (legacy)

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> LoopConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in cfg.items() if k in names})


@dataclass
class FitResult:
    best_state: dict[str, torch.Tensor]
    best_epoch: int
    epochs: int
    curve: list[dict[str, float]]
    wall_time_s: float
    stopped_early: bool


def schedule_factor(cfg: LoopConfig, epoch: int) -> float:
    if cfg.scheduler == "cosine":
        return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * epoch / cfg.epochs))
    if cfg.scheduler == "step":
        return cfg.gamma ** (epoch // cfg.step_size)
    if cfg.scheduler == "exponential":
        return cfg.gamma ** epoch
    if cfg.scheduler == "none":
        return 1.0
    raise ValueError(f"train.scheduler {cfg.scheduler!r} unknown; allowed: none, cosine, step, exponential")


def step_schedule(optimizer: torch.optim.Optimizer, cfg: LoopConfig, epoch: int) -> None:
    """Multiply the LR by f(e+1)/f(e): composes with methods that change the LR themselves
    (curriculum lowers it at a stage move) instead of overwriting their change."""
    ratio = schedule_factor(cfg, epoch + 1) / schedule_factor(cfg, epoch)
    for group in optimizer.param_groups:
        group["lr"] *= ratio


def make_optimizer(params, cfg: LoopConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, nesterov=True,
                               weight_decay=cfg.weight_decay)
    raise ValueError(f"train.optimizer {cfg.optimizer!r} unknown; allowed: adam, adamw, sgd")


def _cpu_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


def _better(cfg: LoopConfig, value: float, best: float | None) -> bool:
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    return value < best if cfg.monitor == "val_loss" else value > best


def fit(model: torch.nn.Module, method: Method, data: RunData, cfg: LoopConfig, *,
        device: torch.device, seed: int, threads: int = 1, augment_fn=None,
        checkpoint_path: str | Path | None = None, fingerprint: str = "",
        log: Callable[[str], None] = print,
        on_epoch_end: Callable[[int], None] | None = None,
        optimistic_probe: Callable[[torch.nn.Module], float] | None = None,
        on_first_step: Callable[[], None] | None = None) -> FitResult:
    """Train ``model`` (already on ``device``) with ``method``; see the module docstring.
    ``augment_fn(x, generator)`` is the run's DA transform for training batches (or None).
    ``on_epoch_end(epoch)`` runs after each checkpoint (tests use it to simulate a kill).
    ``optimistic_probe(model)``: only for a dataset on its release's split, the test accuracy
    of each epoch's model, logged as curve column ``test_acc_optimistic`` to reproduce the
    papers' best-epoch-on-test figure; nothing here reads it (selection stays on validation).
    ``on_first_step()`` runs once, after this call's first optimiser step (start-up timing)."""
    method.heads.to(device)
    params = list(model.parameters()) + list(method.heads.parameters())
    optimizer = make_optimizer(params, cfg)
    amp = dev.amp_dtype(device, cfg.amp)
    scaler = dev.make_scaler(device, amp)
    method.prepare(TrainData(labels=data.train_labels, intensity=data.intensity,
                             clean_labels=data.clean_labels, clips=data.train.clips,
                             classes=data.classes))
    start, best, best_epoch, bad, curve, wall0, stopped = 0, None, -1, 0, [], 0.0, False
    best_state: dict[str, torch.Tensor] = {}
    state = load_checkpoint(checkpoint_path, fingerprint, log) if checkpoint_path else None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        method.load_state_dict(state["method"])
        start, best, best_epoch = state["epoch"] + 1, state["best"], state["best_epoch"]
        bad, curve, wall0, stopped = state["bad"], state["curve"], state["wall"], state["stopped"]
        best_state = state["best_state"]
        # epochs are counted from 1 in every message, as in the per-epoch log lines
        log(f"resuming from {checkpoint_path} after epoch {state['epoch'] + 1}/{cfg.epochs}"
            + ("" if stopped else f"; continuing at epoch {state['epoch'] + 2}/{cfg.epochs}"))

    workers = cfg.num_workers if cfg.num_workers >= 0 else (
        max(0, threads - 1) if device.type == "cuda" else 0)
    dataset = ClipBatches(data.train.clips, data.train_labels)
    sampler = EpochOrder()
    loader = make_loader(dataset, sampler, batch_size=cfg.batch_size, num_workers=workers,
                         pin_memory=device.type == "cuda", seed=seed)
    labelled = np.flatnonzero(data.train_labels >= 0)
    unlabelled = np.flatnonzero(data.train_labels < 0)
    if method.needs_unlabelled and len(unlabelled) == 0:
        unlabelled = np.arange(len(data.train_labels))   # no budget: every clip also unlabelled
    t0 = time.perf_counter()
    epoch = start - 1
    for epoch in range(start, cfg.epochs if not stopped else start):
        t_epoch = time.perf_counter()
        dev.seed_everything(dev.derive_seed(seed, epoch))
        order_gen = torch.Generator().manual_seed(dev.derive_seed(seed, epoch, 1))
        aug_gen = torch.Generator(device=device).manual_seed(dev.derive_seed(seed, epoch, 2))
        ctx = StepContext(epoch=epoch, device=device, optimizer=optimizer, generator=aug_gen,
                          augment=_view_fn(aug_gen), log=log)
        pool = np.intersect1d(method.train_indices(epoch, len(data.train_labels)), labelled)
        n_draw = epoch_draws(cfg.steps_per_epoch, method, n_train=data.epoch_clips,
                             n_pool=len(pool), n_unlabelled=len(unlabelled))
        sampler.set(cycled_order(pool, n_draw, order_gen))
        u_order = unlabelled[torch.randperm(len(unlabelled), generator=order_gen).numpy()] \
            if method.needs_unlabelled else unlabelled
        model.train()
        sums, seen, n_batches, last_log = {"loss": 0.0, "acc": 0.0}, 0, len(loader), time.perf_counter()
        for b, batch in enumerate(loader):
            x = dev.to_input(batch["x"], device)
            if augment_fn is not None:
                x = augment_fn(x, aug_gen)
            mb = {"x": x, "y": batch["y"].to(device, non_blocking=True),
                  "index": batch["index"].to(device, non_blocking=True)}
            if method.needs_unlabelled:
                take = np.resize(np.roll(u_order, -b * cfg.batch_size), len(x))
                mb["ux"] = dev.to_input(dataset.__getitems__(take)["x"], device)
                mb["uindex"] = torch.from_numpy(take)     # positions (diagnostics only)
            with dev.autocast(device, amp):
                loss, logs = method.loss(model, mb, ctx)
            if not torch.isfinite(loss.detach()).all():
                raise NonFiniteLossError(
                    f"loss is {loss.item()} at epoch {epoch + 1}/{cfg.epochs} batch {b + 1}; lower "
                    f"train.lr, set train.grad_clip, or try train.amp: off")
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if cfg.grad_clip > 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            method.after_step(model)
            if on_first_step is not None:
                on_first_step()
                on_first_step = None
            sums["loss"] += loss.item() * len(x)
            sums["acc"] += float(logs.get("acc", float("nan"))) * len(x)
            seen += len(x)
            if time.perf_counter() - last_log > cfg.log_every_s:
                last_log = time.perf_counter()
                done = int(20 * (b + 1) / n_batches)
                log(f"epoch {epoch + 1}/{cfg.epochs} [{'#' * done}{'.' * (20 - done)}] batch {b + 1}/{n_batches} "
                    f"loss {sums['loss'] / seen:.4f}")
        metrics = {"train_loss": sums["loss"] / max(seen, 1), "train_acc": sums["acc"] / max(seen, 1)}
        evaluated = method.eval_model(model)
        if len(data.val):
            probs, _ = predict(evaluated, data.val.clips, device=device,
                               batch_size=cfg.batch_size * 2, amp=cfg.amp)
            metrics["val_loss"] = nll(probs, data.val_labels)
            metrics["val_acc"] = float((probs.argmax(1) == data.val_labels).mean())
        method.on_epoch_end(epoch, metrics, ctx)
        if optimistic_probe is not None:
            metrics["test_acc_optimistic"] = optimistic_probe(evaluated)
        row = {"epoch": epoch, **{k: metrics.get(k, float("nan")) for k in
                                  ("train_loss", "train_acc", "val_loss", "val_acc")},
               "lr": optimizer.param_groups[0]["lr"], **method.epoch_logs(),
               **({"test_acc_optimistic": metrics["test_acc_optimistic"]}
                  if optimistic_probe is not None else {})}
        curve.append(row)
        score = metrics.get(cfg.monitor, float("nan"))
        if not len(data.val) or _better(cfg, score, best):
            best, best_epoch, bad = (score if len(data.val) else None), epoch, 0
            best_state = _cpu_state(evaluated)
        else:
            bad += 1
        if method.stage_moved():
            bad = 0                  # a new stage is a new problem: patience starts again
        step_schedule(optimizer, cfg, epoch)
        stopped = (bad >= cfg.patience and method.epochs_in_stage(epoch + 1) >= cfg.min_epochs
                   and method.stop_early_allowed())
        log(f"epoch {epoch + 1}/{cfg.epochs} train_loss {row['train_loss']:.4f} "
            f"train_acc {row['train_acc']:.3f} val_loss {row['val_loss']:.4f} "
            f"val_acc {row['val_acc']:.3f} lr {row['lr']:.2e} "
            f"({time.perf_counter() - t_epoch:.1f}s){' *' if best_epoch == epoch else ''}")
        if checkpoint_path:
            save_checkpoint(checkpoint_path, {
                "fingerprint": fingerprint, "epoch": epoch, "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(),
                "method": method.state_dict(), "best": best, "best_epoch": best_epoch,
                "best_state": best_state, "bad": bad, "curve": curve, "stopped": stopped,
                "wall": wall0 + time.perf_counter() - t0})
        if on_epoch_end is not None:
            on_epoch_end(epoch)
        if stopped:
            log(f"early stop after epoch {epoch + 1}: no {cfg.monitor} improvement for "
                f"{cfg.patience} epochs (best epoch {best_epoch + 1})")
            break
    if not best_state:   # zero epochs configured: report the model as it is
        best_state = _cpu_state(method.eval_model(model))
    return FitResult(best_state, best_epoch, len(curve), curve,
                     wall0 + time.perf_counter() - t0, stopped)


def epoch_draws(rule: str, method: Method, *, n_train: int, n_pool: int,
                n_unlabelled: int) -> int:
    """Labelled clips one epoch draws (the module docstring's ``steps_per_epoch`` rule)."""
    if n_pool == 0:
        return 0
    if rule == "train_set":
        # the pool is a subset of the training clips, so this is n_train for every method;
        # an SD run's n_train counts its real clips only, fewer than its pool of real+synthetic
        return n_train
    if rule == "pool":
        return max(n_pool, n_unlabelled) if method.needs_unlabelled else n_pool
    raise ValueError(f"train.steps_per_epoch {rule!r} unknown; allowed: train_set, pool")


def cycled_order(pool: np.ndarray, n_draw: int, generator: torch.Generator) -> np.ndarray:
    """``n_draw`` positions: fresh shuffles of ``pool`` back to back (one shuffle when
    ``n_draw == len(pool)``; more when a method's epoch is longer than its labelled pool)."""
    if len(pool) == 0:
        return pool
    parts, total = [], 0
    while total < n_draw:
        parts.append(pool[torch.randperm(len(pool), generator=generator).numpy()])
        total += len(pool)
    return np.concatenate(parts)[:n_draw] if parts else pool[:0]


def _view_fn(generator: torch.Generator):
    """``ctx.augment(x, strength)`` for methods that build their own views (Ada-CM)."""

    def view(x: torch.Tensor, strength: str) -> torch.Tensor:
        from ferstudy.augment.views import augment_view

        return augment_view(x, strength, generator)

    return view
