"""Cross-dataset tests: explicit label intersection, restricted predictions, merged runs."""
import numpy as np
import pandas as pd
import pytest
from synth_runs import grey_predictor, write_run, write_store

from ferstudy.evaluate.cross import evaluate_run, write_cross
from ferstudy.evaluate.scoring import intersect_classes, restrict_predictions, score
from ferstudy.labels import BASIC6

CKPLUS = [*BASIC6, "contempt"]           # CK+ has contempt, no neutral
MUG = ["neutral", *BASIC6]               # MUG has neutral, no contempt


def test_ckplus_and_mug_share_the_six_basic_expressions_only():
    shared = intersect_classes(CKPLUS, MUG)
    assert shared == list(BASIC6)
    assert "contempt" not in shared and "neutral" not in shared
    assert intersect_classes(["anger", "contempt"], ["", "anger", "anger"]) == ["anger"]


def test_restriction_ignores_outputs_the_test_set_cannot_contain():
    classes = ["anger", "happiness", "contempt"]
    probs = np.array([[0.3, 0.1, 0.6], [0.1, 0.2, 0.7], [0.5, 0.4, 0.1]])
    pred = restrict_predictions(probs, classes, ["anger", "happiness"])
    assert list(pred) == ["anger", "happiness", "anger"]
    with pytest.raises(ValueError, match="not outputs of the model"):
        restrict_predictions(probs, classes, ["anger", "fear"])


def test_macro_f1_counts_classes_present_in_labels_or_predictions():
    out = score(["anger", "anger", "fear"], ["anger", "fear", "fear"], ["anger", "fear", "sadness"])
    # anger: P=1, R=1/2 -> 2/3 ; fear: P=1/2, R=1 -> 2/3 ; sadness absent from both: not averaged
    assert out["accuracy"] == pytest.approx(2 / 3)
    assert out["macro_f1"] == pytest.approx(2 / 3)
    assert out["n_test"] == 3


def test_ckplus_run_on_mug_scores_only_shared_classes(tmp_path):
    classes = ["anger", "disgust", "happiness", "contempt"]
    run = write_run(tmp_path, "ckplus/vgg3d/supervised/ri/none/full/seed0/fold0", classes,
                    accuracy=0.75)
    write_store(tmp_path, "mug", ["neutral", "anger", "disgust", "happiness", "surprise"],
                n_per_class=2)

    def contempt_first(clips):
        # every clip: most mass on contempt, next on its true class (from the grey value)
        probs, emb = grey_predictor(classes)(clips)
        probs[:, classes.index("contempt")] = 0.9
        return probs, emb

    frame = evaluate_run(run, {"mug": tmp_path / "aligned" / "mug"}, predictor=contempt_first)
    own, cross = frame.iloc[0], frame.iloc[1]
    assert own["kind"] == "in" and own["test_set"] == "ckplus"
    assert own["shared_classes"] == "anger;disgust;happiness;contempt"
    assert own["accuracy"] == pytest.approx(0.75)
    assert cross["kind"] == "cross" and cross["test_set"] == "mug"
    assert cross["shared_classes"] == "anger;disgust;happiness" and cross["n_classes"] == 3
    assert cross["n_test"] == 6          # neutral and surprise clips dropped, all folds used
    assert cross["accuracy"] == 1.0      # contempt never wins once restricted
    assert list(frame.columns[:9]) == ["run", "dataset", "arch", "method", "init", "augment",
                                       "protocol", "seed", "fold"]


def test_merged_run_gets_member_and_held_out_rows(tmp_path):
    classes = ["anger", "disgust", "fear", "happiness"]
    run = write_run(tmp_path, "merged-ckplus+mug/vgg3d/supervised/ft/da/full/seed1/fold0",
                    classes, accuracy=0.5, n_test=12)
    stores = {"ckplus": write_store(tmp_path, "ckplus", [*classes, "contempt"]),
              "mug": write_store(tmp_path, "mug", ["neutral", "anger", "disgust"]),
              "oulu": write_store(tmp_path, "oulu", ["anger", "surprise"]),
              "mmi": write_store(tmp_path, "mmi", ["fear", "happiness", "sadness"])}
    out = tmp_path / "eval" / "cross.csv"
    write_cross(run, stores, out, predictor=grey_predictor(classes), min_shared=2)
    frame = pd.read_csv(out, keep_default_na=False).set_index("test_set")
    assert set(frame.index) == {"merged-ckplus+mug", "ckplus", "mug", "mmi"}  # oulu shares 1 class
    assert frame.loc["ckplus", "kind"] == frame.loc["mug", "kind"] == "member"
    # the merged test fold is split by source dataset (write_run alternates members)
    assert frame.loc["ckplus", "n_test"] == 6
    assert frame.loc["mug", "shared_classes"] == "anger;disgust"
    assert frame.loc["mug", "n_test"] == 3   # mug clips of the fold labelled anger/disgust
    assert frame.loc["mmi", "kind"] == "lodo" and frame.loc["mmi", "shared_classes"] == "fear;happiness"
    assert frame.loc["mmi", "accuracy"] == 1.0 and frame.loc["mmi", "n_test"] == 6
    assert (frame["seed"] == 1).all() and (frame["augment"] == "da").all()


