# Evaluation: every trained run tested on its own and on every other dataset of the study,
# then the whole grid gathered into tidy tables (runs, summary, comparisons).
import re as _re

EVAL_RUN = "{dataset}/{arch}/{method}/{init}/{augment}/{protocol}/seed{seed}/fold{fold}"
# Merged training sets (merged-a+b) and protocols are valid {dataset}/{protocol} values here.
EVAL_DATASET_RE = "|".join(_re.escape(d) for d in sorted(STUDY["datasets"], key=len, reverse=True))
EVAL_PROTOCOL_RE = "|".join(_re.escape(p) for p in sorted(STUDY["protocols"], key=len, reverse=True))


def study_runs():
    """Every {run} of the study grid (docs/architecture.md)."""
    return expand(EVAL_RUN, dataset=STUDY["datasets"], arch=STUDY["archs"],
                  method=STUDY["methods"], init=STUDY["inits"], augment=STUDY["augments"],
                  protocol=STUDY["protocols"], seed=STUDY["seeds"], fold=STUDY["folds"])


def run_dir(wildcards):
    return f"{RESULTS}/runs/{EVAL_RUN.format(**wildcards)}"


def eval_stores(wildcards):
    """Aligned stores a run is tested on: foreign datasets (cross / leave-one-dataset-out) when
    study.cross_dataset is on, plus the members of a merged run (their class sets)."""
    members = fcfg.dataset_members(wildcards.dataset)
    names = registered_datasets() if STUDY["cross_dataset"] else []
    names = [n for n in names if n not in members]
    if fcfg.is_merged(wildcards.dataset):
        names = members + names
    return {n: f"{RESULTS}/aligned/{n}" for n in names}


def get_evaluate_input(wildcards):
    run = run_dir(wildcards)
    stores = eval_stores(wildcards).values()
    return {
        "model": f"{run}/model.pt",
        "metrics": f"{run}/metrics.json",
        "predictions": f"{run}/predictions.csv",
        "store_index": [f"{s}/index.csv" for s in stores],
        "store_clips": [f"{s}/clips.npy" for s in stores],
    }


rule evaluate_cross:
    input:
        unpack(get_evaluate_input),
    output:
        cross=f"{RESULTS}/eval/{EVAL_RUN}/cross.csv",
    log:
        f"{RESULTS}/logs/evaluate_cross/{EVAL_RUN}.log",
    wildcard_constraints:
        dataset=EVAL_DATASET_RE,
        protocol=EVAL_PROTOCOL_RE,
    params:
        run_dir=run_dir,
        stores=eval_stores,
        device=config["evaluate"]["device"],
        batch_clips=config["evaluate"]["batch_clips"],
        min_shared=config["evaluate"]["min_shared_classes"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../scripts/evaluate_cross.py"


rule gather_results:
    input:
        cross=expand(f"{RESULTS}/eval/{{run}}/cross.csv", run=study_runs()),
    output:
        runs_csv=report(f"{RESULTS}/tables/runs.csv", caption="../report/runs.rst",
                        category="Tables"),
        runs_parquet=f"{RESULTS}/tables/runs.parquet",
        summary=report(f"{RESULTS}/tables/summary.csv", caption="../report/summary.rst",
                       category="Tables"),
        comparisons=report(f"{RESULTS}/tables/comparisons.csv",
                           caption="../report/comparisons.rst", category="Tables"),
    log:
        f"{RESULTS}/logs/gather_results/gather_results.log",
    params:
        settings=config["evaluate"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        CONDA_ENV
    script:
        "../scripts/gather_results.py"


FINAL_OUTPUTS.append(lambda: list(rules.gather_results.output))
