"""`ferstudy` error handling: one line for the user, the traceback with --debug."""
from __future__ import annotations

import subprocess
import sys

import pytest

from ferstudy import cli
from ferstudy.config import ConfigError


def test_error_is_one_line_without_debug(tmp_path, capsys):
    assert cli.main(["check-config", "--config", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"ferstudy check-config: error: config file {tmp_path / 'missing.yaml'} does not exist" in err
    assert "--debug shows the traceback" in err


def test_debug_keeps_the_traceback(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        cli.main(["--debug", "check-config", "--config", str(tmp_path / "missing.yaml")])
    proc = subprocess.run([sys.executable, "-m", "ferstudy.cli", "--debug", "check-config",
                           "--config", str(tmp_path / "missing.yaml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert 'ferstudy/config.py", line' in proc.stderr       # where it was raised
    assert proc.stderr.rstrip().endswith("does not exist")
