# Alignment: one align_shard job per dataset x shard (contiguous manifest slices), then one
# gather_aligned per dataset writing the clip store, the QC table and the contact sheet.


FINAL_OUTPUTS.append(get_aligned_outputs)


rule align_shard:
    input:
        manifest=rules.register_dataset.output.manifest,
        detector=rules.get_face_models.output.detector,
        landmarks=rules.get_face_models.output.landmarks,
    output:
        shard=f"{RESULTS}/aligned/{{dataset}}/shards/{{shard}}.npz",
    log:
        f"{RESULTS}/logs/align_shard/{{dataset}}/{{shard}}.log",
    wildcard_constraints:
        shard=r"\d+",
    params:
        align=config["align"],
        temporal=get_temporal,
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
    conda:
        CONDA_ENV
    script:
        "../scripts/align_shard.py"


rule gather_aligned:
    input:
        manifest=rules.register_dataset.output.manifest,
        shards=get_align_shards,
    output:
        clips=f"{RESULTS}/aligned/{{dataset}}/clips.npy",
        intensity=f"{RESULTS}/aligned/{{dataset}}/intensity.npy",
        index=f"{RESULTS}/aligned/{{dataset}}/index.csv",
        qc=report(
            f"{RESULTS}/aligned/{{dataset}}/qc.csv",
            caption="../report/align_qc.rst",
            category="Alignment",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "file": "detection statistics"},
        ),
        # in the report as a compressed copy (plot_figures' QC sheets), not at full size
        sheet=f"{RESULTS}/aligned/{{dataset}}/contact_sheet.png",
    log:
        f"{RESULTS}/logs/gather_aligned/{{dataset}}.log",
    params:
        align=config["align"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../scripts/gather_aligned.py"
