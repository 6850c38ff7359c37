"""Quality checks of the rendered demo datasets; prints the figures.

For every ``demo: true`` dataset of the config (rendered first with `ferstudy render-demo`):
1. register it with the real adapter (manifest into a temporary folder);
2. MediaPipe face detection rate over every frame (target >= 95%);
3. a reference classifier, logistic regression, on features of the apex frame (the frame whose
   mesh moved furthest from the first frame): (a) eye-aligned 40x40 grey pixels of the apex
   frame, (b) mesh-landmark displacement apex - first frame in face units. The same models
   give both figures: trained on 3 of 4 subject folds of one dataset, scored on its held-out
   subjects (within) and on every other dataset (across), 6 basic classes (chance 1/6).

    .venv/bin/python benchmarks/demo_qc.py [--config config.yaml] [--set key=value ...]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ferstudy.command_config import parse_overrides  # noqa: E402
from ferstudy.resolution import resolve_cli  # noqa: E402
from ferstudy.datasets.register import register  # noqa: E402
from ferstudy.demo import landmarks as lm  # noqa: E402
from ferstudy.faces.mesh import FaceDetector, FaceMesh  # noqa: E402
from ferstudy.media import iter_frames  # noqa: E402

CROP = 40
BASIC = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")   # shared by all four


def aligned_crop(frame: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Grey crop (CROP, CROP) float32 with the eyes at fixed positions."""
    right, left = lm.eye_centres(points)
    v = left - right
    s = (CROP * 0.42) / float(np.linalg.norm(v))
    a = np.arctan2(v[1], v[0])
    rot = s * np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    shift = np.array([CROP / 2, CROP * 0.36]) - rot @ ((right + left) / 2)
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    crop = cv2.warpAffine(grey, np.concatenate([rot, shift[:, None]], 1), (CROP, CROP),
                          borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    return (crop - crop.mean()) / (crop.std() + 1e-3)


def clip_features(frames, detector, mesh):
    """(detected frame count, pixel feature, landmark feature) of one clip."""
    found, meshes = 0, []
    for frame in frames:
        dets = detector.detect(frame)
        if not dets:
            meshes.append(None)
            continue
        found += 1
        meshes.append(mesh.landmarks(frame, dets[0])[0][:, :2])
    valid = [i for i, m in enumerate(meshes) if m is not None]
    if not valid:
        return found, None, None
    first = meshes[valid[0]]
    f0 = lm.FaceFrame.of(first)
    u0 = f0.to_face(first)

    def moved(m):
        return np.abs(lm.FaceFrame.of(m).to_face(m) - u0).mean()

    apex = max(valid, key=lambda i: moved(meshes[i]))
    ua = lm.FaceFrame.of(meshes[apex]).to_face(meshes[apex])
    return found, aligned_crop(frames[apex], meshes[apex]).ravel(), (ua - u0)[lm.CONTROL].ravel()


def collect(name, entry, detector, mesh, tmp):
    t0 = time.time()
    manifest = register(name, entry, tmp / f"{name}.csv", tmp / f"{name}.rejected.csv",
                        folds=4, seed=0)
    rows, n_frames, n_found = [], 0, 0
    for r in manifest.itertuples():
        frames = list(iter_frames(r.source, r.kind))
        found, pix, geo = clip_features(frames, detector, mesh)
        n_frames += len(frames)
        n_found += found
        if r.label in BASIC and pix is not None:
            rows.append((r.subject, r.label, pix, geo))
    print(f"{name:8s} clips {len(manifest):4d} (labelled {int((manifest.label != '').sum())}, "
          f"subjects {manifest.subject.nunique()}), frames {n_frames}, face found in "
          f"{100 * n_found / max(n_frames, 1):.1f}% [{time.time() - t0:.0f} s]")
    return rows, n_found / max(n_frames, 1)


def fold_scores(data, feature, folds=4):
    """Same models for both figures: per source dataset and subject fold, train on the
    training subjects, score on the held-out subjects (within) and on every other dataset
    (across). Returns {(source, target): mean accuracy over folds}."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def xy(rows):
        return np.stack([r[2 + feature] for r in rows]), np.array([r[1] for r in rows])

    scores = {}
    for a, rows in data.items():
        x, y = xy(rows)
        groups = np.array([r[0] for r in rows])
        for train, test in GroupKFold(folds).split(x, y, groups):
            model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))
            model.fit(x[train], y[train])
            scores.setdefault((a, a), []).append(model.score(x[test], y[test]))
            for b, other in data.items():
                if b != a:
                    scores.setdefault((a, b), []).append(model.score(*xy(other)))
    return {k: float(np.mean(v)) for k, v in scores.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--set", action="append", default=[])
    args = parser.parse_args(argv)
    config = resolve_cli(args.config, parse_overrides(args.set))
    models = Path(config["resources"]) / "models"
    from ferstudy.demo.render import rendered_datasets

    names = rendered_datasets(config)
    data, rates = {}, {}
    with FaceDetector(models) as detector, tempfile.TemporaryDirectory() as tmp:
        mesh = FaceMesh(models)
        for name in names:
            data[name], rates[name] = collect(name, config["datasets"][name], detector, mesh, Path(tmp))
    print(f"\nface detection rate over all demo frames: min {100 * min(rates.values()):.1f}% (target >= 95%)")
    for feature, what in ((0, "apex pixels (eye-aligned 40x40 grey)"), (1, "mesh displacement apex - first")):
        scores = fold_scores(data, feature)
        print(f"\nlogistic regression on {what}, 6 basic classes (chance 0.167);")
        print("  trained on 3/4 of a dataset's subjects (rows), tested on its held-out subjects")
        print("  (diagonal) and on the other datasets (off-diagonal); mean over 4 subject folds")
        print("    " + " " * 10 + "".join(f"{n:>9s}" for n in names))
        for a in names:
            print(f"    {a:10s}" + "".join(f"{scores[(a, b)]:9.3f}" for b in names))
        diag = np.mean([scores[(n, n)] for n in names])
        off = np.mean([scores[(a, b)] for a in names for b in names if a != b])
        print(f"    mean within {diag:.3f}, mean across {off:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
