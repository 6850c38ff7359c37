# Training: one train_model job per point of the study grid, and the pretrain_model jobs that
# the `ft` runs start from (one per target dataset x arch x test fold: the pool never holds
# the target's test subjects). Settings: config section `train`.
import re as _re

from ferstudy.augment import AUGMENTS as _AUGMENTS

TRAIN_RUN = "{dataset}/{arch}/{method}/{init}/{augment}/{protocol}/seed{seed}/fold{fold}"
# Study datasets include merged sets (merged-a+b): escape the '+'.
TRAIN_DATASET_RE = "|".join(_re.escape(d) for d in sorted(STUDY["datasets"], key=len, reverse=True))
PRETRAIN = config["train"]["pretrain"]


def study_runs():
    """Every {run} of the study grid (docs/architecture.md), for rule all and evaluation."""
    return expand(TRAIN_RUN, dataset=STUDY["datasets"], arch=STUDY["archs"],
                  method=STUDY["methods"], init=STUDY["inits"], augment=STUDY["augments"],
                  protocol=STUDY["protocols"], seed=STUDY["seeds"], fold=STUDY["folds"])


def aligned_inputs(names):
    """The aligned stores (clips, intensity, index) of datasets and merged sets' members."""
    members = [m for n in names for m in fcfg.dataset_members(n)]
    return [f"{RESULTS}/aligned/{m}/{f}" for m in dict.fromkeys(members)
            for f in ("clips.npy", "intensity.npy", "index.csv")]


def pretrain_members(dataset):
    """Datasets of the pretraining pool of `dataset` (mirrors ferstudy.train.pretrain)."""
    from ferstudy.train.pretrain import source_members

    return source_members(config, dataset)


def uses_pretrain_rule():
    return not PRETRAIN["checkpoint"] and not PRETRAIN["torchvision"]


def get_train_input(wildcards):
    inputs = {"stores": aligned_inputs([wildcards.dataset])}
    if wildcards.init == "ft" and uses_pretrain_rule():
        inputs["pretrained"] = rules.pretrain_model.output.model.format(**wildcards)
    if _AUGMENTS.get(wildcards.augment).synthetic:
        synthetic = f"{RESULTS}/synthetic/{wildcards.dataset}/fold{wildcards.fold}"
        inputs["synthetic"] = f"{synthetic}/index.csv"
        inputs["synthetic_clips"] = f"{synthetic}/clips.npy"
    return inputs


def get_pretrain_input(wildcards):
    return {"stores": aligned_inputs(pretrain_members(wildcards.dataset))}


rule pretrain_model:
    input:
        unpack(get_pretrain_input),
    output:
        model=f"{RESULTS}/pretrain/{{dataset}}/{{arch}}/fold{{fold}}/model.pt",
    log:
        f"{RESULTS}/logs/pretrain_model/{{dataset}}/{{arch}}/fold{{fold}}.log",
    wildcard_constraints:
        dataset=TRAIN_DATASET_RE,
    params:
        members=lambda wc: pretrain_members(wc.dataset),
    threads: config["train"]["threads"]
    resources:
        mem_mb=config["train"]["mem_mb"],
        runtime=config["train"]["runtime"],
        gpu=config["train"]["gpu"],
    conda:
        CONDA_ENV
    script:
        "../scripts/pretrain_model.py"


rule train_model:
    input:
        unpack(get_train_input),
    output:
        model=f"{RESULTS}/runs/{TRAIN_RUN}/model.pt",
        metrics=f"{RESULTS}/runs/{TRAIN_RUN}/metrics.json",
        predictions=f"{RESULTS}/runs/{TRAIN_RUN}/predictions.csv",
        embeddings=f"{RESULTS}/runs/{TRAIN_RUN}/embeddings.npy",
        curve=f"{RESULTS}/runs/{TRAIN_RUN}/curve.csv",
        config=f"{RESULTS}/runs/{TRAIN_RUN}/config.yaml",
    log:
        f"{RESULTS}/logs/train_model/{TRAIN_RUN}.log",
    wildcard_constraints:
        dataset=TRAIN_DATASET_RE,
    params:
        run_dir=lambda wc: f"{RESULTS}/runs/{TRAIN_RUN.format(**wc)}",
    threads: config["train"]["threads"]
    resources:
        mem_mb=config["train"]["mem_mb"],
        runtime=config["train"]["runtime"],
        gpu=config["train"]["gpu"],
    conda:
        CONDA_ENV
    script:
        "../scripts/train_model.py"


FINAL_OUTPUTS.append(
    lambda: expand(f"{RESULTS}/runs/{{run}}/metrics.json", run=study_runs())
)
