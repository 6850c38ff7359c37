from pathlib import Path

from ferstudy.faces.shards import gather_aligned
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    gather_aligned(
        snakemake.input.manifest,
        list(snakemake.input.shards),
        Path(snakemake.output.index).parent,
        snakemake.params.settings,
        snakemake.output.sheet,
    )
