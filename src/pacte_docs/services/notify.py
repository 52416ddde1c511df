"""Alert digests by e-mail, with a ledger so that each alert reaches its director once.

An alert is a decision deadline (rules.alerts) or a document a partner is late with (services.pieces: its
exercice stands for the period, « piece:<key> » for the threshold).

Guarantee. Each alert — a (convention, period, threshold) — is claimed in the database before its digest
is sent, and marked sent once the SMTP server has accepted the message:
  * a re-run sends nothing already sent, and two runs at once never both send it (the claim is unique);
  * a send that fails (server unreachable, connection dropped) releases its claim: it is retried next run;
  * a run killed after the server accepted a digest but before recording it leaves claims behind; once
    `[alertes] reprise_minutes` have passed (or at once if the claiming process is gone from this host),
    the next run sends that digest again with the same Message-ID, so that mail clients fold the two.
So an alert is never lost; it is sent twice only if the process dies inside that last window, and then
under one Message-ID.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import and_, delete, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pacte_docs import files
from pacte_docs.addresses import check_email, check_header_text
from pacte_docs.errors import AddressError, PacteError, SmtpDeadlineError, SmtpError
from pacte_docs.files import owner_gone, owner_tag
from pacte_docs.formatting import FILTERS, date_longue, jours
from pacte_docs.kinds import ConventionType
from pacte_docs.registry import queries
from pacte_docs.registry.models import (
    AlerteEnvoi,
    Convention,
    ConventionPartenaire,
    Echeance,
    Partenaire,
)
from pacte_docs.rules import alerts, periods
from pacte_docs.services import access
from pacte_docs.workspace import Config, Workspace

DEFAULT_SMTP_DEADLINE = 60.0


@dataclass(frozen=True)
class SmtpSettings:
    hote: str = "localhost"
    port: int = 25
    starttls: bool = False
    utilisateur: str | None = None
    mot_de_passe: str | None = field(default=None, repr=False)
    expediteur: str = "pacte-docs@localhost"
    delai_secondes: float = DEFAULT_SMTP_DEADLINE  # the most one message may take, connection included

    def __str__(self) -> str:
        return f"{self.hote}:{self.port}"


def smtp_settings(config: Config, environ: dict[str, str] | None = None) -> SmtpSettings:
    """pacte.toml's [smtp], overridden by PACTE_SMTP_* variables; the password only from the environment."""
    env = os.environ if environ is None else environ
    smtp = config.smtp

    def pick(name: str, variable: str, default: Any) -> Any:
        return env.get(variable) or smtp.get(name) or default

    port_text = str(pick("port", "PACTE_SMTP_PORT", 25))
    if not re.fullmatch(r"[0-9]{1,5}", port_text) or not 1 <= int(port_text) <= 65535:  # « ² » is a digit too
        raise PacteError(f"Port SMTP « {port_text} » invalide (PACTE_SMTP_PORT ou [smtp] port) : donnez un nombre "
                         "de 1 à 65535, par exemple 25 ou 587.")
    starttls = env.get("PACTE_SMTP_STARTTLS")
    deadline = smtp.get("delai_secondes", DEFAULT_SMTP_DEADLINE)
    if isinstance(deadline, bool) or not isinstance(deadline, int | float) or not 1 <= deadline <= 240:
        raise PacteError(f"[smtp] delai_secondes « {deadline} » invalide : donnez un nombre de secondes entre 1 et "
                         "240 (le plus long qu'un message peut prendre, 60 par défaut ; moins que le délai de "
                         "reprise, 5 minutes au moins).")
    return SmtpSettings(
        delai_secondes=float(deadline),
        hote=str(pick("hote", "PACTE_SMTP_HOTE", "localhost")),
        port=int(port_text),
        starttls=(starttls == "1") if starttls is not None else bool(smtp.get("starttls", False)),
        utilisateur=pick("utilisateur", "PACTE_SMTP_UTILISATEUR", None) or None,
        mot_de_passe=env.get("PACTE_SMTP_MOT_DE_PASSE") or None,
        expediteur=str(pick("expediteur", "PACTE_SMTP_EXPEDITEUR", "pacte-docs@localhost")),
    )


