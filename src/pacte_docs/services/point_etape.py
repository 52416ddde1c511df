"""`pacte pdi-pti point-etape REF --date D`: the comité de pilotage's point d'étape, DOCX and PDF, from
modeles/point_etape.docx — per axe, each fiche in force with its référent, its state and comment, the year's figures
known so far, and what changed since the previous point d'étape (or the adoption)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from pacte_docs.documents import context, pdf
from pacte_docs.documents.rendering import TemplateCache, missing_variables
from pacte_docs.documents.store import DocumentStore
from pacte_docs.errors import PacteError
from pacte_docs.formatting import date_courte
from pacte_docs.registry import queries
from pacte_docs.registry.models import Document
from pacte_docs.rules import revisions
from pacte_docs.services import bilan, suivi
from pacte_docs.workspace import Workspace, holding

NATURE = "point_etape"
TEMPLATE = "point_etape"


@dataclass
class PointReport:
    reference: str
    date: dt.date
    depuis: dt.date
    docx: str
    pdf: str | None
    status: str  # cree | regenere | inchange
    notes: list[str] = field(default_factory=list)


def key(reference: str, on: dt.date) -> str:
    return f"{reference}-point-etape-{on.isoformat()}"


@holding("documents")
def produce(ws: Workspace, reference: str | None, on: dt.date, *, depuis: dt.date | None = None,
            with_pdf: bool = True, pdfa: bool = True) -> PointReport:
    cache = TemplateCache(ws)
    with ws.db.session() as session:
        pacte = queries.pacte(session, reference)
        ref = pacte.reference
        start = pacte.adoption_date or dt.date(pacte.periode_debut, 1, 1)
        if on < start:
            raise PacteError(f"Le point d'étape du {date_courte(on)} précède l'adoption du PDI/PTI {ref} le "
                             f"{date_courte(start)} : vérifiez --date.")
        if depuis is not None and not start <= depuis < on:
            raise PacteError(f"--depuis {date_courte(depuis)} : donnez une date entre l'adoption du PDI/PTI "
                             f"({date_courte(start)}) et celle du point d'étape ({date_courte(on)}).")
        previous = depuis or _previous(session, ws, ref, on)
        known = queries.pacte_versions(pacte)
        version = revisions.in_force(known, on)
        lines = queries.realisations(session, pacte.departement, (on.year - 1,))  # the last year closed
        figures = bilan.figures([r for r in lines if r.cible.startswith("fiche:")])
        template = cache.get(TEMPLATE)
        ctx = context.point_etape_context(pacte, version, [v for v in known if v.rang > 0],
                                          suivi.history(session, pacte, on), figures, on, previous or start,
                                          previous is not None)
        missing = {(template.name, path): [ref] for path in template.missing(ctx)}
        if missing:
            raise missing_variables(missing)
        fingerprint = context.fingerprint(ctx)
        cle = key(ref, on)
        folder = ws.archives / "pdi-pti" / ref / "points-etape"
        docx_target, pdf_target = folder / f"{cle}.docx", folder / f"{cle}.pdf"
        report = PointReport(ref, on, previous or start, ws.relative(docx_target),
                             ws.relative(pdf_target) if with_pdf else None, "cree")
        documents = DocumentStore(session, ws)
        current = documents.current(cle, NATURE, "docx")
        if documents.is_up_to_date(current, empreinte=fingerprint, modele_sha256=template.sha256) and (
                not with_pdf or documents.is_up_to_date(documents.current(cle, NATURE, "pdf"),
                                                        source_sha256=current.sha256 if current else None,
                                                        pdfa=pdfa)):
            report.status = "inchange"
            return report
        if current is not None:
            report.status = "regenere"
        docx_data = template.render(ctx)
        pdf_data = None
        if with_pdf:
            with ws.scratch("point-etape-") as work:
                source = work / f"{cle}.docx"
                source.write_bytes(docx_data)
                pdf_data = pdf.convert([source], work / "pdf", pdfa=pdfa, processes=1,
                                       timeout=ws.config.pdf_timeout)[source].read_bytes()
        documents.retire(cle, NATURE, "pdf", folder)
        record = documents.put(docx_target, docx_data, cle=cle, nature=NATURE, folder=folder,
                               modele_sha256=template.sha256, empreinte=fingerprint)
        if pdf_data is not None:
            documents.put(pdf_target, pdf_data, cle=cle, nature=NATURE, folder=folder, modele_sha256=template.sha256,
                          source_sha256=record.sha256, empreinte=fingerprint, pdfa=pdfa)
        documents.write_sums()
        report.notes.extend(documents.notes)
    return report


def _previous(session: Session, ws: Workspace, reference: str, on: dt.date) -> dt.date | None:
    """The date of the last point d'étape produced before *on*, from the names of the recorded ones."""
    prefix = f"{reference}-point-etape-"
    found = None
    store = DocumentStore(session, ws)
    for cle in session.scalars(select(Document.cle).where(store.mine, Document.nature == NATURE,
                                                          Document.cle.startswith(prefix)).distinct()):
        try:
            day = dt.date.fromisoformat(cle.removeprefix(prefix))
        except ValueError:
            continue
        if day < on and (found is None or day > found):
            found = day
    return found
