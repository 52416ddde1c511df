"""The staff's accounts (`pacte agents`) and their sign-in to the staff pages: local accounts hashed with Argon2id
(argon2-cffi); an agent is matched on the e-mail. The rules of what each role may do are in rules.roles."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from pacte_docs.addresses import check_email
from pacte_docs.errors import AddressError, PacteError
from pacte_docs.files import now
from pacte_docs.registry.models import Agent
from pacte_docs.rules import roles
from pacte_docs.workspace import Workspace

log = logging.getLogger("pacte.agents")
MIN_PASSWORD = 12
_HASHER = PasswordHasher()
# a hash to verify against when the e-mail is unknown: the answer takes as long as for a known one
_DUMMY = _HASHER.hash("compte inconnu, mot de passe sans objet")


@dataclass(frozen=True)
class Connecte:
    """The agent signed in, as a page needs them."""

    id: int
    email: str
    nom: str
    role: str

    @property
    def signature(self) -> str:
        """How the journal names them: « Nom <courriel> »."""
        return f"{self.nom} <{self.email}>"

    def peut(self, needed: str) -> bool:
        return roles.allows(self.role, needed)


def _email(value: str) -> str:
    try:
        return check_email(value.strip()).lower()
    except AddressError as exc:  # it names the address already
        said = str(exc)
        raise PacteError(said[:1].upper() + said[1:] + ("" if said.endswith(".") else ".")) from None


def create(ws: Workspace, email: str, nom: str, role: str, password: str | None) -> Connecte:
    """Create an account (or refuse, in French): a role of rules.roles, a name, a password of at least twelve
    characters for a local account (None: the identity provider signs them in)."""
    address = _email(email)
    if role not in roles.ROLES:
        raise PacteError(f"Rôle « {role} » inconnu : choisissez parmi {', '.join(roles.ROLES)}.")
    if not nom.strip():
        raise PacteError("Donnez le nom de l'agent (--nom \"Prénom Nom\") : le journal le cite.")
    if password is not None and len(password) < MIN_PASSWORD:
        raise PacteError(f"Mot de passe trop court : {MIN_PASSWORD} caractères au moins.")
    with ws.db.session() as session:
        if session.scalar(select(Agent).where(Agent.email == address)) is not None:
            raise PacteError(f"Un compte existe déjà pour {address} : « pacte agents retirer {address} » puis "
                             "recréez-le pour changer son rôle ou son mot de passe.")
        agent = Agent(email=address, nom=" ".join(nom.split()), role=role, actif=True, cree_le=now(), echecs=0,
                      mot_de_passe=_HASHER.hash(password) if password is not None else None)
        session.add(agent)
        session.flush()
        return Connecte(agent.id, agent.email, agent.nom, agent.role)


def listing(ws: Workspace) -> list[dict[str, object]]:
    with ws.db.session() as session:
        return [{"email": a.email, "nom": a.nom, "role": a.role, "actif": a.actif,
                 "connexion": "mot de passe" if a.mot_de_passe else (
                     "lien envoyé, mot de passe à choisir" if a.invitation else "fournisseur d'identité")}
                for a in session.scalars(select(Agent).order_by(Agent.email))]


def _account(session: Any, address: str) -> Agent:
    found: Agent | None = session.scalar(select(Agent).where(Agent.email == address))
    if found is None:
        raise PacteError(f"Aucun compte pour {address} (« pacte agents lister » les montre).")
    return found


def _sole_administrator(session: Any, agent: Agent) -> bool:
    """Whether *agent* is the one active administrator left: the accounts could no longer be managed without."""
    return agent.role == "administration" and agent.actif and session.scalar(
        select(func.count()).select_from(Agent).where(Agent.role == "administration", Agent.actif.is_(True))) == 1


INVITATION_PATH = "/connexion/invitation/"  # + the token: the page where an agent chooses their password


def remove(ws: Workspace, email: str, by: str | None = None) -> None:
    """Withdraw an account: it can no longer sign in; the journal keeps what it did. Never the account of *by*
    (who asks, from the pages), nor the last administrator."""
    address = _email(email)
    if by is not None and address == _email(by):
        raise PacteError("Vous ne pouvez pas retirer votre propre compte : demandez-le à un autre administrateur.")
    with ws.db.session() as session:
        agent = _account(session, address)
        if _sole_administrator(session, agent):
            raise PacteError(f"{address} est le seul administrateur : créez d'abord un autre compte d'administration, "
                             "puis retirez celui-ci.")
        session.delete(agent)


def authenticate(ws: Workspace, email: str, password: str) -> Connecte | None:
    """The agent whose e-mail and password these are, or None. Failed attempts are counted and logged without
    the password; the slowing down is the caller's (web.staff waits without holding a thread, for known and
    unknown addresses alike)."""
    address = email.strip().lower()[:254]
    with ws.db.session() as session:
        agent = session.scalar(select(Agent).where(Agent.email == address))
        failures = agent.echecs if agent is not None else 0
        try:
            _HASHER.verify(agent.mot_de_passe if agent is not None and agent.mot_de_passe else _DUMMY,
                           password[:1024])
            valid = agent is not None and agent.actif and agent.mot_de_passe is not None
        except (VerificationError, InvalidHashError):
            valid = False
        if not valid or agent is None:
            if agent is not None:
                agent.echecs, agent.dernier_echec = failures + 1, now()
            log.warning("connexion refusée pour %s (%d échec(s) de suite)", address, failures + 1)
            return None
        agent.echecs, agent.dernier_echec = 0, None
        return Connecte(agent.id, agent.email, agent.nom, agent.role)


def _utc(moment: dt.datetime) -> dt.datetime:
    """A moment read back from the database: SQLite gives it without its time zone, which is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def signed_in(ws: Workspace, agent_id: object, since: object = None, email: object = None) -> Connecte | None:
    """The agent of a session opened at *since* (ISO time) for *email*, if their account still exists, is active,
    was created before the session and has not signed out since (a withdrawn account, an account made later
    under the same number, or a cookie kept after sign-out, opens nothing)."""
    if not isinstance(agent_id, int) or not isinstance(since, str) or not isinstance(email, str):
        return None
    try:
        opened = _utc(dt.datetime.fromisoformat(since))
    except ValueError:
        return None
    with ws.db.session() as session:
        agent = session.get(Agent, agent_id)
        if agent is None or not agent.actif or agent.email != email or opened < _utc(agent.cree_le):
            return None
        if agent.sessions_depuis is not None and opened < _utc(agent.sessions_depuis):
            return None
        return Connecte(agent.id, agent.email, agent.nom, agent.role)


