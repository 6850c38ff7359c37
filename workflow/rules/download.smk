# Public datasets fetched by the workflow (RAVDESS): resumable, sha256-verified, extracted
# under resources/ (see ferstudy.datasets.download). Licensed datasets are never fetched.
from ferstudy.datasets.download import check_download_roots

try:
    check_download_roots(config)
except fcfg.ConfigError as err:
    raise WorkflowError(f"ferstudy: {err}") from None


# Downloads need the internet, which cluster compute nodes often lack.
localrules:
    download_ravdess,


rule download_ravdess:
    output:
        provenance=download_done("ravdess"),
        data=directory(download_root("ravdess")),
    log:
        f"{RESULTS}/logs/download_ravdess/ravdess.log",
    conda:
        ENVS["fetch"]
    threads: 1
    resources:
        mem_mb=1000,
        runtime=240,
    params:
        settings=stage_settings.download(config, "ravdess"),
        runtime=lambda wc, resources: stage_settings.runtime(config, "download")["download"]["ravdess"],
    script:
        "../scripts/download_ravdess.py"
