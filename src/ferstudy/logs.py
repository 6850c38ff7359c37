"""Logging for stage scripts: to the rule's log file and stderr, exceptions included."""
from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
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
