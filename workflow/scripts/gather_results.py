from pathlib import Path

from ferstudy.evaluate.diagnostics import write_diagnostics
from ferstudy.evaluate.gather import gather_cross_files
from ferstudy.logs import logged
from ferstudy.provenance import check_fresh

with logged(snakemake.log[0]):
    out = snakemake.output
    # runs made under other settings (e.g. by --touch or --rerun-triggers mtime) are refused
    check_fresh(snakemake.params.expected, snakemake.params.runs_dir)
    runs_dir = Path(snakemake.params.runs_dir)
    metrics = [runs_dir / run / "metrics.json" for run in snakemake.params.expected]
    gather_cross_files(snakemake.input.cross, metrics, snakemake.params.settings,
                       {"runs_csv": out.runs_csv, "runs_parquet": out.runs_parquet,
                        "summary": out.summary, "comparisons": out.comparisons,
                        "verdicts": out.verdicts, "verdicts_md": out.verdicts_md},
                       hashes=snakemake.params.expected)
    # the methods' mechanism diagnostics, one row per (run, step, metric)
    write_diagnostics([runs_dir / run for run in snakemake.params.expected], out.diagnostics)
