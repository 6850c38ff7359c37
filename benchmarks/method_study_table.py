"""Mean +/- std per arm, and paired method - supervised differences, of a finished method study.

Reads ``results/runs/<run>/metrics.json`` for every run of the study's grid (config.yaml with
the study file on top, as Snakemake resolves them), after e.g.

    snakemake --cores 2 --configfile studies/demo_scn_noise.yaml
    .venv/bin/python benchmarks/method_study_table.py studies/demo_scn_noise.yaml

Prints a Markdown table per metric: one row per (arch, protocol) with each method's test
score as mean +/- sample std over seeds x folds (n runs), then each non-supervised method's
difference to supervised, paired on (arch, protocol, seed, fold): mean +/- std of the paired
differences and how many pairs favour the method. Missing runs are counted and listed.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ferstudy import config as fcfg  # noqa: E402
from ferstudy.runkey import RunKey  # noqa: E402
from ferstudy.train.plan import official_split_datasets, study_runs  # noqa: E402


def load_runs(config: dict) -> tuple[list[tuple[RunKey, dict]], list[str]]:
    found, missing = [], []
    for run in study_runs(config["study"], official_split_datasets(config)):
        path = Path(config["results"]) / "runs" / run / "metrics.json"
        if path.is_file():
            dataset, arch, method, init, augment, protocol, seed, fold = run.split("/")
            key = RunKey(dataset, arch, method, init, augment, protocol,
                         int(seed.removeprefix("seed")), int(fold.removeprefix("fold")))
            found.append((key, json.loads(path.read_text())))
        else:
            missing.append(run)
    return found, missing


def _ms(values) -> str:
    values = np.asarray(values, float)
    if not len(values):
        return "-"
    std = values.std(ddof=1) if len(values) > 1 else float("nan")
    return f"{100 * values.mean():.1f} +/- {100 * std:.1f} (n={len(values)})"


def table(runs: list[tuple[RunKey, dict]], metric: str, methods: list[str]) -> list[str]:
    cells: dict[tuple, dict] = {}
    for key, m in runs:
        cells.setdefault((key.dataset, key.arch, key.init, key.augment, key.protocol), {}) \
            .setdefault(key.method, {})[(key.seed, key.fold)] = m[metric]
    others = [m for m in methods if m != "supervised"]
    head = ["dataset/arch/init/augment", "protocol", *methods,
            *[f"{m} - supervised (paired)" for m in others], *[f"pairs {m} > sup" for m in others]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (dataset, arch, init, augment, protocol), by_method in sorted(cells.items()):
        row = [f"{dataset}/{arch}/{init}/{augment}", protocol]
        row += [_ms(list(by_method.get(m, {}).values())) for m in methods]
        sup = by_method.get("supervised", {})
        diffs = {m: [v - sup[k] for k, v in by_method.get(m, {}).items() if k in sup] for m in others}
        row += [_ms(diffs[m]) for m in others]
        row += [f"{sum(d > 0 for d in diffs[m])}/{len(diffs[m])} ({sum(d == 0 for d in diffs[m])} ties)"
                for m in others]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study", help="the study file the runs were made with")
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    parser.add_argument("--metrics", nargs="+", default=["accuracy", "macro_f1"])
    args = parser.parse_args(argv)
    config = fcfg.validate(fcfg.deep_update(fcfg.load_yaml(args.config), fcfg.load_yaml(args.study)))
    runs, missing = load_runs(config)
    print(f"# {args.study}: {len(runs)} runs found, {len(missing)} missing")
    for run in missing[:10]:
        print(f"missing: {run}")
    for metric in args.metrics:
        print(f"\n## test {metric} (%), mean +/- std over seeds x folds\n")
        print("\n".join(table(runs, metric, list(config["study"]["methods"]))))


if __name__ == "__main__":
    main()
