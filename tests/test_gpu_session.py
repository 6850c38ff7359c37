"""The prepared GPU session: benchmarks/device_wheels.py (what the GPU machine lacks, as wheels)
and benchmarks/gpu_session.sh (stages under limits, into $OUT), checked here without a GPU."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import device_wheels  # noqa: E402  (benchmarks/device_wheels.py)


def test_the_wheel_set_is_snakemakes_closure_less_what_the_machine_has(tmp_path):
    found = device_wheels.closure(["snakemake"], "3.12")
    # Snakemake's own requirements and theirs (the ones the device README names among them)
    assert {"snakemake", "pulp", "sqlalchemy", "sqlmodel", "pydantic", "pydantic-core",
            "typing-inspection", "yte", "dpath"} <= set(found)
    from importlib import metadata
    assert found["snakemake"] == metadata.version("snakemake")
    reqs = device_wheels.needed(found, device_wheels.H200_HAS)
    names = {r.split("==")[0] for r in reqs}
    assert "snakemake" in names and "pulp" in names
    assert not names & {"torch", "numpy", "pyyaml", "requests"}    # the machine's own
    # another machine's list: what it has is left out, and torch never goes
    have = tmp_path / "have.txt"
    have.write_text("snakemake\nPuLP torch-not-this\n")
    other = {r.split("==")[0] for r in device_wheels.needed(
        found, frozenset(device_wheels.canonicalize_name(n) for n in have.read_text().split()))}
    assert "snakemake" not in other and "pulp" not in other and "pydantic" in other


def test_wheel_list_command_prints_pinned_requirements(capsys):
    assert device_wheels.main(["--list"]) == 0
    lines = capsys.readouterr().out.split()
    assert lines == sorted(lines) and all("==" in line for line in lines)
    assert any(line.startswith("snakemake==") for line in lines)


def test_a_missing_package_names_the_fix():
    with pytest.raises(SystemExit, match="not installed here"):
        device_wheels.closure(["no-such-package-ferstudy"], "3.12")


def _session(tmp_path, *stages):
    env = dict(os.environ, OUT=str(tmp_path / "out"), PYTHON=sys.executable)
    return subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_session.sh"), *stages],
                          capture_output=True, text=True, env=env, timeout=300)


def test_session_plan_stage_reads_the_sessions_own_json(tmp_path):
    """The plan stage prices the pitfalls grid from $OUT/gpu_check_h200.json (here a copy of
    the committed figures marked measured): the session's figures, not the committed ones."""
    out = tmp_path / "out"
    out.mkdir()
    blob = json.loads((ROOT / "benchmarks" / "gpu_check_h200.json").read_text())
    blob.update(measured=True, provenance="test session")
    (out / "gpu_check_h200.json").write_text(json.dumps(blob))
    proc = _session(tmp_path, "plan")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (out / "plan_cost.txt").read_text()
    assert "GPU-hours on cuda" in text and str(out / "gpu_check_h200.json") in text
    assert "PROJECTED" not in text and "== plan: exit 0" in (out / "plan.log").read_text()
    assert (out / "machine.txt").is_file()


def test_session_refuses_an_unknown_stage_and_a_failed_stage_does_not_stop_the_next(tmp_path):
    proc = _session(tmp_path, "plan", "nosuch")
    assert proc.returncode == 2 and "unknown stage nosuch" in proc.stderr
    # no JSON in $OUT: the plan stage fails with the file named, and the script goes on
    log = (tmp_path / "out" / "plan.log").read_text()
    assert "no gpu_check JSON" in log and "== plan: exit 2" in log


def test_startup_tax_into_writes_the_paths_plan_cost_reads(tmp_path, monkeypatch):
    """benchmarks/startup_tax.py --into adds its medians to a gpu_check JSON under the names
    gpu_figures reads: the writer and the reader agree on the format."""
    monkeypatch.syspath_prepend(str(ROOT / "tests"))
    import startup_tax

    from ferstudy import gpu_figures

    figures = tmp_path / "gpu.json"
    blob = json.loads((ROOT / "benchmarks" / "gpu_check_h200.json").read_text())
    figures.write_text(json.dumps(blob))
    medians = {m: {"total_s": t, "outputs_identical": True}
               for m, t in (("in-process", 9.0), ("worker-cold", 3.5), ("worker-prewarmed", 0.7))}
    args = type("Args", (), {"arch": "resnet3d", "frames": 16, "size": 112, "width": 1.0,
                             "runs": 3})
    startup_tax.add_paths(figures, medians, args)
    fig = gpu_figures.load(figures, "bf16")
    assert fig.startup_paths == {"in_process": 9.0, "worker": 3.5, "prewarmed": 0.7}
    assert fig.startup("prewarmed")[0] == 0.7 and "measured" in fig.startup("prewarmed")[1]
    assert fig.startup_s == blob["startup"]["process_to_first_step_s"]   # the rest untouched
    kept = json.loads(figures.read_text())
    assert kept["cases"] == blob["cases"] and "startup_tax.py" in kept["startup_paths"]["provenance"]


@pytest.mark.slow
def test_the_whole_session_runs_on_cpu_with_small_arguments(tmp_path):
    """Every stage's command line, as the GPU session will run it, parses and runs here with
    small CPU arguments appended: check writes a complete JSON, startup refuses --into a CPU
    run (GPU start-up figures only), plan refuses the small CPU JSON (exit 2, naming it), and the
    grid slice runs through a worker with spares (MPS absent: said)."""
    env = dict(os.environ, OUT=str(tmp_path / "out"), PYTHON=sys.executable,
               CHECK_ARGS="--device cpu --small --archs resnet3d --amp off --iters 1 --share 1 "
                          "--share-archs resnet3d --share-steps 2 --deterministic-archs resnet3d "
                          "--no-gan --threads 1",
               STARTUP_ARGS="--device cpu --runs 1 --frames 4 --size 16",
               GRID_ARGS="--small --device cpu --workdir " + str(tmp_path / "grid"))
    proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_session.sh")],
                          capture_output=True, text=True, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / "out"
    logs = {s: (out / f"{s}.log").read_text() for s in ("check", "startup", "plan", "grid")}
    check = json.loads((out / "gpu_check_h200.json").read_text())
    assert check["complete"] is True and check["small"] and check["device"] == "cpu"
    assert [e["k"] for e in check["share"]] == [1] and len(check["deterministic"]) == 2
    assert "== check: exit 0" in logs["check"]
    assert "--into" in logs["startup"] and "needs --device cuda" in logs["startup"]
    assert "holds gpu_check --small figures" in logs["plan"] and "== plan: exit 2" in logs["plan"]
    grid = json.loads((out / "gpu_grid.json").read_text())
    assert grid["worker"] is True and grid["mps"] is False and "== grid: exit 0" in logs["grid"]
