"""``ferstudy``: every stage of the workflow as a command, for use outside Snakemake.

Each subcommand lives in the stage's own module as two functions, ``add_arguments(parser)``
and ``run(args)``, and is listed in COMMANDS; modules load only when their command runs.
Naming: a stage package's command module is ``<package>/cli.py``; a package with several
command modules names each ``cli_<command>.py`` (``datasets/cli_register.py``,
``datasets/cli_download.py``, ``augment/cli_train_gan.py``, ``augment/cli_generate.py``).
They read their config with ``ferstudy.command_config.load_config`` (not from this module,
so that no import leads back here).
All commands take ``--config`` (default config.yaml) and ``--set key.path=value`` overrides.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import yaml

from ferstudy.command_config import load_config

# name -> (module providing add_arguments/run, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "check-config": ("ferstudy.cli", "print the config Snakemake runs: config.yaml <- --config file <- --set, validated, defaults filled"),
    "register": ("ferstudy.datasets.cli_register", "register a dataset: manifest, folds, rejections"),
    "download": ("ferstudy.datasets.cli_download", "fetch a public dataset (RAVDESS): resumable, verified"),
    "train": ("ferstudy.train.cli", "train one grid point (run folder: model, metrics, predictions)"),
    "train-worker": ("ferstudy.train.worker", "start|stop|status the warm train-worker that forks train jobs (no per-job torch import)"),
    "pretrain": ("ferstudy.train.cli", "pretrain an architecture for ft on a pool without the test fold"),
    "fetch-resources": ("ferstudy.resources", "fetch face models and real-face media (sha256-checked)"),
    "render-demo": ("ferstudy.demo.cli", "render the demo datasets in their native layouts"),
    "align": ("ferstudy.faces.cli", "align a dataset: detect, track, align, crop, intensity, QC"),
    "train-gan": ("ferstudy.augment.cli_train_gan", "train the SD clip GAN of one training set and fold (+ quality figures)"),
    "generate": ("ferstudy.augment.cli_generate", "sample a synthetic clip store from a trained clip GAN"),
    "evaluate": ("ferstudy.evaluate.cli", "test one run on its own and every other dataset (cross.csv)"),
    "figures": ("ferstudy.figures.cli", "regenerate every table and figure from existing run outputs"),
    "plan": ("ferstudy.grid_cost", "what a study grid costs: runs, jobs, SLURM submissions, GPU-hours"),
    "gpu-share": ("ferstudy.gpu_share", "CUDA MPS on/off/status: lets concurrent GPU jobs share one GPU"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> None:
    """Print the resolved config, then check the paths it names (``ferstudy.path_checks``):
    a missing or unreadable dataset root or input file is an error (exit 2), after the config
    is printed, so that a user sees both."""
    from ferstudy.path_checks import config_path_problems

    config = load_config(args)
    print(yaml.safe_dump(config, sort_keys=False), end="")
    problems = config_path_problems(config)
    if problems:
        raise FileNotFoundError("the config names paths that cannot be read:\n  "
                                + "\n  ".join(problems))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ferstudy", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true",
                        help="on an error, show the full traceback instead of one line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config", default="config.yaml",
                       help="study file, laid over ./config.yaml as `snakemake --configfile` "
                            "does (default: %(default)s)")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key, e.g. --set datasets.ckplus.root=/data/CK+")
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ferstudy.config import ConfigError

    args = build_parser().parse_args(argv)
    try:
        importlib.import_module(args._module).run(args)
    except (ConfigError, FileNotFoundError, ValueError, RuntimeError) as err:
        if args.debug:  # a real bug needs its traceback
            raise
        print(f"ferstudy {args.command}: error: {err} (--debug shows the traceback)",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
