"""Progress lines of long loops (ferstudy.logs.Progress) and where stages print them."""
from __future__ import annotations

import logging
import re

import dataset_trees as trees
from ferstudy.datasets.register import make_adapter, scan_dataset
from ferstudy.logs import Progress


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_are_throttled_and_give_rate_and_eta(caplog):
    clock = Clock()
    log = logging.getLogger("ferstudy.test")
    progress = Progress(log, "hashed", 100, unit="clips", every_s=10, clock=clock)
    with caplog.at_level(logging.INFO, logger="ferstudy.test"):
        clock.now += 5
        progress.update(10)          # first line always
        clock.now += 5
        progress.update(20)          # 5 s later: throttled
        clock.now += 5
        progress.update(30)          # 10 s after the first
        clock.now += 70
        progress.update(100)         # the last one always
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["hashed 10/100 clips (2.0 clips/s, ETA 45s)",
                     "hashed 30/100 clips (2.0 clips/s, ETA 35s)",
                     "hashed 100/100 clips (1.2 clips/s, in 1m25s)"]


def test_scaled_units_and_unknown_total(caplog):
    clock = Clock()
    log = logging.getLogger("ferstudy.test")
    with caplog.at_level(logging.INFO, logger="ferstudy.test"):
        mb = Progress(log, "a.zip: received", 50e6, unit="MB", scale=1e6, every_s=0, clock=clock)
        clock.now += 2
        mb.update(10e6)
        unknown = Progress(log, "b.zip: received", float("inf"), unit="MB", scale=1e6, clock=clock)
        clock.now += 2
        unknown.update(4e6)
    assert [r.getMessage() for r in caplog.records] == [
        "a.zip: received 10.0/50.0 MB (5.0 MB/s, ETA 8s)",
        "b.zip: received 4.0/? MB (2.0 MB/s, size unknown)"]


def test_register_scan_reports_clips_hashed(tmp_path, caplog):
    root = trees.ckplus(tmp_path)
    with caplog.at_level(logging.INFO, logger="ferstudy"):
        manifest, _ = scan_dataset(make_adapter("ckplus", {"root": str(root)}), workers=2)
    lines = [r.getMessage() for r in caplog.records if "decoded and hashed" in r.getMessage()]
    done = re.fullmatch(r"ckplus: decoded and hashed (\d+)/\1 clips \([\d.]+ clips/s, in \d+s\)",
                        lines[-1])
    assert done and int(done.group(1)) >= len(manifest)  # every clip probed, the unreadable too
