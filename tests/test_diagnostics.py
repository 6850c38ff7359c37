"""Per-run diagnostics.csv from train_run, gathered over runs, summarised and drawn."""
import pandas as pd
import pytest
import torch

from ferstudy import config as fcfg
from ferstudy.evaluate.diagnostics import COLUMNS, gather_diagnostics, headline
from ferstudy.figures.catalog import figure_files
from ferstudy.figures.diagnostics import plot_diagnostics
from ferstudy.figures.style import save_figure
from ferstudy.runkey import RunKey
from ferstudy.train.run import train_run
from planted_toy import PLANTED_CLASSES, planted_clipset

torch.set_num_threads(1)


def _config():
    return fcfg.validate({
        "datasets": {"planted": {"root": "/nonexistent", "adapter": "generic"}},
        "study": {"datasets": ["planted"], "archs": ["resnet2d_lstm"],
                  "classes": list(PLANTED_CLASSES)},
        "methods": {"scn": {"relabel_epoch": 2}, "curriculum": {"max_stage_epochs": 1}},
        "train": {"epochs": 3, "batch_size": 16, "width": 0.125, "patience": 10}})


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("results") / "runs"
    clips = planted_clipset(subjects=8, size=16)
    runs = []
    for method, protocol, seeds in (("supervised", "full", (0,)), ("scn", "noisesym30", (0, 1)),
                                    ("curriculum", "full", (0,)), ("adacm", "labels3", (0,))):
        for seed in seeds:
            key = RunKey("planted", "resnet2d_lstm", method, "ri", "none", protocol, seed, 0)
            train_run(key, _config(), root / str(key), clips=clips, log=lambda m: None)
            runs.append(root / str(key))
    return runs


def test_each_run_writes_its_diagnostics_beside_metrics(study):
    for run in study:
        frame = pd.read_csv(run / "diagnostics.csv")
        assert list(frame.columns) == ["method", "unit", "step", "metric", "value"]
        method = RunKey.parse(run).method
        assert (frame["method"] == method).all()
        if method == "supervised":
            assert frame.empty
        elif method == "curriculum":
            assert set(frame["unit"]) == {"stage"} and frame["step"].max() == 2
        else:
            assert set(frame["unit"]) == {"epoch"} and sorted(set(frame["step"])) == [0, 1, 2]
    scn = pd.read_csv(study[1] / "diagnostics.csv")
    assert {"weight_auc", "relabel_precision", "relabel_recall"} <= set(scn["metric"])
    ada = pd.read_csv(study[4] / "diagnostics.csv")
    assert {"confident_frac", "pseudo_label_accuracy", "threshold_mean",
            "threshold_anger"} <= set(ada["metric"])


def test_gather_headline_and_one_figure_per_method(study, tmp_path):
    table = gather_diagnostics([*study, tmp_path / "planted/a/scn/ri/none/full/seed0/fold0"])
    assert list(table.columns) == list(COLUMNS)
    assert set(table["method"]) == {"scn", "curriculum", "adacm"}
    assert table["run"].nunique() == 4
    head = headline(table)
    auc = head[(head["method"] == "scn") & (head["metric"] == "weight_auc")]
    assert len(auc) == 1 and auc["n_runs"].iloc[0] == 2 and 0 <= auc["mean"].iloc[0] <= 1
    assert (head[head["metric"] == "stages"]["mean"] == 3).all()   # three stages each
    assert (head[head["metric"] == "last_stage_from_epoch"]["mean"] == 2).all()
    files = figure_files(tmp_path, ["planted"], (), ["supervised", "scn", "adacm", "curriculum"])
    names = [n for n in files if n.startswith("diagnostics/")]
    assert names == ["diagnostics/scn", "diagnostics/adacm", "diagnostics/curriculum"]
    for name in names:
        save_figure(plot_diagnostics(table, name.split("/")[1]), files[name]["png"], dpi=30)
        assert open(files[name]["png"], "rb").read().startswith(b"\x89PNG")
    empty = plot_diagnostics(table.iloc[:0], "scn")     # a study without runs yet still draws
    save_figure(empty, tmp_path / "empty.png", dpi=30)
