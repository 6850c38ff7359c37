"""Verdict rows: hand-checkable cases of the fixed rules, the pairing unit, multiplicity, power."""
import math

import numpy as np
import pandas as pd
import pytest

from ferstudy.evaluate.decision import verdict
from ferstudy.evaluate.power import decision_power, detectable_difference, folds_seeds_needed
from ferstudy.evaluate.verdicts import verdict_table, verdicts_markdown

STATS = {"ci_level": 0.95, "seed": 0, "rope": 1.0, "alpha": 0.05, "adjust": "holm",
         "decide": 0.95, "metric": "accuracy", "sd_ratio_rope": 1.25, "power_difference": 2.0,
         "power": 0.8}


def runs_table(score, *, datasets=("ckplus",), folds=4, seeds=1, arch="resnet3d"):
    """ft and ri runs; score(dataset, init, seed, fold) -> accuracy. n_test / n_train = 1/3."""
    rows = []
    for dataset in datasets:
        for init in ("ri", "ft"):
            for seed in range(seeds):
                for fold in range(folds):
                    rows.append({
                        "run": f"{dataset}/{arch}/supervised/{init}/none/full/seed{seed}/fold{fold}",
                        "dataset": dataset, "arch": arch, "method": "supervised", "init": init,
                        "augment": "none", "protocol": "full", "seed": seed, "fold": fold,
                        "test_set": dataset, "kind": "in", "shared_classes": "anger;fear",
                        "n_classes": 2, "accuracy": score(dataset, init, seed, fold),
                        "macro_f1": 0.5, "n_test": 10, "n_train": 30})
    return pd.DataFrame(rows)


def ft_row(table, scope="overall"):
    return table[(table["question"] == "ft_vs_ri") & (table["scope"] == scope)].iloc[0]


def base(fold):
    return 0.6 + 0.05 * fold   # folds differ a lot; both arms share it


def test_a_constant_shift_is_a_better_and_its_mirror_b_better():
    up = verdict_table(runs_table(lambda d, i, s, f: base(f) + (0.05 if i == "ft" else 0)), STATS)
    row = ft_row(up)
    assert row["unit"] == "fold" and row["n_units"] == 4
    assert row["effect"] == pytest.approx(0.05) and row["verdict"] == "A better"
    assert row["p_a_better"] == pytest.approx(1.0) and row["needed"] == ""
    down = verdict_table(runs_table(lambda d, i, s, f: base(f) - (0.05 if i == "ft" else 0)), STATS)
    assert ft_row(down)["verdict"] == "B better"


def test_one_fold_is_never_decided():
    table = verdict_table(runs_table(lambda d, i, s, f: 0.5 + (0.3 if i == "ft" else 0), folds=1,
                                     seeds=3), STATS)
    row = ft_row(table)
    assert row["n_folds"] == 1 and row["n_seeds"] == 3 and row["verdict"] == "undecided"
    assert "n = 1" in row["reason"]


def test_identical_arms_are_equivalent_once_there_are_enough_folds():
    noise = lambda f: 0.003 * (1 if f % 2 else -1)   # +-0.3 points, mean 0
    score = lambda d, i, s, f: base(f % 4) + (noise(f) if i == "ft" else 0)
    assert ft_row(verdict_table(runs_table(score, folds=2), STATS))["verdict"] == "undecided"
    many = ft_row(verdict_table(runs_table(score, folds=20), STATS))
    assert many["verdict"] == "equivalent" and many["p_equivalent"] >= 0.95


def test_a_shift_within_the_seed_noise_at_two_folds_is_undecided_and_says_what_would_decide():
    rng = np.random.default_rng(0)
    seed_noise = {(i, s, f): rng.normal(0, 0.02) for i in ("ri", "ft") for s in range(3)
                  for f in range(2)}
    score = lambda d, i, s, f: base(f) + (0.015 if i == "ft" else 0) + seed_noise[(i, s, f)]
    row = ft_row(verdict_table(runs_table(score, folds=2, seeds=3), STATS))
    assert row["verdict"] == "undecided"
    assert row["needed"].endswith(("seed", "seeds")) and "folds x" in row["needed"]
    # the smallest difference these 2 folds would decide 80 % of the time: far above 1.5 points
    assert row["detectable"] > 0.015
    assert row["seed_sd_a"] > 0.005 and row["seed_sd_b"] > 0.005   # the seed component, apart


def test_seeds_are_averaged_within_a_fold_before_pairing():
    # per fold, ft's seeds are +0.06 and +0.00 (mean +0.03); as 8 independent pairs the spread
    # would be large, as 4 fold means it is zero: only the fold is the unit
    score = lambda d, i, s, f: base(f) + (0.06 * (s == 0) if i == "ft" else 0)
    row = ft_row(verdict_table(runs_table(score, folds=4, seeds=2), STATS))
    assert row["n_units"] == 4 and row["n_seeds"] == 2
    assert row["effect"] == pytest.approx(0.03) and row["ci_low"] == pytest.approx(0.03)
    assert row["verdict"] == "A better"
    assert row["seed_sd_a"] == pytest.approx(math.sqrt(0.06 ** 2 / 2)) and row["seed_sd_b"] == 0


