"""Render one demo dataset into its native layout, deterministically in ``demo.seed``.

Per dataset: its subjects (a disjoint range of global subject numbers, see
``subject_ranges``) are grown from the real source faces, styled once, then animated into one
clip per expression and take (plus unlabelled clips where the real dataset has them). The
layout is built in a temporary sibling folder and swapped in when complete; the caller writes
``resources/demo/{dataset}.done`` last.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ferstudy import atomic
from ferstudy.demo import animate, expressions, styles
from ferstudy.demo.identities import make_subject
from ferstudy.demo.layouts import LAYOUTS
from ferstudy.demo.catalog import (  # noqa: F401  (re-exported: the demo's one home of defaults)
    ADAPTERS, UNLABELLED_LAYOUTS, DemoError, adapter_of, dataset_settings, demo_datasets,
    rendered_datasets, subject_ranges)
from ferstudy.demo.sheet import contact_sheet, write_sheet
from ferstudy.demo.sources import load_sources, provenance_table

log = logging.getLogger(__name__)

MARKER = "DEMO.txt"
SHEET_SUBJECTS = 6     # rows of the contact sheet


def plan_clips(adapter: str, settings: dict[str, Any], rng: np.random.Generator) -> list[tuple[str, int, bool]]:
    """(expression, take, labelled) per clip of one subject, in recording order."""
    exprs = ADAPTERS[adapter]["expressions"]
    clips = [(e, t, True) for e in exprs for t in range(settings["takes"])]
    labelled = [e for e in exprs if e != "neutral"]
    clips += [(str(rng.choice(labelled)), settings["takes"] + u, False) for u in range(settings["unlabelled"])]
    order = rng.permutation(len(clips))
    return [clips[i] for i in order]


def render_clip(subject, styled: np.ndarray, expression: str, gains: dict, style, settings: dict,
                temporal: str, demo: dict, rng: np.random.Generator) -> tuple[list[np.ndarray], dict]:
    """Frames of one clip and its parameters (apex intensity, AU weights, framing)."""
    n = int(rng.integers(settings["frames"][0], settings["frames"][1] + 1))
    side = "left" if rng.random() < 0.5 else "right"
    weights = expressions.clip_weights(expression, gains, rng, demo["stray_aus"])
    apex = float(rng.uniform(*demo["apex"]))
    disp = expressions.expression_displacement(subject.points, weights, side)
    field = subject.warp.backward(disp)
    curve = animate.intensity_curve(n, temporal, rng, apex)
    motion = animate.head_motion(n, rng, style.motion)
    framing = styles.clip_framing(style, rng)
    neutral_gap = expressions.lip_gap(subject.points)
    size = tuple(settings["size"])
    frames = []
    for t in range(n):
        s = float(curve[t])
        img = subject.warp.apply(styled, field, s) if s > 1e-3 else styled
        moved = subject.points + s * disp
        img = expressions.render_wrinkles(img, moved, weights, s)
        img = expressions.render_mouth(img, moved, neutral_gap)
        m = styles.frame_transform(style, size, framing, motion[t])
        frames.append(styles.to_frame(img, style, size, m, rng))
    info = {"frames": n, "apex": round(apex, 3), "side": side, "apex_frame": int(np.argmax(curve)),
            "aus": " ".join(f"{k}:{v:.2f}" for k, v in sorted(weights.items()))}
    return frames, info


_SOURCES: dict[str, list] = {}


def cached_sources(media_dir: str | Path, detector, mesh) -> list:
    """``load_sources`` once per process and media folder (the result is deterministic)."""
    key = str(Path(media_dir).resolve())
    if key not in _SOURCES:
        _SOURCES[key] = load_sources(media_dir, detector, mesh)
    return _SOURCES[key]


def _check_replaceable(root: Path, name: str) -> None:
    if root.exists() and not (root / MARKER).is_file():
        raise DemoError(f"{root} exists and is not a rendered demo dataset (no {MARKER}); "
                        f"refusing to overwrite it. For a real dataset set "
                        f"'datasets.{name}.demo: false', or point 'datasets.{name}.root' elsewhere")


def _swap_in(tmp: Path, root: Path, name: str) -> None:
    """Replace ``root`` by the finished ``tmp`` tree; refuse to touch a non-demo folder."""
    _check_replaceable(root, name)
    if root.exists():
        old = root.with_name(f".old-{root.name}-{os.getpid()}")
        os.replace(root, old)
        os.replace(tmp, root)
        shutil.rmtree(old)
    else:
        os.replace(tmp, root)


def sheet_path(name: str, config: dict[str, Any]) -> Path:
    """resources/demo/{dataset}_expressions.png."""
    return Path(config["resources"]) / "demo" / f"{name}_expressions.png"


def render_dataset(name: str, entry: dict[str, Any], demo: dict[str, Any], *,
                   subjects: tuple[int, int], sheet: str | Path, media_dir: str | Path,
                   models_dir: str | Path) -> dict[str, Any]:
    """Render demo dataset ``name`` (config ``datasets.<name>`` = ``entry``, config ``demo``)
    into ``entry["root"]`` with global subjects ``range(first, first + count)`` (see
    ``subject_ranges``), and its contact sheet. Returns a summary."""
    from ferstudy.faces.mesh import FaceDetector, FaceMesh

    t0 = time.time()
    adapter = adapter_of(name, entry)
    settings = dataset_settings(name, entry, demo)
    first, count = subjects
    style, seed = styles.STYLES[adapter], int(demo["seed"])
    root = Path(entry["root"])
    _check_replaceable(root, name)   # before any work, and again before the swap
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = root.with_name(f".tmp-{root.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        with FaceDetector(models_dir) as detector:
            mesh = FaceMesh(models_dir)
            sources = cached_sources(media_dir, detector, mesh)
            subjects = [make_subject(first + k, sources, seed, detector, mesh) for k in range(count)]
        writer = LAYOUTS[adapter](tmp, entry.get("options", {}))
        subject_rows, clip_rows, apexes = [], [], {}
        # Each dataset's posers share a "dialect" (how strongly they use each action unit),
        # as the real datasets differ in how their expressions were elicited and coached.
        # Clipped so that no dataset loses the defining action units of a class.
        dialect = {au: float(np.clip(g, 0.7, 1.45)) for au, g in expressions.subject_gains(
            np.random.default_rng([seed, 53, list(ADAPTERS).index(adapter)]), demo["dataset_spread"]).items()}
        for no, subject in enumerate(subjects, 1):
            srng = np.random.default_rng([seed, 23, subject.index])
            gains = expressions.subject_gains(srng, demo["subject_spread"])
            # clipped: beyond this range a warp reads as a caricature, not a person
            gains = {au: float(np.clip(g * dialect[au], 0.5, 1.7)) for au, g in gains.items()}
            styled = styles.prepare_canvas(subject.canvas, style, np.random.default_rng([seed, 31, subject.index]))
            for c, (expr, take, labelled) in enumerate(plan_clips(adapter, settings, srng)):
                crng = np.random.default_rng([seed, 41, subject.index, c])
                frames, info = render_clip(subject, styled, expr, gains, style, settings,
                                           ADAPTERS[adapter]["temporal"], demo, crng)
                path = writer.add(no, expr, take, labelled, frames)
                if no <= SHEET_SUBJECTS and labelled and take == 0:
                    apexes[(no, expr)] = frames[-1] if ADAPTERS[adapter]["temporal"] == "onset_apex" \
                        else frames[info.pop("apex_frame")]
                info.pop("apex_frame", None)
                clip_rows.append({"subject": no, "subject_index": subject.index, "path": path,
                                  "expression": expr, "labelled": labelled, **info})
            subject_rows.append({"subject": no, **subject.recipe})
        atomic.write_csv(tmp / "provenance.csv", provenance_table(sources, media_dir))
        atomic.write_csv(tmp / "subjects.csv", pd.DataFrame(subject_rows))
        atomic.write_csv(tmp / "clips.csv", pd.DataFrame(clip_rows))
        atomic.write_text(tmp / MARKER, (
            f"Demo stand-in for the {adapter} layout, rendered by ferstudy (seed {seed}).\n"
            "Real faces (see provenance.csv) animated into posed expression clips; NOT the real "
            "dataset. Numbers measured on it say nothing about accuracy on real data.\n"))
        _swap_in(tmp, root, name)
        write_sheet(sheet, contact_sheet(
            apexes, list(ADAPTERS[adapter]["expressions"]),
            f"demo {name} ({adapter} layout): apex frames, rows = subjects"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {"dataset": name, "adapter": adapter, "root": str(root), "seed": seed,
               "subjects": count, "first_subject": first, "clips": len(clip_rows),
               "frames": int(sum(r["frames"] for r in clip_rows)), "seconds": round(time.time() - t0, 1)}
    log.info("demo %s: %d subjects, %d clips, %d frames in %.1f s -> %s", name, count,
             summary["clips"], summary["frames"], summary["seconds"], root)
    return summary


def render_all(config: dict[str, Any], names: list[str] | None = None, jobs: int = 1) -> list[dict]:
    """Render demo datasets (default: every one ``rendered_datasets`` lists), ``jobs`` in parallel, each
    followed by its ``resources/demo/{dataset}.done`` marker (JSON summary, written last)."""
    from concurrent.futures import ProcessPoolExecutor

    from ferstudy.resources import media_dir, models_dir

    names = names or rendered_datasets(config)
    unknown = sorted(set(names) - set(rendered_datasets(config)))
    if unknown:
        raise DemoError(f"not rendered demo datasets: {', '.join(unknown)}; a demo dataset is "
                        "marked 'demo: true' and rooted at <resources>/demo/<name>; here: "
                        f"{', '.join(rendered_datasets(config)) or 'none'}")
    ranges = subject_ranges(config)
    tasks = [(n, config["datasets"][n], config["demo"], ranges[n], sheet_path(n, config),
              Path(config["resources"]) / "demo" / f"{n}.done", media_dir(config), models_dir(config))
             for n in names]
    if jobs <= 1:
        return [_render_task(*t) for t in tasks]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_render_task, *zip(*tasks)))


def _render_task(name, entry, demo, subjects, sheet, done, media, models) -> dict:
    summary = render_dataset(name, entry, demo, subjects=subjects, sheet=sheet,
                             media_dir=media, models_dir=models)
    atomic.write_json(done, summary)
    return summary
