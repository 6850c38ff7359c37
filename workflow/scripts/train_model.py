from ferstudy.logs import logged
from ferstudy.settings import job_config
from ferstudy.train.cli import train_from_workflow

with logged(snakemake.log[0]) as log:
    train_from_workflow(
        config=job_config(snakemake.params.settings, snakemake.params.runtime,
                          {"results": snakemake.params.results}),
        lineage=snakemake.params.lineage,
        wildcards=dict(snakemake.wildcards.items()),
        run_dir=snakemake.params.run_dir,
        pretrained=snakemake.input.get("pretrained"),
        synthetic=snakemake.input.get("synthetic"),
        threads=snakemake.threads,
        log=log.info,
    )
