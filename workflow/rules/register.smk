# Registration: one manifest (+ folds), one rejection table and one record per dataset.


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
    conda:
        ENVS["faces"]
    params:
        settings=lambda wc: stage_settings.register(config, wc.dataset),
    script:
        "../scripts/register_dataset.py"