# ---------------------------------------------------------------- what is due


def horizon_days(config: Config) -> int:
    """How many days before a decision deadline the first alert may be due, whatever the convention type."""
    return max([0, *config.seuils_jours, *(s for seuils in config.seuils_par_type.values() for s in seuils)])


def partner_names(session: Session, among: Any) -> dict[int, list[tuple[str, str]]]:
    """Each convention's partners (code, name) in their order, for the conventions whose id meets *among*."""
    names: dict[int, list[tuple[str, str]]] = {}
    for cid, code, nom in session.connection().execute(
            select(ConventionPartenaire.convention_id, Partenaire.code, Partenaire.nom)
            .join(Partenaire, Partenaire.id == ConventionPartenaire.partenaire_id)
            .where(among(ConventionPartenaire.convention_id))
            .order_by(ConventionPartenaire.convention_id, ConventionPartenaire.rang)):
        names.setdefault(cid, []).append((code, nom))
    return names


def suivis(session: Session, on: dt.date, config: Config, *, tous: bool = False,
           parmi: Any = None, noms: bool = True) -> list[alerts.Suivi]:
    """What alert selection needs of each convention; unless *tous*, only those whose alert window (kept in the
    echeance table, indexed) covers *on* — the SQL selection that keeps `pacte alertes` fast at any scale; with
    *parmi* (a SELECT of convention ids: a director's, one convention), only those. Without *noms*, the partners
    are left empty (a page names those it shows only: `partner_names`).
    Plain column queries, no ORM objects: a large registry may have thousands of alerts due on one day."""
    horizon = on + dt.timedelta(days=horizon_days(config))
    selected = select(Echeance.convention_id).where(Echeance.date_limite <= horizon, Echeance.fin_visible >= on)

    def among(column: Any) -> Any:
        conditions = ([] if tous else [column.in_(selected)]) + ([] if parmi is None else [column.in_(parmi)])
        return and_(true(), *conditions)

    connection = session.connection()  # plain rows: the ORM's loading machinery costs more than the query
    names = partner_names(session, among) if noms else {}
    renewals, moved = queries.lives(connection, among)
    c = Convention
    result = []
    for row in connection.execute(
            select(c.id, c.reference, c.type, c.responsable_email, c.responsable_nom, c.renouvellement,
                   c.renouvellements_max, c.preavis_mois, c.date_effet, c.duree_mois, c.date_signature,
                   c.date_denonciation).where(among(c.id)).order_by(c.reference)):
        facts = queries.faits_from(row._mapping, renewals.get(row.id, ()), moved.get(row.id, ()))
        first = config.premier_seuil(row.type)
        partners = names.get(row.id, [])
        result.append(alerts.Suivi(
            convention_id=row.id, reference=row.reference, type=row.type,
            partenaires=tuple(code for code, _ in partners), partenaires_noms=tuple(nom for _, nom in partners),
            responsable=row.responsable_email, responsable_nom=row.responsable_nom,
            renouvellement=row.renouvellement, preavis_mois=row.preavis_mois,
            situation=periods.situation(facts, on, first)))
    return result


def due(ws: Workspace, on: dt.date) -> list[alerts.Alerte]:
    with ws.db.session() as session:
        return alerts.select(suivis(session, on, ws.config), on, ws.config.seuils_jours, ws.config.seuils_par_type)


def write_calendar(ws: Workspace, on: dt.date, path: Path) -> int:
    """Write the iCalendar file of every running convention's deadlines; returns the number of events."""
    from pacte_docs.documents import agenda

    ws.check_output(path, "--ics")
    from pacte_docs.services import pieces

    with ws.db.session() as session:
        followed = suivis(session, on, ws.config, tous=True)
        owed = pieces.owed(session, on)
    data = agenda.calendar(followed, ws.config.seuils_par_type, ws.config.seuils_jours, pieces=owed)
    files.write_atomic(path, data)
    return agenda.events(data)


