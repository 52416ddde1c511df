"""Issue 18's findings, each as a test that failed before its fix: what is printed is escaped, dates typed on the
command line follow the import's rule, a notice is shorter than its period, Ctrl-C exits 130."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.helpers import DATA, Pacte


def test_markup_in_names_and_objects_is_printed_as_text(pacte: Pacte, tmp_path: Path) -> None:
    """« CCAS [/] A » crashed `partenaires lister` (Rich markup); an avenant object « [/bold] » made `conventions
    afficher` fail for ever, the journal being append-only."""
    data = yaml.safe_load((DATA / "alertes.yaml").read_text(encoding="utf-8"))
    data["partenaires"][0]["nom"] = "CCAS [/] A [bold]"
    path = tmp_path / "balises.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pacte("importer", str(path))
    listed = pacte("partenaires", "lister")
    assert "CCAS [/] A [bold]" in listed.output
    reference = data["conventions"][0]["reference"]
    pacte("--au", "2026-01-10", "conventions", "avenant", reference, "--objet", "[/bold] Objet [red]rouge[/red]",
          "--sans-pdf")
    shown = pacte("conventions", "afficher", reference)
    assert "[/bold] Objet [red]rouge[/red]" in " ".join(shown.output.split())


def test_dates_on_the_command_line_follow_the_import_rule(pacte: Pacte) -> None:
    """`--date 0001-01-01` was recorded (« 1er janvier 1 » in the act) and `--au 9999-12-31` overflowed; a date
    typed the French way was refused although the import accepts it."""
    pacte("importer", str(DATA / "alertes.yaml"))
    reference = "CCAS-2024-103"
    early = pacte("conventions", "avenant", reference, "--objet", "Objet.", "--date", "0001-01-01", "--sans-pdf",
                  ok=False)
    assert early.exit_code == 2 and "hors des années plausibles (1980 à 2100)" in early.output
    late = pacte("--au", "9999-12-31", "alertes", ok=False)
    assert late.exit_code == 2 and "Traceback" not in late.output and "hors des années plausibles" in late.output
    french = pacte("--au", "15/01/2027", "alertes", "--format", "json")
    assert isinstance(json.loads(french.output), list)


def test_a_notice_longer_than_the_period_is_refused(pacte: Pacte, tmp_path: Path) -> None:
    data = yaml.safe_load((DATA / "alertes.yaml").read_text(encoding="utf-8"))
    data["conventions"][0].update(duree_mois=2, preavis_mois=3, renouvellement="tacite")
    path = tmp_path / "preavis.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = pacte("importer", str(path), ok=False)
    assert result.exit_code == 1
    assert "un préavis de 3 mois pour une période de 2 mois tomberait avant son début" in \
        " ".join(result.output.split())


def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    """Interrupted by the user is not bad data: exit 130, a French line, no traceback (here while a slow SMTP
    server keeps the run waiting)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    workspace = tmp_path / "espace"
    env = dict(os.environ, PACTE_SMTP_HOTE="127.0.0.1", PACTE_SMTP_PORT=str(server.getsockname()[1]))

    command = [sys.executable, "-m", "pacte_docs", "--espace", str(workspace)]
    for args in (("init", str(workspace)), ("importer", str(DATA / "alertes.yaml"))):
        subprocess.run([*command, *args], env=env, capture_output=True, check=True, timeout=60)
    process = subprocess.Popen([*command, "--au", "2027-01-29", "alertes", "--envoyer"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server.settimeout(30)
    connection, _ = server.accept()  # the run now waits for a greeting that never comes
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    connection.close()
    server.close()
    assert process.returncode == 130, err
    assert "Interrompu" in err and "Traceback" not in err
