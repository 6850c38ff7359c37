from ferstudy.logs import logged
from ferstudy.settings import job_config
from ferstudy.train.pretrain import run_pretrain

with logged(snakemake.log[0]) as log:
    run_pretrain(
        job_config(snakemake.params.settings, snakemake.params.runtime,
                   {"results": snakemake.params.results}),
        dataset=snakemake.wildcards.dataset,
        arch=snakemake.wildcards.arch,
        pool=snakemake.wildcards.pool,
        out=snakemake.output.model,
        threads=snakemake.threads,
        log=log.info,
    )
