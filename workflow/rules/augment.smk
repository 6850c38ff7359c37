# Augmentation SD: one class-conditional clip GAN per training set (dataset or merged set) and
# test fold, trained on that fold's training subjects only, then its synthetic clip store.
# (DA needs no rule: the training engine applies ferstudy.augment.affine on the fly.)
import re

from ferstudy.augment.targets import gan_final_targets, gan_inputs

SD = config["augment"]["sd"]
# study datasets may be merged sets (merged-a+b), which the global `dataset` constraint omits
GAN_DATASET_RE = "|".join(
    re.escape(n) for n in sorted(set(STUDY["datasets"]) | set(DATASET_NAMES), key=len, reverse=True)
)
GAN_DIR = f"{RESULTS}/gan/{{dataset}}/fold{{fold}}"
SYN_DIR = f"{RESULTS}/synthetic/{{dataset}}/fold{{fold}}"
GAN_REPORT = dict(
    category="Synthetic data",
    subcategory="{dataset} fold {fold}",
    labels={"set": "{dataset}", "fold": "{fold}"},
)


rule train_gan:
    input:
        unpack(lambda wc: gan_inputs(RESULTS, wc.dataset)),
    output:
        generator=f"{GAN_DIR}/generator.pt",
        options=f"{GAN_DIR}/options.json",
        losses_csv=report(f"{GAN_DIR}/losses.csv", caption="../report/gan_losses.rst", **GAN_REPORT),
        losses_png=report(f"{GAN_DIR}/losses.png", caption="../report/gan_losses.rst", **GAN_REPORT),
        grid=report(f"{GAN_DIR}/grid.png", caption="../report/gan_grid.rst", **GAN_REPORT),
        real_grid=report(f"{GAN_DIR}/real_grid.png", caption="../report/gan_real_grid.rst", **GAN_REPORT),
        quality_json=report(f"{GAN_DIR}/quality.json", caption="../report/gan_quality.rst", **GAN_REPORT),
        quality_png=report(f"{GAN_DIR}/quality.png", caption="../report/gan_quality.rst", **GAN_REPORT),
    log:
        f"{RESULTS}/logs/train_gan/{{dataset}}/fold{{fold}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_gan/{{dataset}}/fold{{fold}}.tsv"
    wildcard_constraints:
        dataset=GAN_DATASET_RE,
    conda:
        ENVS["learning"]
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=SD["gpu"],
        # one share of a GPU: a profile's `resources: gpu_slots=K` runs K at once on it
        gpu_slots=1,
    params:
        settings=stage_settings.train_gan(config),
    script:
        "../scripts/train_gan.py"


rule generate_clips:
    input:
        generator=f"{GAN_DIR}/generator.pt",
    output:
        clips=f"{SYN_DIR}/clips.npy",
        intensity=f"{SYN_DIR}/intensity.npy",
        index=f"{SYN_DIR}/index.csv",
        provenance=f"{SYN_DIR}/provenance.json",
    log:
        f"{RESULTS}/logs/generate_clips/{{dataset}}/fold{{fold}}.log",
    wildcard_constraints:
        dataset=GAN_DATASET_RE,
    conda:
        ENVS["learning"]
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
        gpu_slots=1,
    params:
        settings=stage_settings.generate_clips(config),
    script:
        "../scripts/generate_clips.py"


FINAL_OUTPUTS.append(lambda: gan_final_targets(RESULTS, STUDY))
