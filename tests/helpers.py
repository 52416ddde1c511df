"""Helpers for tests: snapshots of the registry and of the workspace's folders, DOCX and PDF text."""

from __future__ import annotations

import hashlib
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docx import Document as DocxDocument

from pacte_docs.intake.exporter import registry_records
from pacte_docs.registry.models import Document
from pacte_docs.registry.queries import pacte_record, pactes
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


# ---------------------------------------------------------------- processes: pacte started, LibreOffice faked


def libreoffice_of(root: Path) -> list[int]:
    """The LibreOffice processes working for this workspace (their profile lives in its scratch space)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if "UserInstallation=" in command and str(root) in command and "pacte_docs.documents.pdf" not in command:
            found.append(int(entry.name))
    return found


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def start(pacte: Any, *args: str) -> subprocess.Popen[bytes]:
    """`pacte` in a process and session of its own, as a user runs it, for a test to kill."""
    command = [sys.executable, "-m", "pacte_docs", "--espace", str(pacte.root), *args]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def running(marker: str) -> list[str]:
    """The processes whose command line holds *marker* (pgrep -f)."""
    return subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()


def fake_soffice(folder: Path, script: str) -> Path:
    """A converter standing for LibreOffice (given by PACTE_SOFFICE), to inject a hang or a crash that a real
    LibreOffice cannot be made to show on demand."""
    fake = folder / "soffice"
    fake.write_text(f"#!/bin/bash\n{script}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return fake


def set_pdf_timeout(root: Path, seconds: int) -> None:
    config = root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("delai_pdf_secondes = 600",
                                                                 f"delai_pdf_secondes = {seconds}"), encoding="utf-8")
