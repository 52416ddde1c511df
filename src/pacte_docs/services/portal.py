"""What the directors' pages show (`pacte serveur`), read through a personal link: the deadlines board, a
convention with its documents, the PDI/PTI and bilans, a recorded file to download, the subscribed calendar.

Nothing here writes to the registry. A link shows the conventions of its director (the team's link, all of them);
anything else — another director's convention, a document nobody recorded — is « not found » for it."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pacte_docs.documents.store import DocumentStore
from pacte_docs.errors import IntegrityError
from pacte_docs.formatting import LABELS
from pacte_docs.kinds import ConventionType, Statut
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Convention, Document, Pacte
from pacte_docs.rules import echeances, periods
from pacte_docs.services import access, notify
from pacte_docs.services.access import Link
from pacte_docs.workspace import Workspace

PAGE_SIZE = 100  # lines of the board per page: a phone shows them, a 10 000-convention registry stays fast
PUBLIC_NATURES = ("pdi_pti", "bilan")  # documents every link may read: they go to the Assemblée anyway
MEDIA_TYPES = {"pdf": "application/pdf",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
NATURE_LABELS = {"convention": "Convention", "avenant": "Avenant", "renouvellement": "Décision de renouvellement",
                 "denonciation": "Lettre de dénonciation", "signe": "Copie signée", "pdi_pti": "PDI/PTI",
                 "bilan": "Bilan annuel"}


def _theirs(who: Link) -> Any:
    """The conventions a link shows, as a SELECT of ids; None for the team's link (all of them)."""
    if who.equipe:
        return None
    return select(Convention.id).where(queries.of_responsable(str(who.responsable)))


def link(ws: Workspace, token: str) -> Link | None:
    """The live link of *token*, or None (unknown or revoked)."""
    with ws.db.session() as session:
        return access.resolve(session, token)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").casefold()


# ---------------------------------------------------------------- the deadlines board


@dataclass(frozen=True)
class Filters:
    responsable: str = ""
    type: str = ""
    statut: str = ""
    partenaire: str = ""  # part of a partner's code or name, any case or accent
    bande: str = ""  # a band's code, "aucune", or every band awaiting a decision
    page: int = 1

    @property
    def narrowed(self) -> bool:
        """Whether the reader chose any filter (a band aside)."""
        return bool(self.responsable or self.type or self.statut or self.partenaire)

    def query(self, **changes: Any) -> dict[str, str]:
        """The filters as URL parameters (empty ones left out), with *changes*."""
        values = {"responsable": self.responsable, "type": self.type, "statut": self.statut,
                  "partenaire": self.partenaire, "bande": self.bande, "page": str(self.page)} | {
                      k: str(v) for k, v in changes.items()}
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


@dataclass
class Board:
    on: dt.date
    filters: Filters
    counts: dict[str, int]  # per band, after the other filters
    lines: list[echeances.Line]  # this page's
    total: int  # lines in the chosen band(s), every page
    pages: int
    responsables: list[tuple[str, str]] = field(default_factory=list)  # (address, name) — the team's link only
    bands: tuple[tuple[str, str], ...] = echeances.BANDS

    @property
    def groups(self) -> list[tuple[str, str, list[echeances.Line]]]:
        """This page's lines by band, most urgent band first: (code, title, lines)."""
        titles = dict(self.bands) | {echeances.NONE: "Sans décision à prendre"}
        return [(code, title, [line for line in self.lines if line.bande == code])
                for code, title in titles.items() if any(line.bande == code for line in self.lines)]


