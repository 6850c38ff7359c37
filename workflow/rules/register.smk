# Registration: one manifest (+ folds) and one rejection table per dataset.


rule register_dataset:
    input:
        unpack(get_register_input),
    output:
        manifest=f"{RESULTS}/registry/{{dataset}}.csv",
        rejected=f"{RESULTS}/registry/{{dataset}}.rejected.csv",
        # root, adapter, options, fps, same_subjects_as, counts: read by check_overlap
        record=f"{RESULTS}/registry/{{dataset}}.json",
    log:
        f"{RESULTS}/logs/register/{{dataset}}.log",
    params:
        entry=lambda wc: config["datasets"][wc.dataset],
        folds=config["register"]["folds"],
        seed=config["register"]["fold_seed"],
        strict=config["register"]["strict"],
    conda:
        CONDA_ENV
    script:
        "../scripts/register_dataset.py"
