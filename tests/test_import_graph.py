"""Import hygiene: the modules of ``src/ferstudy`` import each other without cycles.

The rule. An edge A -> B is an ``import``/``from ... import`` statement in A naming module B
(``from ferstudy.x import name`` points at ``ferstudy.x.name`` when that is a module, else at
``ferstudy.x``). Two graphs are checked:

- module-level imports (what runs when A is imported): no cycle at all;
- module-level plus function-level imports: no cycle either. A lazy import that closes a loop
  still makes two modules depend on each other; it is how circles hid here before.

Not counted: the implicit import of a parent package's ``__init__`` (a package that re-exports
its submodules, as ``ferstudy.datasets`` does to fill its registry, would otherwise always be
a "cycle"), and ``importlib.import_module`` strings (``ferstudy.cli``'s lazy command table).
"""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def module_names(src: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package ``__init__``)."""
    out = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


def import_graph(src: Path, package: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module-level edges, function-level edges) between the package's modules."""
    modules = module_names(src, package)

    def target(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    top: dict[str, set[str]] = {m: set() for m in modules}
    lazy: dict[str, set[str]] = {m: set() for m in modules}
    for mod, (path, is_pkg) in modules.items():
        def visit(node: ast.AST, in_function: bool, mod=mod, is_pkg=is_pkg) -> None:
            for child in ast.iter_child_nodes(node):
                inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                          ast.Lambda))
                names: list[str] = []
                if isinstance(child, ast.Import):
                    names = [alias.name for alias in child.names]
                elif isinstance(child, ast.ImportFrom):
                    base = child.module or ""
                    if child.level:  # relative: resolve against this module's package
                        pkg = mod.split(".") if is_pkg else mod.split(".")[:-1]
                        pkg = pkg[:len(pkg) - child.level + 1]
                        base = ".".join(pkg + ([base] if base else []))
                    names = [f"{base}.{alias.name}" for alias in child.names]
                for name in names:
                    if name == package or name.startswith(package + "."):
                        dest = target(name)
                        if dest and dest != mod:
                            (lazy if inner else top)[mod].add(dest)
                visit(child, inner)

        visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return top, lazy


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]``, or None (depth-first search, colours)."""
    colour = dict.fromkeys(graph, 0)  # 0 new, 1 on the stack, 2 done
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if colour.get(nxt) == 0 and (found := dfs(nxt)):
                return found
        stack.pop()
        colour[node] = 2
        return None

    for node in sorted(graph):
        if colour[node] == 0 and (found := dfs(node)):
            return found
    return None


def test_no_cycle_among_module_level_imports():
    top, _ = import_graph(SRC, "ferstudy")
    assert len(top) > 50  # the walk saw the package
    cycle = find_cycle(top)
    assert cycle is None, "module-level import cycle: " + " -> ".join(cycle)


def test_no_cycle_even_through_function_level_imports():
    top, lazy = import_graph(SRC, "ferstudy")
    both = {m: top[m] | lazy[m] for m in top}
    cycle = find_cycle(both)
    assert cycle is None, "import cycle (through a function-level import): " + " -> ".join(cycle)


def test_the_walk_finds_cycles_it_should(tmp_path):
    """The checker itself: a registry in a package __init__ imported back by its entries (the
    old layout), a lazy cycle, and a relative import are all seen."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("REG = {}\nfrom pkg.sub import entry\n")
    (pkg / "sub" / "entry.py").write_text("from pkg.sub import REG\n")
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "b.py").write_text("import pkg.a\n")
    top, lazy = import_graph(tmp_path, "pkg")
    assert find_cycle(top) == ["pkg.sub", "pkg.sub.entry", "pkg.sub"]
    assert lazy["pkg.a"] == {"pkg.b"} and top["pkg.b"] == {"pkg.a"}
    assert find_cycle({m: top[m] | lazy[m] for m in top if m != "pkg.sub"}) is not None
