"""The training loop: determinism, resume after a kill, NaN loss, validation-only selection."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

from ferstudy import config as fcfg
from ferstudy.methods.base import Method
from ferstudy.train.data import build_run_data
from ferstudy.train.loop import LoopConfig, NonFiniteLossError, fit
from ferstudy.train.predict import load_run_model, predict
from ferstudy.runkey import RunKey
from ferstudy.train.run import train_run
from toyclips import toy_clipset

torch.set_num_threads(1)


class Killed(RuntimeError):
    pass


def small_config(**train):
    cfg = {"datasets": {"toy": {"root": "/nonexistent", "adapter": "generic"}},
           "study": {"datasets": ["toy"], "archs": ["resnet2d_lstm"]},
           "train": {"epochs": 3, "batch_size": 8, "width": 0.125, "patience": 10,
                     "onset_diff": True, **train}}
    return fcfg.validate(cfg)


@pytest.fixture(scope="module")
def clips():
    return toy_clipset(subjects=8, clips_per_class=1, frames=4, size=32, folds=4)


def _run(tmp_path, name, clips, spec=None, **kw):
    spec = spec or RunKey("toy", "resnet2d_lstm", "supervised", "ri", "da", "full", 0, 0)
    out = tmp_path / name
    metrics = train_run(spec, kw.pop("config", small_config()), out, clips=clips,
                        log=kw.pop("log", lambda m: None), **kw)
    return out, metrics


def _same_outputs(a, b):
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (a, b))
    for key in ("wall_time_s", "test_time_s"):
        ma.pop(key), mb.pop(key)
    assert ma == mb
    pd.testing.assert_frame_equal(pd.read_csv(a / "predictions.csv"), pd.read_csv(b / "predictions.csv"))
    pd.testing.assert_frame_equal(pd.read_csv(a / "curve.csv"), pd.read_csv(b / "curve.csv"))
    assert np.array_equal(np.load(a / "embeddings.npy"), np.load(b / "embeddings.npy"))


def test_two_cpu_runs_are_identical_and_outputs_follow_the_contract(tmp_path, clips):
    a, metrics = _run(tmp_path, "a", clips)
    b, _ = _run(tmp_path, "b", clips)
    _same_outputs(a, b)
    # byte-identical, not just equal weights: torch.save into a temporary file would write
    # that file's random name into the zip (asserted below: no .tmp- name inside)
    model_bytes = (a / "model.pt").read_bytes()
    assert model_bytes == (b / "model.pt").read_bytes() and b".tmp-" not in model_bytes
    for name in ("model.pt", "metrics.json", "predictions.csv", "embeddings.npy", "curve.csv",
                 "config.yaml", "split.csv"):
        assert (a / name).is_file(), name
    assert not (a / "checkpoint.pt").exists()
    for key in ("accuracy", "macro_f1", "per_class_recall", "confusion", "classes", "epochs",
                "best_epoch", "wall_time_s", "device", "n_train", "n_val", "n_test"):
        assert key in metrics
    pred = pd.read_csv(a / "predictions.csv")
    assert len(pred) == metrics["n_test"] == len(np.load(a / "embeddings.npy"))
    assert list(pred.columns[:5]) == ["clip_id", "subject", "dataset", "label", "pred"]
    assert np.allclose(pred.filter(like="prob_").sum(1), 1, atol=1e-5)
    # the run's model reloads and reproduces its predictions
    model = load_run_model(a)
    probs, emb = predict(model, clips.subset(clips.index["fold"] == 0).clips)
    assert np.allclose(probs, pred.filter(like="prob_").to_numpy(), atol=1e-5)
    assert model.classes == tuple(metrics["classes"])


def test_another_seed_gives_other_numbers(tmp_path, clips):
    a, _ = _run(tmp_path, "a", clips)
    b, _ = _run(tmp_path, "b", clips, spec=RunKey("toy", "resnet2d_lstm", "supervised", "ri",
                                                       "da", "full", 1, 0))
    assert not np.array_equal(np.load(a / "embeddings.npy"), np.load(b / "embeddings.npy"))


def test_resume_after_a_kill_ends_like_an_uninterrupted_run(tmp_path, clips):
    full, _ = _run(tmp_path, "full", clips)

    def kill_after_first_epoch(epoch):
        if epoch == 0:
            raise Killed("simulated kill")

    with pytest.raises(Killed):
        _run(tmp_path, "resumed", clips, on_epoch_end=kill_after_first_epoch)
    assert (tmp_path / "resumed" / "checkpoint.pt").is_file()
    assert not (tmp_path / "resumed" / "metrics.json").exists()
    lines = []
    _run(tmp_path, "resumed", clips, log=lines.append)
    # the resume line counts epochs as the per-epoch lines do (from 1): killed after epoch
    # 1/3, the run goes on at epoch 2/3, the next line the log shows
    resume = [line for line in lines if line.startswith("resuming")]
    assert len(resume) == 1 and resume[0].endswith("after epoch 1/3; continuing at epoch 2/3")
    epochs = [line.split()[1] for line in lines if line.startswith("epoch ")]
    assert epochs == ["2/3", "3/3"]
    _same_outputs(full, tmp_path / "resumed")


def test_checkpoint_of_another_configuration_is_not_continued(tmp_path, clips):
    def kill(epoch):
        raise Killed

    with pytest.raises(Killed):
        _run(tmp_path, "r", clips, on_epoch_end=kill)
    lines = []
    _run(tmp_path, "r", clips, config=small_config(lr=0.01), log=lines.append)
    assert any("different configuration" in line for line in lines)
    assert sum(line.startswith("epoch ") for line in lines) == 3


def test_reported_epoch_is_chosen_on_validation(tmp_path, clips):
    out, metrics = _run(tmp_path, "a", clips, config=small_config(epochs=4))
    curve = pd.read_csv(out / "curve.csv")
    assert metrics["best_epoch"] == int(curve["val_loss"].idxmin())
    assert list(curve.columns[:6]) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"]
    assert curve["lr"].is_monotonic_decreasing                  # cosine schedule


class NaNAtSecondBatch(Method):
    def __init__(self):
        super().__init__({}, num_classes=6, embed_dim=16)
        self.calls = 0

    def loss(self, model, batch, ctx):
        loss, logs = super().loss(model, batch, ctx)
        self.calls += 1
        return (loss * float("nan") if self.calls == 2 else loss), logs


def test_nan_loss_stops_with_epoch_and_batch(clips):
    from ferstudy.archs import build_model

    data = build_run_data(clips, name="toy", fold=0, study_classes=list(clips.index["label"].unique()),
                          val_fraction=0.2, seed=0)
    model = build_model("resnet2d_lstm", num_classes=6, in_channels=1, frames=4, size=32, width=0.125)
    with pytest.raises(NonFiniteLossError, match=r"epoch 1/2 batch 2;"):   # the second batch of the first epoch
        fit(model, NaNAtSecondBatch(), data, LoopConfig(epochs=2, batch_size=8),
            device=torch.device("cpu"), seed=0, log=lambda m: None)


def test_early_stopping_waits_for_min_epochs(tmp_path, clips):
    # val_acc on a tiny val set rarely improves strictly: patience 1 would stop at once
    out, metrics = _run(tmp_path, "a", clips, config=small_config(
        epochs=5, patience=1, min_epochs=4, monitor="val_acc", lr=1e-6))
    assert metrics["epochs"] == 4 and metrics["stopped_early"]
    assert len(pd.read_csv(out / "curve.csv")) == 4
