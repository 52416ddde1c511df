"""What the directors' pages show (`pacte serveur`), read through a personal link: the deadlines board, a
convention with its documents, the PDI/PTI and bilans, a recorded file to download, the subscribed calendar.

Nothing here writes to the registry. A link shows the conventions of its director (the team's link, all of them);
anything else — another director's convention, a document nobody recorded — is « not found » for it."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from pacte_docs.documents.store import DocumentStore
from pacte_docs.errors import IntegrityError
from pacte_docs.formatting import LABELS
from pacte_docs.kinds import ConventionType, Statut
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Convention, ConventionPartenaire, Document, Etape, Pacte, Partenaire
from pacte_docs.rules import echeances, periods
from pacte_docs.services import access, notify, pieces, suivi
from pacte_docs.services.access import Link
from pacte_docs.workspace import Workspace

PAGE_SIZE = 100  # lines of the board per page: a phone shows them, a 10 000-convention registry stays fast
# documents every link may read: they go to the Assemblée anyway (and the comité de pilotage's points d'étape)
PUBLIC_NATURES = ("pdi_pti", "bilan", "point_etape")
MEDIA_TYPES = {"pdf": "application/pdf",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
NATURE_LABELS = {"convention": "Convention", "avenant": "Avenant", "renouvellement": "Décision de renouvellement",
                 "denonciation": "Lettre de dénonciation", "signe": "Copie signée", "pdi_pti": "PDI/PTI",
                 "bilan": "Bilan annuel", "piece": "Pièce reçue du partenaire", "relance": "Lettre de relance",
                 "point_etape": "Point d'étape du comité de pilotage"}


def _theirs(who: Link) -> Any:
    """The conventions a link shows, as a SELECT of ids; None for the team's link (all of them)."""
    if who.equipe:
        return None
    return select(Convention.id).where(queries.of_responsable(str(who.responsable)))


STAFF = Link(0, "", None, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), "espace agents", None)  # the staff see them all


def link(ws: Workspace, token: str) -> Link | None:
    """The live link of *token*, or None (unknown or revoked)."""
    with ws.db.session() as session:
        return access.resolve(session, token)


