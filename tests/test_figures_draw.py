"""Figure functions write real, non-empty PNG + PDF files from small synthetic results."""
import matplotlib
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from synth_runs import grey_predictor, write_png, write_run, write_store, write_study

from ferstudy.evaluate.gather import build_tables
from ferstudy.evaluate.cross import write_cross
from ferstudy.evaluate.tables import collect_existing
from ferstudy.figures.catalog import figure_files
from ferstudy.figures.draw import draw_figures
from ferstudy.figures.qc import collect_sheets
from ferstudy.figures.confusion import confusion_counts, plot_confusions
from ferstudy.figures.curves import plot_curves
from ferstudy.figures.tsne import embed_2d, plot_tsne

SETTINGS = {"figures": {"dpi": 40, "metric": "accuracy"},
            "tsne": {"perplexity": 30, "seed": 0, "max_points": 2000},
            "metrics": ["accuracy"], "bootstrap_resamples": 200, "ci_level": 0.95, "seed": 0,
            "comparisons": ["ft_vs_ri", "in_vs_cross"],
            "stats": {"rope": 1.0, "alpha": 0.05, "adjust": "holm", "metric": "accuracy", "sd_ratio_rope": 1.25, "power_difference": 2.0,
                      "power": 0.8}}
DATASETS = ["ckplus"]


@pytest.mark.slow
def test_every_figure_is_written_as_png_and_pdf(tmp_path):
    classes = ["anger", "disgust", "fear", "happiness"]
    runs = write_study(tmp_path, datasets=[*DATASETS, "merged-ckplus+mug"], seeds=(0, 1),
                       classes=classes)
    stores = {"ckplus": write_store(tmp_path, "ckplus", classes),
              "mug": write_store(tmp_path, "mug", ["neutral", *classes])}
    for run in runs:  # cross rows for half of them, the rest in-dataset only
        if run.startswith("ckplus"):
            write_cross(tmp_path / "runs" / run, {"mug": stores["mug"]},
                        tmp_path / "eval" / run / "cross.csv", predictor=grey_predictor(classes))
    table = collect_existing(tmp_path)
    assert set(table["kind"]) == {"in", "cross", "member"}
    _, comparisons, verdicts = build_tables(table, SETTINGS)
    assert len(comparisons) > 0
    questions = ["ft_vs_ri", "in_vs_cross"]
    draw_figures(table, comparisons, verdicts, tmp_path / "runs", tmp_path / "figures", DATASETS,
                 questions, SETTINGS)
    files = figure_files(tmp_path / "figures", DATASETS, questions)
    assert len(files) == 3 + len(questions) + 3 * len(DATASETS)
    for paths in files.values():
        png, pdf = (open(paths[ext], "rb").read() for ext in ("png", "pdf"))
        assert png.startswith(b"\x89PNG") and len(png) > 2000
        assert pdf.startswith(b"%PDF") and len(pdf) > 2000
        assert Image.open(paths["png"]).mode == "P"   # palette-compressed for the report
    assert matplotlib.get_backend().lower() == "agg"


def test_a_dataset_without_runs_still_gets_a_figure_saying_so(tmp_path):
    write_run(tmp_path, "ckplus/vgg3d/supervised/ri/none/full/seed0/fold0", ["anger", "fear"],
              accuracy=0.5)
    table = collect_existing(tmp_path)
    for plot in (plot_confusions, plot_curves):
        fig = plot(table, tmp_path / "runs", "mmi")
        assert "no runs on this dataset yet" in [t.get_text() for t in fig.axes[0].texts]


def test_tsne_adapts_perplexity_and_shows_sources_of_merged_runs(tmp_path):
    xy = embed_2d(np.random.default_rng(0).normal(size=(7, 5)), perplexity=30, seed=0)
    assert xy.shape == (7, 2) and np.isfinite(xy).all()
    again = embed_2d(np.random.default_rng(0).normal(size=(7, 5)), perplexity=30, seed=0)
    assert np.allclose(xy, again)  # seeded
    run = write_run(tmp_path, "merged-ckplus+mug/vgg3d/supervised/ri/none/full/seed0/fold0",
                    ["anger", "fear", "sadness"], accuracy=0.7, n_test=9)
    fig = plot_tsne(run, perplexity=30, seed=0)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["coloured by true class", "coloured by source dataset"]
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend == ["ckplus (5)", "mug (4)"]


