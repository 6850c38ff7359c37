"""`ferstudy gpu-share`: CUDA MPS start/stop/status through the CLI, against a fake
nvidia-cuda-mps-control on PATH (it records its argv, stdin and environment and creates or
removes the control pipe as the real daemon does), and the onstart warning."""
from __future__ import annotations

import os
import stat

import pytest
from snakemake.resources import Resource

from fake_mps import install_fake_mps
from ferstudy import cli, gpu_share


@pytest.fixture
def fake_mps(tmp_path, monkeypatch):
    """PATH with the fake control program first; returns its record file."""
    return install_fake_mps(tmp_path, monkeypatch)


@pytest.fixture
def no_mps(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("CUDA_MPS_PIPE_DIRECTORY", raising=False)


def _cli(capsys, *args) -> tuple[int, str, str]:
    rc = cli.main(["gpu-share", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_start_status_stop_drive_the_control_daemon(fake_mps, tmp_path, capsys):
    pipe = tmp_path / "mps"
    assert _cli(capsys, "status", "--pipe-dir", str(pipe)) == (0, "MPS: off\n", "")
    assert _cli(capsys, "start", "--pipe-dir", str(pipe)) == (0, f"MPS: on (pipe dir {pipe})\n", "")
    assert stat.S_ISFIFO((pipe / "control").stat().st_mode)
    assert (pipe / "log").is_dir()
    assert _cli(capsys, "status", "--pipe-dir", str(pipe))[1] == f"MPS: on (pipe dir {pipe})\n"
    # a second start finds the daemon running and does not start another
    assert _cli(capsys, "start", "--pipe-dir", str(pipe))[0] == 0
    assert _cli(capsys, "stop", "--pipe-dir", str(pipe)) == (0, "MPS: off\n", "")
    assert not (pipe / "control").exists()
    assert _cli(capsys, "stop", "--pipe-dir", str(pipe)) == (0, "MPS: off\n", "")   # no-op
    assert fake_mps.read_text().splitlines() == [
        f"argv=-d pipe={pipe} log={pipe / 'log'}",
        f"argv= pipe={pipe} log={pipe / 'log'}",
        "stdin=quit"]


def test_pipe_dir_defaults_to_the_environment(fake_mps, tmp_path, capsys, monkeypatch):
    pipe = tmp_path / "from-env"
    monkeypatch.setenv("CUDA_MPS_PIPE_DIRECTORY", str(pipe))
    assert _cli(capsys, "start")[1] == f"MPS: on (pipe dir {pipe})\n"
    assert gpu_share.mps_running() and not gpu_share.mps_running(tmp_path / "other")
    assert _cli(capsys, "stop")[1] == "MPS: off\n"
    monkeypatch.delenv("CUDA_MPS_PIPE_DIRECTORY")
    assert gpu_share.pipe_dir() == gpu_share.Path(gpu_share.DEFAULT_PIPE_DIR)


def test_a_daemon_that_fails_to_start_is_an_error(fake_mps, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_MPS_FAIL", "no GPU in exclusive mode")
    rc, out, err = _cli(capsys, "start", "--pipe-dir", str(tmp_path / "mps"))
    assert rc == 2 and out == ""
    assert "did not start MPS" in err and "cannot start: no GPU in exclusive mode" in err


def test_absent_mps_explains_and_exits_2(no_mps, tmp_path, capsys):
    for action in ("start", "stop"):
        rc, out, err = _cli(capsys, action, "--pipe-dir", str(tmp_path / "mps"))
        assert rc == 2 and out == ""
        assert "ferstudy gpu-share: error: CUDA MPS is not available here" in err
        assert "nvidia-cuda-mps-control is not on PATH" in err and "+4 %" in err
        assert "NVIDIA driver's utilities" in err
    rc, out, _ = _cli(capsys, "status", "--pipe-dir", str(tmp_path / "mps"))
    assert rc == 0 and out.startswith("MPS: absent (nvidia-cuda-mps-control is not on PATH")


def test_if_available_makes_absent_mps_a_note(no_mps, tmp_path, capsys):
    for action in ("start", "stop"):
        rc, out, err = _cli(capsys, action, "--if-available", "--pipe-dir", str(tmp_path / "m"))
        assert rc == 0 and err == "" and out.count("\n") == 1
        assert f"gpu-share {action}: MPS absent" in out
    assert not (tmp_path / "m").exists()


def test_if_available_still_starts_mps_where_present(fake_mps, tmp_path, capsys):
    pipe = tmp_path / "alloc-1234"
    assert _cli(capsys, "start", "--if-available", "--pipe-dir", str(pipe))[1] == \
        f"MPS: on (pipe dir {pipe})\n"
    assert _cli(capsys, "stop", "--if-available", "--pipe-dir", str(pipe))[1] == "MPS: off\n"


@pytest.mark.parametrize("slots", [4, Resource("gpu_slots", 4)])
def test_share_warning_when_several_gpu_jobs_run_without_mps(fake_mps, tmp_path, slots):
    pipe = tmp_path / "mps"
    note = gpu_share.share_warning(slots, cuda=True, directory=pipe)
    assert note is not None and "\n" not in note
    assert "gpu_slots=4" in note and "MPS is off" in note and "`ferstudy gpu-share start`" in note
    gpu_share.start(pipe)
    assert gpu_share.share_warning(slots, cuda=True, directory=pipe) is None
    gpu_share.stop(pipe)
    assert gpu_share.share_warning(slots, cuda=True, directory=pipe) is not None


def test_share_warning_names_absent_mps(no_mps, tmp_path):
    note = gpu_share.share_warning(2, cuda=True, directory=tmp_path)
    assert "MPS is absent" in note and "`ferstudy gpu-share start`" in note


@pytest.mark.parametrize("slots,cuda", [(1, True), (None, True), (Resource("gpu_slots", 1), True),
                                        (4, False)])
def test_no_share_warning_for_one_slot_or_without_cuda(fake_mps, tmp_path, slots, cuda):
    assert gpu_share.share_warning(slots, cuda=cuda, directory=tmp_path) is None


def test_cpu_device_never_counts_as_cuda_training():
    assert gpu_share.cuda_training("cpu") is False
    import torch

    assert gpu_share.cuda_training("auto") is torch.cuda.is_available()


def test_the_workflow_onstart_calls_the_warning():
    """The onstart hands Snakemake's global gpu_slots resource to share_warning."""
    smk = (os.path.dirname(__file__) + "/../workflow/rules/studies.smk")
    text = open(smk).read()
    onstart = text[text.index("onstart:"):text.index("onsuccess:")]
    assert 'share_warning(\n        workflow.global_resources.get("gpu_slots")' in onstart
