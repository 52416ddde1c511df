"""The public API: what pacte_docs.__all__ promises is there, cheap to import, and the README's example runs."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pacte_docs

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_every_name_of_all_is_there() -> None:
    missing = [name for name in pacte_docs.__all__ if getattr(pacte_docs, name, None) is None]
    assert missing == []
    assert "Workspace" in pacte_docs.__all__ and "import_files" in pacte_docs.__all__


def test_the_version_is_the_package_s() -> None:
    from importlib.metadata import version

    assert version("pacte-docs") == pacte_docs.__version__


def test_importing_the_package_loads_no_heavy_module() -> None:
    code = "import sys, pacte_docs; print(sorted(m for m in ('docxtpl', 'pypdf', 'sqlalchemy', 'matplotlib', " \
           "'click') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_readme_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    section = _readme_section("Utiliser pacte_docs depuis Python")
    code, expected = re.findall(r"```(?:python)?\n(.*?)```", section, re.S)[:2]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PACTE_BASE", raising=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "__main__"})  # noqa: S102 — the README's own code
    assert out.getvalue() == expected
    assert (tmp_path / "essai-api" / "conventions" / "CCAS-2024-001" / "CCAS-2024-001.docx").is_file()


def test_workspace_open_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pacte_docs.init_workspace(tmp_path / "ws")
    monkeypatch.setenv("PACTE_ESPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("PACTE_BASE", raising=False)
    with pacte_docs.Workspace.open() as ws:
        assert ws.root == (tmp_path / "ws").resolve()
        assert pacte_docs.list_conventions(ws) == []
    assert os.environ["PACTE_ESPACE"]


def test_a_missing_workspace_is_a_pacte_error(tmp_path: Path) -> None:
    with pytest.raises(pacte_docs.PacteError, match="Aucun espace de travail"):
        pacte_docs.Workspace.open(tmp_path / "nulle-part")
