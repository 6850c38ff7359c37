from pathlib import Path

import torch

from ferstudy.augment.gan import train_gan_stage
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    train_gan_stage(
        {"results": snakemake.params.results, "study": {"classes": snakemake.params.classes},
         "augment": {"sd": snakemake.params.sd}},
        snakemake.wildcards.dataset,
        int(snakemake.wildcards.fold),
        Path(snakemake.output.generator).parent,
    )
