"""Every command we print works as written: the README's "Your own data" section, config.yaml's
header and the error messages' suggested fixes, run with fixture roots in place of /data/...
A wrong root stops the workflow while the job graph is built, before any job starts."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import dataset_trees as trees
from align_fixtures import MODELS

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# placeholder roots in the docs -> (dataset, fixture tree builder)
PLACEHOLDERS = {"CK+": ("ckplus", trees.ckplus), "MMI": ("mmi", trees.mmi),
                "MUG": ("mug", trees.mug), "Oulu-CASIA": ("oulu", trees.oulu)}

pytestmark = pytest.mark.slow


@pytest.fixture
def work(tmp_path):
    """A working directory like a checkout's: config.yaml and studies/, fixture roots beside.
    Its demo study trains RI only: with real data, FT needs a pretraining source the user
    chooses (train.pretrain.*; the demo's rendered pool is refused, tested in test_train_pool),
    and these tests are about the commands' root handling."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["study"]["inits"] = ["ri"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copytree(ROOT / "studies", tmp_path / "studies")
    return tmp_path


def commands(text: str) -> list[str]:
    """`snakemake ...` / `ferstudy ...` command lines (backslash continuations joined; comment
    markers and trailing comments dropped)."""
    text = re.sub(r"\\\n[#\s]*", " ", text)
    out = []
    for line in text.splitlines():
        line = line.lstrip("#").strip()
        if line.startswith(("snakemake ", "ferstudy ")):
            out.append(re.sub(r"\s+#\s.*$", "", line))
    return out


def with_fixtures(command: str, tmp: Path) -> tuple[str, list[str]]:
    """The command with each placeholder root replaced by a fixture tree; the datasets touched."""
    touched = []
    for name, (dataset, build) in PLACEHOLDERS.items():
        pattern = rf"(/data|/mnt/fer)/{re.escape(name)}(?=[\s,}}']|$)"
        if re.search(pattern, command):
            root = tmp / "roots" / dataset
            if not root.exists():
                build(root)
            command = re.sub(pattern, str(next(root.iterdir())), command)
            touched.append(dataset)
    return command, touched


def run_command(command: str, work: Path, datasets: list[str]) -> subprocess.CompletedProcess:
    """A snakemake command is dry-run (-n) for the registration of the datasets it names, so a
    full-size study needs no grid of thousands of jobs; a ferstudy command runs for real."""
    args = shlex.split(command)
    if args[0] == "snakemake":
        args = [str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), *args[1:], "-n",
                "--quiet", "rules", "--", *(f"results/registry/{d}.csv" for d in datasets)]
    else:
        args = [str(BIN / args[0]), *args[1:]]
    return subprocess.run(args, cwd=work, capture_output=True, text=True, timeout=240)


def section(text: str, title: str) -> str:
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_readme_your_own_data_and_config_header_commands_are_accepted(work):
    readme = section((ROOT / "README.md").read_text(encoding="utf-8"), "Your own data")
    header = (ROOT / "config.yaml").read_text(encoding="utf-8").split("\nresults:", 1)[0]
    found = commands(readme) + commands(header)
    assert len(found) >= 4, found
    for command in found:
        command, datasets = with_fixtures(command, work)
        assert datasets, f"no placeholder root in {command!r}"
        proc = run_command(command, work, datasets)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    assert (work / "results" / "registry" / "ckplus.csv").is_file()   # ferstudy register ran


def snakemake_fails(work: Path, *config: str) -> str:
    proc = subprocess.run([str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "-d", str(work),
                           "--cores", "1", "--config", *config],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode != 0
    return proc.stdout + proc.stderr


def test_wrong_root_stops_before_any_job_and_its_fix_is_accepted(work):
    missing = work / "nowhere" / "CK+"
    err = snakemake_fails(work, f"datasets={{ckplus: {{root: {missing}}}}}")
    assert f"dataset 'ckplus': root {missing} does not exist; set 'datasets.ckplus.root'" in err
    assert not (work / "results").exists() and not (work / "resources").exists()   # no job ran
    fix = re.search(r"e\.g\. (snakemake --config '[^']+')", err).group(1)
    command, datasets = with_fixtures(fix.replace("/data/...", "/data/CK+"), work)
    proc = run_command(command, work, datasets)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]

    wrong = work / "not_ckplus"
    (wrong / "photos").mkdir(parents=True)
    err = snakemake_fails(work, f"datasets={{ckplus: {{root: {wrong}}}}}")
    assert f"dataset 'ckplus': {wrong} ('datasets.ckplus.root') does not look like a" in err
    assert "missing cohn-kanade-images/" in err and "found: photos" in err
    assert not (work / "results").exists()


def test_face_model_error_suggests_an_accepted_config(work, tmp_path):
    from ferstudy.config import load_yaml
    from ferstudy.resources import ResourceError, fetch_face_models

    cfg = {**load_yaml(ROOT / "config.yaml")["face_models"], "source": "path",
           "path": str(tmp_path / "empty")}
    with pytest.raises(ResourceError) as err:
        fetch_face_models(cfg, tmp_path / "models")
    fix = re.search(r"run with (--config '[^']+')", str(err.value)).group(1)
    fix = fix.replace("<folder>", str(MODELS))
    proc = subprocess.run([str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "-n", "--quiet",
                           "rules", *shlex.split(fix), "--", "get_face_models"], cwd=work,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
