"""Verdict rows: hand-checkable cases of the one rule (the verdict is read off the printed
interval at the family level), the pairing unit, datasets as independent units in a
random-effects meta-analysis, merged sets apart, degenerate rows, power."""
import math

import numpy as np
import pandas as pd
import pytest

from ferstudy.evaluate.decision import family_level, read_interval
from ferstudy.evaluate.power import (datasets_needed, decision_power, detectable_difference,
                                    folds_seeds_needed)
from ferstudy.evaluate.verdicts import verdict_table, verdicts_markdown

STATS = {"ci_level": 0.95, "seed": 0, "rope": 1.0, "alpha": 0.05, "adjust": "holm",
         "metric": "accuracy", "sd_ratio_rope": 1.25, "power_difference": 2.0,
         "power": 0.8}


def runs_table(score, *, datasets=("ckplus",), folds=4, seeds=1, arch="resnet3d", n_test=1000):
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
                        "macro_f1": 0.5, "n_test": n_test, "n_train": 3 * n_test})
    return pd.DataFrame(rows)


def ft_row(table, scope="overall"):
    return table[(table["question"] == "ft_vs_ri") & (table["scope"] == scope)].iloc[0]


def base(fold):
    return 0.6 + 0.05 * fold   # folds differ a lot; both arms share it


def test_a_noisy_shift_is_a_better_and_its_mirror_b_better():
    jitter = [0.004, -0.004, 0.002, -0.002]
    up = verdict_table(runs_table(lambda d, i, s, f: base(f) + (0.05 + jitter[f] if i == "ft" else 0)), STATS)
    row = ft_row(up)
    assert row["unit"] == "fold" and row["n_units"] == 4 and row["model"].startswith("corrected")
    assert row["effect"] == pytest.approx(0.05) and row["verdict"] == "A better"
    assert row["ci_level"] == 0.95 and row["ci_low"] > 0.01   # one row in the family
    assert row["p_a_better"] > 0.95 and row["needed"] == ""
    down = verdict_table(runs_table(lambda d, i, s, f: base(f) - (0.05 + jitter[f] if i == "ft" else 0)), STATS)
    assert ft_row(down)["verdict"] == "B better"


def test_one_fold_and_identical_folds_are_never_decided():
    table = verdict_table(runs_table(lambda d, i, s, f: 0.5 + (0.3 if i == "ft" else 0), folds=1,
                                     seeds=3), STATS)
    row = ft_row(table)
    assert row["n_folds"] == 1 and row["n_seeds"] == 3 and row["verdict"] == "undecided"
    assert "n = 1" in row["reason"] and math.isnan(row["ci_low"])
    # the case: two folds at +10 points each used to give p = 0 and "A better"
    same = ft_row(verdict_table(runs_table(lambda d, i, s, f: base(f) + (0.1 if i == "ft" else 0),
                                           folds=2), STATS))
    assert same["verdict"] == "undecided" and "same difference" in same["reason"]
    assert math.isnan(same["ci_low"]) and "undecided (every fold" in verdicts_markdown(
        verdict_table(runs_table(lambda d, i, s, f: base(f) + (0.1 if i == "ft" else 0), folds=2),
                      STATS), STATS)


def test_identical_arms_are_equivalent_once_there_are_enough_folds():
    noise = lambda f: 0.003 * (1 if f % 2 else -1)   # +-0.3 points, mean 0
    score = lambda d, i, s, f: base(f % 4) + (noise(f) if i == "ft" else 0)
    assert ft_row(verdict_table(runs_table(score, folds=2), STATS))["verdict"] == "undecided"
    many = ft_row(verdict_table(runs_table(score, folds=20), STATS))
    assert many["verdict"] == "equivalent" and -0.01 <= many["ci_low"] < many["ci_high"] <= 0.01


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
    # would be large, as 4 fold means it is small: only the fold is the unit
    jitter = [0.004, -0.004, 0.002, -0.002]
    score = lambda d, i, s, f: base(f) + (0.06 * (s == 0) + jitter[f] if i == "ft" else 0)
    row = ft_row(verdict_table(runs_table(score, folds=4, seeds=2), STATS))
    assert row["n_units"] == 4 and row["n_seeds"] == 2
    assert row["effect"] == pytest.approx(0.03) and row["verdict"] == "A better"
    assert row["seed_sd_a"] == pytest.approx(math.sqrt(0.06 ** 2 / 2)) and row["seed_sd_b"] == 0


