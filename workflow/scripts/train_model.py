import os
from pathlib import Path

from ferstudy.logs import logged
from ferstudy.settings import job_config
from ferstudy.train.cli import train_from_workflow

with logged(snakemake.log[0]) as log:
    train_from_workflow(
        config=job_config(snakemake.params.settings["train"], snakemake.params.runtime,
                          # results/aligned/{dataset}/clips.npy -> results
                          {"results": str(Path(snakemake.input.stores[0]).parents[2])}),
        lineage=snakemake.params.settings,
        wildcards=dict(snakemake.wildcards.items()),
        run_dir=os.path.dirname(snakemake.output.model),
        pretrained=snakemake.input.get("pretrained"),
        synthetic=snakemake.input.get("synthetic"),
        threads=snakemake.threads,
        log=log.info,
    )
