# Evaluation: every trained run tested on its own and on every other dataset of the study,
# then the whole grid gathered into tidy tables (runs, summary, comparisons).
from ferstudy.evaluate import plan as eval_plan  # noqa: E402
from ferstudy.runkey import RunKey  # noqa: E402

VERDICTS = "1. Verdicts"  # report category: sorts first, so the report opens with the answers


rule evaluate_cross:
    # one job per (training set, architecture, test fold): every run of the group, one cross.csv each
    input:
        # the runs' files as train_model writes them (workflow/rules/train.smk)
        unpack(
            lambda wc: eval_plan.group_inputs(
                [
                    {f: getattr(rules.train_model.output, f).format(**run) for f in eval_plan.RUN_FILES}
                    for run in eval_plan.group_runs(wc.dataset, wc.arch, wc.fold, STUDY)
                ],
                eval_plan.eval_stores(wc.dataset, STUDY, RESULTS),
                eval_plan.overlap_csv(wc.dataset, STUDY_DIR),
            )
        ),
    output:
        cross=eval_plan.group_outputs(STUDY_DIR, STUDY),
    log:
        f"{STUDY_DIR}/logs/evaluate_cross/{eval_plan.GROUP_PATTERN}/fold{{fold}}.log",
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
        settings=stage_settings.evaluate_cross(config),
        runtime=lambda wc, resources: stage_settings.runtime(config, "evaluate")["evaluate"],
    script:
        "../scripts/evaluate_cross.py"


rule check_overlap:
    # people shared between a training set (or its ft pool's datasets) and its foreign test
    # sets (same or nested roots, same clip hashes, declared same_subjects_as): such tests
    # become kind "overlap" (kind "seen" for the ft runs, when shared with the pool)
    input:
        unpack(
            lambda wc: eval_plan.overlap_inputs(
                wc.dataset, STUDY, RESULTS, eval_plan.pool_sources(wc.dataset, config)
            )
        ),
    output:
        overlap=eval_plan.overlap_csv("{dataset}", STUDY_DIR),
    log:
        f"{STUDY_DIR}/logs/check_overlap/{{dataset}}.log",
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
        settings=lambda wc: stage_settings.check_overlap(config, wc.dataset),
    script:
        "../scripts/check_overlap.py"


rule overlap_table:
    input:
        expand(eval_plan.overlap_csv("{dataset}", STUDY_DIR), dataset=STUDY["datasets"]),
    output:
        # not a report() item: `snakemake figures` (tables from finished runs only) cannot
        # rebuild it, and --report needs every report item of the DAG
        table=f"{STUDY_DIR}/tables/overlap.csv",
    log:
        f"{STUDY_DIR}/logs/overlap_table/overlap_table.log",
    localrule: True
    conda:
        ENVS["learning"]
    params:
        settings={},  # the checks' tables come in as files; nothing else shapes it
    script:
        "../scripts/overlap_table.py"


rule gather_results:
    input:
        # one file per run: each cross.csv is newer than its run's files (evaluate_cross reads
        # them), and a missing run file reruns the run; the script reads each run's
        # provenance.json (settings check) and metrics.json (training-set sizes for the
        # corrected fold tests) from params.runs_dir. Fewer declared files: faster planning.
        cross=expand(f"{STUDY_DIR}/eval/{{run}}/cross.csv", run=STUDY_RUNS),  # train.smk
    output:
        verdicts=report(
            f"{STUDY_DIR}/tables/verdicts.csv", caption="../report/verdicts.rst", category=VERDICTS
        ),
        verdicts_md=report(
            f"{STUDY_DIR}/tables/verdicts.md", caption="../report/verdicts.rst", category=VERDICTS
        ),
        runs_csv=report(f"{STUDY_DIR}/tables/runs.csv", caption="../report/runs.rst", category="Tables"),
        runs_parquet=f"{STUDY_DIR}/tables/runs.parquet",
        summary=report(f"{STUDY_DIR}/tables/summary.csv", caption="../report/summary.rst", category="Tables"),
        comparisons=report(
            f"{STUDY_DIR}/tables/comparisons.csv",
            caption="../report/comparisons.rst",
            category="Tables",
        ),
        diagnostics=report(
            f"{STUDY_DIR}/tables/diagnostics.csv",
            caption="../report/diagnostics_table.rst",
            category="Tables",
        ),
    log:
        f"{STUDY_DIR}/logs/gather_results/gather_results.log",
    conda:
        ENVS["learning"]
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=stage_settings.gather(config),
        # the settings_hash each run must carry under the current config (provenance.json)
        expected=lambda wc: {
            run: RUN_SETTINGS.lineage_hash(RunKey.parse(run).as_dict()) for run in STUDY_RUNS
        },
        runs_dir=f"{RESULTS}/runs",
    script:
        "../scripts/gather_results.py"


FINAL_OUTPUTS.append(lambda: list(rules.gather_results.output))
FINAL_OUTPUTS.append(lambda: list(rules.overlap_table.output))
