"""The layout shows the product: parts by name, lower layers never importing higher ones, click only in the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "pacte_docs"

# From the bottom up: a module may import its own layer and the layers below it, never one above.
LAYERS = [
    {"errors", "kinds", "formatting", "files", "addresses", "thirdparty"},  # foundations, importing only each other
    {"rules"},  # pure functions of data
    {"registry"},  # the database, its models, queries and journal
    {"workspace"},  # the opened folder: configuration, paths, the registry
    {"intake"},  # readers, import format, importer, exporter
    {"documents"},  # rendering, contexts, PDF, charts, the document store
    {"services"},  # the jobs, over a workspace
    {"api"},  # the public entry points
    {"cli", "__main__", "web"},  # the two faces: the command line, the directors' pages (never one over the other)
]


def _part(module: str) -> str:
    """The first component under pacte_docs: « registry » for pacte_docs.registry.queries."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "api"


def _rank(part: str) -> int:
    for rank, names in enumerate(LAYERS):
        if part in names:
            return rank
    raise AssertionError(f"pacte_docs.{part} belongs to no layer: add it to LAYERS in {__file__}")


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        found.append((name, path))
    return found


def _is_module(name: str) -> bool:
    return (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name / "__init__.py").is_file()


def _imports(path: Path, module: str) -> list[tuple[str, bool]]:
    """(imported module, at top level?) for each import of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    result: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            result.extend((alias.name, id(node) in top) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                base = ".".join(module.split(".")[: -node.level] + [node.module])
            if base == "pacte_docs":  # a submodule, or a name of the public API (__version__, Workspace…)
                result.extend((f"pacte_docs.{alias.name}" if _is_module(alias.name) else "pacte_docs",
                               id(node) in top) for alias in node.names)
            else:
                result.append((base, id(node) in top))
    return result


def test_every_module_belongs_to_a_layer() -> None:
    for name, _ in _modules():
        if name.startswith("pacte_docs.registry.migrations"):
            continue
        _rank(_part(name))


def test_lower_layers_never_import_higher_ones() -> None:
    wrong = []
    for name, path in _modules():
        if name == "pacte_docs":
            continue  # the public API re-exports the services
        rank = _rank(_part(name))
        for imported, _ in _imports(path, name):
            if imported.startswith("pacte_docs.") and _rank(_part(imported)) > rank:
                wrong.append(f"{name} imports {imported}")
    assert wrong == []


def test_only_the_cli_imports_click() -> None:
    offenders = [name for name, path in _modules() if not name.startswith("pacte_docs.cli")
                 and any(imported.split(".")[0] == "click" for imported, _ in _imports(path, name))]
    assert offenders == []


def test_the_pages_go_over_the_api_never_over_the_cli() -> None:
    """`pacte serveur` reads the registry through services, like a user's script: no page calls a command."""
    offenders = [f"{name} imports {imported}" for name, path in _modules() if name.startswith("pacte_docs.web")
                 for imported, _ in _imports(path, name) if imported.startswith("pacte_docs.cli")]
    assert offenders == []


def test_migrations_carry_their_own_rules() -> None:
    """A migration applies the rules of its time: it never imports the live package (Alembic cookbook)."""
    offenders = []
    for path in sorted((PACKAGE / "registry" / "migrations" / "versions").glob("*.py")):
        for imported, _ in _imports(path, "pacte_docs.registry.migrations.versions." + path.stem):
            if imported.startswith("pacte_docs"):
                offenders.append(f"{path.name} imports {imported}")
    assert offenders == []


def _base_name(base: ast.expr) -> str:
    return base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else ""


def test_every_exception_lives_in_errors() -> None:
    """Domain errors are all in errors.py; the CLI only adapts them to click (its exception, its exit code)."""
    offenders = []
    for name, path in _modules():
        if name == "pacte_docs.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    _base_name(b).endswith(("Error", "Exception")) for b in node.bases):
                offenders.append(f"{name}.{node.name}")
    assert offenders == ["pacte_docs.cli.commands.PacteClickError"]


@pytest.mark.parametrize("part", ["registry", "rules", "intake", "documents", "services", "cli", "web"])
def test_parts_are_packages_with_a_docstring(part: str) -> None:
    init = PACKAGE / part / "__init__.py"
    assert init.is_file()
    assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
