# Registration: one manifest (+ folds) and one rejection table per dataset.


rule register_dataset:
    input:
        unpack(get_register_input),
    output:
        manifest=f"{RESULTS}/registry/{{dataset}}.csv",
        rejected=f"{RESULTS}/registry/{{dataset}}.rejected.csv",
    log:
        f"{RESULTS}/logs/register/{{dataset}}.log",
    params:
        settings=lambda wc: stage_settings.register(config, wc.dataset),
    conda:
        CONDA_ENV
    script:
        "../scripts/register_dataset.py"