def board(ws: Workspace, who: Link, on: dt.date, filters: Filters) -> Board:
    """The deadlines of the link's conventions on *on*, filtered, one page of them."""
    with ws.db.session() as session:
        # partners' names are read for every convention only to filter on them; else for the page's lines
        followed = notify.suivis(session, on, ws.config, tous=True, parmi=_theirs(who),
                                 noms=bool(filters.partenaire.strip()))
        responsables: list[tuple[str, str]] = []
        if who.equipe:
            names: dict[str, str] = {}
            for email, nom in session.execute(select(Convention.responsable_email, Convention.responsable_nom)
                                              .distinct()):
                names.setdefault(email.lower(), nom or "")
            responsables = sorted(names.items(), key=lambda item: (_folded(item[1] or item[0]), item[0]))
    wanted = _folded(filters.partenaire.strip())

    def kept(suivi: Any) -> bool:
        return ((not filters.responsable or suivi.responsable.lower() == filters.responsable.lower())
                and (not filters.type or suivi.type == filters.type)
                and (not filters.statut or suivi.situation.statut == filters.statut)
                and (not wanted or any(wanted in _folded(text) for text in
                                       (*suivi.partenaires, *suivi.partenaires_noms))))

    every = echeances.lines([s for s in followed if kept(s)], on)
    counts = echeances.counts(every)
    chosen = [line for line in every if line.bande == filters.bande] if filters.bande else \
        [line for line in every if line.bande != echeances.NONE]
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    page = min(max(filters.page, 1), pages)
    shown = chosen[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    if not wanted and shown:
        ids = [line.suivi.convention_id for line in shown]
        with ws.db.session() as session:
            partners = notify.partner_names(session, lambda column: column.in_(ids))
        shown = [replace(line, suivi=replace(line.suivi, partenaires=tuple(code for code, _ in found),
                                             partenaires_noms=tuple(nom for _, nom in found)))
                 for line in shown for found in [partners.get(line.suivi.convention_id, [])]]
    return Board(on, Filters(filters.responsable, filters.type, filters.statut, filters.partenaire, filters.bande,
                             page), counts, shown, len(chosen), pages, responsables)


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The values of the type and status filters, with their French labels."""
    return {"type": [(t.value, LABELS.get(t.value, t.value)) for t in ConventionType],
            "statut": [(s.value, LABELS.get(s.value, s.value)) for s in Statut]}


# ---------------------------------------------------------------- a convention


def _visible(session: Session, who: Link, convention_id: int) -> Convention | None:
    c = session.get(Convention, convention_id)
    return c if c is not None and who.owns(c.responsable_email) else None


def _document_row(d: Document) -> dict[str, Any]:
    return {"id": d.id, "nature": d.nature, "libelle": NATURE_LABELS.get(d.nature, d.nature), "format": d.format,
            "version": d.version, "archive": d.archive, "nom": PurePosixPath(d.chemin).name, "cree_le": d.cree_le,
            "verification": d.verification, "fige": d.fige}


def convention(ws: Workspace, who: Link, convention_id: int, on: dt.date) -> dict[str, Any] | None:
    """Everything a director reads about a convention; None when the link may not see it."""
    with ws.db.session() as session:
        c = _visible(session, who, convention_id)
        if c is None:
            return None
        line = echeances.lines(notify.suivis(session, on, ws.config, tous=True, parmi=[c.id]), on)[0]
        situation = line.suivi.situation
        periods_list = periods.periodes(queries.faits(c), on)
        return {
            "id": c.id, "reference": c.reference, "type": c.type, "objet": c.objet,
            "departement": c.departement, "partenaires": list(c.partenaires), "statut": situation.statut,
            "situation": situation, "periodes": periods_list, "ligne": line,
            "date_signature": c.date_signature, "date_effet": c.date_effet, "duree_mois": c.duree_mois,
            "renouvellement": c.renouvellement, "renouvellements_max": c.renouvellements_max,
            "preavis_mois": c.preavis_mois, "responsable_nom": c.responsable_nom,
            "responsable_email": c.responsable_email, "montant": c.montant, "territoire": c.territoire,
            "deliberation": (c.deliberation_instance, c.deliberation_numero, c.deliberation_date),
            "deliberation_partenaire": (c.deliberation_partenaire_instance, c.deliberation_partenaire_numero,
                                        c.deliberation_partenaire_date),
            "date_denonciation": c.date_denonciation, "motif_denonciation": c.motif_denonciation,
            "renouvellements": [{"numero": r.numero, "date": r.date, "deliberation": r.deliberation_numero}
                                for r in c.renouvellements],
            "avenants": [{"numero": a.numero, "objet": a.objet, "date": a.date, "nouvelle_fin": a.nouvelle_fin,
                          "deliberation": a.deliberation_numero, "deliberation_date": a.deliberation_date}
                         for a in c.avenants],
            "journal": [{"quand": e.quand, "nature": e.nature, "date": e.date, "description": e.description}
                        for e in journal.entries(session, c)],
            "documents": [_document_row(d) for d in DocumentStore(session, ws).documents(c.id)],
        }


# ---------------------------------------------------------------- PDI/PTI and bilans


def publications(ws: Workspace) -> dict[str, Any]:
    """The PDI/PTI of the registry with their documents, and the bilans' documents, newest first."""
    with ws.db.session() as session:
        mine = DocumentStore(session, ws).mine
        documents = list(session.scalars(select(Document).where(
            mine, Document.nature.in_(PUBLIC_NATURES), Document.archive.is_(False))
            .order_by(Document.cle.desc(), Document.format.desc())))
        pactes = [{"reference": p.reference, "titre": p.titre, "periode": f"{p.periode_debut}–{p.periode_fin}",
                   "adoption": p.adoption_date,
                   "documents": [_document_row(d) for d in documents if d.nature == "pdi_pti" and d.cle == p.reference]}
                  for p in session.scalars(select(Pacte).order_by(Pacte.periode_debut.desc(), Pacte.reference))]
        bilans: dict[str, list[dict[str, Any]]] = {}
        for d in documents:
            if d.nature == "bilan":
                bilans.setdefault(d.cle, []).append(_document_row(d))
    return {"pactes": pactes, "bilans": sorted(bilans.items(), reverse=True)}


# ---------------------------------------------------------------- downloads


@dataclass(frozen=True)
class Download:
    nom: str
    media_type: str
    data: bytes


def download(ws: Workspace, who: Link, document_id: int) -> Download | None:
    """A recorded file's bytes, checked against the SHA-256 recorded with it; None when the link may not read it.
    An altered or missing file raises IntegrityError naming it: its bytes are never sent."""
    with ws.db.session() as session:
        store = DocumentStore(session, ws)
        record = session.scalar(select(Document).where(store.mine, Document.id == document_id))
        if record is None:
            return None
        if record.nature not in PUBLIC_NATURES:
            if record.convention_id is None or _visible(session, who, record.convention_id) is None:
                return None
        data = store.intact_bytes(record)
        if data is None:
            raise IntegrityError(f"Le fichier {record.chemin} n'est plus celui qui a été enregistré (modifié ou "
                                 "absent) : il n'est pas envoyé. Prévenez le service qui produit les documents "
                                 "(pacte archives verifier).")
        return Download(PurePosixPath(record.chemin).name, MEDIA_TYPES.get(record.format, "application/octet-stream"),
                        data)


# ---------------------------------------------------------------- the subscribed calendar


def calendar(ws: Workspace, who: Link, on: dt.date) -> bytes:
    """The link's deadlines as `pacte alertes --ics` writes them (same events, same reminders), computed now."""
    from pacte_docs.documents import agenda

    with ws.db.session() as session:
        followed = notify.suivis(session, on, ws.config, tous=True, parmi=_theirs(who))
    name = "Échéances des conventions d'insertion" + ("" if who.equipe else f" — {who.responsable}")
    return agenda.calendar(followed, ws.config.seuils_par_type, ws.config.seuils_jours, name=name,
                           refresh_hours=6)

