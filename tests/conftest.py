"""The two test tiers (Makefile: `make test` runs the fast tier, CI also `make test-slow`).

Checked whenever the whole suite is collected: the slow tier (``@pytest.mark.slow``) holds
at most 10 % of the tests, and each workflow path keeps its end-to-end test in the fast tier
(WORKFLOW_PATHS), so that a contributor's `make test` still runs every stage through
Snakemake.
"""
from __future__ import annotations

import pytest

SLOW_SHARE = 0.10
# workflow path -> its fast-tier end-to-end test (node id)
WORKFLOW_PATHS = {
    "register": "tests/test_workflow_register.py::test_register_rule_on_fixture_ckplus",
    "align": "tests/test_align_workflow.py::test_align_rules_on_fixture_ckplus",
    "augment": "tests/test_augment_workflow.py::test_gan_and_synthetic_store_through_snakemake",
    "train": "tests/test_train_workflow.py::test_train_grid_through_snakemake",
    "evaluate": "tests/test_evaluate_group.py::test_one_evaluate_job_writes_each_run_of_its_group",
    "figures and report":
        "tests/test_figures_workflow.py::test_figures_target_regenerates_from_existing_runs_without_training",
}


def tier_problems(items: list[pytest.Item]) -> list[str]:
    """What breaks the tier rules in a collected suite (empty when it holds)."""
    slow = {item.nodeid for item in items if item.get_closest_marker("slow")}
    ids = {item.nodeid for item in items}
    problems = []
    if len(slow) > SLOW_SHARE * len(items):
        problems.append(f"{len(slow)} of {len(items)} tests are marked slow: the slow tier may "
                        f"hold at most {SLOW_SHARE:.0%}")
    for path, nodeid in WORKFLOW_PATHS.items():
        if nodeid not in ids:
            problems.append(f"the {path} workflow path lost its fast-tier test {nodeid}")
        elif nodeid in slow:
            problems.append(f"{nodeid} (the {path} path's fast-tier test) is marked slow")
    return problems


@pytest.hookimpl(tryfirst=True)   # before -m deselects the other tier
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    whole_suite = not config.args or [a.rstrip("/") for a in config.args] == ["tests"]
    if whole_suite and not config.getoption("collectonly", False):
        problems = tier_problems(items)
        if problems:
            raise pytest.UsageError("test tiers: " + "; ".join(problems))
