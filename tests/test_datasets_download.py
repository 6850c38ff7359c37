"""The RAVDESS downloader against a local HTTP server (127.0.0.1) serving fixture zips:
resume over HTTP Range, sha256 verification, atomic extraction, CLI and Snakemake rule."""
from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

import dataset_trees as trees
from ferstudy import cli
from ferstudy.datasets.download import DownloadError, download_set, extract_all, fetch
from ferstudy.datasets.register import read_manifest


class Server:
    """Serves ``files`` (name -> bytes); the first ``cut[name]`` requests of a file stop after
    half the body (a dropped connection); ``ranges=False`` ignores Range headers."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}
        self.ranges = True
        self.log: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                rng = self.headers.get("Range")
                server.log.append((name, rng))
                if name not in server.files:
                    self.send_error(404)
                    return
                body = server.files[name]
                start = int(rng.split("=")[1].split("-")[0]) if rng and server.ranges else 0
                if start >= len(body) and rng:
                    self.send_error(416)
                    return
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                chunk = body[start:]
                if server.cut.get(name, 0) > 0:
                    server.cut[name] -= 1
                    self.wfile.write(chunk[: len(chunk) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(chunk)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/records/1188976/files"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def actor_zip(tmp: Path, actor: int) -> bytes:
    """A Video_Speech_Actor_NN.zip in the release layout: Actor_NN/<coded name>.mp4."""
    src = tmp / f"src{actor}"
    names = []
    for emotion in (3, 5):
        name = f"Actor_{actor:02d}/02-01-{emotion:02d}-01-01-01-{actor:02d}.mp4"
        trees.video(src / name)
        names.append(name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in names:
            z.write(src / name, name)
        z.writestr(f"Actor_{actor:02d}/", "")
    return buf.getvalue() + b"\0" * 50_000        # padding: several chunks to cut and resume


def spec(server, files, sha=None, **extra):
    return {"base_url": server.url, "files": files, "sha256": sha or {}, "dest": "ravdess",
            "retries": 2, "timeout_s": 10, "keep_archives": True, "require_sha256": False, **extra}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_interrupted_download_resumes_and_extracts(tmp_path, server):
    a, b = actor_zip(tmp_path, 1), actor_zip(tmp_path, 2)
    server.files = {"Video_Speech_Actor_01.zip": a, "Video_Speech_Actor_02.zip": b}
    server.cut["Video_Speech_Actor_01.zip"] = 1
    res = tmp_path / "resources"
    table = download_set("ravdess", spec(server, list(server.files), {"Video_Speech_Actor_01.zip": sha(a)}),
                         res / "ravdess", res / "downloads" / "ravdess", res / "downloads" / "ravdess.csv")
    first = [rng for name, rng in server.log if name == "Video_Speech_Actor_01.zip"]
    assert first[0] is None and first[1] == f"bytes={len(a) // 2}-"          # resumed mid-file
    assert (res / "downloads" / "ravdess" / "Video_Speech_Actor_01.zip").read_bytes() == a
    assert list(table["sha256"]) == [sha(a), sha(b)] and list(table["pinned"]) == [True, False]
    assert sorted(p.name for p in (res / "ravdess").iterdir()) == ["Actor_01", "Actor_02"]
    assert not list(res.glob(".tmp-*")) and not list(res.rglob("*.part"))
    n_requests = len(server.log)                   # a rerun verifies the kept zips, fetches nothing
    again = download_set("ravdess", spec(server, list(server.files)), res / "ravdess",
                         res / "downloads" / "ravdess", res / "downloads" / "ravdess.csv")
    assert len(server.log) == n_requests and again["sha256"].equals(table["sha256"])
    assert sorted(p.name for p in (res / "ravdess").iterdir()) == ["Actor_01", "Actor_02"]
    from ferstudy.datasets.register import make_adapter, scan_dataset
    m, rej = scan_dataset(make_adapter("ravdess", {"root": str(res / "ravdess")}))
    assert len(m) == 4 and rej.empty and set(m["label"]) == {"happiness", "anger"}


def test_part_file_from_an_earlier_run_is_resumed(tmp_path, server, caplog):
    a = actor_zip(tmp_path, 3)
    server.files = {"a.zip": a}
    dest = tmp_path / "dl" / "a.zip"
    dest.parent.mkdir()
    dest.with_name("a.zip.part").write_bytes(a[:1000])
    with caplog.at_level("INFO", logger="ferstudy"):
        assert fetch(f"{server.url}/a.zip", dest, sha(a), key="k", retries=0) == sha(a)
    assert server.log == [("a.zip", "bytes=1000-")] and dest.read_bytes() == a
    # progress: this request's bytes (rate, then the time taken), and where the file stands
    last = [r.getMessage() for r in caplog.records if "received" in r.getMessage()][-1]
    mb = f"{(len(a) - 1000) / 1e6:.1f}/{(len(a) - 1000) / 1e6:.1f} MB"
    assert last.startswith(f"a.zip: received {mb} (") and "MB/s, in " in last
    assert last.endswith(f"(file at {len(a) / 1e6:.1f} MB)")


def test_server_without_range_support_restarts(tmp_path, server):
    a = actor_zip(tmp_path, 4)
    server.files, server.ranges = {"a.zip": a}, False
    dest = tmp_path / "a.zip"
    dest.with_name("a.zip.part").write_bytes(b"stale bytes")
    fetch(f"{server.url}/a.zip", dest, sha(a), key="k", retries=0)
    assert dest.read_bytes() == a


def test_checksum_mismatch_fails_clearly_and_extracts_nothing(tmp_path, server):
    a, b = actor_zip(tmp_path, 1), actor_zip(tmp_path, 2)
    server.files = {"A.zip": a, "B.zip": b}
    res = tmp_path / "resources"
    with pytest.raises(DownloadError, match=r"B.zip: sha256 mismatch: got [0-9a-f]{64}, expected "
                                            r"0{64} \(download.ravdess.sha256.B.zip\).*nothing was extracted"):
        download_set("ravdess", spec(server, ["A.zip", "B.zip"], {"B.zip": "0" * 64}), res / "ravdess",
                     res / "downloads" / "ravdess", res / "downloads" / "ravdess.csv")
    assert not (res / "ravdess").exists() and not (res / "downloads" / "ravdess.csv").exists()
    assert not list((res / "downloads" / "ravdess").glob("B.zip*"))      # bad bytes removed
    assert not list(res.glob(".tmp-*"))


def test_gives_up_after_retries_keeping_the_part(tmp_path, server):
    a = actor_zip(tmp_path, 1)
    server.files, server.cut = {"a.zip": a}, {"a.zip": 99}
    dest = tmp_path / "a.zip"
    with pytest.raises(DownloadError, match=r"interrupted .* after 2 attempt\(s\); \d+ bytes kept .*run again to resume"):
        fetch(f"{server.url}/a.zip", dest, None, key="k", retries=1)
    assert 0 < dest.with_name("a.zip.part").stat().st_size < len(a) and not dest.exists()


def test_missing_file_and_required_checksum(tmp_path, server):
    with pytest.raises(DownloadError, match=r"nope.zip: HTTP 404"):
        fetch(f"{server.url}/nope.zip", tmp_path / "nope.zip", None, key="k")
    with pytest.raises(DownloadError, match=r"no sha256 configured and 'require_sha256' is true; set k"):
        fetch(f"{server.url}/x.zip", tmp_path / "x.zip", None, key="k", require_sha256=True)


def test_archive_escaping_the_target_is_refused(tmp_path):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../outside.txt", "x")
    with pytest.raises(DownloadError, match="would extract outside"):
        extract_all([evil], tmp_path / "out")
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "out").exists()


def test_cli_download(tmp_path, server, capsys):
    a = actor_zip(tmp_path, 5)
    server.files = {"Video_Speech_Actor_05.zip": a}
    cfg = {"resources": str(tmp_path / "res"), "datasets": {"ckplus": {"root": "/data/CK+"}},
           "study": {"datasets": ["ckplus"], "archs": ["vgg3d"]},
           "download": {"ravdess": {"base_url": server.url, "files": ["Video_Speech_Actor_05.zip"],
                                    "sha256": {"Video_Speech_Actor_05.zip": sha(a)}}}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.main(["download", "--config", str(path)]) == 0, capsys.readouterr().err
    assert (tmp_path / "res" / "ravdess" / "Actor_05").is_dir()
    assert (tmp_path / "res" / "downloads" / "ravdess.csv").read_text().count(sha(a)) == 1
    assert cli.main(["download", "--config", str(path), "--name", "crema"]) == 2
    assert "'crema' is not in the 'download' config section; known: ravdess" in capsys.readouterr().err


@pytest.mark.slow
def test_snakemake_downloads_then_registers_ravdess(tmp_path, server):
    server.files = {f"Video_Song_Actor_0{i}.zip": actor_zip(tmp_path, i) for i in (6, 7)}
    cfg = {"datasets": {"ravdess": {"root": "resources/ravdess", "download": True}},
           "register": {"folds": 2}, "study": {"datasets": ["ravdess"], "archs": ["vgg3d"]},
           "download": {"ravdess": {"base_url": server.url, "files": sorted(server.files),
                                    "sha256": {k: sha(v) for k, v in server.files.items()}}}}
    work = tmp_path / "work"
    work.mkdir()
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run([str(Path(sys.executable).parent / "snakemake"), "results/registry/ravdess.csv",
                           "-s", str(repo / "Snakefile"), "-d", str(work), "--configfile",
                           str(work / "config.yaml"), "--cores", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    m = read_manifest(work / "results" / "registry" / "ravdess.csv")
    assert sorted(m["clip_id"]) == ["02-01-03-01-01-01-06", "02-01-03-01-01-01-07",
                                    "02-01-05-01-01-01-06", "02-01-05-01-01-01-07"]
    assert m.groupby("subject")["fold"].nunique().max() == 1 and set(m["fold"]) == {0, 1}


def test_download_root_mismatch_stops_the_workflow(tmp_path):
    from ferstudy import config as fcfg
    from ferstudy.datasets.download import check_download_roots

    cfg = fcfg.validate({"datasets": {"rv": {"adapter": "ravdess", "root": "/data/rv", "download": True}},
                         "study": {"datasets": ["rv"], "archs": ["vgg3d"]}})
    with pytest.raises(fcfg.ConfigError, match=r"'datasets.rv.root': with download: true it must be "
                                                r"resources/ravdess"):
        check_download_roots(cfg)
    cfg["datasets"]["rv"]["adapter"] = "mug"
    with pytest.raises(fcfg.ConfigError, match=r"no download rule for adapter 'mug'; downloadable: ravdess"):
        check_download_roots(cfg)
