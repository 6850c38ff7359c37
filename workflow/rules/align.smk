# Alignment: one align_shard job per dataset x shard (contiguous manifest slices), then one
# gather_aligned per dataset writing the clip store, the QC table and the contact sheet.


FINAL_OUTPUTS.append(get_aligned_outputs)


rule align_shard:
    input:
        manifest=rules.register_dataset.output.manifest,
        detector=rules.get_face_models.output.detector,
        landmarks=rules.get_face_models.output.landmarks,
    output:
        # temp: only gather_aligned reads a shard; the store holds all of it (--notemp keeps them)
        shard=temp(f"{RESULTS}/aligned/{{dataset}}/shards/{{shard}}.npz"),
    log:
        f"{RESULTS}/logs/align_shard/{{dataset}}/{{shard}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/align_shard/{{dataset}}/{{shard}}.tsv"
    wildcard_constraints:
        shard=r"\d+",
    conda:
        ENVS["faces"]
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
    params:
        settings=stage_settings.align(config),
        temporal=get_temporal,
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
    conda:
        ENVS["faces"]
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        settings=stage_settings.align(config),
    script:
        "../scripts/gather_aligned.py"
