# Evaluation: every trained run tested on its own and on every other dataset of the study,
# then the whole grid gathered into tidy tables (runs, summary, comparisons).
from ferstudy.evaluate import plan as eval_plan  # noqa: E402


rule evaluate_cross:
    # one job per (training set, architecture): every run of the group, one cross.csv each
    input:
        # the runs' files as train_model writes them (workflow/rules/train.smk)
        unpack(
            lambda wc: eval_plan.group_inputs(
                [
                    {f: getattr(rules.train_model.output, f).format(**run) for f in eval_plan.RUN_FILES}
                    for run in eval_plan.group_runs(wc.dataset, wc.arch, STUDY)
                ],
                eval_plan.eval_stores(wc.dataset, STUDY, RESULTS),
                eval_plan.overlap_csv(wc.dataset, RESULTS),
            )
        ),
    output:
        cross=eval_plan.group_outputs(RESULTS, STUDY),
    log:
        f"{RESULTS}/logs/evaluate_cross/{eval_plan.GROUP_PATTERN}.log",
    wildcard_constraints:
        # merged training sets (merged-a+b) are valid values here
        dataset=eval_plan.alternation(STUDY["datasets"]),
    conda:
        ENVS["learning"]
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        run_dirs=lambda wc, input: [os.path.dirname(m) for m in input.metrics],
        stores=lambda wc: eval_plan.eval_stores(wc.dataset, STUDY, RESULTS),
        device=config["evaluate"]["device"],
        batch_clips=config["evaluate"]["batch_clips"],
        min_shared=config["evaluate"]["min_shared_classes"],
    script:
        "../scripts/evaluate_cross.py"


rule check_overlap:
    # people shared between a training set and its foreign test sets (same or nested roots,
    # same clip hashes, declared same_subjects_as): such tests become kind "overlap"
    input:
        unpack(lambda wc: eval_plan.overlap_inputs(wc.dataset, STUDY, RESULTS)),
    output:
        overlap=eval_plan.overlap_csv("{dataset}", RESULTS),
    log:
        f"{RESULTS}/logs/check_overlap/{{dataset}}.log",
    wildcard_constraints:
        dataset=eval_plan.alternation(STUDY["datasets"]),
    localrule: True
    conda:
        ENVS["learning"]
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        test_sets=lambda wc: eval_plan.foreign_sets(wc.dataset, STUDY),
        declared=lambda wc: eval_plan.declared_overlap(wc.dataset, STUDY, config["datasets"]),
    script:
        "../scripts/check_overlap.py"


rule overlap_table:
    input:
        expand(eval_plan.overlap_csv("{dataset}", RESULTS), dataset=STUDY["datasets"]),
    output:
        # not a report() item: `snakemake figures` (tables from finished runs only) cannot
        # rebuild it, and --report needs every report item of the DAG
        table=f"{RESULTS}/tables/overlap.csv",
    log:
        f"{RESULTS}/logs/overlap_table/overlap_table.log",
    localrule: True
    conda:
        ENVS["learning"]
    script:
        "../scripts/overlap_table.py"


rule gather_results:
    input:
        cross=expand(f"{RESULTS}/eval/{{run}}/cross.csv", run=eval_plan.study_runs(STUDY)),
    output:
        runs_csv=report(f"{RESULTS}/tables/runs.csv", caption="../report/runs.rst", category="Tables"),
        runs_parquet=f"{RESULTS}/tables/runs.parquet",
        summary=report(f"{RESULTS}/tables/summary.csv", caption="../report/summary.rst", category="Tables"),
        comparisons=report(
            f"{RESULTS}/tables/comparisons.csv",
            caption="../report/comparisons.rst",
            category="Tables",
        ),
    log:
        f"{RESULTS}/logs/gather_results/gather_results.log",
    conda:
        ENVS["learning"]
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=config["evaluate"],
    script:
        "../scripts/gather_results.py"


FINAL_OUTPUTS.append(lambda: list(rules.gather_results.output))
FINAL_OUTPUTS.append(lambda: list(rules.overlap_table.output))
