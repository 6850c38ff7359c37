from pathlib import Path

from ferstudy.datasets.download import download_set
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    provenance = Path(snakemake.output.provenance)
    download_set("ravdess", {**snakemake.params.settings, **snakemake.params.runtime}, snakemake.output.data,
                 provenance.with_suffix(""), provenance)   # archives in resources/downloads/ravdess/
