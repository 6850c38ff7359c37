from ferstudy.datasets.register import register
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    register(
        snakemake.wildcards.dataset,
        snakemake.params.entry,
        snakemake.output.manifest,
        snakemake.output.rejected,
        folds=snakemake.params.folds,
        seed=snakemake.params.seed,
        strict=snakemake.params.strict,
        record_json=snakemake.output.record,
    )
