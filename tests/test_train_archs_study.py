"""studies/demo_archs.yaml covers the whole architecture registry with ri and ft (dry run)."""
import pytest

from study_plans import planned_jobs, study_config

from ferstudy.archs import ARCHS


@pytest.mark.slow
def test_demo_archs_study_trains_every_registered_arch_with_ri_and_ft(tmp_path):
    study = study_config("demo_archs")["study"]
    assert sorted(study["archs"]) == ARCHS.names() and study["inits"] == ["ri", "ft"]
    counts = planned_jobs("demo_archs", tmp_path)
    assert counts["train_model"] == 2 * len(ARCHS)
    assert counts["pretrain_external"] == len(ARCHS)   # one external pool model per arch
