# Figures: drawn from the tables (plot_figures, part of `snakemake`), or regenerated from
# whatever run outputs exist (`snakemake figures`, which never schedules training).
from ferstudy.figures.draw import figure_files  # noqa: E402

FIGURES = figure_files(f"{RESULTS}/figures", STUDY["datasets"])
FIGURE_CAPTIONS = {
    "variance": ("variance", "Spread over seeds and folds"),
    "cross_dataset": ("cross_dataset", "Cross-dataset tests"),
    "tsne": ("tsne", "Embeddings (t-SNE)"),
    "confusion": ("confusion", "Confusion matrices"),
    "curves": ("curves", "Training curves"),
}


def figure_report(name):
    """The PNG of a figure, marked for the report with its caption (PDFs stay plain outputs)."""
    kind, _, dataset = name.partition("/")
    caption, category = FIGURE_CAPTIONS[kind]
    extra = {"subcategory": dataset} if dataset else {}
    return report(FIGURES[name]["png"], caption=f"../report/{caption}.rst", category=category,
                  **extra)


rule plot_figures:
    input:
        runs=rules.gather_results.output.runs_csv,
    output:
        png=[figure_report(name) for name in FIGURES],
        pdf=[paths["pdf"] for paths in FIGURES.values()],
        qc=report(directory(f"{RESULTS}/figures/qc"), patterns=["{name}.png"],
                  caption="../report/qc_sheets.rst", category="Quality control"),
    log:
        f"{RESULTS}/logs/plot_figures/plot_figures.log",
    params:
        results=RESULTS,
        datasets=STUDY["datasets"],
        settings=config["evaluate"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_figures.py"


# A target without outputs runs every time it is asked for, and - having no inputs - pulls
# no training, alignment or evaluation job into the DAG: it reads what results/ holds.
rule figures:
    log:
        f"{RESULTS}/logs/figures/figures.log",
    params:
        results=RESULTS,
        datasets=STUDY["datasets"],
        settings=config["evaluate"],
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    localrule: True
    conda:
        CONDA_ENV
    script:
        "../scripts/figures_regenerate.py"


FINAL_OUTPUTS.append(lambda: list(rules.plot_figures.output))
