# Registration: one manifest (+ folds), one rejection table and one record per dataset.
from ferstudy.datasets.register import registration_entry


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
        # same_subjects_as shapes only check_overlap: declaring it re-registers nothing
        entry=lambda wc: registration_entry(config["datasets"][wc.dataset]),
        folds=config["register"]["folds"],
        seed=config["register"]["fold_seed"],
        strict=config["register"]["strict"],
    script:
        "../scripts/register_dataset.py"