@functools.lru_cache(maxsize=8192)  # the partners' codes and names, folded again at each filtered page
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

    @classmethod
    def parse(cls, params: Any, team: bool = True) -> Filters:
        """The filters of a page's query string, each bounded; a page number only in ASCII digits (« ² », « ① »
        or « １ » are no number: page 1). *team*: whether the reader may choose a responsable."""
        def value(name: str, limit: int) -> str:
            return str(params.get(name, ""))[:limit]

        number = value("page", 7)
        return cls(responsable=value("responsable", 254) if team else "", type=value("type", 40),
                   statut=value("statut", 40), partenaire=value("partenaire", 100), bande=value("bande", 40),
                   page=int(number) if re.fullmatch(r"[0-9]{1,6}", number) else 1)

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
    """The deadlines of the link's conventions on *on*, filtered, one page of them. Each convention is read on
    its stretch of the day (rules.echeances.etapes, kept in the registry), whose band the query tells: with a
    filter on the conventions (a director's link, a partner…), their stretches are read once, then counted,
    sorted and cut into pages here; without, the database counts the day's stretches on their index and reads the
    page's lines along the index of deadlines. The lines shown are then computed by the rules."""
    c = Convention
    with ws.db.session() as session:
        db = session.connection()  # plain rows: the ORM's loading machinery costs more than these queries
        responsables: list[tuple[str, str]] = []
        emails: list[str] = []
        if who.equipe or filters.responsable:
            names: dict[str, str] = {}
            for email, nom in db.execute(select(c.responsable_email, c.responsable_nom).distinct()).all():
                names.setdefault(email.lower(), nom or "")
                emails.append(email)
            if who.equipe:
                responsables = sorted(names.items(), key=lambda item: (_folded(item[1] or item[0]), item[0]))
        of_day = [queries.stretch_of(on)]  # the conditions on the stretch alone
        conditions: list[Any] = []  # those that read the convention
        if not who.equipe:
            conditions.append(queries.of_responsable(str(who.responsable)))  # on its index, lower(address)
        if filters.responsable:
            conditions.append(c.responsable_email.in_(
                sorted({e for e in emails if e.lower() == filters.responsable.lower()})))
        if filters.type:
            conditions.append(c.type == filters.type)
        wanted = _folded(filters.partenaire.strip())
        if wanted:
            conditions.append(c.id.in_(select(ConventionPartenaire.convention_id).where(
                ConventionPartenaire.partenaire_id.in_(_partners_named(db, wanted)))))
        if filters.statut:
            kinds = db.scalars(select(c.type).distinct())
            status, by_type = queries.status_on(on, {kind: ws.config.premier_seuil(kind) for kind in kinds})
            (conditions if by_type else of_day).append(status == filters.statut)
        band = queries.band_on(on)
        # a status chosen without a band: every convention of that status, awaiting a decision or not (a draft,
        # a convention denounced or ended awaits none)
        every = bool(filters.statut) and not filters.bande
        counts = {code: 0 for code, _ in echeances.BANDS} | {echeances.NONE: 0}
        chosen: list[tuple[bool, dt.date, str, int]] = []
        if conditions:
            for code, limite, reference, cid in db.execute(
                    select(band, Etape.date_limite, c.reference, c.id).select_from(Etape)
                    .join(c, c.id == Etape.convention_id).where(*of_day, *conditions)).all():
                counts[code] += 1
                if code == filters.bande if filters.bande else (every or code != echeances.NONE):
                    chosen.append((code == echeances.NONE, limite, reference, cid))
            chosen.sort()  # the rules' order (echeances.lines): by decision deadline, then reference
            total = len(chosen)
        else:
            found = select(band.label("bande")).select_from(Etape).where(*of_day).subquery()
            for code, count in db.execute(select(found.c.bande, func.count()).group_by(found.c.bande)).all():
                counts[code] = count
            total = counts.get(filters.bande, 0) if filters.bande else sum(
                n for code, n in counts.items() if every or code != echeances.NONE)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(filters.page, 1), pages)
        start = (page - 1) * PAGE_SIZE
        if conditions:
            ids = [cid for _, _, _, cid in chosen[start:start + PAGE_SIZE]]
        elif total:  # the band as a range of deadlines; the rules' order, as Python compares the references
            ids = list(db.scalars(
                select(c.id).select_from(Etape).join(c, c.id == Etape.convention_id)
                .where(*of_day, *([] if every else [queries.in_band(on, filters.bande)]))
                .order_by(*([Etape.attente.desc()] if every else []), Etape.date_limite, queries.by_reference(session))
                .limit(PAGE_SIZE).offset(start)))
        else:
            ids = []
        shown = echeances.lines(notify.suivis(session, on, ws.config, tous=True, parmi=ids), on) if ids else []
    return Board(on, Filters(filters.responsable, filters.type, filters.statut, filters.partenaire, filters.bande,
                             page), counts, shown, total, pages, responsables)


def documents_owed(ws: Workspace, who: Link, on: dt.date) -> dict[str, list[pieces.Line]]:
    """The documents the partners of the link's conventions owe (all of them for the team's link), on a page of
    their own: those late, then those awaited, then those received."""
    with ws.db.session() as session:
        lines = pieces.owed(session, on, responsable=None if who.equipe else who.responsable)
    return {"retard": sorted((line for line in lines if line.retard is not None),
                             key=lambda line: (line.echeance, line.reference)),
            "attendues": sorted((line for line in lines if line.recue_le is None and line.retard is None),
                                key=lambda line: (line.echeance, line.reference)),
            "recues": [line for line in lines if line.recue_le is not None]}


def _partners_named(db: Connection, wanted: str) -> list[int]:
    """The partners whose code or name holds *wanted* (folded: any case, any accent)."""
    return [pid for pid, code, nom in db.execute(select(Partenaire.id, Partenaire.code, Partenaire.nom)).all()
            if wanted in _folded(code) or wanted in _folded(nom)]


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
            "pieces": pieces.owed(session, on, [c.reference]),
        }


# ---------------------------------------------------------------- PDI/PTI and bilans


