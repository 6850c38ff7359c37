"""Atomic file writes: every output is written to a temporary sibling, then renamed.

A job killed mid-write leaves at most a ``.tmp-*`` file that Snakemake never takes for an
output, and never a truncated file under the final name.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    ``suffix`` keeps the extension for writers that insist on one (``np.save``, ``savefig``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".tmp-{path.name}-", suffix=suffix or path.suffix, dir=path.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; give the output the mode any new file gets (umask), so that
        # results stay readable by the group on a shared cluster filesystem
        if tmp_path.exists():
            os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def write_csv(path: str | os.PathLike, frame: Any) -> None:
    """Write a pandas DataFrame as CSV, atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def write_npy(path: str | os.PathLike, array: Any) -> None:
    import numpy as np

    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, array)


def write_stream(path: str | os.PathLike, write: Callable[[BinaryIO], Any]) -> None:
    """``write(fh)`` into an open file, atomically. For ``torch.save`` use
    ``write_stream(path, functools.partial(torch.save, obj))``: given a file *name*, torch.save
    names the zip's root folder after it (here the random ``.tmp-*`` name), so the same object
    would give different bytes on every save; given an open file, the root is always
    ``archive/``, and reruns are byte-identical. (torch is not imported here: scripts of the
    torch-free job envs use this module.)"""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        write(fh)


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