def four_datasets(shift, folds=4, seed=1):
    rng = np.random.default_rng(seed)
    jitter = {k: rng.normal(0, 0.01) for k in range(10 * folds)}
    return lambda d, i, s, f: base(f) + (shift[d] + jitter[f + folds * list(shift).index(d)]
                                         if i == "ft" else 0)


def test_across_datasets_the_per_dataset_estimates_are_combined_by_random_effects():
    from statsmodels.stats.meta_analysis import combine_effects

    shift = {"ckplus": 0.04, "mug": 0.06, "oulu": 0.05, "mmi": 0.045}
    table = verdict_table(runs_table(four_datasets(shift), datasets=tuple(shift)), STATS)
    rows = table[table["question"] == "ft_vs_ri"].set_index("scope")
    overall = rows.loc["overall"]
    assert overall["unit"] == "dataset" and overall["n_units"] == 4 and overall["n_folds"] == 4
    assert "Paule-Mandel" in overall["model"] and "Hartung-Knapp" in overall["model"]
    assert set(rows.index) == {"overall", *(f"dataset {d}" for d in shift)}
    per = rows.drop("overall")
    assert (per["unit"] == "fold").all()
    # by hand: the per-dataset corrected estimates and se (from the fold rows) into statsmodels
    se = per["ci_high"].sub(per["effect"]) / stats_t(1 - 0.05 / 5 / 2, 3)
    res = combine_effects(per["effect"].to_numpy(), se.to_numpy() ** 2, method_re="iterated",
                          use_t=True)
    low, high = res.conf_int(alpha=0.05 / 5, use_t=True)[3]
    assert overall["effect"] == pytest.approx(res.mean_effect_re)
    assert (overall["ci_low"], overall["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert overall["tau2"] == pytest.approx(res.tau2) and 0 <= overall["i2"] <= 1
    # one family: the question's 5 rows, each at 1 - 0.05 / 5; Holm p for the record
    assert rows["ci_level"].to_numpy() == pytest.approx(np.full(5, family_level(5, 0.05)))
    assert overall["verdict"] == "A better"   # 4 consistent, precise datasets decide


def stats_t(q, df):
    from scipy import stats

    return float(stats.t.ppf(q, df))


def test_two_datasets_never_decide_however_large_the_differences():
    shift = {"ckplus": 0.30, "mug": 0.32}
    table = verdict_table(runs_table(four_datasets(shift), datasets=tuple(shift)), STATS)
    rows = table[table["question"] == "ft_vs_ri"].set_index("scope")
    overall = rows.loc["overall"]
    assert overall["verdict"] == "undecided"
    assert overall["reason"] == "2 datasets: see per-dataset rows"
    assert math.isnan(overall["ci_low"]) and math.isnan(overall["ci_level"])
    assert "undecided (2 datasets: see per-dataset rows)" in verdicts_markdown(table, STATS)
    assert (rows.drop("overall")["verdict"] == "A better").all()   # each dataset decides
    # the family is the 2 rows that can decide
    assert rows.loc["dataset mug", "ci_level"] == pytest.approx(1 - 0.05 / 2)


def test_merged_sets_are_their_own_scope_and_never_overall_units():
    shift = {"ckplus": 0.04, "mug": 0.06, "oulu": 0.05, "merged-ckplus+mug": 0.05}
    table = verdict_table(runs_table(four_datasets(shift), datasets=tuple(shift)), STATS)
    rows = table[table["question"] == "ft_vs_ri"].set_index("scope")
    assert rows.loc["overall", "n_units"] == 3 and rows.loc["overall", "n_datasets"] == 3
    merged = rows.loc["dataset merged-ckplus+mug"]
    assert merged["unit"] == "fold" and merged["n_datasets"] == 1


def merged_runs(merged_sets, gain=0.05):
    """Single runs of every member and merged runs scored on each member's fold (+gain)."""
    from ferstudy.config import dataset_members

    rows, singles = [], sorted({m for d in merged_sets for m in dataset_members(d)})
    for fold in range(4):
        for s in range(2):
            for d in singles:
                acc = 0.5 + 0.05 * singles.index(d) + 0.01 * fold
                single = {"run": f"{d}/resnet3d/supervised/ri/none/full/seed{s}/fold{fold}",
                          "dataset": d, "arch": "resnet3d", "method": "supervised", "init": "ri",
                          "augment": "none", "protocol": "full", "seed": s, "fold": fold,
                          "test_set": d, "kind": "in", "shared_classes": "a;b", "n_classes": 2,
                          "accuracy": acc, "macro_f1": acc, "n_test": 1000, "n_train": 3000}
                rows.append(single)
                rows += [{**single, "run": single["run"].replace(d, merged, 1), "dataset": merged,
                          "kind": "member", "accuracy": acc + gain + 0.003 * (-1) ** fold * (s + 1)}
                         for merged in merged_sets if d in dataset_members(merged)]
    return pd.DataFrame(rows)


def test_merged_vs_single_is_judged_per_merged_set_and_per_member():
    table = verdict_table(merged_runs(["merged-ckplus+mug"]), STATS)
    merged = table[table["question"] == "merged_vs_single"].set_index("scope")
    assert set(merged.index) == {"overall", "member ckplus (merged-ckplus+mug)",
                                 "member mug (merged-ckplus+mug)"}
    # one merged set: the overall row is that set's fold-level row (members averaged per fold)
    assert merged.loc["overall", "unit"] == "fold" and merged.loc["overall", "n_units"] == 4
    assert merged.loc["overall", "effect"] == pytest.approx(0.05, abs=1e-3)


def test_merged_sets_sharing_members_are_not_pooled():
    sets = ["merged-ckplus+mug", "merged-ckplus+oulu", "merged-mug+oulu"]
    table = verdict_table(merged_runs(sets), STATS)
    merged = table[table["question"] == "merged_vs_single"].set_index("scope")
    overall = merged.loc["overall"]
    assert overall["verdict"] == "undecided" and "share members" in overall["reason"]
    assert math.isnan(overall["ci_low"])
    assert {f"dataset {d}" for d in sets} <= set(merged.index)


def test_the_printed_interval_and_the_verdict_always_agree():
    rng = np.random.default_rng(5)
    for trial in range(3):
        shift = {d: rng.normal(0.04 * trial - 0.04, 0.02) for d in ("ckplus", "mug", "oulu", "mmi")}
        noise = {k: rng.normal(0, 0.01) for k in range(64)}
        def score(d, i, s, f, shift=shift, noise=noise):
            return base(f) + (shift[d] + noise[f + 4 * s + 16 * list(shift).index(d)]
                              if i == "ft" else 0)

        table = verdict_table(runs_table(score, datasets=tuple(shift), seeds=2), STATS)
        rows = table[table["question"] == "ft_vs_ri"]
        for _, r in rows.iterrows():
            assert r["verdict"] == read_interval(r["ci_low"], r["ci_high"], rope=(-0.01, 0.01))
            if r["verdict"] == "undecided" and pd.notna(r["ci_low"]):
                assert not (r["ci_low"] > 0.01 or r["ci_high"] < -0.01)


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
    assert row["ci_low"] > 1.25 and row["model"].startswith("F test")


def test_seed_spread_pairs_arms_within_dataset_and_fold_and_does_not_pool_datasets():
    """One seed per arm is the demo's case (no row, above); here 3 datasets x 2 folds x 3 seeds.
    mug's seeds are 10x noisier in both arms: pooled as one population its variances would
    swamp the others; per dataset, ft's sd is twice ri's everywhere."""
    from scipy.special import digamma, polygamma  # noqa: F401 (the estimator's ingredients)
    from statsmodels.stats.meta_analysis import combine_effects

    rng = np.random.default_rng(3)
    scale = {"ckplus": 0.01, "mug": 0.1, "oulu": 0.01}
    noise = {(d, i, s, f): rng.normal(0, scale[d] * (2 if i == "ft" else 1))
             for d in scale for i in ("ri", "ft") for s in range(3) for f in range(2)}
    table = verdict_table(runs_table(lambda d, i, s, f: base(f) + noise[(d, i, s, f)],
                                     datasets=tuple(scale), folds=2, seeds=3), STATS)
    rows = table[table["question"] == "seed_sd_ft_vs_ri"].set_index("scope")
    assert rows.loc["overall", "unit"] == "dataset" and rows.loc["overall", "n_units"] == 3
    logs, variances = [], []
    for d in scale:
        cells = [(np.var([noise[(d, "ft", s, f)] for s in range(3)], ddof=1),
                  np.var([noise[(d, "ri", s, f)] for s in range(3)], ddof=1)) for f in range(2)]
        var_a, var_b = np.mean([c[0] for c in cells]), np.mean([c[1] for c in cells])
        assert rows.loc[f"dataset {d}", "effect"] == pytest.approx(math.sqrt(var_a / var_b))
        logs.append(0.5 * math.log(var_a / var_b))       # equal df: no bias term
        variances.append(0.25 * 2 * float(polygamma(1, 4 / 2)))   # df = 2 folds x (3 - 1)
    res = combine_effects(np.array(logs), np.array(variances), method_re="iterated", use_t=True)
    assert rows.loc["overall", "effect"] == pytest.approx(math.exp(res.mean_effect_re))


def test_rule_reads_the_interval():
    rope = (-0.01, 0.01)
    assert read_interval(0.011, 0.05, rope=rope) == "A better"
    assert read_interval(-0.05, -0.02, rope=rope) == "B better"
    assert read_interval(-0.009, 0.009, rope=rope) == "equivalent"
    assert read_interval(0.005, 0.05, rope=rope) == "undecided"    # excludes 0, reaches the ROPE
    assert read_interval(-0.05, 0.05, rope=rope) == "undecided"
    assert read_interval(float("nan"), float("nan"), rope=rope) == "undecided"
    assert family_level(4, 0.05) == pytest.approx(0.9875)


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
    # the rule at a 90 % two-sided level: lower bound above the ROPE
    hits = ((d.mean(axis=1) - rope) / se_hat >= stats.t.ppf(0.95, folds - 1)).mean()
    predicted = decision_power(se_true, folds - 1, delta=delta, rope=rope, level=0.9)
    assert 0 < predicted < 1 and hits == pytest.approx(predicted, abs=0.08)
    small = folds_seeds_needed(1e-5, 1e-5, delta=0.02, rope=0.01, level=0.9, power=0.8)
    large = folds_seeds_needed(1e-4, 1e-4, delta=0.02, rope=0.01, level=0.9, power=0.8)
    assert small[0] * small[1] < large[0] * large[1]
    assert decision_power(0.01, 5, delta=0.01, rope=0.01, level=0.9) == 0.0   # inside the ROPE
    # dataset rows: never fewer than 3 datasets, more with heterogeneity
    few = datasets_needed(1e-5, 0.0, delta=0.05, rope=0.01, level=0.95, power=0.8)
    assert few == 3 and datasets_needed(1e-5, 0.03 ** 2, delta=0.05, rope=0.01, level=0.95,
                                        power=0.8) > few


def test_detectable_difference_is_where_the_power_reaches_the_target():
    delta = detectable_difference(0.01, 3, rope=0.01, level=0.9, power=0.8)
    assert delta > 0.01
    assert decision_power(0.01, 3, delta=delta, rope=0.01, level=0.9) == pytest.approx(0.8)
    assert detectable_difference(0.0, 3, rope=0.01, level=0.9, power=0.8) == 0.01
    assert math.isnan(detectable_difference(float("nan"), 0, rope=0.01, level=0.9, power=0.8))
