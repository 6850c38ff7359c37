"""Dataset trees with the quirks of the real releases, written from their documented layouts
(the adapters' docstrings, the releases' READMEs), never by the demo renderer.

Each builder returns ``(root, expected)``: ``expected`` holds the counts registration must
give (``registered``, ``labelled``, ``unlabelled``, ``rejected``) and the planted quirks are
listed in ``QUIRKS`` with what the adapter does with each. Frames are tiny (16x16) except
the CK+ pair at the release's own sizes (640x490 grey beside 720x480 colour: flat images,
a few kB).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dataset_trees import frame, frames, garbage, video

BOM = "\ufeff"


def clutter(folder: Path) -> None:
    """What file browsers and archive tools leave behind in a released tree."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(32))
    (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(60))


def truncated(path: Path, value: int = 90) -> Path:
    """A frame cut off mid-file (an interrupted copy): its first half only."""
    img = np.full((64, 64, 3), value, np.uint8)
    img[::4] = 255 - value
    ok, data = cv2.imencode(path.suffix, img)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.tobytes()[: len(data) // 2])
    return path


def zero_byte(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def sized_frames(folder: Path, n: int, size: tuple[int, int], grey: bool, prefix: str) -> None:
    """Release-size frames: CK+ holds grey 640x490 and colour 720x480 sequences side by side."""
    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    for i in range(n):
        img = np.full((h, w) if grey else (h, w, 3), 40 + 30 * i, np.uint8)
        cv2.imwrite(str(folder / f"{prefix}_{i + 1:08d}.png"), img)


def ckplus_label(root: Path, subject: str, seq: str, text: str) -> None:
    path = root / "Emotion" / subject / seq / f"{subject}_{seq}_00000003_emotion.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def ckplus(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "CK+"
    images = root / "cohn-kanade-images"
    sized_frames(images / "S005" / "001", 3, (640, 490), True, "S005_001")
    sized_frames(images / "S010" / "001", 3, (720, 480), False, "S010_001")
    frames(images / "S005" / "002", 3, ".png", "S005_002_{i:08d}")
    frames(images / "S011" / "001", 3, ".png", "S011_001_{i:08d}")       # no emotion file
    clutter(images / "S011" / "002")                                        # empty sequence
    frames(images / "S014" / "001", 2, ".png", "S014_001_{i:08d}")
    truncated(images / "S014" / "001" / "S014_001_00000009.png")          # truncated frame
    frames(images / "S014" / "002", 2, ".png", "S014_002_{i:08d}")
    zero_byte(images / "S014" / "002" / "S014_002_00000009.png")          # zero-byte frame
    frames(images / "S0O7" / "001", 3, ".png", "S0O7_001_{i:08d}")        # misnamed S007
    for subject, seq, code in (("S005", "001", 3), ("S005", "002", 5), ("S010", "001", 7),
                               ("S014", "001", 1), ("S014", "002", 6),
                               ("S007", "001", 2), ("S007", "002", 4)):
        ckplus_label(root, subject, seq, f"   {code:.7e}\n")                # scientific notation
    for folder in (images, images / "S005", images / "S005" / "001", root / "Emotion",
                   root / "Emotion" / "S005" / "001"):
        clutter(folder)
    facs = root / "FACS" / "S005" / "001" / "S005_001_00000003_facs.txt"
    facs.parent.mkdir(parents=True)
    facs.write_text("   1.0000000e+00   0.0000000e+00\n   2.0000000e+00   0.0000000e+00\n")
    marks = root / "Landmarks" / "S005" / "001" / "S005_001_00000001_landmarks.txt"
    marks.parent.mkdir(parents=True)
    marks.write_text("   2.4316000e+02   2.3152000e+02\n" * 68)
    # S005_001, S005_002, S010_001 labelled; S011_001 and S0O7_001 unlabelled; rejected:
    # S011/002 (empty), S014/001 (truncated), S014/002 (zero-byte), 2 S007 emotion files
    return root, {"registered": 5, "labelled": 3, "unlabelled": 2, "rejected": 5}


SESSION_XML = ('<?xml version="1.0" encoding="utf-8"?>\n<session sessionId="{sid}" '
               'mediaFile="{name}.avi"><subject id="{subject}"/><track id="0" view="0"/>'
               '<annotation id="1" filename="{name}-oao_aucs.xml"/></session>\n')
META_XML = ('<?xml version="1.0" encoding="utf-8"?>\n<Metatags><Metatag Name="Gender" Value="1"/>'
            '<Metatag Name="Emotion" Value="{code}"/></Metatags>\n')
AUCS_XML = ('<?xml version="1.0" encoding="utf-8"?>\n<ActionUnits><ActionUnit Number="12">'
            '<Marker Frame="3" Type="1"/></ActionUnit></ActionUnits>\n')


def mmi_session(base: Path, sid: int, name: str, subject: int, code: int | None, *,
                bom: bool = False, aus_only: bool = False) -> Path:
    folder = base / str(sid)
    video(folder / f"{name}.avi")
    (folder / "session.xml").write_text((BOM if bom else "") + SESSION_XML.format(
        sid=sid, name=name, subject=subject), encoding="utf-8")
    if code is not None:
        (folder / f"{name}.xml").write_text(META_XML.format(code=code))
    if aus_only or code is not None:
        (folder / f"{name}-oao_aucs.xml").write_text(AUCS_XML)
    return folder


def mmi(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "mmi-facial-expression-database"
    base = root / "Sessions"
    mmi_session(base, 1766, "S001-001", 1, 4)
    mmi_session(base, 1767, "S001-002", 1, 6, bom=True)                    # BOM in session.xml
    mmi_session(base, 1768, "S002-001", 2, None, aus_only=True)            # AU-only session
    mmi_session(base, 1769, "S002-002", 2, None, aus_only=True, bom=True)
    two = mmi_session(base, 1770, "S003-001", 3, 1)
    video(two / "S003-001b.avi")                                           # two videos
    renamed = mmi_session(base, 1771, "S003-002", 3, None)
    (renamed / "S003-009.xml").write_text(META_XML.format(code=5))        # label of no video
    clutter(base / "1766")
    clutter(base)
    frame(base / "1800" / "S009-001.jpg", 70)                              # still-image session
    (base / "__MACOSX" / "1766").mkdir(parents=True)
    (base / "__MACOSX" / "1766" / "._S001-001.avi").write_bytes(b"\x00\x05\x16\x07")
    # registered 1766, 1767 (labelled), 1768, 1769, 1771 (unlabelled); rejected: 1770 (two
    # videos), S003-009.xml (label without frames); 1800 skipped (stills: false)
    return root, {"registered": 5, "labelled": 2, "unlabelled": 3, "rejected": 2}


def mug(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "MUG"
    base = root / "subjects3"
    for subject in ("001", "002"):
        for expr in ("anger", "happiness", "neutral"):
            frames(base / subject / expr / "take000", 3, ".jpg", "img_{i:04d}")
    clutter(base / "001" / "anger" / "take000")
    (base / "001" / "anger" / "take000" / "._img_0000.jpg").write_bytes(b"\x00\x05\x16\x07")
    frames(base / "002" / "surprise", 3, ".jpg", "img_{i:04d}")            # no take level
    clutter(base / "002" / "fear" / "take000")                             # empty take
    frames(base / "003" / "sadness" / "take000", 2, ".jpg", "img_{i:04d}")
    truncated(base / "003" / "sadness" / "take000" / "img_0002.jpg")      # truncated frame
    frames(base / "003" / "disgust" / "take000", 2, ".jpg", "img_{i:04d}")
    zero_byte(base / "003" / "disgust" / "take000" / "img_0002.jpg")      # zero-byte frame
    frames(base / "003" / "disgust" / "take001", 3, ".jpg", "img_{i:04d}")
    clutter(base)
    (base / "__MACOSX").mkdir()
    (root / "MUG_database_README.pdf").write_bytes(b"%PDF-1.4")
    # registered: 001 x3, 002 x3 + 002_surprise, 003_disgust_take001; rejected: empty take,
    # truncated and zero-byte frames
    return root, {"registered": 8, "labelled": 8, "unlabelled": 0, "rejected": 3}


def oulu_spectrum(root: Path, spectrum: str, offset: int) -> None:
    """One spectrum's Strong-light clips; ``offset`` makes NI frames differ from VL ones."""
    base = root / "OriginalImg" / spectrum / "Strong"
    for subject in ("PN001", "P002", "P003"):
        for expr in ("Anger", "Happiness", "Surprise"):
            folder = base / subject / expr
            for i in range(3):
                frame(folder / f"{i:03d}.jpeg", 20 * i + offset)
            clutter(folder)


def oulu(tmp: Path, spectra: tuple[str, ...] = ("VL", "NI")) -> tuple[Path, dict]:
    root = tmp / "Oulu-CASIA"
    for k, spectrum in enumerate(spectra):
        oulu_spectrum(root, spectrum, 7 * k + 3)
    vl = root / "OriginalImg" / "VL" / "Strong"
    clutter(vl / "P003" / "Fear")                                          # empty expression
    zero_byte(vl / "P002" / "Anger" / "003.jpeg")                         # zero-byte frame
    truncated(vl / "P003" / "Surprise" / "003.jpeg")                      # truncated frame
    clutter(vl)
    # VL: 9 clips, 2 broken -> 7 registered; rejected: P003/Fear, P002/Anger, P003/Surprise
    return root, {"registered": 7, "labelled": 7, "unlabelled": 0, "rejected": 3}


def rafdb(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "basic"
    lines = []
    for i in range(1, 7):
        name = f"{'train' if i <= 4 else 'test'}_{i:05d}.jpg"
        lines.append(f"{name} {i}")
        frame(root / "Image" / "aligned" / name.replace(".jpg", "_aligned.jpg"), 30 * i)
    frame(root / "Image" / "aligned" / "train_00099_aligned.jpg", 5)      # listed nowhere
    lines += ["", "train_00077.jpg 3", "train_00078.jpg eight"]             # missing; bad code
    clutter(root / "Image" / "aligned")
    (root / "EmoLabel").mkdir(parents=True)
    text = BOM + "\r\n".join(lines) + "\r\n"                                # BOM + CRLF
    (root / "EmoLabel" / "list_patition_label.txt").write_bytes(text.encode("utf-8"))
    return root, {"registered": 6, "labelled": 6, "unlabelled": 0, "rejected": 2}


def ravdess(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "ravdess"
    for actor in (1, 2):
        for emotion in (1, 2, 5):
            video(root / f"Actor_{actor:02d}" / f"02-01-{emotion:02d}-01-01-01-{actor:02d}.mp4")
            video(root / f"Actor_{actor:02d}" / f"01-01-{emotion:02d}-01-01-01-{actor:02d}.mp4")
        garbage(root / f"Actor_{actor:02d}" / f"03-01-01-01-01-01-{actor:02d}.wav")
        clutter(root / f"Actor_{actor:02d}")
    apple = root / "__MACOSX" / "Actor_01" / "._02-01-03-01-01-01-01.mp4"
    apple.parent.mkdir(parents=True)
    apple.write_bytes(b"\x00\x05\x16\x07" + bytes(60))
    garbage(root / "Actor_02" / "02-01-04-01-01-02-02.mp4")                # corrupt video
    # registered 6 video-only (2 calm: unlabelled); 01-* audio-video ignored; 1 corrupt
    return root, {"registered": 6, "labelled": 4, "unlabelled": 2, "rejected": 1}


def generic(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "collection"
    for subject in ("s01", "s02"):
        video(root / "happy" / f"{subject}_a.avi")
        frames(root / "Angry" / f"{subject}-clip", 3)
    frame(root / "neutral" / "s03_still.png", 40)
    clutter(root / "happy")
    clutter(root / "Angry" / "s01-clip")
    clutter(root / "Angry" / "s03-clip")                                   # empty clip folder
    zero_byte(root / "neutral" / "s04_blank.png")
    (root / "__MACOSX" / "happy").mkdir(parents=True)
    clutter(root)
    return root, {"registered": 5, "labelled": 5, "unlabelled": 0, "rejected": 2}


BUILDERS = {"ckplus": ckplus, "mmi": mmi, "mug": mug, "oulu": oulu, "rafdb": rafdb,
            "ravdess": ravdess, "generic": generic}

# quirk -> what the adapters do with it (the closing note of issue #15 lists these)
QUIRKS = {
    "scientific-notation CK+ label file ('   3.0000000e+00')": "read as float, then code 3",
    ".DS_Store, Thumbs.db, macOS ._* files, __MACOSX/": "ignored everywhere (base.is_clutter)",
    "CK+ FACS/ and Landmarks/ folders": "ignored (only cohn-kanade-images/ and Emotion/ read)",
    "grey 640x490 beside colour 720x480 frames": "both registered; frames read as 3-channel RGB",
    "empty sequence / take / expression / clip folder": "rejected: holds no image frames",
    "truncated frame": "clip rejected: not a decodable image (names the frame)",
    "zero-byte frame": "clip rejected: empty or missing image file (names the frame)",
    "CK+ emotion file whose sequence folder is misnamed (S0O7)":
        "sequence unlabelled; emotion file rejected: label file without frames (+ closest name)",
    "MMI AU-only session (no Emotion tag)": "registered unlabelled",
    "MMI session with two videos": "session rejected as ambiguous",
    "MMI metadata naming no video of its session": "rejected: label file without frames",
    "BOM in MMI session.xml": "parsed (subject read)",
    "BOM and CRLF in RAF-DB list_patition_label.txt": "parsed",
    "RAF-DB list line whose image is missing": "rejected: label file without frames (file:line)",
    "MUG expression folder without take level": "read as take000",
    "RAVDESS audio-video (01) and audio-only (03) files": "ignored by default (counted in the log)",
}
