"""Snakemake executor plugin ``slurm-packed``: the SLURM plugin, with the jobs of a group job
running side by side inside their one allocation (``executor: slurm-packed`` in
``profiles/slurm``).

snakemake-executor-plugin-slurm 2.8 starts the Snakemake inside every SLURM job with
``--executor slurm-jobstep --jobs 1`` (its issue #469), and the job-step executor waits for
each job's ``srun`` before it starts the next: the 16 grid points of a ``train`` group ran one
after another on the allocation's GPU. This plugin is that plugin's ``Executor`` with one
change, for group jobs only: the Snakemake inside the allocation runs the group's jobs itself
(the local executor, no job steps) on all the CPUs booked for the group (``--cores``), at most
``gpu_slots`` at once (``--resources gpu_slots=K``, the submitting run's value, for which
Snakemake sized the group's CPUs, memory and wall time), wrapped by
``python -m snakemake_executor_plugin_slurm_packed.share`` (CUDA MPS with a pipe directory of
the allocation's own, so that the K processes share the GPU instead of taking turns).
Single jobs keep the SLURM plugin's job-step route unchanged.

Every grid point stays its own Snakemake job with its own outputs: the inner Snakemake gets the
group's ``--target-jobs`` as before and runs with ``--nolock`` (Snakemake passes it to every
spawned job, so it never takes the submitting run's lock on the same folder). A failed grid
point fails the group job, which the submitting Snakemake handles as with the plain SLURM
plugin (it removes the outputs of the group's jobs and resubmits the group while ``retries``
last). The settings are the SLURM plugin's, under this plugin's prefix:
``--slurm-packed-<setting>`` (profile key ``slurm-packed-<setting>``).
"""
from __future__ import annotations

from snakemake_interface_common.exceptions import WorkflowError
from snakemake_interface_executor_plugins.settings import CommonSettings

try:
    import snakemake_executor_plugin_slurm as _slurm
except ImportError as err:   # Snakemake imports every installed plugin, also without the extra
    _slurm = None
    _MISSING = str(err)

# What snakemake-executor-plugin-slurm 2.8 appends to the command of every SLURM job
# (Executor.additional_general_args); replaced for group jobs. Checked, not assumed: a plugin
# release that changes it makes pack_group_command fail loudly.
JOBSTEP_ARGS = "--executor slurm-jobstep --jobs 1"
SHARE_MODULE = "snakemake_executor_plugin_slurm_packed.share"


def pack_group_command(command: str, *, python: str, cores: int, gpu_slots: int | None) -> str:
    """The command of a group's SLURM job, rewritten to run the group's jobs side by side.

    ``command`` is what the SLURM plugin would run in the allocation (``<python> -m snakemake
    ... --executor slurm-jobstep --jobs 1 ...``); ``python`` the interpreter it names;
    ``cores`` the CPUs booked for the group; ``gpu_slots`` how many GPU jobs may run at once
    (None: no such limit), also the allocation's train-worker's ``--spares`` (pre-warmed
    children, so that each of the K jobs running at once finds one; None: its default).
    """
    if command.count(JOBSTEP_ARGS) != 1:
        raise WorkflowError(f"slurm-packed: expected {JOBSTEP_ARGS!r} once in the job command "
                            "of snakemake-executor-plugin-slurm; has the plugin changed? "
                            f"Command: {command}")
    local = f"--executor local --cores {int(cores)}"
    if gpu_slots is not None:
        local += f" --resources gpu_slots={int(gpu_slots)}"
    command = command.replace(JOBSTEP_ARGS, local)
    inner = f"{python} -m snakemake "
    if command.count(inner) != 1:
        raise WorkflowError(f"slurm-packed: expected {inner!r} once in the job command: {command}")
    # the allocation's train-worker keeps one pre-warmed spare per job that may run at once
    spares = "" if gpu_slots is None else f"--spares {int(gpu_slots)} "
    return command.replace(inner, f"{python} -m {SHARE_MODULE} {spares}-- {inner}")


def global_gpu_slots(workflow) -> int | None:
    """The submitting run's ``--resources gpu_slots`` (a Snakemake ``Resource`` or an int)."""
    value = workflow.global_resources.get("gpu_slots")
    value = getattr(value, "value", value)
    return value if isinstance(value, int) else None


if _slurm is not None:
    common_settings = _slurm.common_settings
    ExecutorSettings = _slurm.ExecutorSettings

    class Executor(_slurm.Executor):
        """The SLURM plugin's executor; a group job runs its jobs K at once in its allocation."""

        def format_job_exec(self, job) -> str:
            command = super().format_job_exec(job)
            if not job.is_group():
                return command
            return pack_group_command(command, python=self.get_python_executable(),
                                      cores=job.threads, gpu_slots=global_gpu_slots(self.workflow))
else:
    from snakemake_interface_executor_plugins.executors.remote import RemoteExecutor

    common_settings = CommonSettings(non_local_exec=True, implies_no_shared_fs=False,
                                     job_deploy_sources=False)

    class Executor(RemoteExecutor):
        """Stand-in that says what to install (keeps `snakemake --help` working)."""

        def __new__(cls, *args, **kwargs):
            raise WorkflowError("executor slurm-packed needs snakemake-executor-plugin-slurm "
                                f"(pip install 'ferstudy[slurm]'): {_MISSING}")
