"""Train jobs for the train-worker tests and benchmarks/startup_tax.py: a toy aligned store in
a results tree, and the keyword arguments the train_model script would pass for a run."""
from __future__ import annotations

from pathlib import Path

from ferstudy import config as fcfg
from ferstudy import settings
from ferstudy.clipstore import write_store
from toyclips import TOY_CLASSES, toy_clipset


def toy_results(root: Path, *, dataset: str = "ckplus", frames: int = 4, size: int = 32,
                subjects: int = 8) -> Path:
    """``root/results`` with an aligned toy store for ``dataset``."""
    cs = toy_clipset(subjects=subjects, frames=frames, size=size, folds=4, dataset=dataset)
    write_store(root / "results" / "aligned" / dataset, cs.clips, cs.intensity, cs.index)
    return root / "results"


def train_job(results: Path, run_dir: Path, *, dataset: str = "ckplus",
              arch: str = "resnet2d_lstm", seed: int = 0, epochs: int = 2,
              width: float = 0.125, threads: int = 1, **train) -> dict:
    """``run_job("train", ...)`` keyword arguments for one ri grid point (``train`` keys:
    more train settings)."""
    config = fcfg.validate({
        "results": str(results),
        "datasets": {dataset: {"root": "/nonexistent"}},
        "study": {"datasets": [dataset], "archs": [arch], "classes": list(TOY_CLASSES)},
        "train": {"epochs": epochs, "batch_size": 8, "width": width, **train}})
    wildcards = {"dataset": dataset, "arch": arch, "method": "supervised", "init": "ri",
                 "augment": "none", "protocol": "full", "seed": seed, "fold": 0}
    return {"config": settings.command_config(config, settings.train(config, wildcards), "train"),
            "lineage": settings.run_lineage(config, wildcards), "wildcards": wildcards,
            "run_dir": str(run_dir), "threads": threads}
