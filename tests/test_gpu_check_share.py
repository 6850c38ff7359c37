"""gpu_check.py --share / --deterministic-cost on CPU: K training processes really started at
once (MPS absent on CPU), the start-up parts of one job, train.deterministic true and false;
and the MPS orchestration of the share runs against a fake nvidia-cuda-mps-control."""
import json
import os
import subprocess
import sys

import pytest

from fake_mps import install_fake_mps
from study_plans import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import _share  # noqa: E402

PARTS = {"python_and_imports_s", "device_init_s", "data_s", "model_s", "optimizer_s",
         "first_step_s"}
JOB = {"shape": "small", "device": "cpu", "threads": 1, "workers": 0}


@pytest.mark.slow
def test_share_and_deterministic_cost_on_cpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    # two archs, --share's default picks resnet3d, and --deterministic-cost follows --share's
    argv = ["--device", "cpu", "--small", "--archs", "resnet3d", "msa3d", "--amp", "off", "--iters", "1",
            "--threads", "1", "--no-gan", "--no-align", "--share", "1,2", "--share-steps", "3",
            "--deterministic-cost", "--out", str(out)]
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), *argv],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["measured"] is True
    assert result["provenance"].endswith("python benchmarks/gpu_check.py " + " ".join(argv))
    assert os.uname().nodename in result["provenance"]
    share = {(e["arch"], e["amp"], e["k"], e["mps"]): e for e in result["share"]}
    assert set(share) == {("resnet3d", "off", 1, False), ("resnet3d", "off", 2, False)}
    for (_, _, k, _), e in share.items():
        assert e["finished"] and len(e["per_process_clips_s"]) == k
        assert all(c > 0 for c in e["per_process_clips_s"]) and e["total_clips_s"] > 0
    startup = result["startup"]
    assert (startup["arch"], startup["amp"]) == ("resnet3d", "off")
    assert set(startup["parts"]) == PARTS and all(v >= 0 for v in startup["parts"].values())
    assert startup["process_to_first_step_s"] == pytest.approx(sum(startup["parts"].values()))
    assert {c["arch"] for c in result["cases"]} == {"resnet3d", "msa3d"}
    det = {e["deterministic"]: e for e in result["deterministic"]}
    assert len(result["deterministic"]) == 2 and set(det) == {True, False}
    assert all(e["arch"] == "resnet3d" and e["amp"] == "off" and e["train_clips_s"] > 0
               for e in det.values())
    assert "without MPS (none here)" in proc.stdout and "K=2" in proc.stdout


@pytest.mark.slow
def test_cut_off_processes_ran_at_once_and_mps_wraps_the_runs(tmp_path, monkeypatch):
    """Steps that cannot finish in the time allowed: both processes are killed at the deadline
    and both made progress after `go` (so they trained at the same time); the MPS runs start
    a daemon in a private pipe directory before and stop it after."""
    record = install_fake_mps(tmp_path, monkeypatch)
    says = []
    entries, startup = _share.share_cases(["resnet3d"], "off", [2], use_mps=True, timeout=1.0,
                                          say=says.append, steps=10**6, **JOB)
    assert [(e["k"], e["mps"], e["finished"]) for e in entries] == [(2, False, False),
                                                                    (2, True, False)]
    for e in entries:
        assert len(e["per_process_clips_s"]) == 2 and all(c > 0 for c in e["per_process_clips_s"])
        assert e["total_clips_s"] > 0
    assert set(startup["parts"]) == PARTS
    calls = record.read_text().splitlines()
    assert len(calls) == 3 and calls[0].startswith("argv=-d pipe=") and calls[2] == "stdin=quit"
    pipe = calls[0].split("pipe=")[1].split(" ")[0]
    assert pipe.endswith("/on") and not os.path.exists(pipe)   # stopped, then cleaned up
    assert says[1] == f"MPS: on (pipe dir {pipe})" and says[-1] == "MPS: off"
    assert sum("NOT FINISHED" in s for s in says) == 2


def test_a_failing_worker_is_an_error_naming_its_cause():
    args = _share.worker_args("resnet3d", "off", deterministic=False, steps=1, **JOB)
    args[args.index("--steps") + 1] = "many"       # fails at once, before the heavy imports
    with pytest.raises(RuntimeError, match="argument --steps: invalid int value: 'many'"):
        _share.run_processes(2, args, env=dict(os.environ), timeout=60)
