from pathlib import Path

from ferstudy import atomic
from ferstudy.demo.render import render_dataset
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    summary = render_dataset(
        snakemake.wildcards.dataset,
        snakemake.params.entry,
        snakemake.params.demo,
        subjects=tuple(snakemake.params.subjects),
        sheet=snakemake.output.sheet,
        media_dir=Path(snakemake.input.media).parent,
        models_dir=Path(snakemake.input.detector).parent,
    )
    atomic.write_json(snakemake.output.done, summary)
