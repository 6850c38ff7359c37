# Figures: drawn from the tables (plot_figures, part of `snakemake`), or regenerated from
# whatever run outputs exist (`snakemake figures`, which never schedules training).
from ferstudy.figures.catalog import figure_caption, figure_files  # noqa: E402

FIGURES = figure_files(f"{RESULTS}/figures", STUDY["datasets"])


rule plot_figures:
    input:
        runs=rules.gather_results.output.runs_csv,
        comparisons=rules.gather_results.output.comparisons,
    output:
        # PNGs go into the report with their captions; PDFs (vector) are plain outputs
        png=[
            report(
                paths["png"],
                caption=f"../report/{figure_caption(name)[0]}.rst",
                category=figure_caption(name)[1],
                subcategory=figure_caption(name)[2],
            )
            for name, paths in FIGURES.items()
        ],
        pdf=[paths["pdf"] for paths in FIGURES.values()],
        qc=report(
            directory(f"{RESULTS}/figures/qc"),
            patterns=["{name}.png"],
            caption="../report/qc_sheets.rst",
            category="Quality control",
        ),
    log:
        f"{RESULTS}/logs/plot_figures/plot_figures.log",
    conda:
        ENVS["learning"]
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        # results/ is two levels above results/tables/runs.csv
        results=lambda wc, input: os.path.dirname(os.path.dirname(input.runs)),
        datasets=STUDY["datasets"],
        settings=stage_settings.figures(config),
    script:
        "../scripts/plot_figures.py"


# A target without outputs runs every time it is asked for, and - having no inputs - pulls
# no training, alignment or evaluation job into the DAG: it reads what results/ holds.
rule figures:
    log:
        f"{RESULTS}/logs/figures/figures.log",
    localrule: True
    conda:
        ENVS["learning"]
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        results=RESULTS,
        datasets=STUDY["datasets"],
        settings={**stage_settings.gather(config), **stage_settings.figures(config)},
    script:
        "../scripts/figures_regenerate.py"


FINAL_OUTPUTS.append(lambda: list(rules.plot_figures.output))
