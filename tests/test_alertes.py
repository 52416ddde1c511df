"""Alerts: selection through the CLI, real e-mail to an SMTP server on 127.0.0.1 (aiosmtpd), the ledger, ICS."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import icalendar
import pytest

from tests.helpers import DATA, Mailbox, Pacte, body, free_port

ON = "2027-01-29"
ELODIE = "elodie.dupre@valdemarne.example.fr"
JEROME = "jerome.lefevre@valdemarne.example.fr"
CHLOE = "chloe.noel@valdemarne.example.fr"


@pytest.fixture
def registre(pacte: Pacte) -> Pacte:
    pacte("importer", str(DATA / "alertes.yaml"))
    return pacte


def test_alerts_json_has_the_documented_keys(registre: Pacte) -> None:
    rows = json.loads(registre("--au", ON, "alertes", "--format", "json").output)
    by_ref = {r["reference"]: r for r in rows}
    assert set(by_ref) == {"CCAS-2024-101", "CCAS-2024-102", "CCAS-2024-103", "FT-2023-104"}
    assert {"reference", "type", "partenaires", "responsable", "fin_periode", "date_limite", "jours_restants",
            "seuil", "action"} <= set(rows[0])
    assert by_ref["CCAS-2024-101"] | {"action": ""} == {
        "reference": "CCAS-2024-101", "type": "ccas", "partenaires": ["CCAS-IVRY"], "responsable": ELODIE,
        "fin_periode": "2027-05-31", "date_limite": "2027-02-28", "jours_restants": 30, "seuil": 30, "action": "",
        "periode": 1}
    assert by_ref["CCAS-2024-103"]["seuil"] == 180
    assert by_ref["FT-2023-104"]["seuil"] == "expiree"
    assert [r["reference"] for r in rows][0] == "FT-2023-104"  # the most urgent first
    csv_out = registre("--au", ON, "alertes", "--format", "csv").output.splitlines()
    assert csv_out[0] == "reference;type;partenaires;responsable;fin_periode;date_limite;jours_restants;seuil;action"


def test_thresholds_per_type_from_pacte_toml(registre: Pacte) -> None:
    config = registre.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "# [alertes.seuils_par_type]\n# france_travail = [270, 180, 90, 30, 0]",
        "[alertes.seuils_par_type]\nccas = [400, 60]"), encoding="utf-8")
    rows = json.loads(registre("--au", "2026-01-29", "alertes", "--format", "json").output)
    # 395 days before their deadline: under the 400 of ccas; CCAS-2024-103 is 487 days away
    assert {r["reference"]: r["seuil"] for r in rows} == {"CCAS-2024-101": 400, "CCAS-2024-102": 400,
                                                          "FT-2023-104": "depasse"}


def _send(pacte: Pacte, *extra: str, ok: bool = True) -> Any:
    return pacte("--au", ON, "alertes", "--envoyer", *extra, ok=ok)


def test_one_digest_per_director_in_french_then_nothing_twice(registre: Pacte, smtp: tuple[Mailbox, int]) -> None:
    box, _ = smtp
    result = _send(registre)
    assert f"envoyé à {ELODIE} : 2 alerte(s)" in result.output
    received = box.by_recipient()
    assert sorted(received) == [CHLOE, ELODIE, JEROME]
    message = received[ELODIE][0]
    assert message["Subject"] == "[pacte] 2 conventions à décider, dont 2 urgentes — situation au 29 janvier 2027"
    assert message["To"].addresses[0].display_name == "Élodie Dupré"
    assert message["From"] == "insertion@valdemarne.example.fr"
    assert message.is_multipart() and message.get_content_type() == "multipart/alternative"
    text = body(message, "plain")
    html = body(message, "html")
    assert "Bonjour Élodie Dupré," in text
    assert "• CCAS-2024-101 — CCAS d'Ivry-sur-Seine (convention commune / CCAS)" in text
    assert "Date limite de décision : 28 février 2027 (dans 30 jours)" in text
    assert "À faire : Faire délibérer le renouvellement avant le 28 février 2027" in text
    assert "À faire : Décider avant le 28 février 2027 : laisser reconduire, ou dénoncer" in text
    assert "<strong>CCAS-2024-101</strong>" in html and "CCAS d&#39;Ivry-sur-Seine" in html
    chloe = received[CHLOE][0]
    assert "Convention expirée le 28 février 2026 sans renouvellement" in body(chloe, "plain")
    assert chloe["Subject"] == "[pacte] 1 convention à décider, urgente — situation au 29 janvier 2027"
    assert b"=?utf-8?" in chloe.as_bytes().split(b"\n\n", 1)[0].replace(b"UTF-8", b"utf-8")  # RFC 2047 on the wire
    again = _send(registre)
    assert "4 alerte(s) déjà envoyée(s)" in again.output and "Aucune nouvelle alerte à envoyer." in again.output
    assert len(box.messages) == 3
    later = registre("--au", "2027-02-28", "alertes", "--envoyer")  # a new threshold (0) is due
    assert f"envoyé à {ELODIE} : 2 alerte(s)" in later.output
    assert len(box.messages) == 4


def test_unreachable_server_exits_3_and_loses_nothing(registre: Pacte, monkeypatch: pytest.MonkeyPatch,
                                                      smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    monkeypatch.setenv("PACTE_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("PACTE_SMTP_MOT_DE_PASSE", "s3cret-Pa55")
    monkeypatch.setenv("PACTE_SMTP_UTILISATEUR", "pacte")
    result = _send(registre, ok=False)
    assert result.exit_code == 3
    assert "serveur SMTP injoignable (127.0.0.1:" in result.output
    assert "0 récapitulatif(s) envoyé(s) ; 4 alerte(s) non envoyée(s)" in result.output
    assert "s3cret-Pa55" not in result.output and "Traceback" not in result.output
    monkeypatch.setenv("PACTE_SMTP_PORT", str(port))
    monkeypatch.delenv("PACTE_SMTP_UTILISATEUR")
    _send(registre)
    assert len(box.messages) == 3


def test_connection_dropped_mid_batch_resumes_with_the_rest(registre: Pacte, smtp: tuple[Mailbox, int]) -> None:
    box, _ = smtp
    box.before_reply = lambda number, moment: "drop" if (number, moment) == (2, "avant") else None
    result = _send(registre, ok=False)
    assert result.exit_code == 3
    assert "connexion au serveur SMTP 127.0.0.1:" in result.output and "interrompue" in result.output
    assert "1 récapitulatif(s) envoyé(s)" in result.output
    first = [r for r, _ in box.messages]
    assert first == [[CHLOE]]  # digests go in the order of their recipients
    box.before_reply = None
    _send(registre)
    recipients = sorted(r[0] for r, _ in box.messages)
    assert recipients == [CHLOE, ELODIE, JEROME]  # each once: nothing lost, nothing twice


def test_redirect_and_simulation_record_nothing(registre: Pacte, smtp: tuple[Mailbox, int]) -> None:
    box, _ = smtp
    simulated = registre("--au", ON, "alertes", "--simulation")
    assert f"serait envoyé à {ELODIE}" in simulated.output and "rien n'a été envoyé" in simulated.output
    assert box.messages == []
    registre("--au", ON, "alertes", "--envoyer", "--rediriger", "test@valdemarne.example.fr")
    assert {r[0] for r, _ in box.messages} == {"test@valdemarne.example.fr"}
    assert box.messages[0][1]["Subject"].startswith("[redirigé, pour ")
    _send(registre)  # the real run still has everything to send
    assert len(box.messages) == 6


def _cli(pacte: Pacte, port: int, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PACTE_SMTP_HOTE": "127.0.0.1", "PACTE_SMTP_PORT": str(port)}
    options = ["--espace", str(pacte.root)] + (["--base", pacte.base] if pacte.base else [])
    return subprocess.Popen([sys.executable, "-m", "pacte_docs", *options, *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.crash
def test_two_runs_at_once_never_send_an_alert_twice(registre: Pacte, smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    box.delay = 0.3
    runs = [_cli(registre, port, "--au", ON, "alertes", "--envoyer") for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    keys = [(r[0], m["Message-ID"]) for r, m in box.messages]
    assert len(keys) == len(set(keys))
    assert sorted(r for r, _ in keys) == [CHLOE, ELODIE, JEROME]
    assert sum(out.count("envoyé à") for out, _ in outputs) == 3  # the two runs shared the digests out


@pytest.mark.crash
def test_crash_between_sending_and_recording(registre: Pacte, smtp: tuple[Mailbox, int]) -> None:
    """The run is killed after the server accepted its first digest, before recording it."""
    box, port = smtp
    victim: list[subprocess.Popen[str]] = []

    def kill_client(number: int, moment: str) -> str | None:
        if (number, moment) == (1, "accepte"):  # stored, but the 250 has not reached the client
            victim[0].send_signal(signal.SIGKILL)
            time.sleep(0.5)
        return None

    box.before_reply = kill_client
    victim.append(_cli(registre, port, "--au", ON, "alertes", "--envoyer"))
    victim[0].communicate(timeout=120)
    assert victim[0].returncode == -signal.SIGKILL
    assert [r for r, _ in box.messages] == [[CHLOE]]
    box.before_reply = None
    rerun = _cli(registre, port, "--au", ON, "alertes", "--envoyer")
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    by_recipient = box.by_recipient()
    # never lost: Chloé's digest is sent again, under the Message-ID it was first sent with
    assert len(by_recipient[CHLOE]) == 2
    assert by_recipient[CHLOE][0]["Message-ID"] == by_recipient[CHLOE][1]["Message-ID"]
    assert len(by_recipient[ELODIE]) == 1 and len(by_recipient[JEROME]) == 1
    third = _cli(registre, port, "--au", ON, "alertes", "--envoyer")
    out, _ = third.communicate(timeout=120)
    assert "Aucune nouvelle alerte à envoyer." in out
    assert len(box.messages) == 4


def test_ics_reads_back_with_icalendar(registre: Pacte, tmp_path: Path) -> None:
    target = tmp_path / "echeances.ics"
    result = registre("--au", ON, "alertes", "--ics", str(target))
    assert f"Calendrier écrit : {target}" in result.output
    calendar = icalendar.Calendar.from_ical(target.read_bytes())
    assert str(calendar["PRODID"]).startswith("-//pacte_docs//")
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    deadline = events["CCAS-2024-101-p1-limite@pacte-docs"]
    assert deadline.decoded("DTSTART").isoformat() == "2027-02-28"
    assert "Date limite de décision — CCAS-2024-101 (CCAS d'Ivry-sur-Seine)" == str(deadline["SUMMARY"])
    triggers = sorted(-a.decoded("TRIGGER").days for a in deadline.walk("VALARM"))
    assert triggers == [0, 30, 90, 180]  # 9:00, 180/90/30/0 days before
    assert events["CCAS-2024-101-p1-fin@pacte-docs"].decoded("DTSTART").isoformat() == "2027-05-31"
    assert not any(uid.startswith(("CCAS-2027-105", "FT-2023-104")) for uid in events)  # draft, ended
    assert len(events) == 6


def test_smtp_settings_come_from_toml_then_environment(registre: Pacte) -> None:
    from pacte_docs.services.notify import smtp_settings
    from pacte_docs.workspace import load_config

    config = registre.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('# hote = "localhost"', 'hote = "smtp.cd94.fr"')
                      .replace("# port = 25", "port = 587"), encoding="utf-8")
    settings = smtp_settings(load_config(config), {"PACTE_SMTP_PORT": "2525", "PACTE_SMTP_MOT_DE_PASSE": "Zq9-mdp"})
    assert (settings.hote, settings.port, settings.starttls, settings.mot_de_passe) == ("smtp.cd94.fr", 2525,
                                                                                        False, "Zq9-mdp")
    assert "Zq9-mdp" not in repr(settings) and "Zq9-mdp" not in str(settings)
    config.write_text(config.read_text(encoding="utf-8") + '\nmot_de_passe = "secret"\n', encoding="utf-8")
    result = registre("alertes", ok=False)
    assert result.exit_code == 1 and "un mot de passe ne doit jamais être écrit dans un fichier" in result.output
    assert "secret" not in result.output



def test_the_smtp_password_never_appears_in_output_files_or_messages(registre: Pacte, smtp: tuple[Mailbox, int],
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    """The password comes from the environment only; a server that refuses the login gets it, nothing else."""
    secret = "Tr3s-s3cret-mdp-" + str(os.getpid())
    monkeypatch.setenv("PACTE_SMTP_MOT_DE_PASSE", secret)
    monkeypatch.setenv("PACTE_SMTP_UTILISATEUR", "pacte")
    refused = _send(registre, ok=False)  # this server offers no AUTH: the login fails
    assert refused.exit_code == 3 and "Traceback" not in refused.output
    monkeypatch.delenv("PACTE_SMTP_UTILISATEUR")
    sent = _send(registre)
    calendar = registre("--au", ON, "alertes", "--ics", str(registre.root / "echeances.ics"))
    box, _ = smtp
    assert box.messages
    seen = [refused.output, sent.output, calendar.output] + [m.as_string() for _, m in box.messages]
    for path in registre.root.rglob("*"):
        if path.is_file():
            seen.append(path.read_bytes().decode("latin-1"))
    assert not any(secret in text for text in seen)


def test_a_refused_recipient_leaves_everyone_else_served(registre: Pacte, smtp: tuple[Mailbox, int]) -> None:
    """The server refuses one director (550): the others get their digest, the refused one is named, and the next
    run, once the address is right, sends only what that director is owed."""
    box, _ = smtp
    box.refuse = {JEROME}
    first = _send(registre, ok=False)
    assert first.exit_code == 1, first.output
    assert f"envoyé à {ELODIE} : 2 alerte(s)" in first.output and f"envoyé à {CHLOE}" in first.output
    assert "1 destinataire(s) refusé(s) ; 2 récapitulatif(s) envoyé(s) aux autres." in first.output
    assert f"{JEROME} : refusé par le serveur (550 5.1.1 Destinataire inconnu)" in first.output
    assert sorted(box.by_recipient()) == [CHLOE, ELODIE]
    box.refuse = set()
    second = _send(registre)
    assert f"envoyé à {JEROME} : 1 alerte(s)" in second.output
    assert sorted(box.by_recipient()) == [CHLOE, ELODIE, JEROME] and len(box.messages) == 3


@pytest.mark.parametrize(("field", "value", "said"), [
    ("email", ".jerome@valdemarne.example.fr", "un point au début"),
    ("email", "jerome..lefevre@valdemarne.example.fr", "deux points qui se suivent"),
    ("nom", "Jérôme\rLefèvre", "retour à la ligne interdit"),
])
def test_an_address_or_name_unfit_for_a_message_is_refused_at_import(pacte: Pacte, tmp_path: Path, field: str,
                                                                      value: str, said: str) -> None:
    source = (DATA / "alertes.yaml").read_text(encoding="utf-8")
    original = {"email": JEROME, "nom": "Jérôme Lefèvre"}[field]
    spoiled = tmp_path / "alertes.yaml"
    spoiled.write_text(source.replace(original, value.replace("\r", "\\r") if field == "nom" else value, 1)
                       .replace("{nom: Jérôme\\rLefèvre", '{nom: "Jérôme\\rLefèvre"'), encoding="utf-8")
    result = pacte("importer", str(spoiled), ok=False)
    assert result.exit_code == 1 and said in result.output, result.output
    assert f"responsable.{field}" in result.output or "responsable" in result.output


def test_rediriger_takes_one_valid_address(registre: Pacte, smtp: tuple[Mailbox, int]) -> None:
    result = registre("--au", "2027-01-29", "alertes", "--envoyer", "--rediriger", "a@x.fr, b@y.fr", ok=False)
    assert result.exit_code == 1 and "--rediriger : « a@x.fr, b@y.fr » n'est pas une adresse" in result.output
    assert smtp[0].messages == []


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_a_server_that_answers_a_byte_at_a_time_is_cut_at_the_deadline(registre: Pacte,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A server dribbling its greeting never trips the socket's timeout: [smtp] delai_secondes bounds each message,
    the run stops with exit 3 and a French message, and nothing is recorded as sent."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def dribble() -> None:
        while not stop.is_set():
            try:
                server.settimeout(0.2)
                connection, _ = server.accept()
            except OSError:
                continue
            with connection:
                for byte in b"220 " + b"x" * 10_000:
                    if stop.is_set():
                        break
                    try:
                        connection.sendall(bytes([byte]))
                    except OSError:
                        break
                    time.sleep(0.2)

    thread = threading.Thread(target=dribble, daemon=True)
    thread.start()
    config = registre.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("# delai_secondes = 60", "delai_secondes = 2"),
                      encoding="utf-8")
    monkeypatch.setenv("PACTE_SMTP_HOTE", "127.0.0.1")
    monkeypatch.setenv("PACTE_SMTP_PORT", str(server.getsockname()[1]))
    started = time.monotonic()
    try:
        result = _send(registre, ok=False)
    finally:
        stop.set()
        server.close()
    assert time.monotonic() - started < 30
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert "n'a pas traité un message en 2 s ; la connexion a été coupée ([smtp] delai_secondes)" in \
        " ".join(result.output.split())
    assert "0 récapitulatif(s) envoyé(s)" in result.output


def test_a_takeover_delay_under_five_minutes_is_refused(registre: Pacte) -> None:
    """reprise_minutes = 0 would let a second run take over alerts the first is still sending: sent twice."""
    config = registre.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("reprise_minutes = 30", "reprise_minutes = 0"),
                      encoding="utf-8")
    result = registre("--au", ON, "alertes", ok=False)
    flat = " ".join(result.output.split())
    assert result.exit_code == 1 and "reprise_minutes" in flat and "au moins 5" in flat
    assert "enverraient deux fois la même alerte" in flat
