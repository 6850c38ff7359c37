"""Tiny native-layout dataset trees for the adapter tests, written with OpenCV.

Every builder returns the root it wrote under ``tmp``; frames are 16x16, videos 5 frames, so
a whole tree costs milliseconds. Each builder plants the defects its adapter must survive.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SIZE = 16


def frame(path: Path, value: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((SIZE, SIZE, 3), value % 256, np.uint8)
    img[: SIZE // 2, : SIZE // 2] = (value * 7) % 256      # some structure, distinct per frame
    ok, data = cv2.imencode(path.suffix or ".png", img)
    assert ok
    path.write_bytes(data.tobytes())
    return path


def frames(folder: Path, n: int, ext: str = ".png", pattern: str = "{i:03d}") -> Path:
    for i in range(n):
        frame(folder / f"{pattern.format(i=i)}{ext}", 20 * i + 10)
    return folder


def video(path: Path, n: int = 5, fps: float = 25.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if path.suffix == ".mp4" else "MJPG"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, (SIZE * 2, SIZE * 2))
    assert writer.isOpened()
    for i in range(n):
        writer.write(np.full((SIZE * 2, SIZE * 2, 3), 30 * i, np.uint8))
    writer.release()
    return path


def garbage(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a media file " * 40)
    return path


def ckplus(tmp: Path) -> Path:
    """4 subjects x 2 sequences; S004_002 lacks its emotion file; S003_001 has a zero-byte
    frame; an unknown top-level folder; a sequence with a corrupt label file."""
    root = tmp / "CK+"
    codes = {("S001", "001"): 1, ("S001", "002"): 5, ("S002", "001"): 3, ("S002", "002"): 7,
             ("S003", "001"): 5, ("S003", "002"): 1, ("S004", "001"): 7, ("S004", "002"): None}
    for (subj, seq), code in codes.items():
        frames(root / "cohn-kanade-images" / subj / seq, 4, ".png", f"{subj}_{seq}_{{i:08d}}")
        if code is not None:
            label = root / "Emotion" / subj / seq / f"{subj}_{seq}_00000003_emotion.txt"
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text(f"   {code:.7e}\n")
    (root / "cohn-kanade-images" / "S003" / "001" / "S003_001_00000001.png").write_bytes(b"")
    (root / "Landmarks").mkdir()
    return root


def mug(tmp: Path) -> Path:
    root = tmp / "MUG"
    base = root / "subjects3"
    for s, subj in enumerate(("001", "002", "003", "004")):
        for e, expr in enumerate(("anger", "happiness", "neutral")):
            frames(base / subj / expr / "take000", 3 + (s + e) % 2, ".jpg", "img_{i:04d}")
    frames(base / "001" / "happiness" / "take001", 3, ".jpg", "img_{i:04d}")
    (base / "002" / "anger" / "take001").mkdir(parents=True)                  # empty take
    frames(base / "003" / "smirk" / "take000", 2, ".jpg", "img_{i:04d}")      # unknown folder
    garbage(base / "004" / "anger" / "take000" / "img_0001.jpg")             # corrupt frame
    (base / "README.pdf").write_bytes(b"%PDF")
    (base / "extras").mkdir()
    return root


SESSION_XML = ('<?xml version="1.0" encoding="utf-8"?>\n<session sessionId="{sid}" '
               'mediaFile="{name}.avi"><subject id="{subject}"/><track id="0" view="0"/>'
               '<annotation id="1" filename="{name}-oao_aucs.xml"/></session>\n')
META_XML = ('<?xml version="1.0" encoding="utf-8"?>\n<Metatags><Metatag Name="Gender" Value="1"/>'
            '<Metatag Name="Emotion" Value="{code}"/></Metatags>\n')


def mmi_session(base: Path, sid: int, subject: int, take: int, code: int | None,
                *, session_xml: bool = True, corrupt: bool = False) -> Path:
    folder = base / str(sid)
    name = f"S{subject:03d}-{take:03d}"
    (garbage if corrupt else video)(folder / f"{name}.avi")
    if session_xml:
        (folder / "session.xml").write_text(SESSION_XML.format(sid=sid, name=name, subject=subject))
    if code is not None:
        (folder / f"{name}.xml").write_text(META_XML.format(code=code))
    return folder


def mmi(tmp: Path) -> Path:
    root = tmp / "MMI"
    base = root / "Sessions"
    sid = 100
    for subject in (1, 2, 3, 4):
        for take, code in enumerate((1 + subject % 6, 4), 1):
            sid += 1
            mmi_session(base, sid, subject, take, code)
    mmi_session(base, 200, 5, 1, None)                          # AU-only session: unlabelled
    mmi_session(base, 201, 6, 1, 4, session_xml=False)          # subject from the video name
    mmi_session(base, 202, 7, 1, 2, corrupt=True)               # corrupt video
    folder = mmi_session(base, 203, 8, 1, 3)
    (folder / "S008-001.xml").write_text("<Metatags><Metatag Name=")   # broken XML
    frame(base / "204" / "S009-001.jpg", 50)                    # still-image session
    (base / "205").mkdir()                                      # empty session
    return root


def oulu(tmp: Path) -> Path:
    root = tmp / "Oulu-CASIA"
    for spectrum in ("VL", "NI"):
        for light in ("Strong", "Dark"):
            for p in ("P001", "P002", "P003"):
                for expr in ("Anger", "Happiness", "Surprise"):
                    frames(root / "OriginalImg" / spectrum / light / p / expr, 3, ".jpeg")
    vl = root / "OriginalImg" / "VL" / "Strong"
    (vl / "P003" / "Fear").mkdir()                                            # no frames
    frames(vl / "P002" / "Bored", 2, ".jpeg")                                 # unknown folder
    (vl / "P001" / "Anger" / "001.jpeg").write_bytes(b"")                     # zero-byte frame
    return root


def ravdess(tmp: Path) -> Path:
    root = tmp / "ravdess"
    for actor in (1, 2, 3, 4):
        for emotion in (1, 2, 3, 5):
            for modality in (1, 2, 3):
                ext = ".wav" if modality == 3 else ".mp4"
                name = f"{modality:02d}-01-{emotion:02d}-01-01-01-{actor:02d}{ext}"
                if modality == 3:
                    garbage(root / f"Actor_{actor:02d}" / name)
                else:
                    video(root / f"Actor_{actor:02d}" / name)
    video(root / "Actor_01" / "02-02-04-02-02-02-01.mp4")                     # song, sad, strong
    video(root / "Actor_02" / "02-01-09-01-01-01-02.mp4")                     # emotion 09: bad
    garbage(root / "Actor_03" / "02-01-06-01-01-02-03.mp4")                   # corrupt
    video(root / "Actor_04" / "notes.mp4")                                    # not RAVDESS-named
    return root


def generic(tmp: Path) -> Path:
    root = tmp / "mine"
    for s in ("s01", "s02", "s03"):
        video(root / "happy" / f"{s}_take1.avi")
        frames(root / "Anger" / f"{s}-clip", 3)
        video(root / "joy" / f"{s}_x.mp4")
    frame(root / "sad" / "s04_still.png", 9)
    garbage(root / "sad" / "s05_broken.avi")
    (root / "sad" / "notes.txt").write_text("hello")
    video(root / "happy" / "_nosubject.avi")
    (root / "README.txt").write_text("top-level file, ignored")
    return root


def rafdb(tmp: Path, n: int = 8) -> Path:
    root = tmp / "basic"
    lines = []
    for i in range(1, n + 1):
        part = "train" if i <= n - 2 else "test"
        name = f"{part}_{i:05d}.jpg"
        lines.append(f"{name} {1 + i % 7}")
        frame(root / "Image" / "aligned" / f"{part}_{i:05d}_aligned.jpg", i)
    lines += ["train_09999.jpg 3", "train_00777.jpg nine", ""]                  # missing; bad code
    (root / "EmoLabel").mkdir(parents=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    return root


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with (size, mtime_ns): proof that nothing was written."""
    return {str(p.relative_to(root)): (p.stat().st_size if p.is_file() else -1, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))} | {".": (-1, root.stat().st_mtime_ns)}
