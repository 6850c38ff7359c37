"""Curriculum learning, "baby steps" (Gui, Baltrušaitis & Morency, FG 2017).

Training clips are ordered from easy to hard and split into ``stages`` equal parts (3: high,
medium, low intensity). Stage k trains on parts 0..k: harder clips are added, easier ones are
never dropped. The run moves to the next stage when the monitored validation metric has not
improved for ``patience`` epochs (or after ``max_stage_epochs``, when set, so that a fixed
epoch budget reaches every stage), and multiplies the learning rate by ``lr_factor`` at each
move (the paper lowers it without saying by how much: ``lr_factor`` 0.5 by default, on top of
the engine's own schedule). Early stopping is refused until the last stage is reached; at
each move the engine's patience counter restarts, and the final stage trains at least
``train.min_epochs`` epochs before it may stop early (within the ``train.epochs`` cap: set
``max_stage_epochs`` so the earlier stages leave the final one room).

Difficulty (``difficulty``):
- ``intensity``: the clip's expression intensity (aligned store ``index.csv`` ``intensity``,
  landmark displacement from neutral); high intensity = easy, as the paper's hypothesis (a
  laugh is easier than a smile). Clips without a score (NaN) are the hardest.
- ``confidence``: a scoring model's probability of the clip's label (``score_run``: a finished
  run folder with ``model.pt``); confidently right = easy ("estimated from prediction success").

Diagnostics (``diagnostics``, per stage, from the curve): ``epochs`` spent in the stage,
``first_epoch``, ``ease_min`` / ``ease_max`` (the difficulty range of the clips the stage adds:
intensity or scorer probability, higher = easier), ``pool_size`` (clips in play) and the
``train_acc`` / ``val_acc`` of the stage's last epoch.

With ``per_class`` (default) the split is made within each class, so every stage holds every
expression: intensity scales differ between expressions (surprise moves more landmarks than
sadness), and a global split would leave whole classes out of the first stages.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ferstudy.methods.base import METHODS, Method, StepContext, TrainData


def stage_assignment(ease: np.ndarray, stages: int, groups: np.ndarray | None = None
                     ) -> np.ndarray:
    """(N,) stage of each clip, 0 = easiest; equal-size parts by descending ``ease`` (N,),
    within each group (e.g. class) when ``groups`` (N,) is given. Ties break by position."""
    ease = np.where(np.isnan(ease), -np.inf, np.asarray(ease, dtype=np.float64))
    groups = np.zeros(len(ease), dtype=np.int64) if groups is None else np.asarray(groups)
    stage = np.zeros(len(ease), dtype=np.int64)
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        order = members[np.argsort(-ease[members], kind="stable")]
        stage[order] = (np.arange(len(order)) * stages) // len(order)
    return stage


def confidence_ease(score_run: str | Path, data: TrainData,
                    device: torch.device) -> np.ndarray:
    """(N,) probability a trained model gives each training clip's label."""
    from ferstudy.train.predict import load_run_model, predict

    run = Path(score_run)
    if not (run / "model.pt").is_file():
        raise FileNotFoundError(f"config key 'methods.curriculum.score_run': {run} holds no "
                                f"model.pt; point it at a finished run folder")
    if data.clips is None:
        raise ValueError("curriculum with difficulty: confidence needs the training clips "
                         "(TrainData.clips) from the engine")
    model = load_run_model(run, device)
    scorer_classes = list(model.classes)
    missing = [c for c in data.classes if c not in scorer_classes]
    if missing:
        raise ValueError(f"config key 'methods.curriculum.score_run': the model in {run} was "
                         f"not trained on {missing}; pick a run with the same classes")
    probs, _ = predict(model, data.clips, device=device)
    column = np.array([scorer_classes.index(data.classes[y]) if y >= 0 else 0
                       for y in data.labels])
    ease = np.asarray(probs)[np.arange(len(column)), column]
    return np.where(np.asarray(data.labels) >= 0, ease, np.nan)


