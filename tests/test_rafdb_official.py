"""RAF-DB's official split: train partition trains (and validates), test partition is the one
test fold; CV over the pooled set stays an option; the optimistic best-epoch-on-test number is
a separate, labelled column that summaries never use."""
import numpy as np
import pandas as pd
import pytest
import torch

import dataset_trees as trees
from ferstudy import config as fcfg
from ferstudy.datasets.register import register
from ferstudy.evaluate.cross import own_rows
from ferstudy.runkey import RunKey
from ferstudy.train.plan import official_split_datasets, study_runs
from ferstudy.train.run import train_run
from toyclips import TOY_CLASSES, toy_clipset

torch.set_num_threads(1)


def _register(tmp_path, **options):
    root = trees.rafdb(tmp_path, n=12)
    entry = {"root": str(root), "options": options} if options else {"root": str(root)}
    return register("rafdb", entry, tmp_path / "out" / "rafdb.csv", tmp_path / "out" / "rej.csv",
                    folds=3, seed=0).set_index("clip_id")


def test_official_partition_is_the_default_and_makes_one_test_fold(tmp_path):
    m = _register(tmp_path)
    test = m.index.str.startswith("test_")
    assert test.sum() == 2 and (m.loc[test, "fold"] == 0).all() and (m.loc[~test, "fold"] == 1).all()


def test_cv_over_the_pooled_set_stays_an_option(tmp_path):
    m = _register(tmp_path, partition="cv")
    assert set(m["fold"]) == {0, 1, 2}
    assert m.index.str.startswith("test_").sum() == 2 and m.index.str.startswith("train_").sum() > 2


def test_grid_runs_only_the_official_test_fold():
    config = fcfg.validate({
        "datasets": {"rafdb": {"root": "/data/RAF-DB"}, "ckplus": {"root": "/data/CK+"},
                     "raf_cv": {"root": "/data/RAF-DB", "adapter": "rafdb",
                                "options": {"partition": "cv"}}},
        "study": {"datasets": ["rafdb", "ckplus", "raf_cv"], "archs": ["resnet3d"],
                  "inits": ["ri"], "augments": ["none"], "seeds": [0], "folds": [0, 1, 2]}})
    official = official_split_datasets(config)
    assert official == ["rafdb"]
    runs = study_runs(config["study"], official)
    assert [r for r in runs if r.startswith("rafdb/")] == [
        "rafdb/resnet3d/supervised/ri/none/full/seed0/fold0"]
    assert sum(r.startswith("ckplus/") for r in runs) == sum(r.startswith("raf_cv/") for r in runs) == 3


def _config(official: bool):
    options = {} if official else {"partition": "cv"}
    return fcfg.validate({
        "datasets": {"toy": {"root": "/nonexistent", "adapter": "rafdb", "options": options}},
        "study": {"datasets": ["toy"], "archs": ["resnet2d_lstm"], "classes": list(TOY_CLASSES)},
        "train": {"epochs": 3, "batch_size": 8, "width": 0.125, "onset_diff": True,
                  "patience": 10, "lr": 0.01}})


@pytest.mark.parametrize("official", [True, False])
def test_optimistic_column_only_on_the_official_split(tmp_path, official):
    clips = toy_clipset(subjects=8, frames=4, size=32, folds=4, dataset="toy")
    spec = RunKey("toy", "resnet2d_lstm", "supervised", "ri", "none", "full", 0, 0)
    out = tmp_path / "run"
    metrics = train_run(spec, _config(official), out, clips=clips, log=lambda m: None)
    curve = pd.read_csv(out / "curve.csv")
    if not official:
        assert metrics["accuracy_optimistic"] is None and "test_acc_optimistic" not in curve
        return
    assert metrics["accuracy_optimistic"] == pytest.approx(curve["test_acc_optimistic"].max())
    # the run's own number is the validation-selected epoch's, whatever the test says
    assert metrics["best_epoch"] == int(curve["val_loss"].idxmin())
    assert metrics["accuracy"] == pytest.approx(curve["test_acc_optimistic"][metrics["best_epoch"]])
    rows = own_rows(spec, out, {})
    assert rows[0]["accuracy_optimistic"] == pytest.approx(metrics["accuracy_optimistic"])
    assert rows[0]["accuracy"] == pytest.approx(metrics["accuracy"])
    assert np.isfinite(rows[0]["accuracy_optimistic"])
