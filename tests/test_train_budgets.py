"""Equal budgets across method arms (train.steps_per_epoch) and curriculum patience at stage
moves: the engine's rules, exercised through ``fit`` on a small real model."""
import pytest
import torch

from ferstudy.archs import build_model
from ferstudy.methods import METHODS
from ferstudy.train.data import build_run_data
from ferstudy.train.loop import LoopConfig, fit
from toyclips import TOY_CLASSES, toy_clipset

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def clips():
    return toy_clipset(subjects=8, clips_per_class=2, frames=4, size=32, folds=4)


def _counting(name: str, cfg: dict):
    """The registered method, counting optimiser steps per epoch."""
    base = METHODS.get(name)

    class Counting(base):
        def after_step(self, model):
            super().after_step(model)
            self.steps_by_epoch[self.epoch_now] = self.steps_by_epoch.get(self.epoch_now, 0) + 1

        def loss(self, model, batch, ctx):
            self.epoch_now = ctx.epoch
            return super().loss(model, batch, ctx)

    method = Counting(cfg, num_classes=len(TOY_CLASSES), embed_dim=_model().embed_dim)
    method.steps_by_epoch = {}
    return method


def _model():
    torch.manual_seed(0)
    return build_model("resnet2d_lstm", num_classes=len(TOY_CLASSES), in_channels=1, frames=4,
                       size=32, width=0.125)


def _steps(name, data, rule, cfg=None, epochs=2):
    method = _counting(name, cfg or {})
    fit(_model(), method, data, LoopConfig(epochs=epochs, batch_size=8, steps_per_epoch=rule),
        device=torch.device("cpu"), seed=0, log=lambda m: None)
    return method.steps_by_epoch


@pytest.mark.parametrize("n", [1, 5])
def test_supervised_and_adacm_on_a_label_budget_take_the_same_steps(clips, n):
    data = build_run_data(clips, name="toy", fold=0, study_classes=TOY_CLASSES,
                          val_fraction=0.2, seed=0, protocol=f"labels{n}")
    n_train = len(data.train_labels)
    assert (data.train_labels >= 0).sum() == n * len(TOY_CLASSES) < n_train
    sup = _steps("supervised", data, "train_set")
    ada = _steps("adacm", data, "train_set", {"ema_warmup": True})
    want = -(-n_train // 8)                               # ceil(N_train / batch)
    assert sup == ada == {0: want, 1: want}
    if n > 1:
        return
    # the legacy rule is the unequal budget the issue found: the baseline sees its 6 labels once
    legacy_sup = _steps("supervised", data, "pool", epochs=1)
    legacy_ada = _steps("adacm", data, "pool", {"ema_warmup": True}, epochs=1)
    assert legacy_sup == {0: 1} and legacy_ada[0] > legacy_sup[0]


def test_curriculum_and_scn_take_the_supervised_budget_under_full_labels(clips):
    data = build_run_data(clips, name="toy", fold=0, study_classes=TOY_CLASSES,
                          val_fraction=0.2, seed=0)
    want = -(-len(data.train_labels) // 8)
    assert _steps("supervised", data, "train_set", epochs=1) == {0: want}
    assert _steps("scn", data, "train_set", epochs=1) == {0: want}
    # stage 1 of 3 holds a third of the clips; the epoch still draws the training set's size
    assert _steps("curriculum", data, "train_set", {"stages": 3}, epochs=1) == {0: want}


@pytest.mark.parametrize("min_epochs", [0, 3])
def test_curriculum_final_stage_is_not_cut_at_the_move(clips, min_epochs):
    """Engine patience 1 and a validation accuracy that never improves (lr ~ 0): the old loop
    stopped in the very epoch the curriculum reached its last stage."""
    data = build_run_data(clips, name="toy", fold=0, study_classes=TOY_CLASSES,
                          val_fraction=0.25, seed=0)
    method = METHODS.get("curriculum")({"stages": 2, "patience": 1, "monitor": "val_acc"},
                                       num_classes=len(TOY_CLASSES), embed_dim=_model().embed_dim)
    cfg = LoopConfig(epochs=10, batch_size=8, lr=1e-9, patience=1, min_epochs=min_epochs,
                     monitor="val_acc")
    result = fit(_model(), method, data, cfg, device=torch.device("cpu"), seed=0,
                 log=lambda m: None)
    stages = [row["stage"] for row in result.curve]
    move = method.moves[0]                                  # epoch that moved to the last stage
    assert stages[move] == 1 and (move == 0 or stages[move - 1] == 0)   # logged after the move
    final_epochs = len(stages) - (move + 1)
    # old loop: patience counted across the move, so with min_epochs 0 it stopped in the move's
    # epoch (final stage: 0 epochs) and with 3 one epoch later (final stage: 1 epoch)
    assert result.stopped_early and final_epochs == max(min_epochs, cfg.patience)


def _synthetic(clips):
    """GAN-like clips of every class (synthetic = 1), shaped like ``clips``."""
    syn = toy_clipset(subjects=8, clips_per_class=2, frames=4, size=32, folds=4, seed=7,
                      dataset="syn")
    syn.index["synthetic"] = 1
    return syn


@pytest.mark.parametrize("ratio", [1.0, 0.5])
def test_an_sd_arm_takes_the_no_sd_arms_steps_and_mixed_grows_them(clips, ratio):
    """augment.sd.epoch_steps: real (default) keeps an SD run at the steps of its real
    training clips, the none arm's budget, while every epoch still draws synthetic clips;
    mixed takes (1 + ratio) x those steps (the budget before 2026-12)."""
    none = build_run_data(clips, name="toy", fold=0, study_classes=TOY_CLASSES,
                          val_fraction=0.2, seed=0)
    sd = {rule: build_run_data(clips, name="toy", fold=0, study_classes=TOY_CLASSES,
                               val_fraction=0.2, seed=0, synthetic=_synthetic(clips),
                               synthetic_ratio=ratio, synthetic_steps=rule)
          for rule in ("real", "mixed")}
    n_real = len(none.train_labels)
    n_mixed = len(sd["real"].train_labels)
    assert n_mixed == n_real + sd["real"].notes["n_synthetic"] > n_real
    assert sd["real"].epoch_clips == n_real and sd["mixed"].epoch_clips == n_mixed
    want = -(-n_real // 8)
    assert _steps("supervised", none, "train_set", epochs=1) == {0: want}
    assert _steps("supervised", sd["real"], "train_set", epochs=2) == {0: want, 1: want}
    assert _steps("supervised", sd["mixed"], "train_set", epochs=1) == {0: -(-n_mixed // 8)}
    # the real rule's epochs draw from the mixed set: synthetic clips are trained on
    seen = _drawn(sd["real"])
    synthetic = set(range(n_real, n_mixed))
    assert len(seen) == n_real and seen & synthetic and seen - synthetic
    with pytest.raises(ValueError, match="epoch_steps 'half' unknown"):
        build_run_data(clips, name="toy", fold=0, study_classes=TOY_CLASSES, val_fraction=0.2,
                       seed=0, synthetic=_synthetic(clips), synthetic_steps="half")


def _drawn(data):
    """The training-clip positions one epoch of ``fit`` draws."""
    method = _counting("supervised", {})
    drawn = []
    base_loss = method.loss

    def loss(model, batch, ctx):
        drawn.extend(batch["index"].tolist())
        return base_loss(model, batch, ctx)

    method.loss = loss
    fit(_model(), method, data, LoopConfig(epochs=1, batch_size=8), device=torch.device("cpu"),
        seed=0, log=lambda m: None)
    return set(drawn)
