from ferstudy.figures.draw import draw_from_tables
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    inp = snakemake.input
    draw_from_tables(
        {
            "runs": inp.runs,
            "comparisons": inp.comparisons,
            "verdicts": inp.verdicts,
            "diagnostics": inp.diagnostics,
        },
        snakemake.params.results,
        snakemake.params.study_dir,
        snakemake.params.datasets,
        snakemake.params.questions,
        snakemake.params.settings,
        snakemake.output.qc,
        snakemake.params.methods,
    )