# ---------------------------------------------------------------- digests


@dataclass
class Digest:
    destinataire: str
    nom: str | None
    alertes: list[alerts.Alerte]
    pieces: list[Any] = field(default_factory=list)  # services.pieces.Line: documents late

    @property
    def keys(self) -> list[tuple[int, int, str]]:
        return sorted((a.convention_id, a.periode, a.cle_seuil) for a in [*self.alertes, *self.pieces])

    @property
    def count(self) -> int:
        return len(self.alertes) + len(self.pieces)

    def message_id(self, domain: str) -> str:
        digest = hashlib.sha256(repr((self.destinataire, self.keys)).encode()).hexdigest()[:32]
        return f"<pacte.{digest}@{domain}>"


def digests(due_alerts: Sequence[alerts.Alerte], late: Sequence[Any] = ()) -> list[Digest]:
    """One digest per responsable, in a stable order: their deadlines, then the documents late (*late*)."""
    grouped: dict[str, Digest] = {}
    for alerte in due_alerts:
        key = alerte.responsable.lower()
        grouped.setdefault(key, Digest(alerte.responsable, alerte.responsable_nom, []))
        grouped[key].alertes.append(alerte)
    for line in late:
        if line.responsable:
            key = line.responsable.lower()
            grouped.setdefault(key, Digest(line.responsable, line.responsable_nom, []))
            grouped[key].pieces.append(line)
    return [grouped[k] for k in sorted(grouped)]


