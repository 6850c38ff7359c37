# Registration: one manifest (+ folds) and one rejection table per dataset.


rule register_dataset:
    input:
        unpack(get_register_input),
    output:
        manifest=f"{RESULTS}/registry/{{dataset}}.csv",
        rejected=f"{RESULTS}/registry/{{dataset}}.rejected.csv",
    log:
        f"{RESULTS}/logs/register/{{dataset}}.log",
    conda:
        ENVS["faces"]
    params:
        entry=lambda wc: config["datasets"][wc.dataset],
        folds=config["register"]["folds"],
        seed=config["register"]["fold_seed"],
        strict=config["register"]["strict"],
    script:
        "../scripts/register_dataset.py"
