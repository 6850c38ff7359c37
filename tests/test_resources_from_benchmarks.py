"""benchmarks/resources_from_benchmarks.py on synthetic Snakemake benchmark files."""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import resources_from_benchmarks as rfb  # noqa: E402

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def bench(path: Path, seconds, rss) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t50\t1\n")


def test_suggestions_take_the_largest_job_with_the_margin(tmp_path, capsys):
    root = tmp_path / "benchmarks"
    bench(root / "align_shard" / "ckplus" / "0.tsv", 100.0, 700.0)
    bench(root / "align_shard" / "ckplus" / "1.tsv", 400.0, 1100.0)   # largest of the rule
    bench(root / "align_shard" / "mug" / "0.tsv", 50.0, "NA")         # no memory figure
    bench(root / "train_model" / "ckplus" / "vgg3d" / "a" / "seed0" / "fold0.tsv", 3000.0, 9000.0)
    bench(root / "train_gan" / "ckplus" / "fold0.tsv", 20.0, "NA")
    s = rfb.suggest(rfb.read_benchmarks(root), margin=1.5)
    assert s["align_shard"] == {"jobs": 3, "max_rss": 1100.0, "mem_mb": 2000,   # 1650 -> 2000
                                "max_s": 400.0, "runtime": 10}                  # 10 min
    assert s["train_model"]["mem_mb"] == 13500 and s["train_model"]["runtime"] == 75
    assert "mem_mb" not in s["train_gan"] and s["train_gan"]["runtime"] == 5    # floor
    profile = tmp_path / "config.yaml"
    profile.write_text(yaml.safe_dump({"set-resources": {"align_shard": {"mem_mb": "4000 * attempt"}}}))
    assert rfb.main([str(root), "--profile", str(profile)]) == 0
    text = capsys.readouterr().out
    parsed = yaml.safe_load(text)["set-resources"]  # pastes as profile YAML
    assert parsed["align_shard"] == {"mem_mb": "2000 * attempt", "runtime": "10 * attempt"}
    assert "profile now: 4000 * attempt" in text
    assert parsed["train_model"]["mem_mb"] == "13500 * attempt"


def test_bad_input_names_the_problem(tmp_path, capsys):
    assert rfb.main([str(tmp_path / "nothing")]) == 2
    assert "no benchmark files" in capsys.readouterr().err
    bad = tmp_path / "b" / "train_model" / "x.tsv"
    bad.parent.mkdir(parents=True)
    bad.write_text("seconds\tmemory\n1\t2\n")
    assert rfb.main([str(tmp_path / "b")]) == 2
    assert f"{bad}: not a Snakemake benchmark file" in capsys.readouterr().err
