# Entry point for `snakemake` in the repository root; the workflow is workflow/Snakefile.
include: "workflow/Snakefile"
