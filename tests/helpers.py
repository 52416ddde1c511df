"""What the test modules share (they import it from here only): pacte run as a user runs it, a mailbox for a real
SMTP server, builders of registries, snapshots of the registry and of the workspace's folders, DOCX and PDF text."""

from __future__ import annotations

import email
import email.policy
import hashlib
import random
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result
from docx import Document as DocxDocument
from sqlalchemy import select

from pacte_docs.cli import cli
from pacte_docs.documents.outline import Bookmark, read_bookmarks
from pacte_docs.intake.exporter import registry_records
from pacte_docs.registry.models import Convention, Document, SuiviFiche
from pacte_docs.registry.queries import pacte_record, pactes
from pacte_docs.workspace import Workspace


def registry_state(root: Path, base: str | None) -> dict[str, Any]:
    ws = Workspace(root, base)
    try:
        with ws.db.session() as session:
            state: dict[str, Any] = dict(registry_records(session))
            state["pactes"] = [pacte_record(p) for p in pactes(session)]
            state["revisions"] = [(p.reference, r.rang, r.numero, r.date, r.contenu, r.changements)
                                  for p in pactes(session) for r in p.revisions]
            state["suivi"] = sorted((s.pacte_id, s.cible, s.date, s.etat, s.commentaire, s.referent)
                                    for s in session.query(SuiviFiche).all())
            state["documents"] = sorted(  # tuples, for a stable comparison
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


def bookmarks(pdf: Path) -> list[Bookmark]:
    """A PDF's outline, its titles read as a reader reads them (see normalise)."""
    def plain(items: list[Bookmark]) -> list[Bookmark]:
        return [Bookmark(normalise(b.title), b.page, plain(b.children)) for b in items]
    return plain(read_bookmarks(pdf))


def normalise(text: str) -> str:
    """Text as a reader reads it: non-breaking and narrow spaces as plain spaces, the typographic apostrophe as
    ', the non-breaking hyphen as - (tests of the typesetting itself read the raw text)."""
    return (text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2019", "'")
            .replace("\u2011", "-"))


def add_paragraphs(template: Path, *texts: str) -> None:
    """Edit a DOCX template as a user in Word would: each text becomes a paragraph at the end of its body."""
    document = DocxDocument(str(template))
    for text in texts:
        document.add_paragraph(text)
    document.save(str(template))


def scanned_pdf(line: str, pages: int = 1) -> bytes:
    """A small PDF written by hand (not by pacte_docs), standing for a scanned signed copy: *pages* pages, each
    with a single line of text, so that it owes nothing to the product."""
    stream = f"BT /F1 18 Tf 72 720 Td ({line}) Tj ET".encode("ascii")
    first_page = 4
    kids = " ".join(f"{first_page + i} 0 R" for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
          b"/Resources << /Font << /F1 " + str(first_page + pages).encode() + b" 0 R >> >> >>" for _ in range(pages)],
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


# ---------------------------------------------------------------- running pacte, data files, a mailbox

DATA = Path(__file__).parent / "donnees"


class Pacte:
    """Runs `pacte` in a workspace as a user would, on the database under test."""

    def __init__(self, root: Path, base: str | None) -> None:
        self.root = root
        self.base = base

    def __call__(self, *args: str, ok: bool = True, input: str | None = None) -> Result:  # noqa: A002 (click's name)
        options = ["--espace", str(self.root)] + (["--base", self.base] if self.base else [])
        result = CliRunner().invoke(cli, [*options, *args], prog_name="pacte", input=input)
        if ok and result.exit_code != 0:
            raise AssertionError(f"pacte {' '.join(args)} → {result.exit_code}\n{result.output}\n{result.exception!r}")
        return result


@dataclass
class Mailbox:
    """A real SMTP server's handler: stores what it accepts; a hook may inject a fault."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    before_reply: Callable[[int, Any], str | None] | None = None
    delay: float = 0.0
    refuse: set[str] = field(default_factory=set)  # recipients the server refuses (550), as a real one would

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 Destinataire inconnu"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        number = len(self.messages) + 1
        if self.before_reply is not None and self.before_reply(number, "avant") == "drop":
            server.transport.close()  # the connection is lost before the server accepts the message
            return "421 connexion perdue"
        if self.delay:
            time.sleep(self.delay)  # a slow server keeps two concurrent runs overlapping
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        if self.before_reply is not None:
            self.before_reply(number, "accepte")  # stored: the message is the server's now
        return "250 Message accepted for delivery"

    def by_recipient(self) -> dict[str, list[EmailMessage]]:
        result: dict[str, list[EmailMessage]] = {}
        for recipients, message in self.messages:
            for recipient in recipients:
                result.setdefault(recipient, []).append(message)
        return result


def body(message: EmailMessage, kind: str) -> str:
    """The plain text or HTML part of a message."""
    part = message.get_body((kind,))
    assert part is not None, f"pas de partie {kind}"
    return str(part.get_content())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- registries built by the tests

def many_conventions(count: int, *, signed: bool = True) -> dict[str, object]:
    """A registry of *count* conventions with XML-special characters; drafts unless *signed* (a signed
    convention's text, once generated, is never rewritten)."""
    return {
        "departement": {"code": "93", "nom": "Département de la Seine-Saint-Denis", "ville": "Bobigny"},
        "partenaires": [{"code": "CCAS-X", "type": "ccas", "nom": "CCAS d'X « & »"}],
        "conventions": [{"reference": f"CCAS-2024-{i:04d}", "type": "ccas", "partenaires": ["CCAS-X"],
                         "objet": f"Objet n° {i} <avec> des caractères « spéciaux » & d'autres.",
                         "date_effet": "2024-06-01", "renouvellement": "expresse",
                         "responsable": {"email": "dir@d.example.fr"}, **({"date_signature": "2024-05-15"}
                                                                         if signed else {})}
                        for i in range(count)],
    }


THEMES = [
    ("Lever les freins à l'emploi : santé, mobilité & garde d'enfants", "sociale"),
    ("Accompagner vers l'emploi durable les bénéficiaires du RSA", "professionnelle"),
    ("Mobiliser les employeurs « inclusifs » du territoire", "professionnelle"),
    ("Prévenir les ruptures de parcours et l'isolement", "sociale"),
]


def build_pacte(seed: int = 2024, fiches_per_axe: tuple[int, ...] = (3, 4, 2, 3)) -> dict[str, Any]:
    """A Creuse-like PDI/PTI with amounts in cents and names full of XML-special characters."""
    rng = random.Random(seed)
    partners = [
        {"code": "PREF-23", "type": "prefecture", "nom": "Préfecture de la Creuse",
         "representant": {"civilite": "Mme", "nom": "Anne Préfète", "qualite": "Préfète de la Creuse"}},
        {"code": "CAF-23", "type": "caf", "nom": "Caisse d'allocations familiales de la Creuse",
         "representant": {"civilite": "M.", "nom": "Yves O'Neil", "qualite": "Directeur de la Caf"}},
        {"code": "FT-23", "type": "france_travail", "nom": "France Travail Creuse",
         "representant": {"civilite": "M.", "nom": "Luc Emploi", "qualite": "Directeur territorial"}},
        {"code": "ASSO-23", "type": "association", "nom": "Association « Rural & Solidaire » <Creuse>",
         "representant": {"civilite": "Mme", "nom": "Léa \"Lou\" Martin", "qualite": "Présidente"}},
    ]
    axes = []
    for number, ((title, nature), count) in enumerate(zip(THEMES, fiches_per_axe, strict=False), start=1):
        fiches = []
        for k in range(1, count + 1):
            cents = rng.randrange(500_000, 90_000_000)
            fiches.append({
                "numero": f"{number}.{k}",
                "intitule": f"Action {number}.{k} : {rng.choice(['plateforme', 'atelier', 'chantier', 'binôme'])}"
                            f" n° {rng.randrange(10, 99)} & suivi",
                "contexte": "Constat partagé lors des ateliers territoriaux.",
                "objectifs": [f"Objectif {number}.{k}.a", f"Objectif {number}.{k}.b"],
                "public": "Bénéficiaires du RSA",
                "pilote": "Direction de l'insertion",
                "partenaires": [rng.choice(["FT-23", "CAF-23", "ASSO-23"])],
                "modalites": "Entretiens individuels et ateliers collectifs.",
                "calendrier": "2024-2027",
                "indicateurs": ["Nombre d'entrées", "Sorties positives"],
                "budget": f"{Decimal(cents) / 100:.2f}",
                "financeurs": ["Département", "FSE+"],
            })
        axes.append({"numero": number, "intitule": title, "nature": nature,
                     "objectifs": [f"Premier objectif de l'axe {number}"], "fiches": fiches})
    return {
        "departement": {"code": "23", "nom": "Département de la Creuse", "ville": "Guéret",
                        "adresse": "13, rue Joseph-Ducouret, 23000 Guéret",
                        "president": {"civilite": "Mme", "nom": "Valérie Simonet",
                                      "qualite": "Présidente du Conseil départemental"}},
        "partenaires": partners,
        "pacte": {
            "reference": "PTI-2024-2027",
            "titre": "Pacte creusois pour l'insertion & l'emploi",
            "periode": {"debut": 2024, "fin": 2027},
            "adoption": {"instance": "Assemblée départementale", "date": "2024-03-01"},
            "cosignataires": ["PREF-23", "CAF-23", "FT-23"],
            "contexte": "Premier paragraphe du contexte.\n\nSecond paragraphe : la précarité recule.",
            "diagnostic": ["3 100 foyers bénéficiaires du RSA fin 2023 (+2,1 %)."],
            "methode": "Quatre ateliers territoriaux.",
            "gouvernance": ["Comité de pilotage semestriel.", "Bilan annuel devant l'Assemblée."],
            "engagements": {"CAF-23": ["Réduire les délais d'ouverture des droits."],
                            "FT-23": ["Déployer l'accompagnement global."]},
            "axes": axes,
        },
    }


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def euros(amount: Decimal) -> str:
    """The French form, written independently of the product: 1 234 567,89 €."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " €"


# ---------------------------------------------------------------- `pacte serveur` in its own process

SERVED_ON = "2027-01-29"
ELODIE = "elodie.dupre@valdemarne.example.fr"
JEROME = "jerome.lefevre@valdemarne.example.fr"
CHLOE = "chloe.noel@valdemarne.example.fr"

@dataclass
class Server:
    """`pacte serveur` running in a process of its own on a free port of 127.0.0.1, its log in a file."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def get(self, path: str, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One raw HTTP request: the path is sent exactly as written (« .. », « %2F »), as an attacker would."""
        import http.client

        host, port = self.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def stop(self) -> str:
        """Stop it as Ctrl-C would; its log."""
        self.process.send_signal(2)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(root: Path, base: str | None = None, au: str | None = None) -> Server:
    port = free_port()
    log = root.parent / f"serveur-{port}.log"
    command = [sys.executable, "-m", "pacte_docs", "--espace", str(root), *(["--base", base] if base else []),
               *(["--au", au] if au else []), "serveur", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log)

    def listening() -> bool:
        assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")
        try:
            return server.get("/")[0] == 200
        except OSError:
            return False

    if not wait_until(listening, 30):
        server.stop()
        raise AssertionError(f"pacte serveur n'écoute pas :\n{log.read_text(encoding='utf-8', errors='replace')}")
    return server


LINK = re.compile(r"(https?://\S+/acces/([A-Za-z0-9_-]{43}))\n.*?(https?://\S+/calendrier/[A-Za-z0-9_-]{43}\.ics)",
                  re.S)


def create_link(pacte: Pacte, *who: str) -> tuple[str, str, str]:
    """`pacte acces creer …`: (pages URL, token, calendar URL) as printed."""
    result = pacte("acces", "creer", *who)
    found = LINK.search(result.output)
    assert found, result.output
    return found.group(1), found.group(2), found.group(3)


def public(root: Path, url: str) -> None:
    """Set [serveur] url_publique in the workspace's pacte.toml."""
    config = root / "pacte.toml"
    text = config.read_text(encoding="utf-8")
    assert "\n[serveur]\n" in text
    config.write_text(text.replace("\n[serveur]\n", f'\n[serveur]\nurl_publique = "{url}"\n'), encoding="utf-8")


def convention_ids(pacte: Pacte) -> dict[str, int]:
    with Workspace(pacte.root, pacte.base) as ws, ws.db.session() as session:
        return {ref: cid for cid, ref in session.execute(select(Convention.id, Convention.reference))}


def documents(pacte: Pacte) -> dict[str, tuple[int, str, str]]:
    """Recorded documents: file name → (id, path, sha256)."""
    with Workspace(pacte.root, pacte.base) as ws, ws.db.session() as session:
        return {Path(d.chemin).name: (d.id, d.chemin, d.sha256) for d in session.scalars(select(Document))}


@dataclass
class Served:
    pacte: Pacte
    server: Server
    team: str  # tokens
    elodie: str
    chloe: str


def serve_alertes(tmp_path_factory: Any, base: str | None) -> Iterator[Served]:
    """The registry of tests/donnees/alertes.yaml (three directors) on *base*, two conventions drawn up (DOCX), a
    team link and two directors' links, and its server seeing the situation on 29 January 2027."""
    pacte = Pacte(tmp_path_factory.mktemp("serveur") / "espace", base)
    pacte("init", str(pacte.root))
    pacte("importer", str(DATA / "alertes.yaml"))
    pacte("conventions", "generer", "CCAS-2024-101", "CCAS-2024-103", "--sans-pdf")
    team = create_link(pacte, "--tout")[1]
    elodie = create_link(pacte, "--responsable", ELODIE.upper())[1]  # any case: the registry's address is found
    chloe = create_link(pacte, "--responsable", CHLOE)[1]
    server = start_server(pacte.root, base, SERVED_ON)
    try:
        yield Served(pacte, server, team, elodie, chloe)
    finally:
        server.stop()


def scdl_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a SCDL « subventions » 2.1.1 export, once frictionless has validated the file against the
    schema the package carries (a copy of ../shared/reference/scdl-subventions/schema.json)."""
    import csv
    import json
    from importlib import resources

    from frictionless import Resource, Schema

    schema = Schema.from_descriptor(json.loads(
        (resources.files("pacte_docs") / "scdl" / "subventions-2.1.1.json").read_text(encoding="utf-8")))
    report = Resource(path=path.name, basepath=str(path.parent), schema=schema).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    with path.open(encoding="utf-8", newline="") as read:
        return list(csv.DictReader(read))
