"""Which runs are evaluated, and on which aligned stores."""
import re

from ferstudy.evaluate.plan import alternation, eval_stores, evaluate_inputs, study_runs

STUDY = {"datasets": ["ckplus", "mug", "merged-ckplus+mug", "merged-mug+oulu"],
         "archs": ["vgg3d", "resnet3d"], "methods": ["supervised"], "inits": ["ri", "ft"],
         "augments": ["none"], "protocols": ["full"], "seeds": [0, 1], "folds": [0, 3],
         "cross_dataset": True}


def test_every_grid_point_is_a_run():
    runs = study_runs(STUDY)
    assert len(runs) == 4 * 2 * 1 * 2 * 1 * 1 * 2 * 2
    assert runs[0] == "ckplus/vgg3d/supervised/ri/none/full/seed0/fold0"
    assert "merged-mug+oulu/resnet3d/supervised/ft/none/full/seed1/fold3" in runs


def test_foreign_stores_are_every_other_study_dataset():
    assert list(eval_stores("ckplus", STUDY, "res")) == ["mug", "oulu"]
    # merged: its members (for their classes) first, then the held-out datasets
    assert eval_stores("merged-ckplus+mug", STUDY, "res") == {
        "ckplus": "res/aligned/ckplus", "mug": "res/aligned/mug", "oulu": "res/aligned/oulu"}
    off = {**STUDY, "cross_dataset": False}
    assert eval_stores("ckplus", off, "res") == {}
    assert list(eval_stores("merged-mug+oulu", off, "res")) == ["mug", "oulu"]


def test_inputs_and_wildcard_pattern():
    files = {"model": "r/model.pt", "metrics": "r/metrics.json", "predictions": "r/predictions.csv",
             "curve": "r/curve.csv"}
    inputs = evaluate_inputs(files, {"mug": "res/aligned/mug"})
    assert "curve" not in inputs and inputs["store_clips"] == ["res/aligned/mug/clips.npy"]
    pattern = alternation(STUDY["datasets"])
    assert re.fullmatch(pattern, "merged-ckplus+mug") and not re.fullmatch(pattern, "merged-ckplus")
