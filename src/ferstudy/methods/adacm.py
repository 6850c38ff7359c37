"""Ada-CM: semi-supervised FER with an adaptive confidence margin (Li et al., CVPR 2022;
code hangyu94/Ada-CM).

Per step, with a labelled batch ``x, y`` (B, C, T, H, W) and an unlabelled batch ``ux`` of
the same size (1:1 as in the code):

- ``L_s``: cross-entropy on the labelled clips.
- Two weak views of ``ux``; their softmaxes are averaged -> ``p`` (B, K). A clip whose
  ``max p`` reaches the threshold of its argmax class is pseudo-labelled and ``L_u`` is the
  cross-entropy of a strong view on that pseudo-label (masked, averaged over the whole batch as
  in the code). The other clips are contrasted: ``L_c`` is the supervised-contrastive loss of
  Khosla et al. without labels (= SimCLR's), temperature 0.07, between the two weak views'
  L2-normalised embeddings.
- ``loss = w_s * L_s + w_u * L_u + w_c * L_c`` (0.5, 1.0, 0.1).

The model is the official code's: the classifier sees dropout(0.5) -> L2-normalised feature
(``head: official``; ``arch_options``), and the contrastive loss uses that same normalised
feature. The strong view is RandAugment(3, 5) then the weak view (crop with padding + flip),
the code's order.

A mean teacher (EMA of the student, decay 0.999 constant, over parameters and float buffers,
BatchNorm statistics included) is the model evaluated (``eval_model``). After each epoch, per
class c: ``T_c = max(0.8, 0.97 * mean teacher confidence on correctly predicted labelled clips
of c * 1 / (1 + exp(-epoch)))`` with epoch counted from 1 as in the code; 0.8 for a class with
no correct prediction. The confidences are measured on weakly augmented labelled training
clips (the code measures them on its augmented labelled training images); without clips the
statistics gathered on the (augmented) labelled batches during the epoch are used.

Remaining differences from the official code, and why:
- Video clips, not images: every view is one transform drawn per clip and applied to all of
  its frames (a per-frame draw would make the clip flicker); the backbones are ferstudy's
  video architectures, not an MS-Celeb-pretrained ResNet-18 (``ft`` supplies pretraining).
- Epoch length follows ``train.steps_per_epoch`` (default: one pass over the training set,
  equal for every arm of a comparison) instead of the code's fixed 800 iterations: a budget
  equal across methods is what a comparison needs, and the datasets here are far smaller.
- Under a label budget the run has no validation set and reports the last epoch (validation
  labels would be labels beyond the budget); the code reports its test-set accuracy.
- The thresholds are measured with the mean teacher after the epoch, not accumulated during
  it, so every labelled clip counts once with the weights that will pseudo-label next epoch.

Diagnostics (``diagnostics``, per epoch): the thresholds (``threshold_<class>``,
``threshold_mean``) in force during the epoch's successor, ``confident_frac`` (the share of
unlabelled clip visits passing their threshold, i.e. trained with ``L_u``), ``loss_u`` (its
mean per step), ``unlabelled_confidence`` (the mean ``max p`` of those visits: how far the
pseudo-labelling is from its thresholds when nothing passes; the official head's L2-normalised
feature bounds every logit by its class weight's norm, so a short run may stay below 0.8) and ``pseudo_label_accuracy``: the share of passing pseudo-labels equal to the
clip's withheld true label (``TrainData.clean_labels``; NaN when none passed). The true labels
are counted only: they never enter a loss, a threshold or the selection of the model.

Options beyond the code, off by default: ``ema_warmup`` uses decay ``min(decay, (1 + t) / (10
+ t))`` at step t (Tarvainen & Valpola's mean-teacher code), for very short runs;
``head: shared`` keeps the architectures' plain head (dropout 0.3, unnormalised feature).
``student_decay`` is the code's extra student weight decay (``param *= 1 - 0.02 * lr`` per
step).
"""
from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ferstudy.methods.base import METHODS, Method, StepContext, TrainData, epoch_diagnostics


