"""Helpers for tests: snapshots of the registry and of the workspace's folders, DOCX and PDF text."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

from docx import Document as DocxDocument

from pacte_docs.exporter import registry_records
from pacte_docs.models import Document
from pacte_docs.registry import pacte_record, pactes
from pacte_docs.workspace import Workspace


def registry_state(root: Path, base: str | None) -> dict[str, Any]:
    ws = Workspace(root, base)
    try:
        with ws.db.session() as session:
            state = registry_records(session)
            state["pactes"] = [pacte_record(p) for p in pactes(session)]
            state["documents"] = sorted(
                (d.chemin, d.sha256, d.archive, d.version) for d in session.query(Document).all())
            return state
    finally:
        ws.close()


def folder_state(root: Path) -> dict[str, str]:
    """Every file of the workspace but the SQLite files, with its SHA-256."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith("pacte.db")
    }


def docx_text(path: Path) -> str:
    """Body, tables, headers and footers of a DOCX, as a user reads them."""
    document = DocxDocument(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    return normalise("\n".join(parts))


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return normalise(out.stdout)


def normalise(text: str) -> str:
    """Non-breaking and narrow spaces read as plain spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")