def test_wrong_prediction_shape_is_a_clear_error(tmp_path):
    classes = ["anger", "fear"]
    run = write_run(tmp_path, "ckplus/vgg3d/supervised/ri/none/full/seed0/fold0", classes,
                    accuracy=1.0)
    store = write_store(tmp_path, "mug", classes)

    def bad(clips):
        return np.zeros((len(clips), 3)), np.zeros((len(clips), 2))

    with pytest.raises(ValueError, match="probs of shape"):
        evaluate_run(run, {"mug": store}, predictor=bad)
    with pytest.raises(ValueError, match="not a run path"):
        evaluate_run(tmp_path / "runs" / "ckplus", {}, predictor=bad)


def test_default_predictor_runs_the_saved_model_of_the_run(tmp_path):
    """The real path: model.pt written as the engine writes it, loaded and run on CPU."""
    torch = pytest.importorskip("torch")
    from ferstudy.archs.zoo import build_model
    from ferstudy.train.outputs import write_model
    from ferstudy.train.predict import load_run_model, predict

    torch.set_num_threads(1)
    torch.manual_seed(0)
    classes = ["anger", "fear", "contempt"]
    kwargs = {"num_classes": 3, "in_channels": 1, "frames": 4, "size": 16, "width": 0.25}
    run = write_run(tmp_path, "ckplus/vgg3d/supervised/ri/none/full/seed0/fold0", classes,
                    accuracy=1.0)
    model = build_model("vgg3d", **kwargs)
    write_model(run / "model.pt", arch="vgg3d", state_dict=model.state_dict(), classes=classes,
                arch_kwargs=kwargs, embed_dim=model.embed_dim)
    store = write_store(tmp_path, "mug", ["neutral", "anger", "fear"], n_per_class=2, size=16)
    frame = evaluate_run(run, {"mug": store}, device="cpu", batch_clips=3)
    cross = frame.set_index("kind").loc["cross"]
    assert cross["shared_classes"] == "anger;fear" and cross["n_test"] == 4
    # the same numbers by hand: the model's probabilities, arg-max over anger/fear only
    clips = np.load(store / "clips.npy")[2:]   # rows 0-1 are neutral
    probs, _ = predict(load_run_model(run), clips, device="cpu")
    pred = np.array(["anger", "fear"])[probs[:, :2].argmax(1)]
    assert cross["accuracy"] == pytest.approx(np.mean(pred == ["anger"] * 2 + ["fear"] * 2))


def test_foreign_set_in_the_ft_pretraining_pool_is_seen_not_cross(tmp_path):
    """An ft model pretrained on mug has seen mug's labels: its mug score is kept for the
    record as kind 'seen' and never counts as a cross-dataset test; oulu stays 'cross'."""
    import json

    classes = list(BASIC6)
    run = write_run(tmp_path, "ckplus/vgg3d/supervised/ft/none/full/seed0/fold0", classes,
                    accuracy=0.5)
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["pretrain_sources"] = ["mug", "ckplus"]
    (run / "metrics.json").write_text(json.dumps(metrics))
    stores = {}
    for name in ("mug", "oulu"):
        write_store(tmp_path, name, classes, n_per_class=2)
        stores[name] = tmp_path / "aligned" / name
    frame = evaluate_run(run, stores, predictor=grey_predictor(classes))
    kinds = dict(zip(frame["test_set"], frame["kind"]))
    assert kinds == {"ckplus": "in", "mug": "seen", "oulu": "cross"}


def test_heatmap_leaves_seen_rows_out(tmp_path):
    from ferstudy.figures.heatmap import cell_table

    rows = pd.DataFrame({
        "dataset": ["ckplus"] * 3, "test_set": ["ckplus", "mug", "oulu"],
        "kind": ["in", "seen", "cross"], "accuracy": [0.8, 0.9, 0.4], "arch": "vgg3d",
        "method": "supervised", "init": "ft", "augment": "none", "protocol": "full",
        "seed": 0, "fold": 0})
    cells = cell_table(rows, "accuracy")
    assert set(cells["test_set"]) == {"ckplus", "oulu"}