def ema_update(teacher: nn.Module, student: nn.Module, decay: float) -> None:
    """teacher <- decay * teacher + (1 - decay) * student, parameters and float buffers
    (BatchNorm running statistics, as the code's state_dict loop); integer buffers are copied."""
    with torch.no_grad():
        t_state, s_state = teacher.state_dict(), student.state_dict()
        for key, t in t_state.items():
            s = s_state[key]
            if t.dtype.is_floating_point:
                t.mul_(decay).add_(s.detach().to(t.dtype), alpha=1.0 - decay)
            else:
                t.copy_(s)


def contrastive_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SupCon without labels (two views, contrast_mode 'all', base temperature = temperature).

    z1, z2: (N, D) L2-normalised embeddings of the two views of N clips. Each of the 2N
    anchors has one positive (its other view) among the 2N - 1 others.
    """
    z = torch.cat([z1, z2], dim=0)                        # (2N, D)
    n = z1.shape[0]
    sim = z @ z.t() / temperature
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(self_mask, float("-inf"))
    positive = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, positive)


def adaptive_thresholds(probs: torch.Tensor, targets: torch.Tensor, epoch_1based: int, *,
                        num_classes: int, scale: float = 0.97, floor: float = 0.8) -> np.ndarray:
    """Ada-CM's per-class thresholds (K,) from teacher softmaxes (N, K) on labelled clips."""
    conf, pred = probs.max(dim=1)
    correct = pred == targets
    ramp = 1.0 / (1.0 + math.exp(-epoch_1based))
    out = np.full(num_classes, floor, dtype=np.float64)
    for c in range(num_classes):
        sel = correct & (targets == c)
        if sel.any():
            out[c] = max(floor, scale * conf[sel].mean().item() * ramp)
    return out


