from ferstudy.figures.regenerate import regenerate
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    regenerate(snakemake.params.results, snakemake.params.datasets, snakemake.params.questions,
               snakemake.params.settings, snakemake.params.methods)
