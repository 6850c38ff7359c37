from pathlib import Path

from ferstudy.faces.shards import align_shard
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    align_shard(
        snakemake.input.manifest,
        snakemake.output.shard,
        snakemake.params.settings,
        Path(snakemake.input.detector).parent,
        snakemake.params.temporal,
        int(snakemake.wildcards.shard),
    )
