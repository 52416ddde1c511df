"""`pacte pdi-pti generer`: the unified PDI/PTI document, DOCX and PDF, with a table of contents whose page
numbers are real (the document is laid out by LibreOffice, the headings' pages are read back from the PDF's
bookmarks, and the document is rendered again with them) and bookmarks chapters → axes → fiches.

`pacte pdi-pti reviser`: a revision adopted by a délibération adds, amends or closes axes and fiches; the pacte keeps
each version (`PacteRevision`), and the document is produced as it stood on a date (`--au`)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy.orm import Session

from pacte_docs import files
from pacte_docs.documents import context, pdf
from pacte_docs.documents.outline import heading_pages, read_bookmarks
from pacte_docs.documents.rendering import TemplateCache, missing_variables
from pacte_docs.documents.store import DocumentStore
from pacte_docs.errors import PacteError, Problem, TemplateError, ValidationError
from pacte_docs.files import sha256_bytes
from pacte_docs.formatting import date_courte, date_longue
from pacte_docs.intake import import_format, readers
from pacte_docs.registry import queries
from pacte_docs.registry.models import Axe, FicheAction, Pacte, PacteRevision, Partenaire
from pacte_docs.rules import periods, revisions
from pacte_docs.rules.revisions import Version
from pacte_docs.workspace import Workspace, holding

NATURE = "pdi_pti"
TEMPLATE = "pdi_pti"
MAX_LAYOUTS = 4  # renders until the table of contents' page numbers no longer move the headings


@dataclass
class PacteReport:
    reference: str
    docx: str
    pdf: str | None
    status: str  # "cree" | "regenere" | "inchange"
    pages: int | None = None
    mises_en_page: int = 0  # how many times LibreOffice laid the document out
    version: int = 0  # 0: as adopted; n: after the n-th revision
    libelle: str = ""  # which version, as the user reads it
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- versions

def version_in_force(pacte: Pacte, on: dt.date | None) -> tuple[Version, list[Version], bool]:
    """The version in force on *on* (today when None), the revisions it follows (oldest first), and whether it is
    the latest version."""
    known = queries.pacte_versions(pacte)
    found = revisions.in_force(known, on or periods.today())
    return found, [v for v in known if 0 < v.rang <= found.rang], found.rang == known[-1].rang


def version_label(version: Version) -> str:
    """« texte adopté le 17 octobre 2016 », « version consolidée par la délibération n° … du 25 mars 2019 »."""
    when = f" le {date_longue(version.date)}" if version.date else ""
    if version.rang == 0:
        return f"texte adopté{when}"
    return f"version consolidée par la délibération n° {version.numero}" + (
        f" du {date_longue(version.date)}" if version.date else "")


def history(ws: Workspace, reference: str | None) -> list[dict[str, Any]]:
    """`pacte pdi-pti versions`: each version of the pacte (its adoption, then each revision), its délibération,
    how many fiches it holds and what it added, amended and closed."""
    with ws.db.session() as session:
        pacte = queries.pacte(session, reference)
        rows = []
        for v in queries.pacte_versions(pacte):
            done = " ; ".join(context.revision_summary(v.changements))
            rows.append({"rang": v.rang, "deliberation": v.numero, "date": v.date, "objet": v.objet,
                         "fiches": sum(len(a["fiches"]) for a in v.axes),
                         "changements": done or ("adoption" if v.rang == 0 else "")})
        return rows


@dataclass
class RevisionReport:
    reference: str
    rang: int
    deliberation: str
    date: dt.date
    changements: list[dict[str, Any]]


@holding("registre")
def revise(ws: Workspace, reference: str | None, path: Path, *, numero: str, date: dt.date,
           instance: str | None = None, objet: str | None = None, simulation: bool = False,
           on: dt.date | None = None) -> RevisionReport:
    """Apply the revision of *path* (YAML or a workbook's sheets axes and fiches-actions, each row with its
    operation) adopted by délibération *numero* of *date*: all of it, or nothing, with every problem named."""
    operations, problems = _read_revision(path)
    with ws.db.session() as session:
        pacte = queries.pacte(session, reference)
        known = queries.pacte_versions(pacte)
        _check_deliberation(pacte, known, numero, date, on or periods.today())
        used_axes, used_fiches = revisions.used_numbers(known)
        partners = {code for (code,) in session.query(Partenaire.code)}
        content, changes, refused = revisions.apply(known[-1].axes, operations, known[-1].rang + 1, partners,
                                                   used_fiches, used_axes)
        problems += [Problem(r.where.source, r.where.place(r.champ), r.where.label(r.champ), r.message, r.fix)
                     for r in refused]
        if not operations and not problems:
            problems.append(Problem(path.name, None, None, "la révision ne contient aucun axe ni aucune fiche",
                                    "donnez les sections « axes » et/ou « fiches », chaque élément avec son "
                                    "« operation » (ajouter, modifier ou clore)"))
        if problems:
            raise ValidationError(problems, f"{len(problems)} problème{'s' if len(problems) > 1 else ''} dans la "
                                            f"révision ; rien n'a été enregistré.")
        report = RevisionReport(pacte.reference, known[-1].rang + 1, numero, date, changes)
        if simulation:
            session.rollback()
            return report
        recorded = files.now()
        if not pacte.revisions:  # the pacte as adopted is kept first
            first = known[0]
            pacte.revisions.append(PacteRevision(rang=0, instance=first.instance, numero=first.numero,
                                                 date=first.date, contenu=first.axes, changements=[],
                                                 enregistre_le=recorded))
        pacte.revisions.append(PacteRevision(
            rang=report.rang, instance=instance or pacte.adoption_instance or "Assemblée départementale",
            numero=numero, date=date, objet=objet, contenu=content, changements=changes, enregistre_le=recorded))
        _replace_axes(session, pacte, content)
    return report


def _read_revision(path: Path) -> tuple[list[revisions.Operation], list[Problem]]:
    reading = readers.read(path, revision=True)
    problems = list(reading.problems)
    operations = []
    for item in reading.items:
        schema = import_format.REVISION.get(item.section)
        if schema is None:
            problems.append(Problem(item.source, item.where, None,
                                    f"la section « {item.section} » n'a pas sa place dans une révision",
                                    "une révision donne seulement des axes et des fiches (sections « axes » et "
                                    "« fiches », ou feuilles « axes » et « fiches-actions » du classeur)"))
            continue
        before = len(problems)
        values = import_format.clean_with(item, schema, problems)
        if len(problems) > before:
            continue
        given = {name for name, value in item.data.items()
                 if value is not None and not (isinstance(value, str) and not value.strip())}
        operations.append(revisions.Operation("axe" if item.section == "axes" else "fiche", values["operation"],
                                              values, given, item))
    return operations, problems


def _check_deliberation(pacte: Pacte, known: list[Version], numero: str, date: dt.date, today: dt.date) -> None:
    """A revision comes after the adoption and the revisions before it, by a délibération not yet recorded."""
    last = known[-1]
    adopted = known[0].date
    if adopted is not None and date <= adopted:
        raise PacteError(f"La révision du {date_courte(date)} précède ou égale l'adoption du PDI/PTI {pacte.reference} "
                         f"le {date_courte(adopted)} : vérifiez --date.")
    if last.rang > 0 and last.date is not None and date <= last.date:
        raise PacteError(f"Le PDI/PTI {pacte.reference} a déjà été révisé le {date_courte(last.date)} (délibération "
                         f"n° {last.numero}) : une nouvelle révision est datée après elle. Vérifiez --date.")
    if date > today:
        raise PacteError(f"La délibération du {date_courte(date)} est datée après aujourd'hui : une révision "
                         "s'enregistre une fois adoptée. Vérifiez --date.")
    taken = {v.numero.strip().casefold(): v for v in known if v.numero}
    if numero.strip().casefold() in taken:
        v = taken[numero.strip().casefold()]
        raise PacteError(f"La délibération n° {numero} est déjà enregistrée pour ce PDI/PTI "
                         f"({'son adoption' if v.rang == 0 else 'sa révision'} du "
                         f"{date_courte(v.date) if v.date else '?'}) : vérifiez --deliberation.")


def _replace_axes(session: Session, pacte: Pacte, content: list[dict[str, Any]]) -> None:
    """The registry's axes and fiches become the latest version's: what figures, suivi and pages read."""
    pacte.axes.clear()
    session.flush()
    objects = revisions.as_objects(content)
    pacte.axes = [Axe(**{name: getattr(a, name) for name in queries.AXE_FIELDS},
                      fiches=[FicheAction(rang=i, **{name: getattr(f, name) for name in queries.FICHE_FIELDS})
                              for i, f in enumerate(a.fiches)])
                  for a in objects]


# ---------------------------------------------------------------- the document

def _targets(ws: Workspace, ref: str, version: Version, latest: bool) -> tuple[str, Path, Path]:
    """The document's key and files: the latest version is archives/pdi-pti/REF/REF.docx|pdf; an earlier one
    REF-AAAA-MM-JJ (the date of the délibération that adopted that version) beside it."""
    folder = ws.archives / "pdi-pti" / ref
    if latest:
        return ref, folder / f"{ref}.docx", folder / f"{ref}.pdf"
    stem = f"{ref}-{version.date.isoformat() if version.date else 'adopte'}"
    return stem, folder / f"{stem}.docx", folder / f"{stem}.pdf"


@holding("documents")
def generate_pacte(ws: Workspace, reference: str | None, *, with_pdf: bool = True, pdfa: bool = True,
                   au: dt.date | None = None) -> PacteReport:
    """Render the PDI/PTI as it stands on *au* (today when None), lay it out until its table of contents is right,
    then archive and record it."""
    cache = TemplateCache(ws)
    with ws.db.session() as session:
        pacte = queries.pacte(session, reference)
        partners = {p.code: p for p in queries.partenaires(session)}
        ref = pacte.reference
        version, revised, latest = version_in_force(pacte, au)
        template = cache.get(TEMPLATE)
        base = context.pacte_context(pacte, partners, version=version, revisions=revised)
        missing = {(template.name, path): [ref] for path in template.missing(base)}
        if missing:
            raise missing_variables(missing)
        fingerprint = context.fingerprint(base)
        template_sha = template.sha256
        folder = ws.archives / "pdi-pti" / ref
        cle, docx_target, pdf_target = _targets(ws, ref, version, latest)
        report = PacteReport(ref, ws.relative(docx_target), ws.relative(pdf_target) if with_pdf else None, "cree")
        report.version = version.rang
        report.libelle = version_label(version)
        documents = DocumentStore(session, ws)
        current_docx = documents.current(cle, NATURE, "docx")
        docx_ok = documents.is_up_to_date(current_docx, empreinte=fingerprint, modele_sha256=template_sha)
        if docx_ok and (not with_pdf or documents.is_up_to_date(
                documents.current(cle, NATURE, "pdf"), source_sha256=current_docx.sha256 if current_docx else None,
                pdfa=pdfa)):
            report.status = "inchange"
            return report

        if with_pdf:
            docx_data, pdf_data = _lay_out(ws, pacte, partners, template, report, pdfa, version, revised)
        else:
            docx_data, pdf_data = template.render(base), None
            report.notes.append("Sans PDF, le sommaire du DOCX n'a pas de numéros de page : ils sont calculés "
                                "lors de la mise en page par LibreOffice (relancez sans --sans-pdf).")
        if current_docx is not None:
            report.status = "regenere"
        # A DOCX identical to the current one (a PDF/A asked for the same data, say) is kept as it is.
        # Otherwise the previous DOCX and its PDF, which no longer matches, are archived.
        if documents.is_up_to_date(current_docx, sha256=sha256_bytes(docx_data)):
            assert current_docx is not None
            docx_record = current_docx
        else:
            documents.retire(cle, NATURE, "pdf", folder)
            docx_record = documents.put(docx_target, docx_data, cle=cle, nature=NATURE, folder=folder,
                                        modele_sha256=template_sha, empreinte=fingerprint)
        if pdf_data is not None:
            documents.put(pdf_target, pdf_data, cle=cle, nature=NATURE, folder=folder, modele_sha256=template_sha,
                          source_sha256=docx_record.sha256, empreinte=fingerprint, pdfa=pdfa)
        documents.write_sums()
        report.notes.extend(documents.notes)
    return report


def _lay_out(ws: Workspace, pacte: Any, partners: dict[str, Any], template: Any, report: PacteReport,
             pdfa: bool, version: Version, revised: list[Version]) -> tuple[bytes, bytes]:
    """Render, convert, read the headings' pages from the PDF's bookmarks, render again with them, until stable."""
    with ws.scratch("pdi-pti-") as work:
        pages: dict[str, int] = {}
        for attempt in range(1, MAX_LAYOUTS + 1):
            ctx = context.pacte_context(pacte, partners, pages, version=version, revisions=revised)
            docx_data = template.render(ctx)
            source = work / f"{pacte.reference}.docx"
            source.write_bytes(docx_data)
            converted = pdf.convert([source], work / f"passe-{attempt}", pdfa=pdfa, processes=1,
                                    timeout=ws.config.pdf_timeout)[source]
            pdf_data = converted.read_bytes()
            report.mises_en_page = attempt
            found, missing = heading_pages(ctx["sommaire"], read_bookmarks(pdf_data))
            if found == pages and attempt > 1:
                break
            if not found and not pages:
                raise TemplateError(
                    f"Le PDF du PDI/PTI {pacte.reference} n'a aucun signet : le modèle pdi_pti.docx doit titrer "
                    "les chapitres, les axes et les fiches avec les styles « Titre 1 » et « Titre 2 ».")
            pages = found
        else:
            report.notes.append(f"La pagination ne s'est pas stabilisée après {MAX_LAYOUTS} mises en page : "
                                "vérifiez les numéros du sommaire.")
        if missing:
            report.notes.append("Titres du sommaire introuvables dans le document (modèle modifié ?) : "
                                + " ; ".join(missing[:5]) + ("…" if len(missing) > 5 else "") + ".")
        report.pages = len(PdfReader(io.BytesIO(pdf_data)).pages)
        return docx_data, pdf_data
