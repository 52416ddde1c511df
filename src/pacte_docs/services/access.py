"""Personal links to the directors' pages and calendars (`pacte acces`, `pacte serveur`).

A link carries a token of 43 characters (256 bits). The registry never holds a token: only its first characters,
to find it and to name it in `pacte acces lister`, and its SHA-256, compared in constant time. A token is the
HMAC of a random seed, kept in the registry, under the workspace's own key (file .pacte-cle-acces, readable by
its owner only): so the alert e-mail can give each director the same links again, and a registry read by
someone else (a shared PostgreSQL base, a backup) gives no link away. Revoking a link is final."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pacte_docs import files
from pacte_docs.addresses import check_email
from pacte_docs.errors import AddressError, PacteError
from pacte_docs.registry import queries
from pacte_docs.registry.models import Acces, Convention
from pacte_docs.workspace import Workspace

KEY_NAME = ".pacte-cle-acces"
PREFIX_LENGTH = 8


@dataclass(frozen=True)
class Link:
    """An access as the server and `pacte acces lister` see it."""

    id: int
    prefixe: str
    responsable: str | None  # None: the team's link, every convention
    cree_le: dt.datetime
    origine: str
    revoque_le: dt.datetime | None

    @property
    def equipe(self) -> bool:
        return self.responsable is None

    def owns(self, responsable_email: str | None) -> bool:
        """Whether a convention of *responsable_email* is shown through this link."""
        return self.equipe or (responsable_email or "").lower() == self.responsable


@dataclass(frozen=True)
class Created:
    link: Link
    jeton: str
    conventions: int  # how many conventions the link shows now
    page: str
    calendrier: str


def _link(row: Acces) -> Link:
    return Link(row.id, row.prefixe, row.responsable, row.cree_le, row.origine, row.revoque_le)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _key(ws: Workspace) -> bytes:
    """The workspace's key, made on first use (32 random bytes, mode 0600). It is written whole aside, then linked
    into place: two processes racing make one key, and neither ever reads a half-written one."""
    path = ws.root / KEY_NAME
    if not path.exists():
        aside = path.with_name(f"{KEY_NAME}.{os.getpid()}.tmp")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(aside, path)  # fails if another process was first: its key is the one
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    data = path.read_bytes()
    if len(data) != 32:
        raise PacteError(f"La clé des liens d'accès {path} est endommagée ({len(data)} octets au lieu de 32). "
                         "Supprimez-la : les liens existants cesseront de fonctionner ; créez-en de nouveaux "
                         "(pacte acces creer).")
    return data


def _token(key: bytes, seed: str) -> str:
    mac = hmac.new(key, b"pacte-acces:" + seed.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def urls(base: str, token: str) -> tuple[str, str]:
    """The pages' link and the calendar's link of *token*, under the public address *base*."""
    base = base.rstrip("/")
    return f"{base}/acces/{token}", f"{base}/calendrier/{token}.ics"


def public_url(ws: Workspace) -> str:
    """Where directors reach the server: [serveur] url_publique, else where `pacte serveur` listens."""
    if ws.config.url_publique:
        return ws.config.url_publique
    host = ws.config.hote
    if host in ("0.0.0.0", "::", ""):  # every address of this machine: its name reaches one of them
        host = socket.gethostname()
    return f"http://{f'[{host}]' if ':' in host else host}:{ws.config.port}"


def _count(session: Session, responsable: str | None) -> int:
    query = select(func.count()).select_from(Convention)
    if responsable is not None:
        query = query.where(queries.of_responsable(responsable))
    return int(session.scalar(query) or 0)


def _new(session: Session, ws: Workspace, responsable: str | None, origine: str) -> tuple[Acces, str]:
    key = _key(ws)
    while True:
        seed = secrets.token_hex(32)
        token = _token(key, seed)
        if not token[0].isalnum():
            continue  # « -ksTe… » would read as an option on a command line (pacte acces revoquer -ksTe…)
        if session.scalar(select(Acces.id).where(Acces.prefixe == token[:PREFIX_LENGTH])) is None:
            break  # two links never share a prefix: `pacte acces revoquer` names one by it
    row = Acces(prefixe=token[:PREFIX_LENGTH], empreinte=digest(token), graine=seed, site=ws.site,
                responsable=responsable, cree_le=files.now(), origine=origine)
    session.add(row)
    session.flush()
    return row, token


def create(ws: Workspace, responsable: str | None) -> Created:
    """A new link: a director's (*responsable*, an e-mail address) or, with None, the team's."""
    email = None
    if responsable is not None:
        try:
            email = check_email(responsable)
        except AddressError as exc:
            raise PacteError(f"--responsable : {exc}. Donnez l'adresse du responsable telle qu'elle figure dans "
                             "le registre (pacte conventions lister).") from None
    with ws.exclusive("registre"), ws.db.session() as session:
        row, token = _new(session, ws, email, "commande")
        count = _count(session, email)
        link = _link(row)
    page, calendar = urls(public_url(ws), token)
    return Created(link, token, count, page, calendar)


def list_links(ws: Workspace) -> list[Link]:
    with ws.db.session() as session:
        return [_link(r) for r in session.scalars(select(Acces).order_by(Acces.cree_le, Acces.id))]


def revoke(ws: Workspace, jeton: str) -> Link:
    """Revoke the link whose token, or whose first characters as `pacte acces lister` shows them, is *jeton*."""
    text = jeton.strip().rstrip("…")
    if "/" in text:  # a whole link pasted: its last part is the token
        text = text.rstrip("/").rsplit("/", 1)[-1].removesuffix(".ics")
    with ws.exclusive("registre"), ws.db.session() as session:
        row = find(session, text) if len(text) > PREFIX_LENGTH else session.scalar(
            select(Acces).where(Acces.prefixe == text))
        if row is None:
            raise PacteError(f"Aucun lien d'accès « {jeton} ». « pacte acces lister » montre les liens, chacun par "
                             f"ses {PREFIX_LENGTH} premiers caractères.")
        if row.revoque_le is None:
            row.revoque_le = files.now()
        return _link(row)


def find(session: Session, token: str) -> Acces | None:
    """The access of *token*, revoked or not; None for any other text."""
    if not 40 <= len(token) <= 64:
        return None
    wanted = digest(token)
    for row in session.scalars(select(Acces).where(Acces.prefixe == token[:PREFIX_LENGTH])):
        if hmac.compare_digest(row.empreinte, wanted):
            return row
    return None


def resolve(session: Session, token: str) -> Link | None:
    """The live link of *token*; None when it is unknown or revoked (the server answers 404 alike)."""
    row = find(session, token)
    return None if row is None or row.revoque_le is not None else _link(row)


def mail_links(ws: Workspace, responsables: list[str]) -> dict[str, tuple[str, str]]:
    """For the alert e-mails, when [serveur] url_publique is set: each director's page and calendar links — the
    personal link this workspace made for them by e-mail before, or a new one. Empty without url_publique."""
    base = ws.config.url_publique
    if not base or not responsables:
        return {}
    key = _key(ws)
    wanted = {r.lower() for r in responsables}
    found: dict[str, tuple[str, str]] = {}
    with ws.exclusive("registre"), ws.db.session() as session:
        for row in session.scalars(select(Acces).where(
                Acces.origine == "courriel", Acces.site == ws.site, Acces.revoque_le.is_(None),
                Acces.responsable.in_(sorted(wanted))).order_by(Acces.id)):
            token = _token(key, row.graine)
            if hmac.compare_digest(digest(token), row.empreinte):  # made under this key (not an older one)
                found[str(row.responsable)] = urls(base, token)
        for email in sorted(wanted - found.keys()):
            _, token = _new(session, ws, email, "courriel")
            found[email] = urls(base, token)
    return found


def key_path(ws: Workspace) -> Path:
    return ws.root / KEY_NAME
