from ferstudy.figures.draw import draw_from_tables
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    draw_from_tables(snakemake.input.runs, snakemake.input.comparisons, snakemake.params.results,
                     snakemake.params.datasets, snakemake.params.settings, snakemake.output.qc)