def test_confusion_counts_rows_are_true_classes():
    counts = confusion_counts(["anger", "anger", "fear"], ["fear", "anger", "fear"], ["anger", "fear"])
    assert counts.tolist() == [[1, 1], [0, 1]]


def test_qc_sheets_that_exist_are_collected(tmp_path):
    big = tmp_path / "aligned" / "mug" / "contact_sheet.png"
    big.parent.mkdir(parents=True)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (3000, 200, 3), dtype=np.uint8)).save(big)
    write_png(tmp_path / "gan" / "mug" / "fold0" / "qc_sheet.png")
    (tmp_path / "aligned" / "oulu").mkdir(parents=True)  # aligned, no sheet: nothing to copy
    written = collect_sheets(tmp_path, tmp_path / "figures" / "qc")
    assert sorted(p.name for p in written) == ["aligned_mug.png", "gan_mug_fold0_qc_sheet.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)
    copy = Image.open(tmp_path / "figures" / "qc" / "aligned_mug.png")
    assert copy.size == (107, 1600) and copy.mode == "P"          # scaled, palette
    assert Image.open(big).size == (200, 3000)                     # the original untouched


def test_missing_predictions_file_is_a_clear_error(tmp_path):
    run = write_run(tmp_path, "ckplus/vgg3d/supervised/ri/none/full/seed0/fold0", ["anger", "fear"],
                    accuracy=0.5)
    (run / "predictions.csv").unlink()
    with pytest.raises(FileNotFoundError, match="predictions.csv"):
        collect_existing(tmp_path)


def test_verdict_figure_fits_a_page_and_question_figures_fit_a_screen(tmp_path):
    from ferstudy.figures.style import save_figure
    from ferstudy.figures.verdict_plot import MAX_ROWS, plot_question, plot_verdicts

    rows = [{"question": q, "label": q, "scope": "overall", "a": "x", "b": "y", "effect": 0.02 * k,
             "ci_low": 0.02 * k - 0.01, "ci_high": 0.02 * k + 0.01, "unit": "fold", "n_units": 4,
             "verdict": "undecided", "reason": ""} for k, q in enumerate(
                 ["ft_vs_ri", "da_vs_none", "merged_vs_single", "in_vs_cross", "seed_sd_ft_vs_ri"])]
    rows[-1].update(effect=1.5, ci_low=0.8, ci_high=2.5)
    save_figure(plot_verdicts(pd.DataFrame(rows), rope=1.0, sd_ratio_rope=1.25, metric="accuracy"),
                tmp_path / "v.png", dpi=150)
    width, height = Image.open(tmp_path / "v.png").size
    assert height < 1650 and width < 1800          # an A4 page at 150 dpi
    many = pd.DataFrame([{"question": "ft_vs_ri", "metric": "accuracy", "dataset": f"d{i}",
                          "arch": "vgg3d", "method": "supervised", "init": "ft vs ri",
                          "augment": "none", "protocol": "full", "test_set": f"d{i}", "kind": "in",
                          "a": "ft", "b": "ri", "mean_diff": 0.01, "diff_ci_low": 0.0,
                          "diff_ci_high": 0.02, "n_folds": 4, "n_seeds": 2, "verdict": "undecided"}
                         for i in range(200)])
    fig = plot_question(many, "ft_vs_ri", metric="accuracy", rope=1.0)
    assert len(fig.axes[0].get_yticks()) == MAX_ROWS and "of 200 rows" in fig.axes[0].get_title(loc="left")
    save_figure(fig, tmp_path / "q.png", dpi=150)
    assert Image.open(tmp_path / "q.png").size[1] < 1500   # not 4000 px any more
