"""Fetching public dataset archives (RAVDESS): resumable, sha256-verified, extracted under
``resources/`` and never into a dataset root.

- Resumable: each archive downloads onto ``<resources>/downloads/<set>/<file>.part``; an
  interrupted transfer (dropped connection, killed job) continues from the bytes on disk with
  an HTTP ``Range`` request, within one run (``retries``) or the next. A server that ignores
  ``Range`` (status 200) restarts the file from zero.
- Verified: the finished file's sha256 must equal ``sha256[<file>]`` from config, else it is
  deleted and the run fails naming the file, both digests and the config key. Files without a
  configured digest are accepted with a warning (``require_sha256: true`` refuses them); every
  digest is recorded in the provenance table so it can be pinned.
- Extracted atomically: all archives are verified first, then unpacked into a temporary
  sibling of ``<resources>/<dest>`` that is renamed into place, so a failure leaves no
  partial extraction. Archive members with absolute paths or ``..`` are refused.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from http.client import HTTPException
from pathlib import Path
from typing import Any

import pandas as pd

from ferstudy import atomic
from ferstudy.logs import Progress

log = logging.getLogger(__name__)
CHUNK = 1 << 20


class DownloadError(RuntimeError):
    pass


class _Interrupted(Exception):
    """A transfer that stopped early; the next attempt resumes it."""


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _transfer(url: str, part: Path, timeout: float) -> None:
    """One HTTP request that appends to (or restarts) ``part``; raises _Interrupted if short."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    request = urllib.request.Request(url, headers={"User-Agent": "ferstudy", **headers})
    try:
        resp = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:        # range past the end: the part is already complete
            return
        raise DownloadError(f"{url}: HTTP {err.code} {err.reason}") from None
    with resp:
        if offset and resp.status == 206:
            start = int((resp.headers.get("Content-Range") or "bytes 0-").split()[1].split("-")[0])
            if start != offset:
                raise _Interrupted(f"server resumed at byte {start}, not {offset}")
            mode = "ab"
        else:
            mode, offset = "wb", 0             # no range support: start over
        expected = resp.headers.get("Content-Length")
        received = 0
        # bytes of this request only, so that rate and ETA describe the transfer under way
        progress = Progress(log, f"{part.name.removesuffix('.part')}: received",
                            int(expected) if expected is not None else float("inf"),
                            unit="MB", scale=1e6)
        with open(part, mode) as fh:
            while True:
                try:
                    block = resp.read(CHUNK)
                except (HTTPException, OSError) as err:
                    raise _Interrupted(f"connection lost after {offset + received} bytes: {err}") from None
                if not block:
                    break
                fh.write(block)
                received += len(block)
                progress.update(received, f"(file at {(offset + received) / 1e6:.1f} MB)" if offset else "")
        if expected is not None and received < int(expected):
            raise _Interrupted(f"got {offset + received} of {offset + int(expected)} bytes")


