# Obtained inputs: MediaPipe face models (sha256-pinned in config) and real-face media.
# They need PyPI, which cluster compute nodes often cannot reach: run them where Snakemake runs.


localrules:
    get_face_models,
    fetch_media,


rule get_face_models:
    output:
        detector=f"{RESOURCES}/models/face_detection_short_range.tflite",
        landmarks=f"{RESOURCES}/models/face_landmark.tflite",
    log:
        f"{RESULTS}/logs/get_face_models/get_face_models.log",
    conda:
        ENVS["fetch"]
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    params:
        settings=stage_settings.face_models(config),
    script:
        "../scripts/get_face_models.py"


rule fetch_media:
    output:
        provenance=f"{RESOURCES}/media/pyfeat/provenance.csv",
    log:
        f"{RESULTS}/logs/fetch_media/fetch_media.log",
    conda:
        ENVS["fetch"]
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    script:
        "../scripts/fetch_media.py"
