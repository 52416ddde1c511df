"""Crashes: `kill -9` in the middle of a bulk generation leaves no partial file under a final name and a
consistent registry, and the next run completes with every file verified."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import yaml

from tests.conftest import Pacte


def many_conventions(count: int) -> dict[str, object]:
    return {
        "departement": {"code": "93", "nom": "Département de la Seine-Saint-Denis", "ville": "Bobigny"},
        "partenaires": [{"code": "CCAS-X", "type": "ccas", "nom": "CCAS d'X « & »"}],
        "conventions": [{"reference": f"CCAS-2024-{i:04d}", "type": "ccas", "partenaires": ["CCAS-X"],
                         "objet": f"Objet n° {i} <avec> des caractères « spéciaux » & d'autres.",
                         "date_effet": "2024-06-01", "date_signature": "2024-05-15", "renouvellement": "expresse",
                         "responsable": {"email": "dir@d.example.fr"}} for i in range(count)],
    }


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
