# Entry point for `snakemake` in the repository root; the workflow is workflow/Snakefile.
# Included through the API because the `include:` directive keeps the includer's (empty)
# default target; this keeps workflow/Snakefile's `rule all` as the default.
workflow.include("workflow/Snakefile", overwrite_default_target=True)
