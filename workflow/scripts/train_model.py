import os

from ferstudy.logs import logged
from ferstudy.settings import job_config
from ferstudy.train.cli import train_from_workflow
from ferstudy.train.plan import results_of_store

with logged(snakemake.log[0]) as log:
    train_from_workflow(
        config=job_config(snakemake.params.settings["train"], snakemake.params.runtime,
                          {"results": results_of_store(snakemake.input.stores[0])}),
        lineage=snakemake.params.settings,
        wildcards=dict(snakemake.wildcards.items()),
        run_dir=os.path.dirname(snakemake.output.model),
        pretrained=snakemake.input.get("pretrained"),
        synthetic=snakemake.input.get("synthetic"),
        threads=snakemake.threads,
        log=log.info,
    )
