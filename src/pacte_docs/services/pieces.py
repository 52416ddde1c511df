"""What partners owe in return, followed (`pacte pieces`): the documents each signed convention calls for
(rules.pieces, donnees/pieces.yaml), received — the file archived read-only and hashed like every document —,
late, reminded by a letter from modeles/relance.docx. The alerts, the pages and the bilan read `owed`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from pacte_docs import files
from pacte_docs.documents import context, pdf
from pacte_docs.documents.store import DocumentStore
from pacte_docs.errors import InputFileError, LifecycleError, UnknownReferenceError
from pacte_docs.formatting import date_courte, date_longue
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Convention, ConventionPartenaire, Evenement, Partenaire, Piece
from pacte_docs.rules import periods, pieces, visas
from pacte_docs.services import generation
from pacte_docs.services.lifecycle import not_in_future
from pacte_docs.workspace import Workspace, holding

PIECE_LIMIT = 50 * files.MIB  # a compte rendu financier with its annexes, scanned, stays well under this
PIECE_UNZIPPED_LIMIT = 200 * files.MIB
# the formats a partner sends: PDF, and the office files of Word, Excel and LibreOffice
FORMATS = {".pdf": "PDF", ".docx": "Word", ".xlsx": "Excel", ".odt": "LibreOffice Writer", ".ods": "LibreOffice Calc"}
REMIND_AGAIN_DAYS = 30  # a late document is reminded again a month after the last letter


@dataclass(frozen=True)
class Line:
    """One document owed by a convention's partner for one exercice, as it stands on a day."""

    convention_id: int
    reference: str
    partenaire: str  # the first partner's name
    responsable: str | None  # the e-mail of the agent who follows the convention
    responsable_nom: str | None
    cle: str
    piece: str  # as lists name it: « compte rendu financier »
    exercice: int
    echeance: dt.date
    recue_le: dt.date | None
    document: str | None
    relancee_le: dt.date | None
    relances: int
    retard: int | None  # days late; None: received or not due yet

    @property
    def etat(self) -> str:
        """Where it stands, in French: « reçue le 12/05/2026 », « en retard de 40 jours », « attendue »."""
        if self.recue_le is not None:
            return f"reçue le {date_courte(self.recue_le)}"
        if self.retard is not None:
            late = f"en retard de {self.retard} jour{'s' if self.retard > 1 else ''}"
            return late + (f", relancée le {date_courte(self.relancee_le)}" if self.relancee_le else "")
        return "attendue"

    # As the alert ledger keys what it sent (services.notify.claim): one alert per document and exercice, once.
    @property
    def periode(self) -> int:
        return self.exercice

    @property
    def cle_seuil(self) -> str:
        return f"piece:{self.cle}"

    def as_json(self) -> dict[str, Any]:
        return {"reference": self.reference, "partenaire": self.partenaire, "responsable": self.responsable,
                "piece": self.cle, "libelle": self.piece, "exercice": self.exercice,
                "echeance": self.echeance.isoformat(), "recue_le": self.recue_le.isoformat() if self.recue_le else None,
                "document": self.document, "relancee_le": self.relancee_le.isoformat() if self.relancee_le else None,
                "relances": self.relances, "retard_jours": self.retard}


def _kinds(taux_fse: Decimal | None, association: bool, montant: Decimal | None, duree_mois: int) -> list[pieces.Sorte]:
    cases = visas.situations(france_travail=False, taux_fse=taux_fse, association=association, montant=montant,
                             duree_mois=duree_mois)
    return pieces.kinds(context.piece_kinds(), cases)