def fetch(url: str, dest: Path, sha256: str | None, *, key: str, retries: int = 5,
          timeout: float = 60.0, require_sha256: bool = False) -> str:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), verify, return its sha256."""
    if sha256 is None and require_sha256:
        raise DownloadError(f"{url}: no sha256 configured and 'require_sha256' is true; set {key}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        return _verify(dest, sha256, url, key)
    part = dest.with_name(dest.name + ".part")
    for attempt in range(retries + 1):
        try:
            if part.exists():
                log.info("%s: resuming at byte %d", dest.name, part.stat().st_size)
            _transfer(url, part, timeout)
            break
        except (_Interrupted, urllib.error.URLError, TimeoutError, ConnectionError) as err:
            reason = getattr(err, "reason", err)
            if attempt == retries:
                raise DownloadError(
                    f"{url}: download interrupted ({reason}) after {retries + 1} attempt(s); "
                    f"{part.stat().st_size if part.exists() else 0} bytes kept in {part}: run "
                    "again to resume") from None
            log.warning("%s: %s; retrying (%d/%d)", dest.name, reason, attempt + 1, retries)
            time.sleep(min(2.0 ** attempt, 30.0) * 0.1)
    digest = _verify(part, sha256, url, key)
    os.replace(part, dest)
    return digest


def _verify(path: Path, sha256: str | None, url: str, key: str) -> str:
    digest = sha256_file(path)
    if sha256 is None:
        log.warning("%s: no sha256 configured (%s); downloaded file has sha256 %s: pin it",
                    path.name, key, digest)
    elif digest != sha256.lower():
        path.unlink()
        raise DownloadError(
            f"{url}: sha256 mismatch: got {digest}, expected {sha256} ({key}); the file was "
            "removed and nothing was extracted. Check the URL and the configured checksum")
    return digest


def _safe_members(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    for m in members:
        parts = Path(m.filename).parts
        if m.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise DownloadError(f"{name}: archive member {m.filename!r} would extract outside "
                                "the target folder; refusing the archive")
    return members


def extract_all(archives: list[Path], dest: Path) -> None:
    """Unpack ``archives`` together into ``dest``, atomically (temp folder, then rename)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{dest.name}-", dir=dest.parent))
    try:
        for path in archives:
            try:
                with zipfile.ZipFile(path) as archive:
                    archive.extractall(tmp, members=_safe_members(archive, path.name))
            except zipfile.BadZipFile as err:
                raise DownloadError(f"{path}: not a readable zip archive ({err})") from None
        old = None
        if dest.exists():                      # an earlier extraction: swap, then drop it
            old = dest.with_name(f".old-{dest.name}-{os.getpid()}")
            os.replace(dest, old)
        os.replace(tmp, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def check_download_roots(config: dict[str, Any]) -> None:
    """A dataset marked ``download: true`` must read the folder its download rule fills."""
    from ferstudy.config import ConfigError

    sets = config.get("download", {})
    for name, entry in config["datasets"].items():
        if not entry.get("download"):
            continue
        adapter = entry.get("adapter", name)
        if adapter not in sets:
            raise ConfigError(f"config key 'datasets.{name}.download': no download rule for "
                              f"adapter {adapter!r}; downloadable: {', '.join(sets) or '(none)'}")
        expected = Path(config["resources"]) / sets[adapter]["dest"]
        if os.path.normpath(entry["root"]) != os.path.normpath(expected):
            raise ConfigError(f"config key 'datasets.{name}.root': with download: true it must be "
                              f"{expected} (resources + download.{adapter}.dest), not {entry['root']}")


def download_set(name: str, spec: dict[str, Any], dest: str | Path, archive_dir: str | Path,
                 provenance_csv: str | Path) -> pd.DataFrame:
    """Fetch every file of a download set into ``archive_dir``, verify all, extract to ``dest``."""
    folder, dest = Path(archive_dir), Path(dest)
    rows, archives = [], []
    for file in spec["files"]:
        url = spec["base_url"].rstrip("/") + "/" + file
        expected = (spec.get("sha256") or {}).get(file)
        digest = fetch(url, folder / file, expected, key=f"download.{name}.sha256.{file}",
                       retries=spec.get("retries", 5), timeout=spec.get("timeout_s", 60.0),
                       require_sha256=spec.get("require_sha256", False))
        rows.append({"file": file, "url": url, "bytes": (folder / file).stat().st_size,
                     "sha256": digest, "pinned": expected is not None})
        archives.append(folder / file)
    extract_all(archives, dest)
    if not spec.get("keep_archives", True):
        for path in archives:
            path.unlink()
    table = pd.DataFrame(rows, columns=["file", "url", "bytes", "sha256", "pinned"])
    atomic.write_csv(provenance_csv, table)
    log.info("download %s: %d archive(s), %.1f MB, extracted to %s", name, len(rows),
             table["bytes"].sum() / 1e6, dest)
    return table
