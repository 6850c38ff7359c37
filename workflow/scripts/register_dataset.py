from ferstudy.datasets.register import register
from ferstudy.logs import logged

settings = snakemake.params.settings
with logged(snakemake.log[0]):
    register(
        snakemake.wildcards.dataset,
        settings["entry"],
        snakemake.output.manifest,
        snakemake.output.rejected,
        folds=settings["register"]["folds"],
        seed=settings["register"]["fold_seed"],
        strict=settings["register"]["strict"],
        record_json=snakemake.output.record,
    )
