"""Self-Cure Network (Wang et al., CVPR 2020; code kaiwang960112/Self-Cure-Network).

Three parts, all on top of any backbone's embedding ``emb`` (B, D):

1. Self-attention importance: ``alpha = sigmoid(fc(emb))`` (B, 1) in (0, 1); the logits are
   multiplied by ``alpha`` before cross-entropy, so uncertain clips get flatter softmaxes and
   contribute less.
2. Rank regularisation: sort ``alpha`` in the batch; the top ``beta`` (0.7) form the high group,
   the rest the low group; ``L_RR = max(0, delta1 - (mean_high - mean_low))``. delta1 is 0.15 at
   batch 1024 in the paper, 0.07 at batch 64 in the code (the default here).
3. Relabelling: from ``relabel_epoch`` (the 10th epoch, 1-based as in the code), a clip whose
   max softmax probability exceeds that of its given label by more than delta2 (0.2) takes the
   argmax as its new label, persistently (the code rewrites the dataset's label array). The
   paper restricts this to the low-importance group (``relabel_scope: low``, the default); the
   code applies it to the whole batch (``relabel_scope: batch``).

The evaluated model (``eval_model``) is the code's test-time forward, ``logits * alpha``.
Relabels are logged per epoch (``epoch_logs``): how many were made and, when ``prepare`` gave
the clean labels (noise protocols), how many of them restore the clean label.

Diagnostics (``diagnostics``, per epoch; the clean labels are only counted, never trained on):
``weight_auc``, the probability that a clean clip's importance weight (its last one in the
epoch) exceeds a corrupted clip's (ties count half; NaN without corrupted clips): 0.5 = the
weights ignore the corruption, 1 = they separate it; ``weight_clean`` / ``weight_corrupted``
the two groups' mean weights; ``relabelled`` (relabellings made in the epoch),
``relabelled_clips`` (clips whose label now differs from the given one), ``relabel_precision``
(of those, the share now carrying the clean label) and ``relabel_recall`` (of the corrupted
clips, the share restored to the clean label).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ferstudy.methods.base import METHODS, Method, StepContext, TrainData, epoch_diagnostics


def rank_regularisation(alpha: torch.Tensor, beta: float, margin: float
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """SCN's rank loss on importance weights ``alpha`` (B,) and the low-group mask (B,) bool.

    High group: the ``int(B * beta)`` largest weights (as the code's ``int(batch * beta)``).
    """
    b = alpha.shape[0]
    n_high = int(b * beta)
    if n_high < 1 or n_high >= b:   # a group would be empty: nothing to rank
        return alpha.sum() * 0.0, torch.zeros(b, dtype=torch.bool, device=alpha.device)
    order = torch.argsort(alpha, descending=True)
    high, low = order[:n_high], order[n_high:]
    loss = F.relu(margin - (alpha[high].mean() - alpha[low].mean()))
    low_mask = torch.zeros(b, dtype=torch.bool, device=alpha.device)
    low_mask[low] = True
    return loss, low_mask


def separation_auc(clean: np.ndarray, corrupted: np.ndarray) -> float:
    """P(a clean score > a corrupted score), ties half (Mann-Whitney AUC); NaN if a group is
    empty. clean (n,), corrupted (m,) floats (NaN entries dropped)."""
    clean = np.asarray(clean, np.float64)
    corrupted = np.asarray(corrupted, np.float64)
    clean, corrupted = clean[~np.isnan(clean)], corrupted[~np.isnan(corrupted)]
    if not len(clean) or not len(corrupted):
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([clean, corrupted]))
    n, m = len(clean), len(corrupted)
    return float((ranks[:n].sum() - n * (n + 1) / 2) / (n * m))


def relabel_candidates(probs: torch.Tensor, targets: torch.Tensor, margin: float,
                       allowed: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Which samples to relabel and to what: ``P_max - P_given > margin`` (within ``allowed``).

    probs (B, K) softmax, targets (B,) long -> (mask (B,) bool, new labels (B,) long).
    """
    p_max, pred = probs.max(dim=1)
    p_given = probs.gather(1, targets.view(-1, 1)).squeeze(1)
    mask = (p_max - p_given) > margin
    if allowed is not None:
        mask &= allowed
    return mask, pred


class AttentionWeighted(nn.Module):
    """SCN's evaluated model: ``(logits * alpha, emb)``, as the official code's forward.

    The argmax equals the backbone's (alpha > 0), but the probabilities, hence the validation
    loss that selects the reported epoch, are the ones SCN trains. ``state_dict`` and
    ``load_state_dict`` delegate to the backbone, so ``model.pt`` stays loadable by the
    architecture builder; the attention head is saved with the method's state.
    """

    def __init__(self, model: nn.Module, attention: nn.Module):
        super().__init__()
        self.model = model
        self.attention = attention
        self.embed_dim = model.embed_dim

    @property
    def head(self) -> nn.Module:
        return self.model.head

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, emb = self.model(x)
        alpha = self.attention(emb.float())                 # (B, 1)
        return logits * alpha.to(logits.dtype), emb

    def state_dict(self, *args, **kwargs):
        return self.model.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        return self.model.load_state_dict(state_dict, strict=strict, assign=assign)


@METHODS.register("scn")
class SelfCureNetwork(Method):
    DEFAULTS: dict[str, Any] = {
        "beta": 0.7,
        "rank_margin": 0.07,
        "relabel_margin": 0.2,
        "relabel_epoch": 10,
        "relabel_scope": "low",
    }

    def __init__(self, cfg: dict[str, Any], *, num_classes: int, embed_dim: int):
        super().__init__(cfg, num_classes=num_classes, embed_dim=embed_dim)
        self.opts = {**self.DEFAULTS, **(cfg or {})}
        if self.opts["relabel_scope"] not in ("low", "batch"):
            raise ValueError(f"config key 'methods.scn.relabel_scope': "
                             f"{self.opts['relabel_scope']!r}; allowed: low, batch")
        self.heads["attention"] = nn.Sequential(nn.Linear(embed_dim, 1), nn.Sigmoid())
        self.relabels: dict[int, int] = {}      # training position -> current label
        self.clean_labels: np.ndarray | None = None
        self.given: np.ndarray | None = None    # the labels trained on (after the protocol)
        self._alpha: np.ndarray | None = None   # each clip's latest importance weight
        self._epoch_counts = {"relabelled": 0, "relabel_correct": 0, "relabel_known": 0}

    def prepare(self, data: TrainData) -> None:
        self.given = np.asarray(data.labels)
        self._alpha = np.full(len(self.given), np.nan)
        if data.clean_labels is not None:
            self.clean_labels = np.asarray(data.clean_labels)

    def current_labels(self, index: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The batch's labels with earlier relabellings applied (B,) long."""
        if not self.relabels:
            return y
        out = y.clone()
        for i, pos in enumerate(index.tolist()):
            if pos in self.relabels:
                out[i] = self.relabels[pos]
        return out

    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor],
             ctx: StepContext) -> tuple[torch.Tensor, dict[str, float]]:
        logits, emb = model(batch["x"])
        alpha = self.heads["attention"](emb.float()).squeeze(1)          # (B,)
        weighted = logits.float() * alpha.unsqueeze(1)                    # (B, K)
        y = self.current_labels(batch["index"], batch["y"])
        if self._alpha is not None:
            self._alpha[batch["index"].cpu().numpy()] = alpha.detach().float().cpu().numpy()
        rr, low = rank_regularisation(alpha, self.opts["beta"], self.opts["rank_margin"])
        loss = F.cross_entropy(weighted, y) + rr
        # the code relabels after the step with the same forward's outputs; doing it here, on
        # detached outputs, changes only labels of later visits, as there
        if ctx.epoch + 1 >= self.opts["relabel_epoch"]:
            allowed = low if self.opts["relabel_scope"] == "low" else None
            self.relabel(batch["index"], torch.softmax(weighted.detach(), 1), y, allowed)
        acc = (weighted.argmax(1) == y).float().mean().item()
        return loss, {"acc": acc, "rank_loss": float(rr.detach()), "alpha_mean": alpha.mean().item()}

    def relabel(self, index: torch.Tensor, probs: torch.Tensor, y: torch.Tensor,
                allowed: torch.Tensor | None) -> int:
        mask, pred = relabel_candidates(probs, y, self.opts["relabel_margin"], allowed)
        positions = index[mask].tolist()
        new = pred[mask].tolist()
        for pos, lab in zip(positions, new):
            self.relabels[pos] = lab
            if self.clean_labels is not None:
                self._epoch_counts["relabel_known"] += 1
                self._epoch_counts["relabel_correct"] += int(self.clean_labels[pos] == lab)
        self._epoch_counts["relabelled"] += len(positions)
        return len(positions)

    def eval_model(self, model: nn.Module) -> nn.Module:
        if getattr(self, "_wrapped", (None, None))[0] is not model:
            self._wrapped = (model, AttentionWeighted(model, self.heads["attention"]))
        return self._wrapped[1]

    def on_epoch_end(self, epoch: int, val_metrics: dict[str, float], ctx: StepContext) -> None:
        counts = self._epoch_counts
        msg = f"scn epoch {epoch}: relabelled {counts['relabelled']} clip visits"
        if counts["relabel_known"]:
            msg += f", {counts['relabel_correct']} to their clean label"
        ctx.log(msg + f"; {len(self.relabels)} clips carry a new label")
        self._last_counts = dict(counts, relabelled_total=len(self.relabels))
        self._last_diagnostics = self.mechanism_numbers()
        self._epoch_counts = {k: 0 for k in counts}

    def mechanism_numbers(self) -> dict[str, float]:
        """Weight separation and relabel quality against the clean labels (module docstring)."""
        if self.given is None:
            return {}
        current = self.given.copy()
        for pos, lab in self.relabels.items():
            current[pos] = lab
        changed = current != self.given
        out = {"relabelled_clips": float(changed.sum())}
        if self.clean_labels is None:
            return out
        labelled = self.given >= 0
        corrupted = labelled & (self.given != self.clean_labels)
        clean = labelled & ~corrupted
        alpha = self._alpha if self._alpha is not None else np.full(len(self.given), np.nan)
        restored = corrupted & (current == self.clean_labels)
        out.update({
            "weight_auc": separation_auc(alpha[clean], alpha[corrupted]),
            "weight_clean": float(np.nanmean(alpha[clean])) if np.isfinite(alpha[clean]).any()
            else float("nan"),
            "weight_corrupted": float(np.nanmean(alpha[corrupted]))
            if np.isfinite(alpha[corrupted]).any() else float("nan"),
            "relabel_precision": float((current[changed] == self.clean_labels[changed]).mean())
            if changed.any() else float("nan"),
            "relabel_recall": float(restored.sum() / corrupted.sum()) if corrupted.any()
            else float("nan"),
        })
        return out

    def epoch_logs(self) -> dict[str, float]:
        counts = getattr(self, "_last_counts", None)
        if counts is None:
            return {}
        logs = {"relabelled": counts["relabelled"], "relabelled_clips": counts["relabelled_total"]}
        if self.clean_labels is not None:
            logs["relabel_correct"] = counts["relabel_correct"]
            cured = [p for p, lab in self.relabels.items() if self.clean_labels[p] == lab]
            logs["relabelled_clips_correct"] = len(cured)
        diag = getattr(self, "_last_diagnostics", {})
        logs.update(diag)
        return logs

    DIAGNOSTICS = ("weight_auc", "weight_clean", "weight_corrupted", "relabelled",
                   "relabelled_clips", "relabel_precision", "relabel_recall")

    def diagnostics(self, curve: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return epoch_diagnostics(curve, self.DIAGNOSTICS)

    def state_dict(self) -> dict[str, Any]:
        return {"heads": self.heads.state_dict(),
                "relabels": [[int(k), int(v)] for k, v in sorted(self.relabels.items())]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.heads.load_state_dict(state["heads"])
        self.relabels = {int(k): int(v) for k, v in state.get("relabels", [])}
