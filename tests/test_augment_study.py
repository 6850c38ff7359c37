"""studies/demo_augment.yaml: the none / da / sd / da+sd demo grid plans one GAN per training
set and fold, and a train job per grid point (dry run)."""
import math

import pytest
from study_plans import planned_jobs, study_config

AXES = ("datasets", "archs", "methods", "inits", "augments", "protocols", "seeds", "folds")


@pytest.mark.slow
def test_demo_augment_study_plans_a_gan_per_training_set_and_fold(tmp_path):
    study = study_config("demo_augment")["study"]
    assert study["augments"] == ["none", "da", "sd", "da+sd"]
    counts = planned_jobs("demo_augment", tmp_path)
    sets_x_folds = len(study["datasets"]) * len(study["folds"])
    assert counts["train_gan"] == counts["generate_clips"] == sets_x_folds
    assert counts["train_model"] == math.prod(len(study[a]) for a in AXES)
