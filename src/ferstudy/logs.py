"""Logging for stage scripts: to the rule's log file and stderr, exceptions included."""
from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def logged(log_path: str | Path | None = None, level: int = logging.INFO) -> Iterator[logging.Logger]:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)
    log = logging.getLogger("ferstudy")
    try:
        yield log
    except Exception as err:
        log.error("%s: %s", type(err).__name__, err)
        raise
    finally:
        for h in handlers:
            h.flush()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Progress lines for long loops, in the log (timestamped like every line): ``what done/total
    unit (rate, ETA)``, at most one per ``every_s`` seconds plus the first and the last, so that a
    job's log shows it is alive and when it will end without flooding. ``scale`` and ``unit``
    format the counts (bytes as MB: ``scale=1e6, unit="MB"``)."""

    def __init__(self, log: logging.Logger, what: str, total: float, *, unit: str = "",
                 scale: float = 1.0, every_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.log, self.what, self.total, self.unit = log, what, total, unit
        self.scale, self.every_s, self.clock = scale, every_s, clock
        self.start = clock()
        self.last: float | None = None

    def update(self, done: float, note: str = "") -> None:
        now = self.clock()
        final = done >= self.total
        if not final and self.last is not None and now - self.last < self.every_s:
            return
        self.last = now
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        if final:
            timing = f"in {_duration(elapsed)}"
        elif self.total == float("inf"):
            timing = "size unknown"
        elif rate > 0:
            timing = f"ETA {_duration((self.total - done) / rate)}"
        else:
            timing = "ETA ?"
        unit = f" {self.unit}" if self.unit else ""
        fmt = (lambda v: f"{v / self.scale:.1f}") if self.scale != 1 else (lambda v: f"{v:.0f}")
        total = "?" if self.total == float("inf") else fmt(self.total)
        self.log.info("%s %s/%s%s (%.1f%s/s, %s)%s", self.what, fmt(done), total, unit,
                      rate / self.scale, unit, timing, f" {note}" if note else "")
