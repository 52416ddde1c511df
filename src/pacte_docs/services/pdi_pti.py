"""`pacte pdi-pti generer`: the unified PDI/PTI document, DOCX and PDF, with a table of contents whose page
numbers are real (the document is laid out by LibreOffice, the headings' pages are read back from the PDF's
bookmarks, and the document is rendered again with them) and bookmarks chapters → axes → fiches."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader

from pacte_docs.documents import context, pdf
from pacte_docs.documents.outline import heading_pages, read_bookmarks
from pacte_docs.documents.rendering import TemplateCache, missing_variables
from pacte_docs.documents.store import DocumentStore
from pacte_docs.errors import TemplateError
from pacte_docs.files import sha256_bytes
from pacte_docs.registry import queries
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
    notes: list[str] = field(default_factory=list)


@holding("documents")
def generate_pacte(ws: Workspace, reference: str | None, *, with_pdf: bool = True, pdfa: bool = True) -> PacteReport:
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
        template_sha = template.sha256
        folder = ws.archives / "pdi-pti" / ref
        docx_target, pdf_target = folder / f"{ref}.docx", folder / f"{ref}.pdf"
        report = PacteReport(ref, ws.relative(docx_target), ws.relative(pdf_target) if with_pdf else None, "cree")
        documents = DocumentStore(session, ws)
        current_docx = documents.current(ref, NATURE, "docx")
        docx_ok = documents.is_up_to_date(current_docx, empreinte=fingerprint, modele_sha256=template_sha)
        if docx_ok and (not with_pdf or documents.is_up_to_date(
                documents.current(ref, NATURE, "pdf"), source_sha256=current_docx.sha256 if current_docx else None,
                pdfa=pdfa)):
            report.status = "inchange"
            return report

        if with_pdf:
            docx_data, pdf_data = _lay_out(ws, pacte, partners, template, report, pdfa)
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
            documents.retire(ref, NATURE, "pdf", folder)
            docx_record = documents.put(docx_target, docx_data, cle=ref, nature=NATURE, folder=folder,
                                        modele_sha256=template_sha, empreinte=fingerprint)
        if pdf_data is not None:
            documents.put(pdf_target, pdf_data, cle=ref, nature=NATURE, folder=folder, modele_sha256=template_sha,
                          source_sha256=docx_record.sha256, empreinte=fingerprint, pdfa=pdfa)
        documents.write_sums()
        report.notes.extend(documents.notes)
    return report


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
