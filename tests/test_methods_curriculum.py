"""Curriculum (baby steps): stages grow monotonically, LR drops at each move."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ferstudy.methods import METHODS
from ferstudy.methods.base import StepContext, TrainData
from ferstudy.methods.curriculum import stage_assignment


def _method(**cfg):
    return METHODS.get("curriculum")(cfg, num_classes=3, embed_dim=8)


def _ctx(lr=1e-3):
    # only param_groups is touched; a real torch optimiser costs seconds of lazy imports
    opt = SimpleNamespace(param_groups=[{"lr": lr}, {"lr": lr}])
    return StepContext(epoch=0, device=torch.device("cpu"), optimizer=opt, log=lambda m: None)


def _data(n_per_class=9, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), n_per_class)
    # class 2 is much more intense overall: a global split would put it all in stage 0
    intensity = rng.uniform(0, 1, len(labels)) + 5.0 * (labels == 2)
    return TrainData(labels=labels, intensity=intensity)


def test_stage_assignment_easy_first_per_class():
    data = _data()
    stage = stage_assignment(data.intensity, 3, data.labels)
    for c in range(3):
        members = data.labels == c
        assert np.bincount(stage[members], minlength=3).tolist() == [3, 3, 3]
        # every clip of stage 0 is more intense than every clip of stage 2
        assert data.intensity[members & (stage == 0)].min() > \
            data.intensity[members & (stage == 2)].max()
    assert set(stage_assignment(data.intensity, 3)[data.labels == 2]) == {0}


def test_nan_intensity_is_hardest():
    stage = stage_assignment(np.array([0.5, np.nan, 0.9, 0.1]), 2)
    assert stage.tolist() == [0, 1, 0, 1] and stage[1] == 1


def test_stages_grow_monotonically_and_lr_drops_at_each_move():
    data = _data()
    m = _method(stages=3, patience=2, lr_factor=0.5)
    m.prepare(data)
    ctx = _ctx(lr=1e-3)
    val_acc = [0.3, 0.4, 0.4, 0.35, 0.5, 0.45, 0.45, 0.45, 0.45, 0.45]
    pools, lrs, allowed = [], [], []
    for epoch, acc in enumerate(val_acc):
        pools.append(set(m.train_indices(epoch, len(data)).tolist()))
        m.on_epoch_end(epoch, {"val_acc": acc, "val_loss": 1.0}, ctx)
        lrs.append(ctx.optimizer.param_groups[0]["lr"])
        allowed.append(m.stop_early_allowed())
    # two stalls of `patience` epochs: after epoch 3 (no gain on 0.4 twice), after epoch 6
    assert m.moves == [3, 6]
    assert [len(p) for p in pools] == [9] * 4 + [18] * 3 + [27] * 3
    assert all(a <= b for a, b in zip(pools, pools[1:]))       # easier clips never dropped
    assert lrs == pytest.approx([1e-3] * 3 + [5e-4] * 3 + [2.5e-4] * 4)
    assert ctx.optimizer.param_groups[1]["lr"] == ctx.optimizer.param_groups[0]["lr"]
    assert allowed == [False] * 6 + [True] * 4
    assert {k: m.epoch_logs()[k] for k in ("stage", "pool_size")} == {"stage": 2, "pool_size": 27}


def test_max_stage_epochs_and_val_loss_monitor():
    m = _method(stages=2, patience=100, max_stage_epochs=2, monitor="val_loss")
    m.prepare(_data())
    ctx = _ctx()
    for epoch, loss in enumerate([1.0, 0.9, 0.8]):    # always improving: only the cap moves
        m.on_epoch_end(epoch, {"val_loss": loss}, ctx)
    assert m.moves == [1] and m.stage == 1


def test_state_roundtrip_and_errors():
    m = _method(patience=1)
    m.prepare(_data())
    ctx = _ctx()
    m.on_epoch_end(0, {"val_acc": 0.5}, ctx)
    m.on_epoch_end(1, {"val_acc": 0.4}, ctx)
    fresh = _method(patience=1)
    fresh.prepare(_data())
    fresh.load_state_dict(m.state_dict())
    assert fresh.stage == 1 and np.array_equal(fresh.train_indices(2, 27), m.train_indices(2, 27))
    with pytest.raises(KeyError, match="monitor"):
        m.on_epoch_end(2, {"accuracy": 0.1}, ctx)
    with pytest.raises(ValueError, match="intensity"):
        _method().prepare(TrainData(labels=np.zeros(3, dtype=int)))
    with pytest.raises(ValueError, match="27"):
        m.train_indices(0, 30)
    with pytest.raises(ValueError, match="methods.curriculum.difficulty"):
        _method(difficulty="loss")


def test_confidence_difficulty_from_a_finished_run(tmp_path):
    """A scoring model sure of class 0 makes class-0 clips the easiest (global split)."""
    from ferstudy.archs import build_model

    kwargs = dict(num_classes=3, in_channels=1, frames=4, size=32, width=0.25)
    arch = "resnet3d"
    model = build_model(arch, **kwargs)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(torch.tensor([4.0, 0.0, 0.0]))
    torch.save({"arch": arch, "arch_kwargs": kwargs, "state_dict": model.state_dict(),
                "classes": ["happiness", "anger", "fear"], "embed_dim": model.embed_dim,
                "method_state": {}}, tmp_path / "model.pt")
    labels = np.array([0, 1, 2, 0, 1, 2])
    clips = np.random.default_rng(0).integers(0, 255, (6, 4, 32, 32, 1), dtype=np.uint8)
    m = _method(difficulty="confidence", score_run=str(tmp_path), stages=2, per_class=False)
    # the run's class order differs from the scorer's: mapped by name
    m.prepare(TrainData(labels=labels, clips=clips, classes=("anger", "fear", "happiness")))
    # stage 0 = the 3 easiest: both happiness clips (2, 5), then the first of the tied rest
    assert m.train_indices(0, 6).tolist() == [0, 2, 5]
    with pytest.raises(ValueError, match="score_run"):
        _method(difficulty="confidence").prepare(TrainData(labels=labels, clips=clips))