def sign_out(ws: Workspace, agent_id: object) -> None:
    """End every session of the agent: a copy of the cookie no longer opens anything."""
    if not isinstance(agent_id, int):
        return
    with ws.db.session() as session:
        agent = session.get(Agent, agent_id)
        if agent is not None:
            agent.sessions_depuis = dt.datetime.now(dt.UTC)  # to the microsecond, as the session says it



INVITATION_HOURS = 72


def change_role(ws: Workspace, email: str, role: str, by: str | None = None) -> Connecte:
    """Give the account of *email* another role (never one's own, nor the last administrator's)."""
    address = _email(email)
    if role not in roles.ROLES:
        raise PacteError(f"Rôle « {role} » inconnu : choisissez parmi {', '.join(roles.ROLES)}.")
    if by is not None and address == _email(by):
        raise PacteError("Vous ne pouvez pas changer votre propre rôle : demandez-le à un autre administrateur.")
    with ws.db.session() as session:
        agent = _account(session, address)
        if role != "administration" and _sole_administrator(session, agent):
            raise PacteError(f"{address} est le seul administrateur : donnez d'abord ce rôle à un autre compte.")
        agent.role = role
        log.info("rôle de %s : %s", address, role)
        return Connecte(agent.id, agent.email, agent.nom, agent.role)


def invite(ws: Workspace, email: str) -> str:
    """A one-time link's token for the agent to choose their password (the account created without one, or a
    password forgotten): valid INVITATION_HOURS hours, replaced by the next one; only its SHA-256 is kept."""
    address = _email(email)
    token = secrets.token_urlsafe(32)
    with ws.db.session() as session:
        agent = session.scalar(select(Agent).where(Agent.email == address))
        if agent is None or not agent.actif:
            raise PacteError(f"Aucun compte actif pour {address}.")
        agent.invitation = hashlib.sha256(token.encode()).hexdigest()
        agent.invitation_expire = dt.datetime.now(dt.UTC) + dt.timedelta(hours=INVITATION_HOURS)
    return token


def _invited(session: Any, token: object) -> Agent | None:
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    agent = session.scalar(select(Agent).where(Agent.invitation == hashlib.sha256(token.encode()).hexdigest()))
    if agent is None or not agent.actif or agent.invitation_expire is None or \
            _utc(agent.invitation_expire) < dt.datetime.now(dt.UTC):
        return None
    return agent  # type: ignore[no-any-return]


def invitation(ws: Workspace, token: object) -> Connecte | None:
    """The agent a one-time link is for, while it is valid."""
    with ws.db.session() as session:
        agent = _invited(session, token)
        return Connecte(agent.id, agent.email, agent.nom, agent.role) if agent is not None else None


def accept_invitation(ws: Workspace, token: object, password: str, again: str) -> Connecte:
    """Set the password chosen through a one-time link, which then opens nothing any more."""
    if password != again:
        raise PacteError("Les deux mots de passe diffèrent : tapez le même deux fois.")
    if len(password) < MIN_PASSWORD:
        raise PacteError(f"Mot de passe trop court : {MIN_PASSWORD} caractères au moins.")
    with ws.db.session() as session:
        agent = _invited(session, token)
        if agent is None:
            raise PacteError("Ce lien a déjà servi ou a expiré : demandez-en un autre à l'administrateur de pacte.")
        agent.mot_de_passe = _HASHER.hash(password[:1024])
        agent.invitation = agent.invitation_expire = None
        agent.echecs, agent.dernier_echec = 0, None
        log.info("mot de passe choisi par %s (lien à usage unique)", agent.email)
        return Connecte(agent.id, agent.email, agent.nom, agent.role)


def by_identity(ws: Workspace, email: object) -> Connecte | None:
    """The active agent whose e-mail the identity provider vouches for (its `email` claim), or None: an account
    must exist (`pacte agents creer … --sans-mot-de-passe`), the provider alone opens nothing."""
    if not isinstance(email, str) or not email.strip():
        return None
    with ws.db.session() as session:
        agent = session.scalar(select(Agent).where(Agent.email == email.strip().lower()[:254]))
        if agent is None or not agent.actif:
            log.warning("connexion par le fournisseur d'identité refusée : aucun compte actif pour %s", email)
            return None
        return Connecte(agent.id, agent.email, agent.nom, agent.role)