def owed(session: Session, on: dt.date, references: Iterable[str] = (), *, late_only: bool = False,
         responsable: str | None = None, departement_id: int | None = None) -> list[Line]:
    """Every document owed on *on* (by the conventions *references*, or all; of one *responsable*, of one
    département), received or not, by convention then exercice; *late_only*: those past their due date and not
    received. Plain rows read in bulk (a registry of many conventions, a board shown often): the conventions that
    may owe something — signed, with an FSE+ share or an amount given to an association —, their renewals and
    avenants, their partners, the documents recorded."""
    c = Convention
    associations = select(ConventionPartenaire.convention_id).join(Partenaire).where(Partenaire.type == "association")
    conditions: list[Any] = [c.date_signature.is_not(None),
                             or_(c.taux_fse.is_not(None), and_(c.montant.is_not(None), c.id.in_(associations)))]
    wanted = list(dict.fromkeys(references))
    if wanted:
        conditions.append(c.id.in_([queries.convention(session, r).id for r in wanted]))  # an unknown one named
    if responsable:
        conditions.append(queries.of_responsable(responsable))
    if departement_id is not None:
        conditions.append(c.departement_id == departement_id)
    chosen = select(c.id).where(*conditions)

    def among(column: Any) -> Any:
        return column.in_(chosen)

    connection = session.connection()
    renewals, moved = queries.lives(connection, among)
    names: dict[int, str] = {}
    with_association: set[int] = set()
    for cid, nom, kind in connection.execute(
            select(ConventionPartenaire.convention_id, Partenaire.nom, Partenaire.type)
            .join(Partenaire, Partenaire.id == ConventionPartenaire.partenaire_id)
            .where(among(ConventionPartenaire.convention_id)).order_by(ConventionPartenaire.rang.desc())):
        names[cid] = nom  # the first partner's name, read last
        if kind == "association":
            with_association.add(cid)
    recorded = {(p.convention_id, p.cle, p.exercice): p for p in session.scalars(
        select(Piece).where(among(Piece.convention_id)))}
    lines = []
    for row in connection.execute(
            select(c.id, c.reference, c.responsable_email, c.responsable_nom, c.renouvellement, c.renouvellements_max,
                   c.preavis_mois, c.date_effet, c.duree_mois, c.date_signature, c.date_denonciation, c.montant,
                   c.taux_fse).where(among(c.id)).order_by(c.reference)):
        kinds = _kinds(row.taux_fse, row.id in with_association, row.montant, row.duree_mois)
        if not kinds:
            continue
        facts = queries.faits_from(row._mapping, renewals.get(row.id, ()), moved.get(row.id, ()))
        for due in pieces.dues(kinds, row.date_effet, periods.periodes(facts, on)[-1].fin, last_exercice=on.year):
            piece = recorded.get((row.id, due.sorte.cle, due.exercice))
            received = piece.recue_le if piece else None
            line = Line(row.id, row.reference, names.get(row.id, ""), row.responsable_email, row.responsable_nom,
                        due.sorte.cle, due.sorte.court, due.exercice, due.echeance, received,
                        piece.document if piece else None, piece.relancee_le if piece else None,
                        piece.relances if piece else 0, pieces.late(due, received is not None, on))
            if not late_only or line.retard is not None:
                lines.append(line)
    return lines


def lister(ws: Workspace, on: dt.date, *, late_only: bool = False, references: Sequence[str] = ()) -> list[Line]:
    with ws.db.session() as session:
        return owed(session, on, references, late_only=late_only)


def _due(session: Session, c: Convention, cle: str, exercice: int, on: dt.date) -> Line:
    """The document *cle* of *exercice* that convention *c* calls for, as `owed` lists it, or a French refusal
    saying what it calls for."""
    kinds = _kinds(c.taux_fse, any(p.type == "association" for p in c.partenaires), c.montant, c.duree_mois)
    if not kinds:
        raise LifecycleError(f"La convention {c.reference} n'appelle aucune pièce : seules une subvention à une "
                             "association et un cofinancement FSE+ en appellent.")
    if c.date_signature is None:
        raise LifecycleError(f"La convention {c.reference} n'est pas signée : elle n'appelle encore aucune pièce.")
    if cle not in {k.cle for k in kinds}:
        raise UnknownReferenceError(f"« {cle} » n'est pas une pièce de la convention {c.reference} : pièces "
                                    f"attendues : {', '.join(k.cle for k in kinds)}.")
    dues = [line for line in owed(session, on, [c.reference]) if line.cle == cle]
    for due in dues:
        if due.exercice == exercice:
            return due
    years = sorted({d.exercice for d in dues})
    span = f"de {years[0]} à {years[-1]}" if len(years) > 1 else str(years[0]) if years else "aucun"
    named = dues[0].piece if dues else cle
    raise LifecycleError(f"La convention {c.reference} n'appelle pas la pièce « {named} » pour l'exercice {exercice} : "
                         f"exercices couverts à ce jour : {span}.")


def _checked_file(fichier: Path) -> tuple[bytes, str]:
    """The bytes of a received document and its extension, refused in French unless it is a readable PDF or an
    office file of a bounded size."""
    suffix = fichier.suffix.lower()
    if suffix not in FORMATS:
        raise InputFileError(f"{fichier.name} : format non reconnu ; une pièce est un fichier "
                             f"{', '.join(sorted(set(FORMATS.values())))} ({', '.join(FORMATS)}).")
    data = files.read_input(fichier, PIECE_LIMIT, "la pièce")
    if suffix == ".pdf":
        if not data.startswith(b"%PDF-"):
            raise InputFileError(f"{fichier} n'est pas un PDF : enregistrez la pièce au format PDF et recommencez.")
        pdf.readable_pages(data, f"le fichier {fichier}")
    else:
        files.check_zip(data, f"la pièce {fichier}", max_bytes=PIECE_UNZIPPED_LIMIT)
    return data, suffix