@METHODS.register("adacm")
class AdaCM(Method):
    needs_unlabelled = True
    DEFAULTS: dict[str, Any] = {
        "ema_decay": 0.999,
        "ema_warmup": False,
        "head": "official",
        "dropout": 0.5,
        "student_decay": 0.02,
        "threshold_init": 0.8,
        "threshold_scale": 0.97,
        "temperature": 0.07,
        "w_sup": 0.5,
        "w_unsup": 1.0,
        "w_con": 0.1,
        "eval_batch": 32,
    }
    EMPTY_COUNTS = {"confident": 0, "unlabelled": 0, "pseudo_correct": 0, "pseudo_known": 0,
                    "loss_u": 0.0, "steps": 0, "max_p": 0.0}

    def __init__(self, cfg: dict[str, Any], *, num_classes: int, embed_dim: int):
        super().__init__(cfg, num_classes=num_classes, embed_dim=embed_dim)
        self.opts = {**self.DEFAULTS, **(cfg or {})}
        self.thresholds = np.full(num_classes, self.opts["threshold_init"], dtype=np.float64)
        self.teacher: nn.Module | None = None
        self.steps = 0
        self.lr = 0.0
        self.data: TrainData | None = None
        self._stats: list[tuple[torch.Tensor, torch.Tensor]] = []   # teacher (probs, y) in epoch
        self._counts = dict(self.EMPTY_COUNTS)
        self._last: dict[str, float] = {}

    def prepare(self, data: TrainData) -> None:
        self.data = data

    @classmethod
    def arch_options(cls, cfg: dict[str, Any]) -> dict[str, Any]:
        opts = {**cls.DEFAULTS, **(cfg or {})}
        if opts["head"] == "shared":
            return {}
        if opts["head"] != "official":
            raise ValueError(f"config key 'methods.adacm.head': {opts['head']!r}; allowed: "
                             f"official, shared")
        return {"head_dropout": float(opts["dropout"]), "feature_norm": True}

    def _teacher_of(self, model: nn.Module) -> nn.Module:
        if self.teacher is None:
            self.teacher = copy.deepcopy(model).eval()
            for p in self.teacher.parameters():
                p.requires_grad_(False)
            pending = getattr(self, "_pending_teacher", None)
            if pending is not None:
                self.teacher.load_state_dict(pending)
                self._pending_teacher = None
        return self.teacher

    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor],
             ctx: StepContext) -> tuple[torch.Tensor, dict[str, float]]:
        teacher = self._teacher_of(model)
        if ctx.optimizer is not None:
            self.lr = float(ctx.optimizer.param_groups[0]["lr"])
        x, y, ux = batch["x"], batch["y"], batch.get("ux")
        logits_x, _ = model(x)
        l_s = F.cross_entropy(logits_x.float(), y)
        logs = {"acc": (logits_x.argmax(1) == y).float().mean().item()}
        if self.data is None or self.data.clips is None:
            with torch.no_grad():
                teacher.eval()
                self._stats.append((torch.softmax(teacher(x)[0].float(), 1).cpu(), y.cpu()))
        if ux is None or len(ux) == 0:
            return self.opts["w_sup"] * l_s, {**logs, "loss_s": l_s.item()}

        w1, w2 = ctx.augment(ux, "weak"), ctx.augment(ux, "weak")
        strong = ctx.augment(ux, "strong")
        # two forward passes, as the code: BatchNorm sees each view's own batch statistics
        logits_1, emb_1 = model(w1)
        logits_2, emb_2 = model(w2)
        p = (torch.softmax(logits_1.float(), 1) + torch.softmax(logits_2.float(), 1)) / 2
        max_p, pseudo = p.max(dim=1)
        pseudo = pseudo.detach()
        thr = torch.as_tensor(self.thresholds, dtype=max_p.dtype, device=max_p.device)
        confident = (max_p >= thr[pseudo]).detach()
        logits_s, _ = model(strong)
        l_u = (F.cross_entropy(logits_s.float(), pseudo, reduction="none")
               * confident.float()).mean()
        unconf = ~confident
        if unconf.sum() >= 1:      # the classifier's normalised feature (official head)
            z1, z2 = F.normalize(emb_1.float(), dim=1), F.normalize(emb_2.float(), dim=1)
            l_c = contrastive_loss(z1[unconf], z2[unconf], self.opts["temperature"])
        else:
            l_c = l_u * 0.0
        loss = self.opts["w_sup"] * l_s + self.opts["w_unsup"] * l_u + self.opts["w_con"] * l_c
        self._count(confident, pseudo, batch.get("uindex"), l_u, max_p)
        return loss, {**logs, "loss_s": l_s.item(), "loss_u": l_u.item(), "loss_c": l_c.item(),
                      "mask": confident.float().mean().item()}

    def _count(self, confident: torch.Tensor, pseudo: torch.Tensor,
               uindex: torch.Tensor | None, l_u: torch.Tensor, max_p: torch.Tensor) -> None:
        """Epoch counters for the diagnostics; true labels are read here and nowhere else."""
        counts = self._counts
        counts["confident"] += int(confident.sum())
        counts["max_p"] += float(max_p.detach().sum())
        counts["unlabelled"] += len(confident)
        counts["loss_u"] += float(l_u.detach())
        counts["steps"] += 1
        truth = None if self.data is None else self.data.clean_labels
        if truth is not None and uindex is not None and bool(confident.any()):
            true = torch.as_tensor(np.asarray(truth)[uindex.cpu().numpy()])
            hit = pseudo.cpu()[confident.cpu()] == true[confident.cpu()]
            counts["pseudo_correct"] += int(hit.sum())
            counts["pseudo_known"] += len(hit)

    def ema_decay_now(self) -> float:
        decay = self.opts["ema_decay"]
        if self.opts["ema_warmup"]:
            decay = min(decay, (1.0 + self.steps) / (10.0 + self.steps))
        return decay

    def after_step(self, model: nn.Module) -> None:
        teacher = self._teacher_of(model)
        ema_update(teacher, model, self.ema_decay_now())
        self.steps += 1
        wd = self.opts["student_decay"] * self.lr
        if wd > 0:
            with torch.no_grad():
                for p in model.parameters():
                    if p.dtype.is_floating_point:
                        p.mul_(1.0 - wd)

    def eval_model(self, model: nn.Module) -> nn.Module:
        return self._teacher_of(model)

    def on_epoch_end(self, epoch: int, val_metrics: dict[str, float], ctx: StepContext) -> None:
        probs, targets = self._labelled_predictions(ctx.device, ctx.augment)
        if probs is not None:
            self.thresholds = adaptive_thresholds(
                probs, targets, epoch + 1, num_classes=self.num_classes,
                scale=self.opts["threshold_scale"], floor=self.opts["threshold_init"])
        self._stats = []
        seen = max(1, self._counts["unlabelled"])
        names = (list(self.data.classes) if self.data is not None
                 and len(self.data.classes) == self.num_classes else range(self.num_classes))
        counts = self._counts
        self._last = {"confident_frac": counts["confident"] / seen,
                      "pseudo_label_accuracy": counts["pseudo_correct"] / counts["pseudo_known"]
                      if counts["pseudo_known"] else float("nan"),
                      "loss_u": counts["loss_u"] / max(1, counts["steps"]),
                      "unlabelled_confidence": counts["max_p"] / counts["unlabelled"]
                      if counts["unlabelled"] else float("nan"),
                      "threshold_mean": float(np.mean(self.thresholds)),
                      **{f"threshold_{c}": float(t) for c, t in zip(names, self.thresholds)}}
        self._counts = dict(self.EMPTY_COUNTS)
        ctx.log(f"adacm epoch {epoch}: thresholds {np.round(self.thresholds, 3).tolist()}, "
                f"confident unlabelled {self._last['confident_frac']:.2f}")

    def _labelled_predictions(self, device: torch.device, augment
                              ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Teacher softmaxes (N, K) and labels (N,) on weak views of the labelled clips."""
        if self.teacher is None:
            return None, None
        was_training = self.teacher.training
        if self.data is None or self.data.clips is None:
            if not self._stats:
                return None, None
            return torch.cat([s[0] for s in self._stats]), torch.cat([s[1] for s in self._stats])
        labels = np.asarray(self.data.labels)
        rows = np.flatnonzero(labels >= 0)
        out = []
        self.teacher.eval()
        with torch.no_grad():
            for start in range(0, len(rows), self.opts["eval_batch"]):
                part = rows[start:start + self.opts["eval_batch"]]
                clips = torch.from_numpy(np.asarray(self.data.clips[part]))   # (b, T, H, W, C)
                x = augment(clips.permute(0, 4, 1, 2, 3).float().div(255.0).to(device), "weak")
                out.append(torch.softmax(self.teacher(x)[0].float(), 1).cpu())
        self.teacher.train(was_training)
        return torch.cat(out), torch.from_numpy(labels[rows]).long()

    def epoch_logs(self) -> dict[str, float]:
        return dict(self._last)

    def diagnostics(self, curve: list[dict[str, Any]]) -> list[dict[str, Any]]:
        names = ["confident_frac", "pseudo_label_accuracy", "loss_u", "unlabelled_confidence",
                 "threshold_mean"]
        names += sorted({k for row in curve for k in row if k.startswith("threshold_")
                         and k != "threshold_mean"})
        return epoch_diagnostics(curve, names)

    def state_dict(self) -> dict[str, Any]:
        return {"heads": self.heads.state_dict(),
                "teacher": None if self.teacher is None else self.teacher.state_dict(),
                "thresholds": self.thresholds.tolist(), "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.heads.load_state_dict(state["heads"])
        self.thresholds = np.asarray(state["thresholds"], dtype=np.float64)
        self.steps = int(state.get("steps", 0))
        self._pending_teacher = state.get("teacher")   # loaded once the model exists
