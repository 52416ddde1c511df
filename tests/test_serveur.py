"""`pacte serveur` and `pacte acces`: the directors' read-only pages and calendars, served by a real server in its
own process (SQLite and PostgreSQL), requested over raw HTTP as a browser — or an attacker — would."""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest
from lxml import html
from sqlalchemy import select

from pacte_docs.registry.models import Acces
from pacte_docs.services import access
from pacte_docs.workspace import Workspace
from tests.conftest import _admin
from tests.helpers import (
    CHLOE,
    DATA,
    ELODIE,
    JEROME,
    LINK,
    SERVED_ON,
    Mailbox,
    Pacte,
    Served,
    Server,
    body,
    convention_ids,
    create_link,
    documents,
    public,
    registry_state,
    serve_alertes,
    start_server,
)

ON = SERVED_ON
def page(server: Server, path: str) -> html.HtmlElement:
    status, headers, content = server.get(path)
    assert status == 200, (path, status, content[:500])
    assert headers["content-type"].startswith("text/html")
    return html.fromstring(content)


def text(tree: html.HtmlElement) -> str:
    """The words of a page as read, one space between elements (a term and its definition)."""
    return " ".join(" ".join(tree.itertext()).split())


def counts(tree: html.HtmlElement) -> dict[str, int]:
    """The band counts shown on the deadlines page: title → count."""
    return {" ".join(a.xpath("string(span[2])").split()): int(a.xpath("string(span[1])"))
            for a in tree.xpath("//nav[@aria-label=\"Bandes d'échéance\"]//li/a")}