@holding("documents")
def recevoir(ws: Workspace, reference: str, cle: str, exercice: int, fichier: Path, on: dt.date,
             date: dt.date | None = None) -> Line:
    """Record that the document *cle* of *exercice* was received on *date* (by default *on*): the file is kept
    read-only under archives/, hashed and listed in SHA256SUMS (`archives verifier` checks it); the journal says so.
    Nothing is recorded when the file or the request is refused."""
    received = date or on
    not_in_future("La date de réception", received, on, False)
    with ws.db.session() as session:
        c = queries.convention(session, reference)
        due = _due(session, c, cle, exercice, on)
        if due.recue_le is not None:
            raise LifecycleError(f"La pièce « {due.piece} » de l'exercice {exercice} de la convention "
                                 f"{reference} est déjà enregistrée, reçue le {date_longue(due.recue_le)} "
                                 f"({due.document}) : rien n'a été changé.")
        row = session.scalar(select(Piece).where(Piece.convention_id == c.id, Piece.cle == cle,
                                                 Piece.exercice == exercice))
        data, suffix = _checked_file(fichier)
        target = ws.archives / "conventions" / reference / "pieces" / f"{reference}-{cle}-{exercice}{suffix}"
        documents = DocumentStore(session, ws)
        document = documents.freeze(target, data, cle=f"{reference}-{cle}-{exercice}", nature="piece",
                                    convention_id=c.id)
        documents.write_sums()
        if row is None:
            row = Piece(convention_id=c.id, cle=cle, exercice=exercice, relances=0)
            session.add(row)
        row.recue_le, row.document = received, document.chemin
        journal.record(session, c, "piece", f"Pièce reçue : {due.piece} de l'exercice {exercice} "
                                            f"(attendue au plus tard le {date_longue(due.echeance)}).",
                       date=received, document=document.chemin, sha256=document.sha256)
        session.flush()
        return next(line for line in owed(session, on, [reference]) if line.cle == cle and line.exercice == exercice)


@dataclass
class ReminderReport:
    letters: list[tuple[str, int, list[Line]]] = field(default_factory=list)  # (reference, number, lines)
    generated: generation.GenerationReport | None = None


@holding("documents")
def relancer(ws: Workspace, on: dt.date, references: Sequence[str] = (), *, with_pdf: bool = True,
             pdfa: bool = True, progress: Any = None) -> ReminderReport:
    """One reminder letter per convention whose partner is late with documents not reminded in the last
    REMIND_AGAIN_DAYS days: conventions/REF/REF-relance-N.docx and .pdf, from modeles/relance.docx, dated *on*;
    each document reminded is recorded (date, count) and the journal says so."""
    report = ReminderReport()
    with ws.db.session() as session:
        late = [line for line in owed(session, on, references, late_only=True)
                if line.relancee_le is None or (on - line.relancee_le).days >= REMIND_AGAIN_DAYS]
        by_convention: dict[str, list[Line]] = {}
        for line in late:
            by_convention.setdefault(line.reference, []).append(line)
        jobs = []
        for reference, lines in by_convention.items():
            c = queries.convention(session, reference)
            numero = 1 + (session.scalar(select(func.count()).select_from(Evenement).where(
                Evenement.convention_id == c.id, Evenement.nature == "relance")) or 0)
            for line in lines:
                row = session.scalar(select(Piece).where(Piece.convention_id == c.id, Piece.cle == line.cle,
                                                         Piece.exercice == line.exercice))
                if row is None:
                    row = Piece(convention_id=c.id, cle=line.cle, exercice=line.exercice, relances=0)
                    session.add(row)
                row.relancee_le, row.relances = on, (row.relances or 0) + 1
            named = " ; ".join(f"{line.piece} {line.exercice}" for line in lines)
            journal.record(session, c, "relance", f"Lettre de relance n° {numero} : {named}.", date=on)
            jobs.append(generation.reminder_job(c, numero, on, [_letter_line(line) for line in lines]))
            report.letters.append((reference, numero, lines))
        session.flush()
        if jobs:
            report.generated = generation.render_and_write(session, ws, jobs, progress)
    if report.generated is not None:
        report.generated = generation.finish(ws, report.generated, with_pdf, pdfa, progress)
    return report


def _letter_line(line: Line) -> dict[str, Any]:
    return {"cle": line.cle, "piece": line.piece, "exercice": line.exercice, "echeance": line.echeance,
            "relances": line.relances}
