# Training: one train_model job per point of the study grid, and the pretraining jobs that
# the `ft` runs start from: pretrain_external, one per (pool datasets, arch), shared by every
# training set and protocol whose external pool holds those datasets; pretrain_model, one per
# (target, arch, fold) for protocol full with include_target_train (pool `fold<k>-full`: the
# sources plus the target's training folds minus fold k's validation subjects); see
# ferstudy.train.pretrain. Settings: config section
# `train`; inputs: ferstudy.train.plan.
from ferstudy.train import plan as train_plan  # noqa: E402

TRAIN_RUN = train_plan.RUN_PATTERN
# the grid's runs; a dataset on its release's split (RAF-DB official) has one test fold, 0
STUDY_RUNS = train_plan.study_runs(STUDY, train_plan.official_split_datasets(config))
# train_model's settings (its run lineage), memoised per (dataset, method, init, augment)
RUN_SETTINGS = stage_settings.RunSettings(config)
TRAIN_RUNTIME = stage_settings.runtime(config, "train")


rule pretrain_model:
    input:
        unpack(lambda wc: train_plan.pretrain_inputs(wc.dataset, wc.pool, config)),
    output:
        model=train_plan.pretrain_model_path(RESULTS, "{dataset}", "{arch}", "{pool}"),
    log:
        f"{RESULTS}/logs/pretrain_model/{{dataset}}/{{arch}}/{{pool}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/pretrain_model/{{dataset}}/{{arch}}/{{pool}}.tsv"
    wildcard_constraints:
        dataset=train_plan.dataset_pattern(STUDY),
        pool=r"fold[0-9]+-full",
    conda:
        ENVS["learning"]
    threads: config["train"]["threads"]
    resources:
        mem_mb=config["train"]["mem_mb"],
        runtime=config["train"]["runtime"],
        gpu=config["train"]["gpu"],
        # one share of a GPU: a profile's `resources: gpu_slots=K` runs K at once on it
        gpu_slots=1,
    params:
        settings=stage_settings.pretrain(config),
        # derived params (they take `resources`) are not compared by the rerun trigger
        runtime=lambda wc, resources: TRAIN_RUNTIME,
        results=lambda wc, input: train_plan.results_of_store(input.stores[0]),
    script:
        "../scripts/pretrain_model.py"


# An external pool (the sources without the target) is the same for every training set whose
# pool holds the same datasets: one job per (datasets, arch), shared by all their ft runs.
use rule pretrain_model as pretrain_external with:
    input:
        unpack(lambda wc: train_plan.external_inputs(wc.sources, config)),
    output:
        model=train_plan.external_model_path(RESULTS, "{sources}", "{arch}"),
    log:
        f"{RESULTS}/logs/pretrain_external/{{sources}}/{{arch}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/pretrain_external/{{sources}}/{{arch}}.tsv"
    wildcard_constraints:
        sources=train_plan.SOURCES_PATTERN,


rule train_model:
    input:
        unpack(lambda wc: train_plan.train_inputs(wc, config)),
    output:
        model=f"{RESULTS}/runs/{TRAIN_RUN}/model.pt",
        metrics=f"{RESULTS}/runs/{TRAIN_RUN}/metrics.json",
        predictions=f"{RESULTS}/runs/{TRAIN_RUN}/predictions.csv",
        embeddings=f"{RESULTS}/runs/{TRAIN_RUN}/embeddings.npy",
        curve=f"{RESULTS}/runs/{TRAIN_RUN}/curve.csv",
        config=f"{RESULTS}/runs/{TRAIN_RUN}/config.yaml",
        provenance=f"{RESULTS}/runs/{TRAIN_RUN}/provenance.json",
    log:
        f"{RESULTS}/logs/train_model/{TRAIN_RUN}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_model/{TRAIN_RUN}.tsv"
    wildcard_constraints:
        dataset=train_plan.dataset_pattern(STUDY),
    conda:
        ENVS["learning"]
    threads: config["train"]["threads"]
    resources:
        mem_mb=config["train"]["mem_mb"],
        runtime=config["train"]["runtime"],
        gpu=config["train"]["gpu"],
        # one share of a GPU: a profile's `resources: gpu_slots=K` runs K at once on it
        gpu_slots=1,
    params:
        # the run's lineage: its own slice (["train"]) and its upstream jobs' (provenance.json,
        # runs.csv's settings_hash); memoised, and few param functions: planning time
        settings=lambda wc: RUN_SETTINGS.lineage(wc),
        runtime=lambda wc, resources: TRAIN_RUNTIME,
    script:
        "../scripts/train_model.py"


# No `all` targets of its own: every run's files are inputs of its evaluate_cross group, which
# gather_results (an `all` target) needs; listing 19,200 metrics.json files again would only
# cost planning time.
