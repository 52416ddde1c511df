"""`pacte pdi-pti generer`: the unified PDI/PTI document, DOCX and PDF, with a table of contents whose page
numbers are real (the document is laid out by LibreOffice, the headings' pages are read back from the PDF's
bookmarks, and the document is rendered again with them) and bookmarks chapters → axes → fiches."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from pacte_docs import files
from pacte_docs.documents import context, pdf, store
from pacte_docs.errors import TemplateError
from pacte_docs.files import sha256_bytes
from pacte_docs.registry import queries
from pacte_docs.services.generation import TemplateCache, missing_variables
from pacte_docs.workspace import Workspace, holding

NATURE = "pdi_pti"
TEMPLATE = "pdi_pti"
MAX_LAYOUTS = 4  # renders until the table of contents' page numbers no longer move the headings


@dataclass
class Bookmark:
    title: str
    page: int  # 1-based
    children: list[Bookmark] = field(default_factory=list)


@dataclass
class PacteReport:
    reference: str
    docx: str
    pdf: str | None
    status: str  # "cree" | "regenere" | "inchange"
    pages: int | None = None
    mises_en_page: int = 0  # how many times LibreOffice laid the document out
    notes: list[str] = field(default_factory=list)


def _normal(title: str) -> str:
    return re.sub(r"\s+", " ", title).strip()


def read_bookmarks(data: bytes | Path) -> list[Bookmark]:
    """The outline of a PDF as a tree of (title, 1-based page)."""
    reader = PdfReader(data if isinstance(data, Path) else io.BytesIO(data))

    def walk(items: list[Any]) -> list[Bookmark]:
        result: list[Bookmark] = []
        for item in items:
            if isinstance(item, list):
                if result:
                    result[-1].children.extend(walk(item))
                continue
            page = reader.get_destination_page_number(item)
            result.append(Bookmark(_normal(str(item.title)), (page or 0) + 1))
        return result

    return walk(reader.outline)


def flatten(bookmarks: list[Bookmark]) -> list[Bookmark]:
    flat: list[Bookmark] = []
    for b in bookmarks:
        flat.append(b)
        flat.extend(flatten(b.children))
    return flat


def heading_pages(sommaire: list[dict[str, Any]], bookmarks: list[Bookmark]) -> tuple[dict[str, int], list[str]]:
    """The page of each table-of-contents entry, found in order among the PDF's bookmarks; titles not found."""
    flat = flatten(bookmarks)
    pages: dict[str, int] = {}
    missing: list[str] = []
    position = 0
    for entry in sommaire:
        title = _normal(entry["titre"])
        for index in range(position, len(flat)):
            if flat[index].title == title:
                pages[entry["titre"]] = flat[index].page
                position = index + 1
                break
        else:
            missing.append(entry["titre"])
    return pages, missing


@holding("documents")
def generate_pacte(ws: Workspace, reference: str | None, *, with_pdf: bool = True, pdfa: bool = False) -> PacteReport:
    """Render the PDI/PTI, lay it out until its table of contents is right, then archive and record it."""
    cache = TemplateCache(ws)
    with ws.db.session() as session:
        pacte = queries.pacte(session, reference)
        partners = {p.code: p for p in queries.partenaires(session)}
        ref = pacte.reference
        template = cache.get(TEMPLATE)
        base = context.pacte_context(pacte, partners)
        missing = {(template.name, path): [ref] for path in template.missing(base)}
        if missing:
            raise missing_variables(missing)
        fingerprint = context.fingerprint(base)
        template_sha = sha256_bytes(template.data)
        folder = ws.archives / "pdi-pti" / ref
        docx_target, pdf_target = folder / f"{ref}.docx", folder / f"{ref}.pdf"
        report = PacteReport(ref, ws.relative(docx_target), ws.relative(pdf_target) if with_pdf else None, "cree")
        current_docx = store.current(session, ref, NATURE, "docx")
        current_pdf = store.current(session, ref, NATURE, "pdf")
        if _up_to_date(ws, current_docx, current_pdf, fingerprint, template_sha, with_pdf, pdfa):
            report.status = "inchange"
            return report

        if with_pdf:
            docx_data, pdf_data = _lay_out(ws, pacte, partners, template, report, pdfa)
        else:
            docx_data, pdf_data = template.render(base), None
            report.notes.append("Sans PDF, le sommaire du DOCX n'a pas de numéros de page : ils sont calculés "
                                "lors de la mise en page par LibreOffice (relancez sans --sans-pdf).")

        # A DOCX identical to the current one (a PDF/A asked for the same data, say) is kept as it is.
        # Otherwise the previous DOCX and its PDF, which no longer matches, are archived.
        kept = current_docx if current_docx is not None and current_docx.sha256 == sha256_bytes(docx_data) \
            and store.is_intact(ws, current_docx) else None
        superseded = [] if kept is not None else [current_docx]
        if kept is None or with_pdf:
            superseded.append(current_pdf)
        if current_docx is not None:
            report.status = "regenere"
        for old in filter(None, superseded):
            note = store.archive_record(session, ws, old, folder)
            if note:
                report.notes.append(note)
        session.flush()
        if kept is not None:
            docx_record = kept
        else:
            files.write_atomic(docx_target, docx_data)
            docx_record = store.record_file(
                session, ws, docx_target, cle=ref, nature=NATURE,
                version=store.next_version(session, ref, NATURE, "docx"), data=docx_data,
                modele_sha256=template_sha, empreinte=fingerprint)
        if pdf_data is not None:
            files.write_atomic(pdf_target, pdf_data)
            store.record_file(
                session, ws, pdf_target, cle=ref, nature=NATURE,
                version=store.next_version(session, ref, NATURE, "pdf"), data=pdf_data,
                modele_sha256=template_sha, source_sha256=docx_record.sha256, empreinte=fingerprint, pdfa=pdfa)
        store.write_sums(session, ws)
    return report


def _up_to_date(ws: Workspace, docx: Any, pdf_record: Any, fingerprint: str, template_sha: str, with_pdf: bool,
                pdfa: bool) -> bool:
    if docx is None or docx.empreinte != fingerprint or docx.modele_sha256 != template_sha \
            or not store.is_intact(ws, docx):
        return False
    if not with_pdf:
        return True
    return pdf_record is not None and pdf_record.source_sha256 == docx.sha256 and pdf_record.pdfa == pdfa \
        and store.is_intact(ws, pdf_record)


def _lay_out(ws: Workspace, pacte: Any, partners: dict[str, Any], template: Any, report: PacteReport,
             pdfa: bool) -> tuple[bytes, bytes]:
    """Render, convert, read the headings' pages from the PDF's bookmarks, render again with them, until stable."""
    with ws.scratch("pdi-pti-") as work:
        pages: dict[str, int] = {}
        for attempt in range(1, MAX_LAYOUTS + 1):
            ctx = context.pacte_context(pacte, partners, pages)
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
