# Figures: drawn from the tables (plot_figures, part of `snakemake`), or regenerated from
# whatever run outputs exist (`snakemake figures`, which never schedules training).
from ferstudy.figures.catalog import answerable, figure_caption, figure_files, in_report  # noqa: E402

QUESTIONS = answerable(config["evaluate"]["comparisons"], STUDY)
FIGURES = figure_files(f"{STUDY_DIR}/figures", STUDY["datasets"], QUESTIONS, STUDY["methods"])
# per-dataset figures beyond the first few are files only (the report stays small)
IN_REPORT = {
    n for n in FIGURES if in_report(n, STUDY["datasets"], config["evaluate"]["figures"]["report_datasets"])
}


rule plot_figures:
    input:
        runs=rules.gather_results.output.runs_csv,
        comparisons=rules.gather_results.output.comparisons,
        verdicts=rules.gather_results.output.verdicts,
        diagnostics=rules.gather_results.output.diagnostics,
    output:
        # PNGs go into the report with their captions; PDFs (vector) are plain outputs
        png=[
            (
                report(
                    paths["png"],
                    caption=f"../report/{figure_caption(name)[0]}.rst",
                    category=figure_caption(name)[1],
                    subcategory=figure_caption(name)[2],
                )
                if name in IN_REPORT
                else paths["png"]
            )
            for name, paths in FIGURES.items()
        ],
        pdf=[paths["pdf"] for paths in FIGURES.values()],
        # the verdict table and figure as one HTML fragment: the report's first page embeds it
        page=report(f"{STUDY_DIR}/verdicts.html", caption="../report/verdicts_page.rst", category=VERDICTS),
        qc=report(
            directory(f"{STUDY_DIR}/figures/qc"),
            patterns=["{name}.png"],
            caption="../report/qc_sheets.rst",
            category="Quality control",
        ),
    log:
        f"{STUDY_DIR}/logs/plot_figures/plot_figures.log",
    conda:
        ENVS["learning"]
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        # runs and QC sheets: the shared tree; figures and the verdict page: the study's
        # (RESULTS/studies/<name>/tables/runs.csv: derived from the input, as --lint asks)
        results=lambda wc, input: os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.dirname(input.runs)))
        ),
        study_dir=lambda wc, input: os.path.dirname(os.path.dirname(input.runs)),
        datasets=STUDY["datasets"],
        questions=QUESTIONS,
        methods=STUDY["methods"],
        # the verdict figure shades the ROPE: the stats settings shape figures too
        settings=stage_settings.plot(config),
    script:
        "../scripts/plot_figures.py"


# A target without outputs runs every time it is asked for, and - having no inputs - pulls
# no training, alignment or evaluation job into the DAG: it reads what results/ holds.
rule figures:
    log:
        f"{STUDY_DIR}/logs/figures/figures.log",
    localrule: True
    conda:
        ENVS["learning"]
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        results=RESULTS,
        study_dir=STUDY_DIR,
        runs=STUDY_RUNS,
        datasets=STUDY["datasets"],
        questions=QUESTIONS,
        methods=STUDY["methods"],
        settings=stage_settings.plot(config),
    script:
        "../scripts/figures_regenerate.py"


FINAL_OUTPUTS.append(lambda: list(rules.plot_figures.output))
