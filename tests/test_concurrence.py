"""Four `pacte` processes at once on the same registry (generation, import, alerts, listing), on SQLite and
PostgreSQL: every one finishes, no « database is locked » reaches the user, nothing is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import Pacte
from tests.test_crash import many_conventions


def test_four_processes_at_once(pacte: Pacte, tmp_path: Path) -> None:
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
        ["importer", str(second)],
        ["--au", "2027-03-01", "alertes", "--format", "json"],
        ["conventions", "lister", "--format", "json"],
    ]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    processes = [subprocess.Popen([sys.executable, "-m", "pacte_docs", *base, *c], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env) for c in commands]
    results = [(p.communicate(timeout=300), p.returncode) for p in processes]
    for (out, err), code in results:
        assert code == 0, err
        assert "locked" not in out + err and "verrouill" not in out + err and "Traceback" not in err
    assert len(json.loads(results[2][0][0])) > 0
    listed = json.loads(pacte("conventions", "lister", "--format", "json").output)
    assert len(listed) == 300  # the import landed whole
    pacte("conventions", "generer", "--toutes", "--sans-pdf")
    check = pacte("archives", "verifier")
    assert "300 fichier(s) vérifié(s)" in check.output, check.output