def references(tree: html.HtmlElement) -> list[str]:
    return [a.text_content() for a in tree.xpath("//table[contains(@class, 'echeances')]//tbody//th/a")]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgresql,
                                                                                    pytest.mark.lent])])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The registry of tests/donnees/alertes.yaml (three directors), two conventions drawn up, and its server."""
    if request.param == "sqlite":
        yield from serve_alertes(tmp_path_factory, None)
        return
    server_url = request.getfixturevalue("pg_server")
    name = "t_serveur_" + tmp_path_factory.getbasetemp().name.replace("-", "_")[-20:]
    with _admin(server_url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield from serve_alertes(tmp_path_factory, f"{server_url}/{name}")
    finally:
        with _admin(server_url) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_director_sees_their_deadlines_in_bands(served: Served) -> None:
    tree = page(served.server, f"/acces/{served.elodie}")
    assert tree.get("lang") == "fr"
    assert text(tree.xpath("//h1")[0]) == "Échéances au 29 janvier 2027"
    assert references(tree) == ["CCAS-2024-101", "CCAS-2024-102"]  # Élodie's only
    shown = counts(tree)
    assert shown == {"Date limite dépassée": 0, "Moins de 30 jours": 0, "De 30 à 89 jours": 2,
                     "De 90 à 179 jours": 0, "180 jours et plus": 0, "Toutes les échéances": 2}
    content = text(tree)
    assert "CCAS d'Ivry-sur-Seine" in content and "28/02/2027 dans 30 jours" in content
    assert "Faire délibérer le renouvellement avant le 28 février 2027" in content
    assert "Jérôme" not in content and "FT-2023-104" not in content
    assert not tree.xpath("//select[@name='responsable']")  # a director's link has no other director to choose


def test_the_team_sees_everything_and_filters(served: Served) -> None:
    board = f"/acces/{served.team}"
    tree = page(served.server, board)
    assert references(tree) == ["FT-2023-104", "CCAS-2024-101", "CCAS-2024-102", "CCAS-2024-103"]
    assert counts(tree) == {"Date limite dépassée": 1, "Moins de 30 jours": 0, "De 30 à 89 jours": 2,
                            "De 90 à 179 jours": 1, "180 jours et plus": 0, "Toutes les échéances": 4}
    assert "1 convention sans décision à prendre" in text(tree)  # the draft
    assert [h.text_content().split("(")[0].strip() for h in tree.xpath("//h2")] == [
        "Date limite dépassée", "De 30 à 89 jours", "De 90 à 179 jours"]
    assert "Convention expirée le 28 février 2026 sans renouvellement" in text(tree)
    # every filter of the form, and the band links
    options = tree.xpath("//select[@name='responsable']/option/@value")
    assert options == ["", CHLOE, ELODIE, JEROME]  # by name: Chloé, Élodie, Jérôme
    for query, expected in [
        ({"responsable": JEROME}, ["CCAS-2024-103"]),
        ({"type": "france_travail"}, ["FT-2023-104"]),
        ({"statut": "a_renouveler"}, ["CCAS-2024-101", "CCAS-2024-102", "CCAS-2024-103"]),
        ({"statut": "expiree"}, ["FT-2023-104"]),
        ({"partenaire": "vitry"}, ["CCAS-2024-102"]),  # part of a name, any case
        ({"partenaire": "IVRY-SUR"}, ["CCAS-2024-101", "CCAS-2024-103"]),
        ({"bande": "depasse"}, ["FT-2023-104"]),
        ({"bande": "aucune"}, ["CCAS-2027-105"]),
        ({"type": "ccas", "bande": "180"}, ["CCAS-2024-103"]),
        ({"partenaire": "nobody"}, []),
    ]:
        filtered = page(served.server, f"{board}?{urllib.parse.urlencode(query)}")
        assert references(filtered) == expected, query
    assert "Aucune convention ne correspond à ces critères." in text(
        page(served.server, f"{board}?partenaire=nobody"))
    # filters narrow the counts too
    assert counts(page(served.server, f"{board}?responsable={ELODIE}"))["Toutes les échéances"] == 2
    # odd parameters are no error
    assert references(page(served.server, f"{board}?page=999999999999&bande=x%00y")) == []


def test_a_convention_page_and_its_documents(served: Served) -> None:
    known = convention_ids(served.pacte)
    tree = page(served.server, f"/acces/{served.elodie}/conventions/{known['CCAS-2024-101']}")
    content = text(tree)
    assert text(tree.xpath("//h1")[0]) == "Convention CCAS-2024-101"
    for expected in ("CCAS d'Ivry-sur-Seine", "Département du Val-de-Marne", "représenté par M. Paul Président",
                     "Date limite : 28 février 2027", "Élodie Dupré", "Date d'effet 1er juin 2024",
                     "expresse, 1 fois au plus, préavis de 3 mois", "Créée par l'import de alertes.yaml"):
        assert expected in content, expected
    links = tree.xpath("//a[@download]/@href")
    assert links, content
    recorded = documents(served.pacte)["CCAS-2024-101.docx"]
    assert f"/acces/{served.elodie}/documents/{recorded[0]}" in links
    status, headers, data = served.server.get(f"/acces/{served.elodie}/documents/{recorded[0]}")
    assert status == 200 and hashlib.sha256(data).hexdigest() == recorded[2]
    assert data == (served.pacte.root / recorded[1]).read_bytes()
    assert headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert 'filename="CCAS-2024-101.docx"' in headers["content-disposition"]


def test_nothing_else_is_reachable(served: Served) -> None:
    known = convention_ids(served.pacte)
    jerome_doc = documents(served.pacte)["CCAS-2024-103.docx"][0]
    elodie = f"/acces/{served.elodie}"
    forged = served.elodie[:-1] + ("A" if served.elodie[-1] != "A" else "B")
    for path in [
        f"{elodie}/conventions/{known['CCAS-2024-103']}",  # another director's convention
        f"{elodie}/documents/{jerome_doc}",  # and its document
        f"{elodie}/conventions/999999", f"{elodie}/documents/999999", f"{elodie}/documents/-1",
        f"{elodie}/documents/99999999999999999999999", f"{elodie}/conventions/{2**63}", f"{elodie}/documents/0",
        f"/acces/{forged}", f"/calendrier/{forged}.ics", "/acces/", "/acces/x", "/calendrier/.ics",
        f"{elodie}/../../pacte.db", f"{elodie}/documents/..%2F..%2Fpacte.db", f"{elodie}/%2e%2e/%2e%2e/pacte.db",
        f"{elodie}/documents/1%2F..%2F..%2Fpacte.toml", "/pacte.css/../pacte.db", "/../pacte.db",
        "/%2e%2e/pacte.toml", "/conventions/CCAS-2024-101/CCAS-2024-101.docx", "/pacte.db", "/.pacte-cle-acces",
        f"/calendrier/..%2F{served.elodie}.ics", f"{elodie}/documents/{jerome_doc}%2F..%2F1",
        "/static/../../pacte.toml", "//etc/passwd", "/acces/%00",
    ]:
        status, headers, content = served.server.get(path)
        assert status == 404, (path, status)
        assert b"SQLite format" not in content and b"[espace]" not in content and b"PK\x03\x04" not in content
        assert "Page introuvable" in content.decode("utf-8"), path
        assert headers["content-security-policy"].startswith("default-src 'none'")
    assert "Traceback" not in served.server.log.read_text(encoding="utf-8")  # each refused calmly


def test_no_page_changes_anything(served: Served) -> None:
    before = registry_state(served.pacte.root, served.pacte.base)
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
        for path in (f"/acces/{served.team}", f"/acces/{served.team}/documents/1", "/", "/nulle-part"):
            status, headers, content = served.server.get(path, method, b"x=1" if method != "TRACE" else None)
            assert status == 405, (method, path, status)
            assert headers["allow"] == "GET, HEAD"
    status, headers, content = served.server.get(f"/acces/{served.team}", "HEAD")
    assert status == 200 and content == b""
    assert registry_state(served.pacte.root, served.pacte.base) == before


def test_a_form_that_is_not_utf8_is_refused_in_french(served: Served) -> None:
    """A staff form's body with a byte that is not UTF-8 (read by the CSRF check before any page): a 400 that
    says so in French, never the framework's « Internal Server Error »."""
    before = registry_state(served.pacte.root, served.pacte.base)
    status, headers, content = served.server.get("/connexion", "POST", b"email=a%40b.fr&csrftoken=x&y=\xff",
                                                 {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and "Formulaire illisible : son contenu n'est pas en UTF-8" in content.decode()
    assert registry_state(served.pacte.root, served.pacte.base) == before


def test_security_headers_on_every_answer(served: Served) -> None:
    for path in (f"/acces/{served.team}", "/pacte.css", "/nulle-part", f"/calendrier/{served.team}.ics",
                 f"/acces/{served.team}/documents/{documents(served.pacte)['CCAS-2024-101.docx'][0]}"):
        _, headers, _ = served.server.get(path)
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp, path
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        assert "server" not in headers
    _, headers, content = served.server.get(f"/acces/{served.team}")
    assert headers["cache-control"] == "private, no-store"
    assert b"<script" not in content and b"style=" not in content  # nothing inline for the CSP to block


def events(data: bytes) -> dict[str, tuple[str, list[str]]]:
    """UID → (summary, alarm triggers) of a calendar."""
    calendar = icalendar.Calendar.from_ical(data)
    return {str(e["uid"]): (str(e["summary"]), sorted(str(a["trigger"].to_ical()) for a in e.walk("VALARM")))
            for e in calendar.walk("VEVENT")}


def test_the_subscribed_calendar_is_the_alerts_calendar(served: Served, tmp_path: Path) -> None:
    status, headers, data = served.server.get(f"/calendrier/{served.elodie}.ics")
    assert status == 200 and headers["content-type"] == "text/calendar; charset=utf-8"
    mine = events(data)
    target = tmp_path / "tout.ics"
    served.pacte("--au", ON, "alertes", "--ics", str(target))
    everything = events(target.read_bytes())
    assert mine == {uid: e for uid, e in everything.items() if uid.startswith(("CCAS-2024-101", "CCAS-2024-102"))}
    assert len(mine) == 4 and all(len(triggers) == 4 for summary, triggers in mine.values()
                                  if summary.startswith("Date limite"))
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT6H" in data.decode()
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["x-wr-calname"]) == f"Échéances des conventions d'insertion — {ELODIE}"
    _, _, team = served.server.get(f"/calendrier/{served.team}.ics")
    assert events(team) == everything


def test_a_revoked_link_is_refused_at_once(served: Served) -> None:
    url, token, calendar = create_link(served.pacte, "--responsable", JEROME)
    path = urllib.parse.urlsplit(url).path
    assert served.server.get(path)[0] == 200
    assert served.server.get(urllib.parse.urlsplit(calendar).path)[0] == 200
    listing = served.pacte("acces", "lister").output
    assert f"{token[:8]}…" in listing and token not in listing
    served.pacte("acces", "revoquer", token[:8])
    assert served.server.get(path)[0] == 404
    assert served.server.get(urllib.parse.urlsplit(calendar).path)[0] == 404
    assert "révoqué" in served.pacte("acces", "lister").output
    assert served.server.get(f"/acces/{served.elodie}")[0] == 200  # the others still work


def test_an_altered_file_is_refused_and_named(served: Served) -> None:
    doc_id, chemin, _ = documents(served.pacte)["CCAS-2024-101.docx"]
    path = served.pacte.root / chemin
    original = path.read_bytes()
    path.chmod(0o644)
    try:
        path.write_bytes(original[:-10] + b"0123456789")
        status, _, content = served.server.get(f"/acces/{served.elodie}/documents/{doc_id}")
        assert status == 409
        message = " ".join(html.fromstring(content).text_content().split())
        assert f"Le fichier {chemin} n'est plus celui qui a été enregistré" in message
        assert b"0123456789" not in content
        path.unlink()
        assert served.server.get(f"/acces/{served.elodie}/documents/{doc_id}")[0] == 409
    finally:
        path.write_bytes(original)
    assert served.server.get(f"/acces/{served.elodie}/documents/{doc_id}")[0] == 200


def test_tokens_are_never_kept_nor_logged(served: Served) -> None:
    served.server.get(f"/acces/{served.chloe}?statut=expiree")
    served.server.get(f"/calendrier/{served.chloe}.ics")
    log = served.server.log.read_text(encoding="utf-8")
    assert "GET /acces/… 200" in log and "GET /calendrier/….ics 200" in log
    for token in (served.team, served.elodie, served.chloe):
        assert token not in log and token[8:] not in log
    with Workspace(served.pacte.root, served.pacte.base) as ws, ws.db.session() as session:
        stored = [(a.prefixe, a.empreinte, a.graine) for a in session.scalars(select(Acces))]
    assert all(hashlib.sha256(served.chloe.encode()).hexdigest() != seed for _, _, seed in stored)
    assert (hashlib.sha256(served.chloe.encode()).hexdigest() in [e for _, e, _ in stored])
    if served.pacte.base is None:  # the whole SQLite file holds no token
        database = (served.pacte.root / "pacte.db").read_bytes()
        assert all(token[8:].encode() not in database for token in (served.team, served.elodie, served.chloe))
    key = served.pacte.root / ".pacte-cle-acces"
    assert key.stat().st_mode & 0o777 == 0o600


def test_a_token_never_reads_as_an_option(pacte_sqlite: Pacte) -> None:
    """Tokens are base64url, whose alphabet holds « - »: none begins with it, nor with « _ », so that
    `pacte acces revoquer JETON` takes any of them as it is pasted."""
    pacte_sqlite("importer", str(DATA / "alertes.yaml"))
    with Workspace(pacte_sqlite.root, None) as ws:
        tokens = [access.create(ws, None).jeton for _ in range(300)]  # without the rule, ~9 begin with - or _
    assert all(token[0].isalnum() for token in tokens)
    assert len({token[:8] for token in tokens}) == 300
    pacte_sqlite("acces", "revoquer", tokens[0])
    with Workspace(pacte_sqlite.root, None) as ws:
        assert access.list_links(ws)[0].revoque_le is not None


def test_acces_commands_speak_french(pacte_sqlite: Pacte) -> None:
    pacte_sqlite("importer", str(DATA / "alertes.yaml"))
    result = pacte_sqlite("acces", "creer", ok=False)
    assert result.exit_code == 2 and "--responsable ADRESSE" in result.output
    result = pacte_sqlite("acces", "creer", "--responsable", "pas une adresse", ok=False)
    assert result.exit_code == 1 and "n'est pas une adresse électronique valable" in result.output
    result = pacte_sqlite("acces", "creer", "--responsable", "inconnu@valdemarne.example.fr")
    unknown = LINK.search(result.output)
    assert unknown is not None
    server = start_server(pacte_sqlite.root, None, SERVED_ON)
    try:  # a director with nothing to decide is told so, not « no convention matches these criteria »
        assert "Aucune convention n'attend de décision." in text(page(server, f"/acces/{unknown.group(2)}"))
    finally:
        server.stop()
    assert "0 convention(s)" in result.output and "aucune convention du registre n'a ce responsable" in \
        result.output
    result = pacte_sqlite("acces", "revoquer", "zzzzzzzz", ok=False)
    assert result.exit_code == 1 and "Aucun lien d'accès « zzzzzzzz »" in result.output
    token = create_link(pacte_sqlite, "--responsable", JEROME)[1]
    public(pacte_sqlite.root, "https://pacte.example.fr/")
    printed = pacte_sqlite("acces", "creer", "--tout").output
    assert "https://pacte.example.fr/acces/" in printed and "https://pacte.example.fr/calendrier/" in printed
    pacte_sqlite("acces", "revoquer", f"http://127.0.0.1:8000/calendrier/{token}.ics")  # a whole link pasted
    assert "révoqué" in pacte_sqlite("acces", "lister").output


def test_the_port_taken_is_told(pacte_sqlite: Pacte) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = pacte_sqlite("serveur", "--port", str(port), ok=False)
    assert result.exit_code == 1
    assert f"Impossible d'ouvrir 127.0.0.1:{port} (déjà utilisé par un autre programme)" in result.output


def test_alert_mail_gives_each_director_their_links(served: Served, smtp: tuple[Mailbox, int],
                                                    tmp_path: Path) -> None:
    box, _ = smtp
    config = served.pacte.root / "pacte.toml"
    original = config.read_text(encoding="utf-8")
    public(served.pacte.root, served.server.url)
    try:
        served.pacte("--au", ON, "alertes", "--envoyer")
        served.pacte("--au", "2027-02-28", "alertes", "--envoyer")  # the next threshold: the same links again
    finally:
        config.write_text(original, encoding="utf-8")
    links: dict[str, list[tuple[str, str]]] = {}
    for recipients, message in box.messages:
        plain, rich = body(message, "plain"), body(message, "html")
        page_url = re.search(r"Toutes vos échéances, à jour : (\S+)", plain)
        calendar_url = re.search(r"à votre agenda \(abonnement\) : (\S+)", plain)
        assert page_url and calendar_url, plain
        assert f'href="{page_url.group(1)}"' in rich and f'href="{calendar_url.group(1)}"' in rich
        links.setdefault(recipients[0], []).append((page_url.group(1), calendar_url.group(1)))
    assert set(links) == {ELODIE, JEROME, CHLOE}
    assert len(links[ELODIE]) == 2 and links[ELODIE][0] == links[ELODIE][1]  # stable from one mail to the next
    for recipient, ((pages, subscription), *_) in links.items():
        tree = page(served.server, urllib.parse.urlsplit(pages).path)
        assert recipient in text(tree)
        shown = references(tree)
        assert shown and all(ref in {ELODIE: ["CCAS-2024-101", "CCAS-2024-102"], JEROME: ["CCAS-2024-103"],
                                     CHLOE: ["FT-2023-104"]}[recipient] for ref in shown)
        assert served.server.get(urllib.parse.urlsplit(subscription).path)[0] == 200
