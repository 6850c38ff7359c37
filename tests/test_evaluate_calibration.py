"""The verdict rule is calibrated: a small run of benchmarks/verdict_calibration.py, which
simulates studies and judges them with the real decision code (checked here against the full
verdict_table), keeps false decisions under the null at or below alpha."""
import importlib.util

import numpy as np
import pytest
from study_plans import ROOT


@pytest.fixture(scope="module")
def calibration():
    spec = importlib.util.spec_from_file_location(
        "verdict_calibration", ROOT / "benchmarks" / "verdict_calibration.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_fast_path_is_the_verdict_table(calibration):
    rng = np.random.default_rng(1)
    study = calibration.simulate(rng, studies=1, datasets=3, folds=4, tau=2.0, mu=3.0)
    calibration.check_against_verdict_table(study, calibration.decide(study), range(1))


@pytest.mark.parametrize("datasets,folds,tau", [(3, 4, 0.0), (5, 10, 5.0)])
def test_false_decisions_under_the_null_stay_at_or_below_alpha(calibration, datasets, folds, tau):
    r = calibration.cell(np.random.default_rng(datasets), studies=200, datasets=datasets,
                         folds=folds, tau=tau)
    assert r["false_any"] <= r["limit"] and r["false_edge"] <= r["limit"]
    assert r["power_overall"] > 0   # a true +5 points is sometimes decided


def test_two_datasets_never_give_an_overall_verdict(calibration):
    r = calibration.cell(np.random.default_rng(2), studies=200, datasets=2, folds=10, tau=0.0)
    assert r["power_overall"] == 0 and r["false_overall"] == 0