@METHODS.register("curriculum")
class Curriculum(Method):
    DEFAULTS: dict[str, Any] = {
        "difficulty": "intensity",
        "score_run": None,
        "stages": 3,
        "per_class": True,
        "patience": 3,
        "max_stage_epochs": None,
        "lr_factor": 0.5,
        "monitor": "val_acc",
    }

    def __init__(self, cfg: dict[str, Any], *, num_classes: int, embed_dim: int):
        super().__init__(cfg, num_classes=num_classes, embed_dim=embed_dim)
        self.opts = {**self.DEFAULTS, **(cfg or {})}
        if self.opts["difficulty"] not in ("intensity", "confidence"):
            raise ValueError(f"config key 'methods.curriculum.difficulty': "
                             f"{self.opts['difficulty']!r}; allowed: intensity, confidence")
        if self.opts["monitor"] not in ("val_acc", "val_loss"):
            raise ValueError(f"config key 'methods.curriculum.monitor': "
                             f"{self.opts['monitor']!r}; allowed: val_acc, val_loss")
        self.clip_stage: np.ndarray | None = None
        self.stage = 0
        self.best: float | None = None
        self.bad_epochs = 0
        self.stage_epochs = 0
        self.moves: list[int] = []           # epochs after which the stage advanced
        self._moved = False
        self.ease: np.ndarray | None = None
        self._trained_stage = 0                # the stage of the epoch in progress

    @property
    def last_stage(self) -> int:
        return int(self.opts["stages"]) - 1

    def prepare(self, data: TrainData) -> None:
        if self.opts["difficulty"] == "intensity":
            if data.intensity is None:
                raise ValueError("curriculum with difficulty: intensity needs per-clip "
                                 "intensity (TrainData.intensity from index.csv)")
            ease = np.asarray(data.intensity, dtype=np.float64)
        else:
            if not self.opts["score_run"]:
                raise ValueError("config key 'methods.curriculum.score_run' must name a run "
                                 "folder when difficulty is confidence")
            device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
            ease = confidence_ease(self.opts["score_run"], data, device)
        groups = np.asarray(data.labels) if self.opts["per_class"] else None
        self.ease = np.asarray(ease, dtype=np.float64)
        self.clip_stage = stage_assignment(ease, int(self.opts["stages"]), groups)

    def train_indices(self, epoch: int, n_train: int) -> np.ndarray:
        if self.clip_stage is None:
            raise RuntimeError("curriculum: prepare(TrainData) was not called before training")
        if len(self.clip_stage) != n_train:
            raise ValueError(f"curriculum: difficulty known for {len(self.clip_stage)} clips, "
                             f"the training set has {n_train}")
        self._trained_stage = self.stage
        return np.flatnonzero(self.clip_stage <= self.stage)

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        return value > self.best if self.opts["monitor"] == "val_acc" else value < self.best

    def on_epoch_end(self, epoch: int, val_metrics: dict[str, float], ctx: StepContext) -> None:
        key = self.opts["monitor"]
        value = val_metrics.get(key, val_metrics.get(key.removeprefix("val_")))
        if value is None:
            raise KeyError(f"curriculum monitors {key!r} but the engine's validation metrics "
                           f"hold {sorted(val_metrics)}; set methods.curriculum.monitor")
        self.stage_epochs += 1
        if self._improved(float(value)):
            self.best, self.bad_epochs = float(value), 0
        else:
            self.bad_epochs += 1
        cap = self.opts["max_stage_epochs"]
        stalled = self.bad_epochs >= self.opts["patience"]
        if self.stage < self.last_stage and (stalled or (cap and self.stage_epochs >= cap)):
            self.advance(epoch, ctx)

    def advance(self, epoch: int, ctx: StepContext) -> None:
        """Next stage: more (harder) clips, and the learning rate times ``lr_factor``."""
        self.stage += 1
        self._moved = True
        self.bad_epochs = 0
        self.best = None                     # the new stage's own best starts the count
        self.stage_epochs = 0
        self.moves.append(epoch)
        if ctx.optimizer is not None:
            for group in ctx.optimizer.param_groups:
                group["lr"] *= self.opts["lr_factor"]
        ctx.log(f"curriculum: epoch {epoch} -> stage {self.stage + 1}/{self.last_stage + 1} "
                f"({int((self.clip_stage <= self.stage).sum())} clips)")

    def stop_early_allowed(self) -> bool:
        return self.stage >= self.last_stage

    def stage_moved(self) -> bool:
        moved, self._moved = self._moved, False
        return moved

    def epochs_in_stage(self, epochs_done: int) -> int:
        return self.stage_epochs

    def epoch_logs(self) -> dict[str, float]:
        pool = 0 if self.clip_stage is None else int((self.clip_stage <= self.stage).sum())
        logs = {"stage": self.stage, "pool_size": pool, "stage_trained": self._trained_stage}
        if self.clip_stage is not None and self.ease is not None:
            part = self.ease[self.clip_stage == self._trained_stage]
            part = part[np.isfinite(part)]
            logs["ease_min"] = float(part.min()) if len(part) else float("nan")
            logs["ease_max"] = float(part.max()) if len(part) else float("nan")
            logs["stage_pool"] = int((self.clip_stage <= self._trained_stage).sum())
        return logs

    def diagnostics(self, curve: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Per stage trained (module docstring); rows in stage order."""
        rows: list[dict[str, Any]] = []
        stages: dict[int, list[dict[str, Any]]] = {}
        for row in curve:
            if "stage_trained" in row:
                stages.setdefault(int(row["stage_trained"]), []).append(row)
        for stage, part in sorted(stages.items()):
            last = part[-1]
            values = {"epochs": len(part), "first_epoch": int(part[0]["epoch"]),
                      "ease_min": last.get("ease_min", np.nan),
                      "ease_max": last.get("ease_max", np.nan),
                      "pool_size": last.get("stage_pool", np.nan),
                      "train_acc": last.get("train_acc", np.nan),
                      "val_acc": last.get("val_acc", np.nan)}
            rows += [{"unit": "stage", "step": stage, "metric": k, "value": float(v)}
                     for k, v in values.items()]
        return rows

    def state_dict(self) -> dict[str, Any]:
        return {"heads": self.heads.state_dict(), "stage": self.stage, "best": self.best,
                "bad_epochs": self.bad_epochs, "stage_epochs": self.stage_epochs,
                "moves": list(self.moves)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.heads.load_state_dict(state["heads"])
        self.stage = int(state.get("stage", 0))
        self.best = state.get("best")
        self.bad_epochs = int(state.get("bad_epochs", 0))
        self.stage_epochs = int(state.get("stage_epochs", 0))
        self.moves = list(state.get("moves", []))
        self._trained_stage = self.stage
