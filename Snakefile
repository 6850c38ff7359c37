# ferstudy: facial-expression recognition under limited data, as a reproducible study grid.
# Thin entry point: validate the config, include one rule file per stage, build `all`.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/register.smk"
include: "workflow/rules/resources.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/align.smk"
include: "workflow/rules/augment.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/figures.smk"


rule all:
    input:
        get_final_output(),
    default_target: True
