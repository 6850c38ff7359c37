"""Which runs are evaluated, and on which aligned stores."""
import re

from ferstudy.evaluate.plan import (RUN_PATTERN, alternation, eval_stores, evaluate_inputs,
                                    group_inputs, group_outputs, group_runs, study_runs)

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


def test_one_evaluation_group_per_dataset_arch_and_fold_covers_every_run_once():
    groups = [(d, a, f) for d in STUDY["datasets"] for a in STUDY["archs"] for f in STUDY["folds"]]
    runs = [RUN_PATTERN.format(**w) for d, a, f in groups for w in group_runs(d, a, f, STUDY)]
    assert sorted(runs) == sorted(study_runs(STUDY)) and len(set(runs)) == len(runs)
    outputs = group_outputs("res", STUDY)
    assert len(outputs) == len(study_runs(STUDY)) // len(groups)
    # the outputs keep {dataset}/{arch}/.../fold{fold} as the group's wildcards, one cross.csv per run
    assert outputs[0] == "res/eval/{dataset}/{arch}/supervised/ri/none/full/seed0/fold{fold}/cross.csv"
    first = group_runs("mug", "vgg3d", 1, STUDY)
    assert [o.format(dataset="mug", arch="vgg3d", fold=1) for o in outputs] == [
        f"res/eval/{RUN_PATTERN.format(**w)}/cross.csv" for w in first]


def test_group_inputs_list_each_run_file_in_output_order():
    files = [{"model": f"r{i}/model.pt", "metrics": f"r{i}/metrics.json",
              "predictions": f"r{i}/predictions.csv"} for i in range(3)]
    inputs = group_inputs(files, {"mug": "res/aligned/mug"}, "res/overlap/ckplus.csv")
    assert inputs["metrics"] == ["r0/metrics.json", "r1/metrics.json", "r2/metrics.json"]
    # one declared file per run (RUN_FILES): the job's model.pt and predictions.csv come with it
    assert "model" not in inputs and inputs["overlap"] == "res/overlap/ckplus.csv"
    assert inputs["store_index"] == ["res/aligned/mug/index.csv"]