def test_datasets_are_the_unit_across_datasets_and_holm_adjusts_within_the_question():
    from statsmodels.stats.multitest import multipletests

    shift = {"ckplus": 0.04, "mug": 0.06, "oulu": 0.05, "mmi": 0.045}
    rng = np.random.default_rng(1)
    jitter = {k: rng.normal(0, 0.01) for k in range(40)}
    score = lambda d, i, s, f: base(f) + (shift[d] + jitter[f + 4 * list(shift).index(d)]
                                          if i == "ft" else 0)
    table = verdict_table(runs_table(score, datasets=tuple(shift), folds=4), STATS)
    rows = table[table["question"] == "ft_vs_ri"]
    overall = rows[rows["scope"] == "overall"].iloc[0]
    assert overall["unit"] == "dataset" and overall["n_units"] == 4 and overall["n_folds"] == 4
    assert overall["effect"] == pytest.approx(np.mean(list(shift.values())), abs=0.01)
    assert set(rows["scope"]) == {"overall", *(f"dataset {d}" for d in shift)}
    assert (rows[rows["scope"] != "overall"]["unit"] == "fold").all()
    assert rows["p_adjusted"].to_numpy() == pytest.approx(
        multipletests(rows["p_value"], method="holm")[1])


def test_questions_the_grid_cannot_answer_are_marked_and_one_seed_has_no_spread_row():
    table = verdict_table(runs_table(lambda d, i, s, f: base(f)), STATS)
    marked = table.set_index("question")["verdict"]
    assert marked["da_vs_none"] == marked["scn_vs_supervised"] == "not in this study"
    assert marked["seed_sd_ft_vs_ri"] == "not in this study"   # one seed
    text = verdicts_markdown(table, STATS)
    assert "| FT vs RI (ft vs ri) | overall |" in text and "not in this study" in text


def test_seed_spread_rows_compare_seed_variances():
    rng = np.random.default_rng(2)
    noise = {(i, s, f): rng.normal(0, 0.04 if i == "ft" else 0.002) for i in ("ri", "ft")
             for s in range(5) for f in range(4)}
    table = verdict_table(runs_table(lambda d, i, s, f: base(f) + noise[(i, s, f)], seeds=5), STATS)
    row = table[table["question"] == "seed_sd_ft_vs_ri"].iloc[0]
    assert row["effect"] > 5 and row["verdict"] == "B better"   # ri steadier: ft adds variance


def test_rule_order():
    kw = {"decide": 0.95, "alpha": 0.05}
    assert verdict(4, 0.97, 0.03, 0.0, 0.01, **kw)[0] == "A better"
    assert verdict(4, 0.97, 0.03, 0.0, 0.2, **kw)[0] == "undecided"      # not significant
    assert verdict(4, 0.6, 0.4, 0.0, 0.01, **kw) == (
        "undecided", "significant, but the size is unclear (interval reaches the ROPE)")
    assert verdict(4, 0.0, 0.99, 0.01, 0.9, **kw)[0] == "equivalent"
    assert verdict(1, 1.0, 0.0, 0.0, 0.0, **kw)[0] == "undecided"
    # two datasets of one fold each: still one split per dataset
    assert verdict(2, 1.0, 0.0, 0.0, 0.0, n_folds=1, **kw) == (
        "undecided", "n = 1 fold: one split cannot decide")


def test_decision_power_matches_a_simulation_and_needed_runs_grow_with_variance():
    rng = np.random.default_rng(0)
    from scipy import stats

    folds, sd, delta, rope = 6, 0.02, 0.02, 0.01
    ratio = 1 / (folds - 1)
    # Nadeau-Bengio's model: fold differences equicorrelated with rho / (1 - rho) = ratio, so
    # var(mean) = (1 / J + ratio) E[s^2] exactly
    rho = ratio / (1 + ratio)
    cov = sd ** 2 * ((1 - rho) * np.eye(folds) + rho)
    se_true = sd * math.sqrt(rho + (1 - rho) / folds)
    d = rng.multivariate_normal(np.full(folds, delta), cov, size=20000)
    se_hat = np.sqrt((1 / folds + ratio) * d.var(axis=1, ddof=1))
    hits = ((d.mean(axis=1) - rope) / se_hat >= stats.t.ppf(0.95, folds - 1)).mean()
    predicted = decision_power(se_true, folds - 1, delta=delta, rope=rope, decide=0.95)
    assert 0 < predicted < 1 and hits == pytest.approx(predicted, abs=0.08)
    small = folds_seeds_needed(1e-5, 1e-5, delta=0.02, rope=0.01, decide=0.95, power=0.8)
    large = folds_seeds_needed(1e-4, 1e-4, delta=0.02, rope=0.01, decide=0.95, power=0.8)
    assert small[0] * small[1] < large[0] * large[1]
    assert decision_power(0.01, 5, delta=0.01, rope=0.01, decide=0.95) == 0.0   # inside the ROPE


def test_detectable_difference_is_where_the_power_reaches_the_target():
    delta = detectable_difference(0.01, 3, rope=0.01, decide=0.95, power=0.8)
    assert delta > 0.01
    assert decision_power(0.01, 3, delta=delta, rope=0.01, decide=0.95) == pytest.approx(0.8)
    assert detectable_difference(0.0, 3, rope=0.01, decide=0.95, power=0.8) == 0.01
    assert math.isnan(detectable_difference(float("nan"), 0, rope=0.01, decide=0.95, power=0.8))
