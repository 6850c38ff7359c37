from pathlib import Path

from ferstudy.logs import logged
from ferstudy.resources import fetch_face_models

with logged(snakemake.log[0]):
    fetch_face_models(snakemake.params.settings, Path(snakemake.output.detector).parent)
