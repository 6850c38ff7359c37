from ferstudy.evaluate.gather import gather_cross_files
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    out = snakemake.output
    gather_cross_files(snakemake.input.cross, snakemake.input.metrics, snakemake.params.settings,
                       {"runs_csv": out.runs_csv, "runs_parquet": out.runs_parquet,
                        "summary": out.summary, "comparisons": out.comparisons,
                        "verdicts": out.verdicts, "verdicts_md": out.verdicts_md})
