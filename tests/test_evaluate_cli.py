"""`ferstudy evaluate` / `ferstudy figures` are wired into the CLI and fail clearly."""
import yaml

from ferstudy.cli import main


def _config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "results": str(tmp_path / "results"),
        "datasets": {"ckplus": {"root": str(tmp_path / "raw")}},
        "study": {"datasets": ["ckplus"], "archs": ["vgg3d"], "inits": ["ri"]}}))
    return str(path)


def test_evaluate_rejects_a_path_that_is_not_a_run(tmp_path, capsys):
    assert main(["evaluate", "--config", _config(tmp_path), "--run", str(tmp_path / "x")]) == 2
    assert "is not a run path" in capsys.readouterr().err


def test_figures_without_runs_says_to_train_first(tmp_path, capsys):
    assert main(["figures", "--config", _config(tmp_path)]) == 2
    assert "no finished run of study" in capsys.readouterr().err
