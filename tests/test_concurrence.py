"""Several `pacte` processes at once on the same registry — two generations of the same documents, an import,
two alert sendings, a listing — on SQLite and PostgreSQL: every one finishes, no « database is locked » reaches
the user, nothing is lost, no document is recorded twice and no alert is sent twice."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import Mailbox, Pacte, body, many_conventions, registry_state

pytestmark = pytest.mark.crash  # processes killed or run at once


def mentioned(box: Mailbox, reference: str) -> int:
    """In how many of the messages received the reference appears."""
    return sum(1 for _, message in box.messages
               if reference in body(message, "plain"))


def test_processes_at_once(pacte: Pacte, tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    box, _ = smtp
    box.delay = 0.2  # a slow server keeps the two sendings overlapping
    first = tmp_path / "premier.yaml"
    first.write_text(yaml.safe_dump(many_conventions(150), allow_unicode=True), encoding="utf-8")
    pacte("importer", str(first))
    more = many_conventions(300)
    more["conventions"] = more["conventions"][150:]  # type: ignore[index]
    second = tmp_path / "second.yaml"
    second.write_text(yaml.safe_dump(more, allow_unicode=True), encoding="utf-8")
    base = ["--espace", str(pacte.root)] + (["--base", pacte.base] if pacte.base else [])
    commands = [
        ["conventions", "generer", "--toutes", "--sans-pdf"],
        ["conventions", "generer", "--toutes", "--sans-pdf"],  # the same documents
        ["importer", str(second)],
        ["--au", "2027-03-01", "alertes", "--envoyer"],
        ["--au", "2027-03-01", "alertes", "--envoyer"],
        ["--au", "2027-03-01", "alertes", "--format", "json"],
        ["conventions", "lister", "--format", "json"],
    ]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    processes = [subprocess.Popen([sys.executable, "-m", "pacte_docs", *base, *c], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env) for c in commands]
    results = [(p.communicate(timeout=300), p.returncode) for p in processes]
    for command, ((out, err), code) in zip(commands, results, strict=True):
        assert code == 0, (command, out, err)
        assert "locked" not in out + err and "verrouill" not in out + err and "Traceback" not in err, err
    assert len(json.loads(results[5][0][0])) > 0
    listed = json.loads(pacte("conventions", "lister", "--format", "json").output)
    assert len(listed) == 300  # the import landed whole

    # Both generations finished; between them, each document was made and recorded once.
    produced = [int(re.search(r"(\d+) document\(s\) produit\(s\)", out).group(1))  # type: ignore[union-attr]
                for (out, _), _ in results[:2]]
    paths = [chemin for chemin, *_ in registry_state(pacte.root, pacte.base)["documents"]]
    assert len(paths) == len(set(paths)) == sum(produced), produced
    pacte("conventions", "generer", "--toutes", "--sans-pdf")
    check = pacte("archives", "verifier")
    assert "300 fichier(s) vérifié(s)" in check.output, check.output

    # Every alert due was sent once: the two runs shared them, a later run sends only those imported meanwhile.
    pacte("--au", "2027-03-01", "alertes", "--envoyer")
    due = json.loads(pacte("--au", "2027-03-01", "alertes", "--format", "json").output)
    assert {row["reference"] for row in due} == {row["reference"] for row in listed}
    for row in due:
        assert mentioned(box, row["reference"]) == 1, row["reference"]
    assert "Aucune nouvelle alerte à envoyer." in pacte("--au", "2027-03-01", "alertes", "--envoyer").output


def test_the_same_file_imported_twice_at_once(pacte: Pacte, tmp_path: Path) -> None:
    """Without a turn each, both imports found the conventions missing and the second failed on the first's."""
    path = tmp_path / "conventions.yaml"
    path.write_text(yaml.safe_dump(many_conventions(200), allow_unicode=True), encoding="utf-8")
    base = ["--espace", str(pacte.root)] + (["--base", pacte.base] if pacte.base else [])
    processes = [subprocess.Popen([sys.executable, "-m", "pacte_docs", *base, "importer", str(path)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [(p.communicate(timeout=300), p.returncode) for p in processes]
    assert [code for _, code in results] == [0, 0, 0], results
    outputs = [out for (out, _), _ in results]
    assert sum("conventions : 200 créées" in out for out in outputs) == 1, outputs
    assert sum("conventions : 200 inchangées" in out for out in outputs) == 2, outputs
    assert len(json.loads(pacte("conventions", "lister", "--format", "json").output)) == 200


def test_two_threads_of_one_process_take_the_lock_in_turn(pacte: Pacte) -> None:
    """The server runs requests in a pool of threads: a second thread waits for the lock the first holds (it
    once took it for its own, as re-entry, and ran alongside — then failed on release)."""
    import threading
    import time

    from pacte_docs.workspace import Workspace

    database = Workspace(pacte.root, pacte.base).db
    inside: list[str] = []
    overlaps: list[str] = []
    holding = threading.Event()

    def work(name: str) -> None:
        with database.exclusive("documents"):
            with database.exclusive("documents"):  # re-entrant within the thread
                if inside:
                    overlaps.append(name)
                inside.append(name)
                holding.set()
                time.sleep(0.3)
                inside.remove(name)

    try:
        first = threading.Thread(target=work, args=("premier",))
        first.start()
        holding.wait(10)
        second = threading.Thread(target=work, args=("second",))
        second.start()
        first.join(10)
        second.join(10)
    finally:
        database.engine.dispose()  # its pooled connections closed, not left to the garbage collector
    assert overlaps == [] and inside == []
