"""Job environments (envs/*.yaml, for `--sdm conda`): inline pins from the lock, no Snakemake,
and every library a rule's script imports (directly or through ferstudy) is in its env."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from test_import_graph import import_graph, module_names

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "envs"))
import write_envs  # noqa: E402

STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def rules_with_envs() -> dict[str, tuple[str, str]]:
    """rule name -> (script path relative to workflow/rules, env purpose), from the rule files."""
    out = {}
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=rule \w+:)", path.read_text())[1:]:
            name = re.match(r"rule (\w+):", block).group(1)
            script = re.search(r"script:\s+\"([^\"]+)\"", block)
            env = re.search(r"conda:\s+ENVS\[\"(\w+)\"\]", block)
            assert env, f"rule {name} ({path.name}) has no conda: ENVS[...]"
            out[name] = (script.group(1) if script else None, env.group(1))
    return out


def pinned(purpose: str) -> dict[str, str]:
    text = (REPO / "envs" / f"{purpose}.yaml").read_text()
    return {write_envs.canonical(m.group(1)): m.group(2)
            for m in re.finditer(r"^\s+- ([A-Za-z0-9_.\-]+)==(\S+)$", text, re.M)}


def imported_libraries(script: Path) -> set[str]:
    """Top-level names of third-party modules the script can import: its own imports and those
    of every ferstudy module reachable from them (module- and function-level, parents too)."""
    src = REPO / "src"
    modules = module_names(src, "ferstudy")
    top, lazy = import_graph(src, "ferstudy")

    def imports(path: Path) -> set[str]:
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
        return names

    def module_of(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    direct = imports(script)
    stack = [m for m in map(module_of, direct) if m]
    seen: set[str] = set()
    while stack:
        mod = stack.pop()
        if mod in seen:
            continue
        seen.add(mod)
        parts = mod.split(".")
        stack += [".".join(parts[:i]) for i in range(1, len(parts))]
        stack += top[mod] | lazy[mod]
    names = direct.union(*(imports(modules[m][0]) for m in seen))
    return {n.split(".")[0] for n in names} - STDLIB - {"ferstudy", "snakemake"}


def test_env_files_are_generated_from_the_lock():
    pins = write_envs.lock_pins()
    for purpose in write_envs.PURPOSES:
        text = (REPO / "envs" / f"{purpose}.yaml").read_text()
        assert text == write_envs.render(purpose, pins), \
            f"envs/{purpose}.yaml is stale: run `python envs/write_envs.py`"


@pytest.mark.parametrize("purpose", list(write_envs.PURPOSES))
def test_env_pins_inline_without_snakemake(purpose):
    text = (REPO / "envs" / f"{purpose}.yaml").read_text()
    assert not re.search(r"^\s+- -r ", text, re.M), "a `pip -r` file is not hashed by Snakemake"
    pins = pinned(purpose)
    lock = write_envs.lock_pins()
    assert pins and all(lock[name] == version for name, version in pins.items())
    assert not {n for n in pins if n.startswith("snakemake")}
    assert re.search(r"^\s+- -e \.\.(\[\w+\])?\s", text, re.M), "ferstudy itself is installed"


@pytest.mark.slow
def test_every_rule_env_has_what_its_script_imports():
    to_dist = metadata.packages_distributions()
    missing = {}
    for rule, (script, purpose) in rules_with_envs().items():
        assert script, f"rule {rule} runs no script"
        libs = imported_libraries((REPO / "workflow" / "rules" / script).resolve())
        dists = {write_envs.canonical(d) for lib in libs for d in to_dist.get(lib, [lib])}
        lacking = dists - set(pinned(purpose))
        if lacking:
            missing[rule] = (purpose, sorted(lacking))
    assert not missing, f"rule -> (env, missing distributions): {missing}"


def test_the_check_sees_heavy_imports():
    """The walk is not vacuous: training reaches torch, alignment cv2 and mediapipe, and the
    fetch env could not run alignment."""
    rules = rules_with_envs()
    script = REPO / "workflow" / "rules" / rules["train_model"][0]
    assert "torch" in imported_libraries(script.resolve())
    align = imported_libraries((REPO / "workflow" / "rules" / rules["align_shard"][0]).resolve())
    assert {"cv2", "mediapipe"} <= align
    assert "opencv-contrib-python" not in pinned("fetch")


def test_cv2_is_declared_as_the_build_mediapipe_uses():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    faces = project["optional-dependencies"]["faces"]
    assert any(d.startswith("opencv-contrib-python") for d in faces)
    assert not any(d.startswith("opencv-python") for d in
                   project["dependencies"] + sum(project["optional-dependencies"].values(), []))
    assert "opencv-contrib-python" in pinned("faces")
    assert not any(d.startswith("snakemake") for d in project["dependencies"])
