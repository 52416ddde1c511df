"""Crashes: `kill -9` in the middle of a bulk generation leaves no partial file under a final name and a
consistent registry, and the next run completes with every file verified."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from tests.helpers import (
    DATA,
    Pacte,
    docx_text,
    fake_soffice,
    libreoffice_of,
    many_conventions,
    running,
    start,
    wait_until,
)

pytestmark = pytest.mark.crash  # processes killed or run at once


def test_kill_9_during_bulk_generation_then_the_next_run_completes(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    path = tmp_path / "beaucoup.yaml"
    path.write_text(yaml.safe_dump(many_conventions(800), allow_unicode=True), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    command = [sys.executable, "-m", "pacte_docs", "--espace", str(pacte_sqlite.root), "conventions", "generer",
               "--toutes", "--sans-pdf"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    folder = pacte_sqlite.root / "conventions"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        written = sum(1 for _ in folder.glob("*/*.docx")) if folder.exists() else 0
        if written >= 50:
            break
        time.sleep(0.005)
    assert process.poll() is None, "la génération a fini avant d'être interrompue"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    final = list(folder.glob("*/*.docx"))
    assert 0 < len(final) < 800
    for document in final:  # whatever is under a final name is a whole document
        with zipfile.ZipFile(document) as archive:
            assert archive.testzip() is None
    listing = pacte_sqlite("conventions", "lister", "--format", "json")
    assert listing.output.count('"reference"') == 800  # the registry is readable and whole

    again = pacte_sqlite("conventions", "generer", "--toutes", "--sans-pdf")
    assert "800 document(s) produit(s), 0 inchangé(s)." in again.output  # none was recorded by the killed run
    assert len(list(folder.glob("*/*.docx"))) == 800
    assert not list(folder.glob("*/.*.tmp")), "des fichiers temporaires sont restés"
    check = pacte_sqlite("archives", "verifier")
    assert check.exit_code == 0 and "800 fichier(s) vérifié(s)" in check.output, check.output


def whole_pdfs(folder: Path) -> int:
    count = 0
    for document in folder.rglob("*.pdf"):
        assert len(PdfReader(document).pages) >= 1, document
        count += 1
    return count


@pytest.mark.libreoffice
def test_kill_9_during_pdf_conversion_leaves_no_libreoffice_and_the_next_run_completes(
        pacte_sqlite: Pacte, tmp_path: Path) -> None:
    root = pacte_sqlite.root
    path = tmp_path / "quelques.yaml"
    path.write_text(yaml.safe_dump(many_conventions(40), allow_unicode=True), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    process = start(pacte_sqlite, "conventions", "generer", "--toutes")
    scratch = root / ".pacte-tmp"
    # killed while LibreOffice is converting, once it has written some PDF into the scratch space
    assert wait_until(lambda: any(scratch.glob("pdf-*/*.pdf")) or process.poll() is not None, 120)
    assert process.poll() is None, "la génération a fini avant d'être interrompue"
    assert libreoffice_of(root), "LibreOffice devrait être en train de convertir"
    os.kill(process.pid, signal.SIGKILL)  # pacte alone, as the OOM killer would: not its process group
    process.wait()
    assert wait_until(lambda: not libreoffice_of(root), 10), "LibreOffice a survécu à pacte"

    assert not list((root / "conventions").glob("*/*.pdf")), "un PDF a été placé avant la fin de la conversion"
    assert len(list((root / "conventions").glob("*/*.docx"))) == 40
    listing = pacte_sqlite("conventions", "lister", "--format", "json")
    assert listing.output.count('"reference"') == 40

    again = pacte_sqlite("conventions", "generer", "--toutes")
    assert again.output.count("PDF créé") == 40, again.output
    assert whole_pdfs(root / "conventions") == 40
    assert not scratch.exists(), "l'espace de travail temporaire du run tué est resté"
    check = pacte_sqlite("archives", "verifier")
    assert check.exit_code == 0 and "80 fichier(s) vérifié(s)" in check.output, check.output


def test_kill_9_while_libreoffice_hangs_takes_libreoffice_down_too(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """A converter that never answers nor writes (injected: a real LibreOffice cannot be made to hang on demand):
    once pacte is killed, nothing is left to enforce the time limit, so its process group must go with it."""
    marker = f"pacte-pendu-{os.getpid()}"
    fake = fake_soffice(tmp_path, f"(exec -a {marker}-enfant sleep 300) &\nexec -a {marker} sleep 300")
    pacte_sqlite("importer", str(DATA / "registre.yaml"))
    command = [sys.executable, "-m", "pacte_docs", "--espace", str(pacte_sqlite.root), "conventions", "generer",
               "CCAS-2024-010"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True, env={**os.environ, "PACTE_SOFFICE": str(fake)})
    assert wait_until(lambda: len(running(marker)) == 2, 30), "le faux LibreOffice n'a pas démarré"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert wait_until(lambda: not running(marker), 10), f"processus restants : {running(marker)}"
    assert not list((pacte_sqlite.root / "conventions").glob("*/*.pdf"))
    again = pacte_sqlite("conventions", "generer", "CCAS-2024-010")
    assert "PDF créé" in again.output, again.output
    assert not (pacte_sqlite.root / ".pacte-tmp").exists()


def test_kill_9_during_a_regeneration_loses_no_archived_version(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """Regenerating archives each previous version before writing the new one: a run killed between the two must
    leave every previous version, byte for byte, once the next run has completed (drafts: a signed text is never
    regenerated)."""
    root = pacte_sqlite.root
    data = many_conventions(600, signed=False)
    path = tmp_path / "beaucoup.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    pacte_sqlite("conventions", "generer", "--toutes", "--sans-pdf")
    first = {p.parent.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (root / "conventions").glob("*/*.docx")}
    assert len(first) == 600
    for convention in data["conventions"]:  # type: ignore[attr-defined]
        convention["objet"] += " Objet modifié."
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pacte_sqlite("importer", str(path))

    process = start(pacte_sqlite, "conventions", "generer", "--toutes", "--sans-pdf")
    archived = root / "archives" / "conventions"
    assert wait_until(lambda: sum(1 for _ in archived.glob("*/*-v1.docx")) >= 40 or process.poll() is not None, 120)
    assert process.poll() is None, "la régénération a fini avant d'être interrompue"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 0 < sum(1 for _ in archived.glob("*/*-v1.docx")) < 600

    again = pacte_sqlite("conventions", "generer", "--toutes", "--sans-pdf")
    assert "600 document(s) produit(s), 0 inchangé(s)." in again.output, again.output
    kept = {p.parent.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in archived.glob("*/*-v1.docx")}
    assert kept == first, "une version archivée a été perdue ou réécrite"
    for document in (root / "conventions").glob("*/*.docx"):
        assert "Objet modifié." in docx_text(document)
    check = pacte_sqlite("archives", "verifier")
    assert check.exit_code == 0 and "1200 fichier(s) vérifié(s)" in check.output, check.output


def test_only_leftovers_of_dead_processes_of_this_machine_are_removed(pacte_sqlite: Pacte) -> None:
    """The workspace may sit on a share used by several machines: a pid means something only on its own."""
    from pacte_docs.files import owner_tag, remove_stale_temporaries
    from pacte_docs.workspace import Workspace

    ws = Workspace(pacte_sqlite.root)
    machine, _ = owner_tag().split("@")
    dead = subprocess.Popen(["true"])
    dead.wait()
    folders = {name: ws.tmp / name for name in (f"pdf-{machine}@{dead.pid}-abcdefgh", f"pdf-{owner_tag()}-abcdefgh",
                                                 f"pdf-autrepc@{dead.pid}-abcdefgh")}
    for folder in folders.values():
        folder.mkdir()
    target = pacte_sqlite.root / "conventions" / "X" / "X.docx"
    target.parent.mkdir(parents=True)
    files = [target.with_name(f".X.docx.{tag}.k2j4.tmp") for tag in (f"{machine}@{dead.pid}", owner_tag(),
                                                                      f"autrepc@{dead.pid}")]
    for file in files:
        file.write_bytes(b"partiel")
    ws.remove_dead_scratch()
    remove_stale_temporaries(target)
    assert [f.exists() for f in folders.values()] == [False, True, True]
    assert [f.exists() for f in files] == [False, True, True]
    ws.close()
