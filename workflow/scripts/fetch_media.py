from pathlib import Path

from ferstudy.logs import logged
from ferstudy.resources import fetch_pyfeat_media

with logged(snakemake.log[0]):
    fetch_pyfeat_media(Path(snakemake.output.provenance).parent)
