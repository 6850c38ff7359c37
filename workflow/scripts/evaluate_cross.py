from ferstudy.evaluate.cross import write_cross
from ferstudy.logs import logged

# one job per (training set, arch): each run of the group gets its own cross.csv
with logged(snakemake.log[0]):
    for run_dir, out_csv in zip(snakemake.params.run_dirs, snakemake.output.cross, strict=True):
        write_cross(
            run_dir,
            snakemake.params.stores,
            out_csv,
            device=snakemake.params.runtime["device"],
            batch_clips=snakemake.params.runtime["batch_clips"],
            min_shared=snakemake.params.settings["min_shared_classes"],
            overlap_csv=snakemake.input.get("overlap"),
        )
