from ferstudy.figures.regenerate import regenerate
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    p = snakemake.params
    regenerate(p.results, p.study_dir, p.runs, p.datasets, p.questions, p.settings, p.methods)
