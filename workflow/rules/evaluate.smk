# Evaluation: every trained run tested on its own and on every other dataset of the study,
# then the whole grid gathered into tidy tables (runs, summary, comparisons).
from ferstudy.evaluate import plan as eval_plan  # noqa: E402

EVAL_RUN = eval_plan.RUN_PATTERN
VERDICTS = "1. Verdicts"  # report category: sorts first, so the report opens with the answers


rule evaluate_cross:
    input:
        # the run's files as train_model writes them (workflow/rules/train.smk)
        unpack(
            lambda wc: eval_plan.evaluate_inputs(
                {f: getattr(rules.train_model.output, f).format(**wc) for f in eval_plan.RUN_FILES},
                eval_plan.eval_stores(wc.dataset, STUDY, RESULTS),
            )
        ),
    output:
        cross=f"{RESULTS}/eval/{EVAL_RUN}/cross.csv",
    log:
        f"{RESULTS}/logs/evaluate_cross/{EVAL_RUN}.log",
    wildcard_constraints:
        # merged training sets (merged-a+b) and protocols are valid values here
        dataset=eval_plan.alternation(STUDY["datasets"]),
        protocol=eval_plan.alternation(STUDY["protocols"]),
    params:
        run_dir=lambda wc, input: os.path.dirname(input.metrics),
        stores=lambda wc: eval_plan.eval_stores(wc.dataset, STUDY, RESULTS),
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
        cross=expand(f"{RESULTS}/eval/{{run}}/cross.csv", run=eval_plan.study_runs(STUDY)),
        # training-set sizes for the corrected fold tests (n_test / n_train)
        metrics=expand(f"{RESULTS}/runs/{{run}}/metrics.json", run=eval_plan.study_runs(STUDY)),
    output:
        verdicts=report(
            f"{RESULTS}/tables/verdicts.csv", caption="../report/verdicts.rst", category=VERDICTS
        ),
        verdicts_md=report(
            f"{RESULTS}/tables/verdicts.md", caption="../report/verdicts.rst", category=VERDICTS
        ),
        runs_csv=report(
            f"{RESULTS}/tables/runs.csv", caption="../report/runs.rst", category="Tables"
        ),
        runs_parquet=f"{RESULTS}/tables/runs.parquet",
        summary=report(
            f"{RESULTS}/tables/summary.csv", caption="../report/summary.rst", category="Tables"
        ),
        comparisons=report(
            f"{RESULTS}/tables/comparisons.csv",
            caption="../report/comparisons.rst",
            category="Tables",
        ),
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
