"""Are the verdicts calibrated? Simulated studies through the real decision code.

One simulated study is one question (A vs B, e.g. FT vs RI) on k datasets x J folds, judged as
verdicts.csv judges it: a fold-level row per dataset (corrected resampled t, variance floored
at the test-set sampling bound: ``ferstudy.evaluate.stats.corrected_se`` / ``binomial_floor``,
``decision.fold_can_decide``), the overall row pooling the datasets by random effects
(``ferstudy.evaluate.verdicts.pooled_row``: statsmodels' Paule-Mandel + Hartung-Knapp, no verdict
below 3 datasets), and the rule read off every row's interval at the family level (1 - alpha / m
over the study's k + 1 rows: ``decision.family_decisions``). ``check_against_verdict_table``
also runs the full ``verdict_table`` on a few of the simulated studies and asserts the same words.

Generative model (accuracy points; one seed-averaged fold difference d_ij of dataset i, fold j):

    theta_i = mu + tau z_i                                 dataset effect, heterogeneity tau
    d_ij = theta_i + c_i + e_ij + s_ij + b_ij
    c_i ~ N(0, rho sigma^2), e_ij ~ N(0, (1 - rho) sigma^2)   training-set noise, sigma = 2; folds
        share training data: rho / (1 - rho) = n_test / n_train = 1 / (J - 1) (Nadeau-Bengio)
    s_ij ~ N(0, 2 sigma_seed^2 / S)                        seed noise, sigma_seed = 1.5, S = 2 seeds
    b_ij ~ N(0, q_i / n_test_i)                            test-set sampling of the paired
        difference: A and B disagree on q_i ~ U(0.1, 0.3) of the clips, n_test_i = n_i / J,
        n_i log-uniform in [300, 3000] clips per dataset

A row's decision is false when it says ``A better`` with its own true value (theta_i, or mu for
the overall row) at most +ROPE, or ``B better`` with it at least -ROPE. Under the null (mu = 0)
the rate of studies with any false decision must stay at or below alpha, within the Monte-Carlo
95 % upper bound alpha + 1.645 sqrt(alpha (1 - alpha) / N); the same is checked at mu = +ROPE,
the least favourable null for ``A better`` (a true difference of exactly the ROPE is not
"better"). Power = P(overall row says A better) at mu = +5 points (and the mean share of
dataset rows that do).

    PYTHONPATH=src .venv/bin/python benchmarks/verdict_calibration.py            # full grid
    PYTHONPATH=src .venv/bin/python benchmarks/verdict_calibration.py --studies 300 --datasets 3 --folds 4
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ferstudy.evaluate.decision import family_decisions, fold_can_decide  # noqa: E402
from ferstudy.evaluate.stats import binomial_floor, corrected_se  # noqa: E402
from ferstudy.evaluate.verdicts import pooled_row  # noqa: E402

SIGMA_TRAIN, SIGMA_SEED, SEEDS = 2.0, 1.5, 2      # points
ROPE, ALPHA, EFFECT = 1.0, 0.05, 5.0              # points, family error rate, power at


def simulate(rng: np.random.Generator, *, studies: int, datasets: int, folds: int, tau: float,
             mu: float) -> dict[str, np.ndarray]:
    """Fold differences ``d`` (studies, k, J) as fractions, true effects ``theta`` (studies,
    k), ``n_test`` (studies, k) and the test/train ratio (module doc)."""
    shape = (studies, datasets)
    ratio = 1.0 / (folds - 1)
    rho = ratio / (1 + ratio)
    theta = mu + tau * rng.standard_normal(shape)
    n_test = np.floor(np.exp(rng.uniform(math.log(300), math.log(3000), shape)) / folds)
    disagree = rng.uniform(0.1, 0.3, shape)
    common = rng.normal(0, math.sqrt(rho) * SIGMA_TRAIN, shape)[..., None]
    own = rng.normal(0, math.sqrt(1 - rho) * SIGMA_TRAIN, (*shape, folds))
    seed = rng.normal(0, math.sqrt(2 / SEEDS) * SIGMA_SEED, (*shape, folds))
    sampling = rng.standard_normal((*shape, folds)) * 100 * np.sqrt(disagree / n_test)[..., None]
    d = (theta[..., None] + common + own + seed + sampling) / 100
    return {"d": d, "theta": theta / 100, "n_test": n_test, "ratio": ratio, "mu": mu / 100}


def decide(study: dict[str, np.ndarray], *, alpha: float = ALPHA, rope: float = ROPE) -> dict:
    """The verdicts of every simulated study: row 0 = overall, rows 1..k = the datasets."""
    d, ratio = study["d"], study["ratio"]
    n_studies, k, folds = d.shape
    floor = binomial_floor(d, study["n_test"][..., None])
    mean, se, sd = corrected_se(d, ratio, floor)
    ok_fold = fold_can_decide(folds, sd)
    effect = np.zeros((n_studies, k + 1))
    ses = np.full((n_studies, k + 1), np.nan)
    dfs = np.ones((n_studies, k + 1))
    ok = np.zeros((n_studies, k + 1), dtype=bool)
    effect[:, 1:], ses[:, 1:], dfs[:, 1:], ok[:, 1:] = mean, se, folds - 1, ok_fold
    for i in range(n_studies):
        use = ok_fold[i]
        row = pooled_row(mean[i, use], se[i, use] ** 2, level=1 - alpha)
        effect[i, 0], ses[i, 0], dfs[i, 0] = row["effect"], row["se"], max(row["df"], 1.0)
        ok[i, 0] = not row["why_not"]
    level, low, high, words = family_decisions(effect, ses, dfs, ok, alpha=alpha, rope=rope / 100)
    truth = np.concatenate([np.full((n_studies, 1), study["mu"]), study["theta"]], axis=1)
    false = (((words == "A better") & (truth <= rope / 100)) |
             ((words == "B better") & (truth >= -rope / 100)))
    return {"words": words, "low": low, "high": high, "level": level, "false": false}


def cell(rng, *, studies: int, datasets: int, folds: int, tau: float, alpha: float = ALPHA) -> dict:
    """False-decision rates under the null (mu = 0 and mu = +ROPE) and power at +EFFECT points
    for one setting."""
    null = decide(simulate(rng, studies=studies, datasets=datasets, folds=folds, tau=tau, mu=0.0),
                  alpha=alpha)
    edge = decide(simulate(rng, studies=studies, datasets=datasets, folds=folds, tau=tau, mu=ROPE),
                  alpha=alpha)
    alt = decide(simulate(rng, studies=studies, datasets=datasets, folds=folds, tau=tau,
                          mu=EFFECT), alpha=alpha)
    any_false = null["false"].any(axis=1).mean()
    return {"datasets": datasets, "folds": folds, "tau": tau, "studies": studies,
            "false_any": float(any_false), "false_overall": float(null["false"][:, 0].mean()),
            "false_edge": float(edge["false"].any(axis=1).mean()),
            "limit": alpha + 1.645 * math.sqrt(alpha * (1 - alpha) / studies),
            "power_overall": float((alt["words"][:, 0] == "A better").mean()),
            "power_dataset": float((alt["words"][:, 1:] == "A better").mean()),
            "false_alt": float(alt["false"].any(axis=1).mean())}


def runs_of(study: dict, i: int):
    """Study ``i`` as a runs table (one seed; ri scores 0.6, ft 0.6 + d), for verdict_table."""
    import pandas as pd

    rows = []
    d = study["d"][i]
    for k in range(d.shape[0]):
        name = f"set{k:02d}"
        n_test = int(study["n_test"][i, k])
        for j in range(d.shape[1]):
            for init, acc in (("ri", 0.6), ("ft", 0.6 + d[k, j])):
                rows.append({"run": f"{name}/resnet3d/supervised/{init}/none/full/seed0/fold{j}",
                             "dataset": name, "arch": "resnet3d", "method": "supervised",
                             "init": init, "augment": "none", "protocol": "full", "seed": 0,
                             "fold": j, "test_set": name, "kind": "in", "shared_classes": "a;b",
                             "n_classes": 2, "accuracy": acc, "macro_f1": acc, "n_test": n_test,
                             "n_train": n_test * (d.shape[1] - 1)})
    return pd.DataFrame(rows)


def check_against_verdict_table(study: dict, fast: dict, indices) -> None:
    """The fast path gives the words and intervals of the full ``verdict_table``."""
    from ferstudy.evaluate.verdicts import verdict_table

    settings = {"ci_level": 0.95, "seed": 0, "rope": ROPE, "alpha": ALPHA, "adjust": "holm",
                "metric": "accuracy", "sd_ratio_rope": 1.25, "power_difference": 2.0,
                "power": 0.8}
    for i in indices:
        table = verdict_table(runs_of(study, i), settings)
        rows = table[table["question"] == "ft_vs_ri"].set_index("scope")
        k = study["d"].shape[1]
        scopes = ["overall", *(f"dataset set{j:02d}" for j in range(k))]
        got = [rows.loc[s, "verdict"] for s in scopes]
        assert got == list(fast["words"][i]), (i, got, list(fast["words"][i]))
        np.testing.assert_allclose(rows.loc[scopes, "ci_low"].to_numpy(float), fast["low"][i],
                                   rtol=1e-6, atol=1e-9)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--studies", type=int, default=2000, help="simulated studies per cell")
    p.add_argument("--datasets", type=int, nargs="+", default=[2, 3, 5, 10])
    p.add_argument("--folds", type=int, nargs="+", default=[4, 10])
    p.add_argument("--tau", type=float, nargs="+", default=[0.0, 2.0, 5.0], help="points")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    check = simulate(rng, studies=4, datasets=3, folds=4, tau=2.0, mu=2.0)
    check_against_verdict_table(check, decide(check), range(4))
    print(f"verdict calibration: {args.studies} studies per cell and scenario, ROPE +-{ROPE:g} "
          f"points, alpha {ALPHA:g} per question (family = overall + per-dataset rows); false "
          f"decisions at true mean 0 (any row; overall row) and at +ROPE (any row); power at "
          f"+{EFFECT:g} points; fast path checked against verdict_table on 4 studies")
    header = (f"{'datasets':>8} {'folds':>5} {'tau':>4} | {'false, any row':>14} {'overall':>7} "
              f"{'at +ROPE':>8} {'limit':>6} {'ok':>3} | {'power overall':>13} "
              f"{'power per dataset':>17}")
    print(header)
    print("-" * len(header))
    failed = 0
    for k in args.datasets:
        for folds in args.folds:
            for tau in args.tau:
                r = cell(rng, studies=args.studies, datasets=k, folds=folds, tau=tau)
                ok = max(r["false_any"], r["false_edge"]) <= r["limit"]
                failed += not ok
                print(f"{k:>8} {folds:>5} {tau:>4g} | {r['false_any']:>14.4f} "
                      f"{r['false_overall']:>7.4f} {r['false_edge']:>8.4f} {r['limit']:>6.4f} "
                      f"{'yes' if ok else 'NO':>3} | {r['power_overall']:>13.3f} "
                      f"{r['power_dataset']:>17.3f}", flush=True)
    print(f"{failed} setting(s) above the limit; wall time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
