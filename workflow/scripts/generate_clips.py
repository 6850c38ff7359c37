import os

# idle OpenMP threads sleep instead of spinning: on a shared or oversubscribed node spinning
# made 2-thread GAN steps ~10x slower than 1-thread ones (benchmarks/gan_speed.py)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path

import torch

from ferstudy.augment.gan.stage import generate_stage
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    generate_stage(
        snakemake.input.generator,
        Path(snakemake.output.index).parent,
        clips_per_class=snakemake.params.settings["clips_per_class"],
        seed=snakemake.params.settings["seed"],
    )
