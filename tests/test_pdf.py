"""PDF through the real LibreOffice: text, pages, footer, PDF/A, and a clear exit 3 when it is missing."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from pacte_docs.documents.conformity import conformite
from tests.helpers import DATA, Pacte, fake_soffice, folder_state, pdf_text, running, set_pdf_timeout


@pytest.mark.libreoffice
def test_pdf_reads_like_the_convention(pacte: Pacte) -> None:
    pacte("importer", str(DATA / "registre.yaml"))
    output = pacte("conventions", "generer", "--toutes").output
    assert "3 document(s) produit(s)" in output
    pdf = pacte.root / "conventions/ASSO-2025-001/ASSO-2025-001.pdf"
    reader = PdfReader(pdf)
    pages = len(reader.pages)
    assert 3 <= pages <= 6
    assert reader.pages[0].mediabox.width == pytest.approx(595, abs=2)  # A4
    text = pdf_text(pdf)
    assert "Association « Pain & Partage » <Sud> 'Est' \"Nord\"" in " ".join(text.split())
    assert "1 234,56 €" in text
    assert f"Convention n° ASSO-2025-001 — Page 1 sur {pages}" in text
    assert f"Page {pages} sur {pages}" in text
    assert "Fait à Bobigny, le 1er février 2025" in text
    shown = pacte("conventions", "afficher", "ASSO-2025-001").output
    assert "conventions/ASSO-2025-001/ASSO-2025-001.pdf" in shown
    again = pacte("conventions", "generer", "--toutes").output
    # signed conventions: their text and its PDF are frozen
    assert "(texte signé, inchangé, PDF texte signé, inchangé)" in again and "0 document(s) produit(s)" in again


@pytest.mark.libreoffice
def test_acts_are_pdfa_and_pdfua_by_default_with_header_cells(pacte_sqlite: Pacte) -> None:
    """An act is archivable and accessible without asking: PDF/A-2b and PDF/UA-1 declared in its XMP, the header
    row of its tables tagged TH (repeated header rows in the DOCX); --sans-pdfa gives a plain, still tagged PDF,
    and `archives verifier --conformite` says which PDF is not archivable, with the fix."""
    pacte_sqlite("importer", str(DATA / "registre.yaml"))
    pacte_sqlite("conventions", "generer", "ASSO-2025-001")
    pdf = pacte_sqlite.root / "conventions/ASSO-2025-001/ASSO-2025-001.pdf"
    metadata = PdfReader(pdf).xmp_metadata
    assert metadata is not None
    xml = metadata.stream.get_data().decode("utf-8", "replace")
    assert "pdfaid:part>2<" in xml or 'pdfaid:part="2"' in xml
    assert "pdfaid:conformance>B<" in xml or 'pdfaid:conformance="B"' in xml
    found = conformite(pdf)
    assert (found.pdfa, found.pdfua, found.balise, found.langue) == ("2B", "1", True, "fr-FR")
    assert _structure_roles(pdf).count("/TH") == 4  # « Action », « Public visé », « Indicateur », « Cible »
    report = pacte_sqlite("archives", "verifier", "--conformite").output
    assert "PDF/UA-1" in report and "PDF/A-2b" in report and "sans PDF/A-2b" not in report
    assert "Le PDF en vigueur est en PDF/A-2b, balisé" in report
    pacte_sqlite("conventions", "generer", "CCAS-2024-010", "--sans-pdfa")
    plain = conformite(pacte_sqlite.root / "conventions/CCAS-2024-010/CCAS-2024-010.pdf")
    assert plain.pdfa is None and plain.balise and plain.pdfua == "1"
    report = pacte_sqlite("archives", "verifier", "--conformite").output
    assert "1 PDF sans PDF/A-2b" in report and "régénérez-les sans --sans-pdfa" in report
    pacte_sqlite("conventions", "generer", "ASSO-2025-001", "--sans-pdfa")
    assert conformite(pdf).pdfa == "2B"  # a PDF/A copy answers a plain request: never downgraded


def _structure_roles(pdf: Path) -> list[str]:
    """Every structure element's role in the PDF's tag tree (/S of each StructElem)."""
    roles: list[str] = []
    root: Any = PdfReader(pdf).trailer["/Root"]
    todo: list[Any] = [root["/StructTreeRoot"]]
    while todo:
        node = todo.pop()
        if hasattr(node, "get_object"):
            node = node.get_object()
        if isinstance(node, list):
            todo.extend(node)
        elif hasattr(node, "get"):
            if "/S" in node:
                roles.append(str(node["/S"]))
            kids = node.get("/K")
            if kids is not None:
                todo.append(kids)
    return roles


@pytest.mark.crash
def test_missing_libreoffice_exits_3_and_keeps_the_docx(pacte_sqlite: Pacte, monkeypatch: pytest.MonkeyPatch) -> None:
    pacte_sqlite("importer", str(DATA / "registre.yaml"))
    monkeypatch.setenv("PACTE_SOFFICE", "/nulle/part/soffice")
    result = pacte_sqlite("conventions", "generer", "CCAS-2024-010", ok=False)
    assert result.exit_code == 3
    assert "LibreOffice introuvable" in result.output and "apt-get install" in result.output
    assert "Traceback" not in result.output
    assert (pacte_sqlite.root / "conventions/CCAS-2024-010/CCAS-2024-010.docx").is_file()
    assert not (pacte_sqlite.root / "conventions/CCAS-2024-010/CCAS-2024-010.pdf").exists()
    monkeypatch.delenv("PACTE_SOFFICE")
    result = pacte_sqlite("conventions", "generer", "CCAS-2024-010")
    assert "PDF créé" in result.output


def test_failing_libreoffice_exits_3_with_its_message(pacte_sqlite: Pacte, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A converter that crashes, leaving a child of its own behind, as a crashed soffice leaves soffice.bin:
    injected, since a real LibreOffice cannot be made to fail on demand."""
    marker = f"pacte-orphelin-{os.getpid()}"
    fake = fake_soffice(tmp_path, f"(exec -a {marker} sleep 300) &\necho 'javaldx: échec simulé' >&2\nexit 81")
    set_pdf_timeout(pacte_sqlite.root, 60)  # the orphan holds LibreOffice's output: waited for until this limit
    pacte_sqlite("importer", str(DATA / "registre.yaml"))
    monkeypatch.setenv("PACTE_SOFFICE", str(fake))
    start = time.monotonic()
    result = pacte_sqlite("conventions", "generer", "CCAS-2024-010", ok=False)
    assert time.monotonic() - start < 20, "pacte a attendu l'orphelin de LibreOffice"
    assert result.exit_code == 3
    assert "LibreOffice a échoué (code 81)" in result.output and "échec simulé" in result.output
    assert not running(marker), f"processus restants : {running(marker)}"
    assert not any(name.endswith(".pdf") for name in folder_state(pacte_sqlite.root))
    assert not (pacte_sqlite.root / ".pacte-tmp").exists()
