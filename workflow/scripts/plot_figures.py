from ferstudy.figures.draw import draw_from_table
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    draw_from_table(snakemake.input.runs, snakemake.params.results, snakemake.params.datasets,
                    snakemake.params.settings, snakemake.output.qc)
