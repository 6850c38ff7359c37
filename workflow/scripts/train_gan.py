import os

# idle OpenMP threads sleep instead of spinning: on a shared or oversubscribed node spinning
# made 2-thread GAN steps ~10x slower than 1-thread ones (benchmarks/gan_speed.py)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path

import torch

from ferstudy.augment.gan.stage import train_gan_stage
from ferstudy.logs import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    # results/aligned/<member>/index.csv -> results
    results = Path(snakemake.input[0]).parents[2]
    train_gan_stage(
        {"results": str(results), "study": {"classes": snakemake.params.settings["classes"]},
         "augment": {"sd": snakemake.params.settings["sd"]},
         "train": {"val_fraction": snakemake.params.settings["val_fraction"]}},
        snakemake.wildcards.dataset,
        int(snakemake.wildcards.fold),
        Path(snakemake.output.generator).parent,
    )
