"""``ferstudy train`` and ``ferstudy pretrain``: the training stage outside Snakemake.

``ferstudy train --dataset ckplus --arch resnet3d --init ft --seed 0 --fold 0`` trains one
grid point into ``results/runs/{run}/`` (same layout as the train_model rule); an ``ft`` run
expects the pretrain model at ``results/pretrain/{dataset}/{arch}/{pool}/model.pt``, pool
``fold{fold}-full`` under protocol full with the target in the pool, else ``external``
(``ferstudy pretrain --dataset ckplus --arch resnet3d --fold 0 [--protocol P]`` makes it)
unless ``train.pretrain.checkpoint`` / ``torchvision`` is set.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, help="dataset or merged set (merged-a+b)")
    parser.add_argument("--arch", required=True, help="architecture (registry name)")
    parser.add_argument("--fold", type=int, default=0, help="test fold (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads / loader workers")
    parser.add_argument("--out", default=None, help="output folder (default: the workflow's)")
    parser.add_argument("--protocol", default="full", help="full | noisesym20 | labels10 | ... "
                        "(pretrain: the protocol of the runs the pool serves)")
    if parser.prog.split()[-1] == "train":
        parser.add_argument("--method", default="supervised")
        parser.add_argument("--init", default="ri", help="ri | ft")
        parser.add_argument("--augment", default="none", help="none | da | sd | da+sd")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--dry-run", action="store_true",
                            help="print the resolved train settings and the run folder, then stop")


def run(args: argparse.Namespace) -> None:
    import logging

    from ferstudy import settings
    from ferstudy.command_config import load_config
    from ferstudy.logs import logged
    from ferstudy.train.plan import pretrained_model
    from ferstudy.train.pools import pool_name

    config = load_config(args)
    results = Path(config["results"])
    with logged(None, level=logging.INFO) as log:
        pool = pool_name(config, args.dataset, args.protocol, args.fold)
        # the file the workflow's pretrain rules write (an external pool's is shared)
        pretrained = Path(pretrained_model(config, args.dataset, args.arch, args.protocol,
                                           args.fold))
        if args.command == "pretrain":
            from ferstudy.train.pretrain import run_pretrain

            # the slice the pretrain rules pass (ferstudy.settings), not the whole config
            run_pretrain(settings.command_config(config, settings.pretrain(config), "train"),
                         dataset=args.dataset, arch=args.arch, pool=pool,
                         out=args.out or pretrained, threads=args.threads, log=log.info)
            return
        wildcards = {k: getattr(args, k) for k in
                     ("dataset", "arch", "method", "init", "augment", "protocol", "seed", "fold")}
        from ferstudy.runkey import RunKey

        spec = RunKey(**wildcards)
        run_dir = Path(args.out) if args.out else results / "runs" / str(spec)
        if args.dry_run:
            import yaml

            print(f"run folder: {run_dir}")
            print(yaml.safe_dump(settings.train(config, wildcards), sort_keys=False), end="")
            return
        from ferstudy.augment import AUGMENTS

        synthetic = (results / "synthetic" / args.dataset / f"fold{args.fold}" / "index.csv"
                     if AUGMENTS.get(args.augment).synthetic else None)
        train_from_workflow(config=settings.command_config(config, settings.train(config, wildcards),
                                                           "train"),
                            lineage=settings.run_lineage(config, wildcards), run_dir=run_dir,
                            pretrained=pretrained if args.init == "ft" else None,
                            synthetic=synthetic, threads=args.threads, log=log.info)


def train_from_workflow(*, log=print, startup=None, **job) -> dict | None:
    """The train_model rule's entry, and ``ferstudy train``'s: the job goes to a warm
    train-worker when one answers (ferstudy.train.worker_client; its log records come back
    into ``log``'s logger), else ``train_in_process`` runs it here. Same function, same
    arguments either way. It keeps this name and signature so that
    workflow/scripts/train_model.py, whose text Snakemake's code trigger hashes (a changed
    script reruns every train job), did not have to change for the worker."""
    logger = getattr(log, "__self__", None)
    if startup is None and isinstance(logger, logging.Logger):
        from ferstudy.train.worker_client import run_job

        run_job("train", job, logger)
        return None
    return train_in_process(log=log, startup=startup, **job)


def train_in_process(*, config: dict, lineage: dict, wildcards: dict, run_dir,
                     pretrained=None, synthetic=None, threads: int = 1, log=print,
                     startup=None) -> dict:
    """Shared by the train_model rule, ``ferstudy train`` and the train-worker: read the
    stores, train, write the run folder and its provenance.json. ``config``: the job's
    settings slice with runtime values and ``results`` (ferstudy.settings.train / job_config);
    ``lineage``: ferstudy.settings.run_lineage of the run. ``startup``: a
    ferstudy.train.startup.StartupClock (default: one from this process's start)."""
    from ferstudy.train.startup import StartupClock

    startup = startup or StartupClock()
    from ferstudy.clipstore import load_dataset, read_store
    from ferstudy.runkey import RunKey
    from ferstudy.train.run import train_run

    startup.lap("launch")   # torch and the training modules are imported by now

    spec = RunKey(dataset=wildcards["dataset"], arch=wildcards["arch"],
                   method=wildcards["method"], init=wildcards["init"],
                   augment=wildcards["augment"], protocol=wildcards["protocol"],
                   seed=int(wildcards["seed"]), fold=int(wildcards["fold"]))
    clips = load_dataset(config["results"], spec.dataset, mmap=False)
    syn = read_store(Path(synthetic).parent, mmap=False) if synthetic else None
    metrics = train_run(spec, config, run_dir, clips=clips, synthetic=syn, pretrained=pretrained,
                        threads=threads, log=log, startup=startup)
    from ferstudy.config import dataset_members
    from ferstudy.provenance import write_provenance

    results = Path(config["results"])
    inputs = [p for m in dataset_members(spec.dataset)
              for p in (results / "registry" / f"{m}.csv", results / "aligned" / m / "index.csv")]
    inputs += [p for p in (synthetic, pretrained) if p]
    write_provenance(run_dir, lineage, device=metrics["device"], inputs=inputs,
                     startup=startup.record())
    return metrics
