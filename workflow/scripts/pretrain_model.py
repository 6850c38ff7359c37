from ferstudy.logs import logged
from ferstudy.settings import job_config
from ferstudy.train.pretrain import run_pretrain

with logged(snakemake.log[0]) as log:
    run_pretrain(
        job_config(snakemake.params.settings, snakemake.params.runtime,
                   {"results": snakemake.params.results}),
        arch=snakemake.wildcards.arch,
        # pretrain_model: a target's fold<k>-full pool; pretrain_external: a pool of datasets
        **(
            {"members": snakemake.wildcards.sources.split("+")}
            if "sources" in snakemake.wildcards.keys()
            else {"dataset": snakemake.wildcards.dataset, "pool": snakemake.wildcards.pool}
        ),
        out=snakemake.output.model,
        threads=snakemake.threads,
        log=log.info,
    )
