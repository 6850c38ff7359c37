from pathlib import Path

from ferstudy import atomic
from ferstudy.demo.render import render_dataset
from ferstudy.logs import logged

settings = snakemake.params.settings
with logged(snakemake.log[0]):
    summary = render_dataset(
        snakemake.wildcards.dataset,
        settings["entry"],
        {**settings["demo"], "datasets": {snakemake.wildcards.dataset: settings["dataset"]}},
        subjects=tuple(settings["subjects"]),
        sheet=snakemake.output.sheet,
        media_dir=Path(snakemake.input.media).parent,
        models_dir=Path(snakemake.input.detector).parent,
    )
    atomic.write_json(snakemake.output.done, summary)