def publications(ws: Workspace) -> dict[str, Any]:
    """The PDI/PTI of the registry with their documents, and the bilans' documents, newest first."""
    with ws.db.session() as session:
        mine = DocumentStore(session, ws).mine
        documents = list(session.scalars(select(Document).where(
            mine, Document.nature.in_(PUBLIC_NATURES), Document.archive.is_(False))
            .order_by(Document.cle.desc(), Document.format.desc())))
        pactes = []
        for p in session.scalars(select(Pacte).order_by(Pacte.periode_debut.desc(), Pacte.reference)):
            mine_docs = [d for d in documents if d.nature in ("pdi_pti", "point_etape")
                         and (d.cle == p.reference or d.cle.startswith(f"{p.reference}-"))]
            known = queries.pacte_versions(p)
            revised = [v for v in known if v.rang > 0]
            pactes.append({
                "reference": p.reference, "titre": p.titre, "periode": f"{p.periode_debut}–{p.periode_fin}",
                "adoption": p.adoption_date,
                "revisions": [{"numero": v.numero, "date": v.date, "objet": v.objet} for v in revised],
                "documents": [_document_row(d) for d in mine_docs if d.nature == "pdi_pti"],
                "points": [_document_row(d) for d in mine_docs if d.nature == "point_etape"],
                "suivi": suivi.board(session, p, known)})
        bilans: dict[str, list[dict[str, Any]]] = {}
        for d in documents:
            if d.nature == "bilan":
                bilans.setdefault(d.cle, []).append(_document_row(d))
    named = [(f"Bilan d'étape {cle.rsplit('-', 1)[1]}" if cle.startswith("bilan-etape-") else
              f"Bilan {cle.removeprefix('bilan-')}", docs) for cle, docs in sorted(bilans.items(), reverse=True)]
    return {"pactes": pactes, "bilans": named}


# ---------------------------------------------------------------- downloads


@dataclass(frozen=True)
class Download:
    nom: str
    media_type: str
    data: bytes


def _steady(read: Any) -> Any:
    """*read*, again while a generation replaces the file under it: a document being replaced is sent whole, in
    its old version or its new one, never refused as altered; a file still wrong after a second is."""
    import time

    for _ in range(20):
        try:
            return read()
        except IntegrityError:
            time.sleep(0.05)  # the new file is in place, its record not yet committed (or the reverse)
    return read()


def download(ws: Workspace, who: Link, document_id: int) -> Download | None:
    """A recorded file's bytes, checked against the SHA-256 recorded with it; None when the link may not read it.
    An altered or missing file raises IntegrityError naming it: its bytes are never sent."""
    return _steady(lambda: _download(ws, who, document_id))  # type: ignore[no-any-return]


def _download(ws: Workspace, who: Link, document_id: int) -> Download | None:
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


def convention_document(ws: Workspace, reference: str, name: str) -> Download | None:
    """A current (not archived) document of convention *reference*, by its file name, for the staff pages:
    checked against its SHA-256 like `download`; None when the convention has no such current document."""
    return _steady(lambda: _convention_document(ws, reference, name))  # type: ignore[no-any-return]


def _convention_document(ws: Workspace, reference: str, name: str) -> Download | None:
    with ws.db.session() as session:
        store = DocumentStore(session, ws)
        found = session.scalar(select(Convention).where(Convention.reference == reference))
        if found is None:
            return None
        record = next((d for d in store.documents(found.id)
                       if not d.archive and PurePosixPath(d.chemin).name == name), None)
        if record is None:
            return None
        data = store.intact_bytes(record)
        if data is None:
            raise IntegrityError(f"Le fichier {record.chemin} n'est plus celui qui a été enregistré (modifié ou "
                                 "absent) : il n'est pas envoyé. Régénérez-le, ou lancez pacte archives verifier.")
        return Download(name, MEDIA_TYPES.get(record.format, "application/octet-stream"), data)


# ---------------------------------------------------------------- the subscribed calendar


def calendar(ws: Workspace, who: Link, on: dt.date) -> bytes:
    """The link's deadlines as `pacte alertes --ics` writes them (same events, same reminders), computed now."""
    from pacte_docs.documents import agenda

    with ws.db.session() as session:
        followed = notify.suivis(session, on, ws.config, tous=True, parmi=_theirs(who))
        owed = pieces.owed(session, on, responsable=None if who.equipe else who.responsable)
    name = "Échéances des conventions d'insertion" + ("" if who.equipe else f" — {who.responsable}")
    return agenda.calendar(followed, ws.config.seuils_par_type, ws.config.seuils_jours, name=name,
                           refresh_hours=6, pieces=owed)

