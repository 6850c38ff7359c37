# Augmentation SD: one class-conditional clip GAN per training set (dataset or merged set) and
# test fold, trained on that fold's training subjects only, then its synthetic clip store.
# (DA needs no rule: the training engine applies ferstudy.augment.affine on the fly.)
import re

from ferstudy.augment import AUGMENTS

SD = config["augment"]["sd"]
# study datasets may be merged sets (merged-a+b), which the global `dataset` constraint omits
GAN_DATASET_RE = "|".join(re.escape(n) for n in sorted(set(STUDY["datasets"]) | set(DATASET_NAMES),
                                                       key=len, reverse=True))
GAN_DIR = f"{RESULTS}/gan/{{dataset}}/fold{{fold}}"
SYN_DIR = f"{RESULTS}/synthetic/{{dataset}}/fold{{fold}}"


def get_gan_input(wildcards):
    """The aligned stores of the training set's members (one for a plain dataset)."""
    files = {}
    for member in fcfg.dataset_members(wildcards.dataset):
        for part in ("index", "clips", "intensity"):
            ext = "csv" if part == "index" else "npy"
            files[f"{member}_{part}"] = f"{RESULTS}/aligned/{member}/{part}.{ext}"
    return files


def _gan_report(name, caption):
    return report(f"{GAN_DIR}/{name}", caption=f"../report/{caption}", category="Synthetic data",
                  subcategory="{dataset} fold {fold}", labels={"set": "{dataset}", "fold": "{fold}",
                                                               "figure": name})


rule train_gan:
    input:
        unpack(get_gan_input),
    output:
        generator=f"{GAN_DIR}/generator.pt",
        options=f"{GAN_DIR}/options.json",
        losses_csv=_gan_report("losses.csv", "gan_losses.rst"),
        losses_png=_gan_report("losses.png", "gan_losses.rst"),
        grid=_gan_report("grid.png", "gan_grid.rst"),
        real_grid=_gan_report("real_grid.png", "gan_real_grid.rst"),
        quality_json=_gan_report("quality.json", "gan_quality.rst"),
        quality_png=_gan_report("quality.png", "gan_quality.rst"),
    log:
        f"{RESULTS}/logs/train_gan/{{dataset}}/fold{{fold}}.log",
    wildcard_constraints:
        dataset=GAN_DATASET_RE,
    params:
        results=RESULTS,
        classes=STUDY["classes"],
        sd=SD,
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=SD["gpu"],
    conda:
        CONDA_ENV
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
    params:
        clips_per_class=SD["clips_per_class"],
        seed=SD["seed"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        CONDA_ENV
    script:
        "../scripts/generate_clips.py"


def get_gan_final_output():
    """Every generator's figures and synthetic store the study's SD runs need."""
    if not any(AUGMENTS.get(a).synthetic for a in STUDY["augments"]):
        return []
    outputs = []
    for dataset in STUDY["datasets"]:
        for fold in STUDY["folds"]:
            outputs += [f"{RESULTS}/gan/{dataset}/fold{fold}/{name}"
                        for name in ("grid.png", "real_grid.png", "losses.png", "quality.png")]
            outputs.append(f"{RESULTS}/synthetic/{dataset}/fold{fold}/index.csv")
    return outputs


FINAL_OUTPUTS.append(get_gan_final_output)
