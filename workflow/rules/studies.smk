# Several studies in one results tree (ferstudy.study_dirs, ferstudy.claims): each study's own
# outputs live under RESULTS/studies/<name>/; the shared ones (registry, aligned, pretrain,
# gan, synthetic, runs) are reused where the settings match. A study that would replace
# another's shared output with other settings stops here, while the job graph is built.
import sys  # noqa: E402

from ferstudy import claims as study_claims  # noqa: E402
from ferstudy.figures.verdict_page import write_index  # noqa: E402
from ferstudy.gpu_share import cuda_training, share_warning  # noqa: E402
from ferstudy.study_dirs import study_folders  # noqa: E402

CLAIMS = None
if workflow.is_main_process:  # not again inside every job
    CLAIMS = study_claims.study_claims(config, STUDY_RUNS, RUN_SETTINGS)
    try:
        study_claims.check_claims(config, CLAIMS)
    except study_claims.ClaimError as err:
        raise WorkflowError(f"ferstudy: {err}") from None


onstart:
    # the study runs: what it uses of the shared tree is recorded for the next study's check
    if CLAIMS is not None:
        study_claims.write_claims(config, CLAIMS)
    # several GPU jobs at once share a GPU only under CUDA MPS (ferstudy.gpu_share)
    note = share_warning(
        workflow.global_resources.get("gpu_slots"),
        cuda=cuda_training(config["train"]["device"]),
    )
    if note:
        print(note, file=sys.stderr)


onsuccess:
    # RESULTS/index.html: every study of the tree with its verdict table
    write_index(RESULTS, study_folders(RESULTS))
