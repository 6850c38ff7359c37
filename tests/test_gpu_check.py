"""benchmarks/gpu_check.py --device cpu --small: the GPU check's code paths, run on CPU."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ferstudy.archs import ARCHS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_small_on_cpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--device", "cpu", "--small",
         "--threads", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["device"] == "cpu" and result["small"] and result["complete"] is True
    cases = {(c["arch"], c["amp"]): c for c in result["cases"]}
    assert set(cases) == {(a, m) for a in ARCHS.names() for m in ("off", "bf16", "fp16")}
    # reduced precision may lack a CPU kernel: oneDNN's fp16 LSTM, and on some CPUs (an AMD
    # EPYC here) its bf16 LSTM for the 3D-CNN+LSTM shapes; never float32
    no_kernel = "could not create a primitive descriptor"
    for (arch, amp), case in cases.items():
        if "error" in case:
            assert amp == "fp16" or (amp == "bf16" and arch.endswith("_lstm")
                                     and no_kernel in case["error"]), (arch, amp, case["error"])
            continue
        assert case["train_clips_s"] > 0 and case["infer_clips_s"] > 0
        assert 0 <= case["wait_fraction"] < 1
        assert case["peak_gib"] is None and case["slots"] is None   # GPU-only figures
        assert isinstance(case["repeat_max_abs_diff"], float)
        if amp == "off":               # float32 on CPU with deterministic algorithms
            assert case["repeat_max_abs_diff"] == 0.0, arch
        # reduced precision on CPU is not a workflow path (train.amp is CUDA-only): there a
        # repeat may differ, even be NaN (seen: oneDNN bf16 LSTM); the check reports it
    assert all("error" not in cases[(a, "off")] for a in ARCHS.names())
    assert result["gan"]["ms_per_iteration"] > 0
    assert result["gan"]["training_s"] == pytest.approx(
        result["gan"]["ms_per_iteration"] / 1000 * result["gan"]["iterations"])
    have_media = (ROOT / "resources" / "models" / "face_landmark.tflite").is_file() and \
        (ROOT / "resources" / "media" / "pyfeat" / "WolfgangLanger_Pexels.mp4").is_file()
    assert (result["align"] is not None) == have_media
    if have_media:
        assert result["align"]["frames"] > 100 and result["align"]["frames_s"] > 0
    failed = [line.split() for line in proc.stdout.splitlines() if "FAILED" in line]
    assert all(f[1] == "fp16" or (f[1] == "bf16" and f[0].endswith("_lstm")) for f in failed), failed


def test_a_run_cut_off_after_its_cases_keeps_them_marked_incomplete(tmp_path, monkeypatch):
    """The JSON is written after each stage: a time limit hit in the GAN stage (here: an error
    raised there) leaves the measured cases on disk, with complete false."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_check

    def cut_off(*_, **__):
        raise TimeoutError("time limit")

    monkeypatch.setattr(gpu_check, "gan_case", cut_off)
    out = tmp_path / "partial.json"
    with pytest.raises(TimeoutError):
        gpu_check.main(["--device", "cpu", "--small", "--archs", "msa3d", "--amp", "off",
                        "--iters", "1", "--threads", "1", "--no-align", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["complete"] is False and result["measured"] is True
    assert [(c["arch"], c["amp"]) for c in result["cases"]] == [("msa3d", "off")]
    assert result["cases"][0]["train_clips_s"] > 0
    assert "gan" not in result and "share" not in result
