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


def scanned_pdf(line: str) -> bytes:
    """A one-page PDF carrying *line* (ASCII), as a signed copy scanned and OCR-ed would: written by hand here so
    that it owes nothing to the product."""
    stream = f"BT /F1 18 Tf 72 720 Td ({line}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
