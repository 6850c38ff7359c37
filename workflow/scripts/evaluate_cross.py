from ferstudy.evaluate.cross import write_cross
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    write_cross(
        snakemake.params.run_dir,
        snakemake.params.stores,
        snakemake.output.cross,
        device=snakemake.params.runtime["device"],
        batch_clips=snakemake.params.runtime["batch_clips"],
        min_shared=snakemake.params.settings["min_shared_classes"],
        overlap_csv=snakemake.input.get("overlap"),
    )
