"""Imports point one way (docs/architecture.md "Layers"): read from the code with ``ast``, never in a circle."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gaitbnn"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
LAZY_MARK = "# lazy:"


def module_files() -> dict:
    """Module name -> file, for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = module_files()


def owner(name: str) -> str | None:
    """The package module that ``name`` (a module or a name imported from one) belongs to."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _function_nodes(tree) -> set:
    return {id(sub) for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            for sub in ast.walk(node) if sub is not node}


def _type_checking_nodes(tree) -> set:
    return {id(sub) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for sub in ast.walk(node) if sub is not node}


def imports() -> list:
    """(importer, imported, file, line, kind, line text) for each import of a package module; kind is
    "top", "function" or "type"."""
    out = []
    for name, path in MODULES.items():
        text = path.read_text()
        lines = text.splitlines()
        tree = ast.parse(text)
        in_function, type_only = _function_nodes(tree), _type_checking_nodes(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                targets = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            kind = "function" if id(node) in in_function else "type" if id(node) in type_only else "top"
            for target in targets:
                imported = owner(target) if target.split(".")[0] == "gaitbnn" else None
                if imported and imported != name and not name.startswith(imported + ".") and imported != "gaitbnn":
                    out.append((name, imported, path.relative_to(ROOT), node.lineno, kind, lines[node.lineno - 1]))
    return out


IMPORTS = imports()


def layer_table() -> list:
    """(rank, pattern) rows of the layer table in docs/architecture.md."""
    section = ARCHITECTURE.read_text().split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].isdigit():
            rows += [(int(cells[0]), pattern) for pattern in re.findall(r"`([\w.*]+)`", cells[2])]
    return rows


LAYERS = layer_table()


def rank(module: str) -> int | None:
    """The rank of the most specific pattern that covers ``module``."""
    best = None
    for number, pattern in LAYERS:
        prefix = pattern[:-2] if pattern.endswith(".*") else None
        covers = module == pattern or (prefix and (module == prefix or module.startswith(prefix + ".")))
        if covers and (best is None or len(pattern) > len(best[1])):
            best = (number, pattern)
    return best[0] if best else None


def test_the_layer_table_covers_every_module():
    assert len(LAYERS) >= 10
    missing = [m for m in MODULES if rank(m) is None]
    assert not missing, f"modules in no layer of {ARCHITECTURE.name}: {missing}"


def test_no_import_goes_up_a_layer():
    upward = [f"{file}:{line}: {a} (layer {rank(a)}) imports {b} (layer {rank(b)})"
              for a, b, file, line, _, _ in IMPORTS if rank(b) > rank(a)]
    assert not upward, "\n".join(upward)


def circles(edges) -> list:
    """Strongly connected components with more than one module (Tarjan)."""
    graph = {m: set() for m in MODULES}
    for a, b in edges:
        graph[a].add(b)
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_at_any_level():
    found = circles((a, b) for a, b, *_ in IMPORTS)
    where = {(a, b): f"{file}:{line}" for a, b, file, line, _, _ in IMPORTS}
    described = [" -> ".join(c) + " (" + ", ".join(where[(a, b)] for a in c for b in c if (a, b) in where) + ")"
                 for c in found]
    assert not found, "\n".join(described)


def test_the_checks_find_a_circle_and_an_upward_import():
    loop = [("gaitbnn.runs", "gaitbnn.cli"), ("gaitbnn.cli", "gaitbnn.runs")]
    assert circles(loop) == [["gaitbnn.cli", "gaitbnn.runs"]]
    assert rank("gaitbnn.cli") > rank("gaitbnn.training.fit") > rank("gaitbnn.models.registry") > rank("gaitbnn.errors")


def startup_modules() -> set:
    """The modules ``import gaitbnn.cli`` loads: top-level imports from the CLI on, and each package's
    ``__init__`` on the way."""
    top = {}
    for a, b, _, _, kind, _ in IMPORTS:
        if kind == "top":
            top.setdefault(a, set()).add(b)
    seen, todo = set(), ["gaitbnn.cli"]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parents = [".".join(module.split(".")[:i]) for i in range(2, module.count(".") + 1)]
        todo += list(top.get(module, ())) + [p for p in parents if p in MODULES]
    return seen


def test_function_level_imports_only_keep_the_cli_start_light():
    startup = startup_modules()
    assert {"gaitbnn.cli", "gaitbnn.errors"} <= startup and "gaitbnn.training.fit" not in startup
    wrong = []
    for a, b, file, line, kind, text in IMPORTS:
        if kind != "function":
            continue
        if a not in startup:
            wrong.append(f"{file}:{line}: {a} is not loaded at start-up: import {b} at the top")
        elif b in startup:
            wrong.append(f"{file}:{line}: start-up loads {b} already: import it at the top")
        elif LAZY_MARK not in text:
            wrong.append(f"{file}:{line}: a lazy import without '{LAZY_MARK} why'")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("module", ["gaitbnn.cli", "gaitbnn.data", "gaitbnn.models"])
def test_start_up_loads_no_tensorflow(module):
    import subprocess
    import sys

    code = f"import sys, {module}; print('tensorflow' in sys.modules, 'larq' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"]
