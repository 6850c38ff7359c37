# through a warm `ferstudy train-worker` when one answers, else in this process (the worker
# client imports no torch); the same function and arguments either way
import os

from ferstudy.logs import logged
from ferstudy.settings import job_config
from ferstudy.train.plan import results_of_store
from ferstudy.train.worker_client import run_job

with logged(snakemake.log[0]) as log:
    run_job(
        "train",
        dict(
            config=job_config(
                snakemake.params.settings["train"],
                snakemake.params.runtime,
                {"results": results_of_store(snakemake.input.stores[0])},
            ),
            lineage=snakemake.params.settings,
            wildcards=dict(snakemake.wildcards.items()),
            run_dir=os.path.dirname(snakemake.output.model),
            pretrained=snakemake.input.get("pretrained"),
            synthetic=snakemake.input.get("synthetic"),
            threads=snakemake.threads,
        ),
        log=log,
    )
