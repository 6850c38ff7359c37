# Shared setup: import the library, validate the config, expose the grid and input functions.
# ferstudy is an installed package (`make` installs it editable; `--sdm conda` job envs install
# it from this checkout, see envs/); the workflow never edits sys.path or PYTHONPATH, so it
# also runs when deployed as a Snakemake `module` from another folder.
import os

import yaml
from snakemake.exceptions import WorkflowError

from ferstudy import config as fcfg
from ferstudy import settings as stage_settings
from ferstudy.all_registries import REGISTRIES
from ferstudy.protocols import PROTOCOL_PATTERN
from ferstudy.resolution import resolve_layers, snakemake_layers
from ferstudy.study_dirs import study_dir

try:
    # the resolution `ferstudy check-config` prints (ferstudy.resolution), from the layers
    # Snakemake read; --config values arrive as strings: typed by the schema (config.py)
    _resolved = resolve_layers(
        snakemake_layers(workflow), cli_overrides=dict(workflow.config_settings.config)
    )
except fcfg.ConfigError as err:
    raise WorkflowError(f"ferstudy: {err}") from None
config.clear()
config.update(_resolved)
_dump = os.environ.get("FERSTUDY_RESOLVED_CONFIG")  # debugging aid, and the tests' view of it
if _dump:
    from ferstudy import atomic

    atomic.write_text(_dump, yaml.safe_dump(config, sort_keys=False))

RESULTS = config["results"]
RESOURCES = config["resources"]
# Job environments for `--sdm conda` (envs/write_envs.py): one per purpose, paths relative to
# the rule files.
ENVS = {purpose: f"../../envs/{purpose}.yaml" for purpose in ("fetch", "faces", "learning")}
STUDY = config["study"]
# the study's own outputs (eval, overlap, tables, figures, report): ferstudy.study_dirs; the
# rest of RESULTS is shared by every study of the tree
STUDY_DIR = study_dir(config)
DATASET_NAMES = list(config["datasets"])


wildcard_constraints:
    dataset="|".join(sorted(DATASET_NAMES, key=len, reverse=True)),
    arch=REGISTRIES["archs"].pattern(),
    method=REGISTRIES["methods"].pattern(),
    init=REGISTRIES["inits"].pattern(),
    augment=REGISTRIES["augments"].pattern(),
    protocol=PROTOCOL_PATTERN,
    seed=r"\d+",
    fold=r"\d+",


def registered_datasets():
    """Every dataset the study touches, merged sets expanded to their members."""
    names = []
    for name in STUDY["datasets"]:
        for member in fcfg.dataset_members(name):
            if member not in names:
                names.append(member)
    return names


def get_register_input(wildcards):
    """A demo dataset must be rendered, a downloaded one fetched, before it is registered;
    real roots need nothing."""
    entry = config["datasets"][wildcards.dataset]
    if entry.get("download"):
        return {"download": download_done(entry.get("adapter", wildcards.dataset))}
    if fcfg.is_demo(config, wildcards.dataset):
        return {"demo": demo_done(wildcards.dataset)}
    if not any(
        os.path.exists(f"{RESULTS}/{f}")
        for f in (f"registry/{wildcards.dataset}.csv", f"aligned/{wildcards.dataset}/index.csv")
    ):
        check_real_root(wildcards.dataset)
    return {}


def check_real_root(name):
    """A real root that is missing or has no recognisable layout stops the run while the job
    graph is built, before any job. (Once registered or aligned, a root may go offline: later
    stages read the manifest and the store.)"""
    from ferstudy.datasets.base import DatasetError
    from ferstudy.datasets.register import check_layout

    try:
        check_layout(name, config["datasets"][name])
    except DatasetError as err:
        raise WorkflowError(f"ferstudy: {err}") from None


def demo_done(dataset):
    return f"{RESOURCES}/demo/{dataset}.done"


def download_done(name):
    """Provenance table (file, url, bytes, sha256) written when a download set is extracted."""
    return f"{RESOURCES}/downloads/{name}.csv"


def download_root(name):
    return f"{RESOURCES}/{config['download'][name]['dest']}"


def get_final_output():
    """What plain `snakemake` (the `all` target) builds: each stage adds its products here."""
    outputs = expand(f"{RESULTS}/registry/{{dataset}}.csv", dataset=registered_datasets())
    for extra in FINAL_OUTPUTS:
        outputs += extra()
    return outputs


# Stage rule files append functions returning lists of final targets.
FINAL_OUTPUTS = []


# Align stage (workflow/rules/align.smk).
def get_temporal(wildcards):
    """The dataset adapter's TEMPORAL: onset_apex sequences sample onset->apex, others uniform.
    Read from an adapter instance: options (e.g. generic's `temporal`) may set it."""
    from ferstudy.datasets.register import make_adapter

    return make_adapter(wildcards.dataset, config["datasets"][wildcards.dataset]).TEMPORAL


def get_align_shards(wildcards):
    return expand(
        f"{RESULTS}/aligned/{wildcards.dataset}/shards/{{shard}}.npz",
        shard=range(config["align"]["shards"]),
    )


def get_aligned_outputs():
    """The store, QC table and contact sheet of every dataset the study uses."""
    return expand(
        f"{RESULTS}/aligned/{{dataset}}/{{name}}",
        dataset=registered_datasets(),
        name=["clips.npy", "intensity.npy", "index.csv", "qc.csv", "contact_sheet.png"],
    )
