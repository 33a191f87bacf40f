"""The layout of scalelib: small modules, folders that depend one way, no import cycle.

The import graph is read from the source (every ``import`` statement, at module level or
inside a function, except those under ``if TYPE_CHECKING:``), so a cycle hidden behind a
late import is found too.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scalelib"
MAX_LINES = 500
LAYERS = {"data": 0, "interfaces": 1, "laws": 1, "evaluation": 2, "plots": 3, "tables": 3, "book": 4, "runs": 4}
"""Which part may import which: a module imports only from parts of its own layer or below
(the command line, ``cli`` and ``cli_run``, sits on top and may import anything)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(name: str) -> set[str]:
    """The scalelib modules that module ``name`` imports (a package's submodule if named)."""
    tree = ast.parse(MODULES[name].read_text())
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {module for module in found if module in MODULES and module != name}


def part(name: str) -> str:
    return name.split(".")[1] if name != "scalelib" else "scalelib"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_500_lines(name):
    n_lines = len(MODULES[name].read_text().splitlines())
    assert n_lines <= MAX_LINES, f"{MODULES[name]} has {n_lines} lines (at most {MAX_LINES})"


def test_there_is_no_import_cycle():
    graph = {name: imported_modules(name) for name in MODULES}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


@pytest.mark.parametrize("name", sorted(name for name in MODULES if part(name) in LAYERS))
def test_a_module_imports_only_from_its_layer_or_below(name):
    too_high = {
        module
        for module in imported_modules(name)
        if part(module) in LAYERS and LAYERS[part(module)] > LAYERS[part(name)]
    }
    assert not too_high, f"{name} ({part(name)}) imports from a higher layer: {sorted(too_high)}"


def test_the_shared_types_import_no_law():
    """``scalelib.interfaces`` describes laws; importing a law from it would tie the two."""
    laws = {name for name in MODULES if part(name) == "laws"} - {"scalelib.laws.profile_fit"}
    assert not imported_modules("scalelib.interfaces") & laws


def test_the_cycle_check_can_fail(tmp_path, monkeypatch):
    """A synthetic two-module cycle, written in a temporary package, is found."""
    package = tmp_path / "scalelib"
    package.mkdir()
    (package / "a.py").write_text("from scalelib.b import g\n")
    (package / "b.py").write_text("def g():\n    from scalelib import a\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", package, raising=False)
    modules = {module_name(path): path for path in package.rglob("*.py")}
    monkeypatch.setattr(__import__(__name__), "MODULES", modules, raising=False)
    with pytest.raises(pytest.fail.Exception, match="import cycle"):
        test_there_is_no_import_cycle()
