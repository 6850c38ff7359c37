"""Snakemake's own planning cost per job, without ferstudy: dry runs of generated Snakefiles
with as many jobs as the full pitfalls grid has training runs (19,200), from the simplest rule
to one shaped like ``train_model`` (its declared files, params, conda env, resources and
wildcards). The difference between these and ``benchmarks/plan_grid.py`` is what the workflow
itself adds.

    .venv/bin/python benchmarks/plan_floor.py [--jobs 19200]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SNAKEMAKE = Path(sys.executable).parent / "snakemake"
RUN = "{d}/{a}/{m}/{i}/{g}/{p}/seed{s}/fold{f}"   # train_model's 8 wildcards

SHAPES = {
    "1 wildcard, 1 input, 1 output, shell": dict(wildcard="{i}", outputs=1, extra=""),
    "+ 7 outputs, log, benchmark, 2 params, conda env": dict(wildcard="{i}", outputs=7, extra="""
    log: "logs/{w}.log"
    benchmark: "bench/{w}.tsv"
    params: a=lambda wc: {{"x": 1}}, b=lambda wc, resources: 2
    conda: "env.yaml"
"""),
    "+ 8 wildcards, script, resources, input function": dict(wildcard=RUN, outputs=7, extra="""
    log: "logs/{w}.log"
    benchmark: "bench/{w}.tsv"
    params: a=lambda wc: {{"x": 1}}, b=lambda wc, resources: 2
    conda: "env.yaml"
    threads: 2
    resources: mem_mb=8000, runtime=60, gpu=0, gpu_slots=1
""", script=True),
}


def snakefile(n: int, wildcard: str, outputs: int, extra: str, script: bool = False) -> str:
    if wildcard == "{i}":
        targets = f'expand("out/{{i}}/o0.txt", i=range({n}))'
    else:
        targets = ("[f'out/d{k % 8}/a{k // 8 % 10}/m/i{k // 80 % 2}/g{k // 160 % 4}/p/"
                   f"seed{{k // 640 % 3}}/fold{{k // 1920}}/o0.txt' for k in range({n})]")
    outs = ", ".join(f'"out/{wildcard}/o{j}.txt"' for j in range(outputs))
    inputs = 'unpack(lambda wc: {"stores": ["in.txt"]})' if script else '"in.txt"'
    action = '    script: "x.py"' if script else '    shell: "touch {output}"'
    return (f"rule all:\n    input: {targets}\n\nrule one:\n    input: {inputs}\n"
            f"    output: {outs}\n{extra.format(w=wildcard)}{action}\n")


def cpu_of(cmd: list[str], cwd: Path) -> float:
    before = os.times()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    after = os.times()
    if proc.returncode:
        sys.exit(proc.stderr[-2000:])
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=19200)
    args = parser.parse_args()
    print(f"{'rule shape':<52}{'CPU s':>8}{'ms/job':>8}   ({args.jobs} jobs, snakemake -n)")
    with tempfile.TemporaryDirectory(prefix="ferstudy-floor-") as tmp:
        work = Path(tmp)
        (work / "in.txt").write_text("")
        (work / "x.py").write_text("pass\n")
        (work / "env.yaml").write_text("dependencies: [python]\n")
        for label, shape in SHAPES.items():
            (work / "Snakefile").write_text(snakefile(args.jobs, **shape))
            cpu = cpu_of([str(SNAKEMAKE), "-n", "--quiet", "rules"], work)
            print(f"{label:<52}{cpu:>8.1f}{1000 * cpu / args.jobs:>8.2f}")


if __name__ == "__main__":
    main()