def _environment(html: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=html, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    env.filters["jours"] = jours
    return env


def subject(digest: Digest, on: dt.date) -> str:
    count = len(digest.alertes)
    urgent = sum(1 for a in digest.alertes if a.jours_restants <= 30)
    parts = []
    if count:
        head = f"{count} convention{'s' if count > 1 else ''} à décider"
        if urgent and count > 1:
            head += f", dont {urgent} urgente{'s' if urgent > 1 else ''}"
        elif urgent:
            head += ", urgente"
        parts.append(head)
    if digest.pieces:
        late = len(digest.pieces)
        parts.append(f"{late} pièce{'s' if late > 1 else ''} en retard")
    return f"[pacte] {' ; '.join(parts)} — situation au {date_longue(on)}"


def compose(digest: Digest, on: dt.date, settings: SmtpSettings, seuils: Sequence[int],
            redirect: str | None = None, signature: str = "Direction de l'insertion",
            links: tuple[str, str] | None = None) -> EmailMessage:
    """A multipart (plain text + HTML) French message; headers encoded per RFC 2047 when needed. An address or a
    name that cannot be written in a header (recorded before the import checked them) raises AddressError.
    *links*: the director's pages and calendar (pacte serveur), given when [serveur] url_publique is set."""
    check_email(digest.destinataire)
    check_header_text(digest.nom, "le nom du responsable")
    folder = resources.files("pacte_docs") / "courriels"
    values = {"nom": digest.nom, "alertes": digest.alertes, "pieces": digest.pieces, "au": on, "signature": signature,
              "types": {kind.value: kind.label for kind in ConventionType},
              "seuils": ", ".join(str(s) for s in seuils if s), "sujet": subject(digest, on), "liens": links}
    text = _environment(False).from_string((folder / "alerte.txt.j2").read_text(encoding="utf-8")).render(values)
    html = _environment(True).from_string((folder / "alerte.html.j2").read_text(encoding="utf-8")).render(values)
    message = EmailMessage()
    title = values["sujet"]
    if redirect:
        title = f"[redirigé, pour {digest.destinataire}] {title}"
        message["X-Pacte-Destinataire"] = digest.destinataire
    message["Subject"] = title
    message["From"] = settings.expediteur
    to = redirect or digest.destinataire
    message["To"] = Address(display_name=(digest.nom or "") if not redirect else "", addr_spec=to)
    message["Date"] = format_datetime(files.now())
    message["Message-ID"] = digest.message_id(settings.expediteur.rpartition("@")[2] or "localhost")
    message["Content-Language"] = "fr"
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


# ---------------------------------------------------------------- the ledger


def _claim_is_stale(row: AlerteEnvoi, now: dt.datetime, reprise_minutes: int) -> bool:
    if owner_gone(row.proprietaire):
        return True  # the run that claimed it is gone
    reserved = row.reserve_le if row.reserve_le.tzinfo else row.reserve_le.replace(tzinfo=dt.UTC)
    return now - reserved >= dt.timedelta(minutes=reprise_minutes)


def claim(session: Session, digest: Digest, domain: str, reprise_minutes: int) -> tuple[Digest, str]:
    """Claim the digest's alerts that nobody sent or is sending; returns them and their Message-ID.

    The caller commits at once. The Message-ID depends only on the recipient and the alerts claimed, so
    a digest sent again after a crash carries the Message-ID it was first sent with.
    """
    now = files.now()
    claimed: list[Any] = []
    rows: list[int] = []
    for alerte in [*digest.alertes, *digest.pieces]:
        row = AlerteEnvoi(convention_id=alerte.convention_id, periode=alerte.periode, seuil=alerte.cle_seuil,
                          etat="envoi", destinataire=digest.destinataire, message_id="", proprietaire=owner_tag(),
                          reserve_le=now)
        try:
            with session.begin_nested():
                session.add(row)
            rows.append(row.id)
        except IntegrityError:
            existing = session.scalar(select(AlerteEnvoi).where(
                AlerteEnvoi.convention_id == alerte.convention_id, AlerteEnvoi.periode == alerte.periode,
                AlerteEnvoi.seuil == alerte.cle_seuil))
            if existing is None or existing.etat == "envoye" or not _claim_is_stale(existing, now, reprise_minutes):
                continue
            taken = session.execute(
                update(AlerteEnvoi)
                .where(AlerteEnvoi.id == existing.id, AlerteEnvoi.etat == "envoi",
                       AlerteEnvoi.proprietaire == existing.proprietaire,
                       AlerteEnvoi.reserve_le == existing.reserve_le)
                .values(proprietaire=owner_tag(), reserve_le=now)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue
            rows.append(existing.id)
        claimed.append(alerte)
    result = Digest(digest.destinataire, digest.nom, [a for a in claimed if isinstance(a, alerts.Alerte)],
                    [a for a in claimed if not isinstance(a, alerts.Alerte)])
    message_id = result.message_id(domain)
    if rows:
        session.execute(update(AlerteEnvoi).where(AlerteEnvoi.id.in_(rows)).values(message_id=message_id)
                        .execution_options(synchronize_session=False))
    return result, message_id


def _settle(session: Session, message_id: str, sent: bool) -> None:
    mine = (AlerteEnvoi.message_id == message_id, AlerteEnvoi.proprietaire == owner_tag(), AlerteEnvoi.etat == "envoi")
    if sent:
        session.execute(update(AlerteEnvoi).where(*mine).values(etat="envoye", envoye_le=files.now())
                        .execution_options(synchronize_session=False))
    else:
        session.execute(delete(AlerteEnvoi).where(*mine).execution_options(synchronize_session=False))


# ---------------------------------------------------------------- sending


@dataclass
class SendReport:
    envoyes: list[tuple[Digest, int]] = field(default_factory=list)  # digest, alerts in it
    deja: int = 0  # alerts already sent (or being sent by another run)
    non_envoyes: list[Digest] = field(default_factory=list)
    erreur: str | None = None
    refuses: list[tuple[Digest, str]] = field(default_factory=list)  # one recipient refused, the others served

    def error(self) -> PacteError | None:
        """What to tell the user when the server failed (what went, what is left for the next run), or when
        recipients were refused (who, why, and that everyone else was served)."""
        if self.erreur is None and self.refuses:
            names = "\n".join(f"  • {d.destinataire} : {why} — {d.count} alerte(s) non envoyée(s)"
                               for d, why in self.refuses)
            return PacteError(f"{len(self.refuses)} destinataire(s) refusé(s) ; {len(self.envoyes)} récapitulatif(s) "
                              f"envoyé(s) aux autres.\n{names}\nCorrigez l'adresse du responsable dans le "
                              "registre (pacte importer) : ses alertes partiront à l'exécution suivante.")
        if self.erreur is None:
            return None
        waiting = sum(d.count for d in self.non_envoyes)
        pending = ", ".join(d.destinataire for d in self.non_envoyes)
        return SmtpError(f"{self.erreur}. {len(self.envoyes)} récapitulatif(s) envoyé(s) ; {waiting} alerte(s) non "
                         f"envoyée(s) ({pending}) : elles le seront à la prochaine exécution.")


class _Connection:
    """One SMTP connection, opened on first use."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        """Send one message within the deadline: past it, the connection is cut and SmtpDeadlineError raised."""
        expired = threading.Event()
        pending = self.smtp or smtplib.SMTP(timeout=min(30.0, self.settings.delai_secondes))

        def cut() -> None:
            expired.set()
            if pending.sock is not None:
                try:
                    pending.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        timer = threading.Timer(self.settings.delai_secondes, cut)
        timer.daemon = True
        timer.start()
        try:
            if self.smtp is None:
                try:
                    pending.connect(self.settings.hote, self.settings.port)
                    if self.settings.starttls:
                        pending.starttls(context=ssl.create_default_context())
                    if self.settings.utilisateur:
                        pending.login(self.settings.utilisateur, self.settings.mot_de_passe or "")
                except BaseException:
                    pending.close()  # a refused STARTTLS or login must not leave the connection open
                    raise
                self.smtp = pending
            self.smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            if expired.is_set():
                self.smtp = None
                pending.close()
                raise SmtpDeadlineError(f"pas de réponse complète en {self.settings.delai_secondes:g} s") from exc
            raise
        finally:
            timer.cancel()

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()


def send(ws: Workspace, due_alerts: Sequence[alerts.Alerte], on: dt.date, *, redirect: str | None = None,
         environ: dict[str, str] | None = None, late: Sequence[Any] = ()) -> SendReport:
    """Send one digest per responsable (their deadlines, the documents *late*); see the module's docstring for the
    guarantee."""
    settings = smtp_settings(ws.config, environ)
    report = SendReport()
    connection = _Connection(settings)
    pending = digests(due_alerts, late)
    signature = _signature(ws)
    domain = settings.expediteur.rpartition("@")[2] or "localhost"
    # a rehearsal (redirect) never hands a director's personal links to someone else
    links = {} if redirect else access.mail_links(ws, [d.destinataire for d in pending])
    try:
        for index, digest in enumerate(pending):
            to_send, message_id = digest, digest.message_id(domain)
            if not redirect:  # a redirected run is a rehearsal: nothing is claimed nor recorded
                with ws.db.session() as session:
                    to_send, message_id = claim(session, digest, domain, ws.config.reprise_minutes)
                report.deja += digest.count - to_send.count
                if not to_send.count:
                    continue
            try:
                message = compose(to_send, on, settings, ws.config.seuils_jours, redirect, signature,
                                  links.get(to_send.destinataire.lower()))
                connection.send(message)
            except (AddressError, HeaderParseError, ValueError, smtplib.SMTPException, OSError) as exc:
                if not redirect:
                    with ws.db.session() as session:
                        _settle(session, message_id, sent=False)  # released: the next run retries it
                refused = _refused(exc)
                if refused is None:  # the server or the connection failed: stop here, the next run goes on
                    report.non_envoyes.extend(pending[index:])
                    report.erreur = _describe(exc, settings)
                    break
                report.refuses.append((to_send, refused))  # this recipient alone; everyone else is served
                continue
            if not redirect:
                with ws.db.session() as session:
                    _settle(session, message_id, sent=True)
            report.envoyes.append((to_send, to_send.count))
    finally:
        connection.close()
    return report


def _refused(exc: Exception) -> str | None:
    """Why this recipient alone could not be served — an address or a name that cannot be written in a message,
    or a permanent refusal (5xx) of the recipient or of the message — or None when the server or the connection
    failed for everyone (unreachable, login, sender refused, temporary 4xx), which stops the run."""
    if isinstance(exc, AddressError | HeaderParseError) or type(exc) is ValueError:
        return f"adresse ou nom impossible à écrire dans un courriel ({exc})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (550, b""))
        return f"refusé par le serveur ({code} {_decoded(text)})".strip()
    if isinstance(exc, smtplib.SMTPDataError) and 500 <= exc.smtp_code < 600:
        return f"message refusé par le serveur ({exc.smtp_code} {_decoded(exc.smtp_error)})".strip()
    return None


def _decoded(text: bytes | str) -> str:
    return (text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)).strip()


def _describe(exc: Exception, settings: SmtpSettings) -> str:
    if isinstance(exc, SmtpDeadlineError):
        return (f"le serveur SMTP {settings} n'a pas traité un message en {settings.delai_secondes:g} s ; la connexion "
                "a été coupée ([smtp] delai_secondes)")
    if isinstance(exc, ConnectionRefusedError | socket.gaierror | TimeoutError):
        return f"serveur SMTP injoignable ({settings}) : {exc.strerror or exc}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"authentification refusée par {settings} (vérifiez PACTE_SMTP_UTILISATEUR et PACTE_SMTP_MOT_DE_PASSE)"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"connexion au serveur SMTP {settings} interrompue"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"le serveur SMTP {settings} a refusé le message ({exc.smtp_code})"
    return f"échec de l'envoi par {settings} ({type(exc).__name__})"


def _signature(ws: Workspace) -> str:
    with ws.db.session() as session:
        deps = queries.departements(session)
    if len(deps) == 1:
        return " — ".join(filter(None, [deps[0].direction, deps[0].nom]))
    return "Direction de l'insertion"


# ---------------------------------------------------------------- the job


@dataclass
class Preview:
    """A digest that would be sent: to whom, under which subject, with how many alerts."""

    destinataire: str
    sujet: str
    alertes: int


@dataclass
class AlertRun:
    """What `pacte alertes` found, wrote and sent."""

    due: list[alerts.Alerte]
    pieces: list[Any] = field(default_factory=list)  # services.pieces.Line: documents late
    calendrier: int | None = None  # events written to the iCalendar file
    apercu: list[Preview] = field(default_factory=list)  # with simulation
    envoi: SendReport | None = None  # with sending


def run_alerts(ws: Workspace, on: dt.date, *, envoyer: bool = False, simulation: bool = False,
               rediriger: str | None = None, ics: Path | None = None, with_pieces: bool = True) -> AlertRun:
    """The alerts due on *on*; the calendar of every deadline written to *ics*; the digests previewed
    (simulation) or sent (envoyer) — redirected to one address as a rehearsal when *rediriger* is given."""
    if rediriger:
        try:
            rediriger = check_email(rediriger)
        except AddressError as exc:
            raise PacteError(f"--rediriger : {exc}. Donnez une seule adresse, par exemple essai@exemple.fr.") from None
    from pacte_docs.services import pieces

    late = pieces.lister(ws, on, late_only=True) if with_pieces or envoyer or simulation else []
    result = AlertRun(due(ws, on), late)
    if ics is not None:
        result.calendrier = write_calendar(ws, on, ics)
    if simulation:
        result.apercu = [Preview(rediriger or d.destinataire, subject(d, on), d.count)
                         for d in digests(result.due, result.pieces)]
    elif envoyer:
        result.envoi = send(ws, result.due, on, redirect=rediriger, late=result.pieces)
    return result
