from ferstudy.evaluate.overlap import write_overlap
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    write_overlap(
        snakemake.wildcards.dataset,
        snakemake.params.settings["test_sets"],
        # results/registry: the folder of the first manifest
        __import__("os").path.dirname(snakemake.input.manifests[0]),
        snakemake.params.settings["declared"],
        snakemake.output.overlap,
        pool=snakemake.params.settings["pool"],
    )
