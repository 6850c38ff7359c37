from ferstudy.evaluate.overlap import gather_overlap
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    gather_overlap(snakemake.input, snakemake.output.table)
