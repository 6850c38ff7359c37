"""benchmarks/gpu_grid.py --small --device cpu: a slice of the pitfalls grid through Snakemake
and profiles/local-gpu on CPU, its runs per hour and the full grid extrapolated from it."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_grid_small_on_cpu(tmp_path):
    out = tmp_path / "gpu_grid.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_grid.py"), "--small", "--device", "cpu",
         "--mps", "--worker", "--workdir", str(tmp_path / "work"), "--out", str(out)],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r = json.loads(out.read_text())
    # CPU figures, said so: never passed off as GPU figures
    assert r["cpu_figures"] and r["device"] == "cpu" and "CPU figures (not GPU figures)" in proc.stdout
    # the slice ran: every run trained through Snakemake, at CK+'s documented size
    runs = len(r["slice"]["archs"]) * len(r["slice"]["augments"]) * len(r["slice"]["seeds"]) \
        * len(r["slice"]["folds"])
    assert r["runs"] == runs and r["slice"]["clips"] == 309
    for fold in r["slice"]["folds"]:
        run = (tmp_path / "work" / "results" / "runs" / "ckplus" / "resnet3d" / "supervised" / "ri"
               / "none" / "full" / "seed0" / f"fold{fold}")
        assert (run / "metrics.json").is_file() and (run / "provenance.json").is_file()
        # --worker: every run was handed to the slice's train-worker (a pre-warmed spare)
        startup = json.loads((run / "provenance.json").read_text())["startup"]
        assert startup["worker"] is True and startup["prewarmed"] is True
    # --mps without MPS on this machine: said, and the slice ran (and was modelled) without
    assert r["worker"] is True and r["mps"] is False and "the slice runs without MPS" in proc.stdout
    assert 0 < r["epoch_fraction_logged"] <= 1
    # the figures are consistent with one another
    assert r["runs_per_hour"] == pytest.approx(r["runs"] / r["wall_s"] * 3600)
    assert r["measured_slice_h"] == pytest.approx(r["wall_s"] / 3600)
    assert r["ratio_measured_over_model"] == pytest.approx(r["measured_slice_h"] / r["predicted_slice_h"])
    assert r["predicted_slice_h"] == pytest.approx(sum(r["predicted_parts_h"].values()))
    assert r["predicted_parts_h"]["start-up"] > 0 and r["predicted_parts_h"]["training"] > 0
    assert r["extrapolated_expected_h"] == pytest.approx(r["plan_expected_h"]
                                                        * r["ratio_measured_over_model"])
    assert r["naive_h"] == pytest.approx(r["full_grid_runs"] / r["runs_per_hour"])
    assert 0 < r["plan_expected_h"] <= r["plan_upper_h"]
    assert r["agree_within_20pct"] == (abs(r["ratio_measured_over_model"] - 1) <= 0.2)
