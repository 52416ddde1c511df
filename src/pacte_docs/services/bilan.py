"""`pacte bilan compiler ANNEE`: the annual bilan rendered from modeles/bilan_annuel.docx, converted, then
compiled with pypdf into one PDF for the Assemblée — the bilan, the conventions signed or renewed in the year,
the fiches-actions of the PDI/PTI — with a bookmark tree built from the data, every page stamped « k / n »
and the document's metadata."""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docx import Document as new_docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject
from sqlalchemy import select
from sqlalchemy.orm import Session

from pacte_docs import files
from pacte_docs.documents import charts, context, pdf, store
from pacte_docs.documents.rendering import Image
from pacte_docs.errors import TemplateError, UnknownReferenceError
from pacte_docs.files import sha256_bytes, sha256_file
from pacte_docs.intake.exporter import keep_text
from pacte_docs.registry import queries
from pacte_docs.registry.models import Convention, Document, Pacte, Realisation
from pacte_docs.rules import aggregation
from pacte_docs.rules.aggregation import FIGURES
from pacte_docs.services import generation, pdi_pti
from pacte_docs.services.generation import TemplateCache, missing_variables
from pacte_docs.services.pdi_pti import Bookmark, read_bookmarks
from pacte_docs.workspace import Workspace, holding

NATURE = "bilan"
TEMPLATE = "bilan_annuel"


@dataclass
class BilanReport:
    annee: int
    chemin: str
    status: str  # "cree" | "regenere" | "inchange"
    pages: int = 0
    annexes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- gathering the data

def pacte_for_year(session: Session, annee: int, departement: str | None) -> Pacte:
    """The PDI/PTI whose period covers *annee* (for the département given when there are several)."""
    found = [p for p in queries.pactes(session) if p.periode_debut <= annee <= p.periode_fin
             and (departement is None or p.departement.code == departement)]
    if not found:
        raise UnknownReferenceError(
            f"Aucun PDI/PTI du registre ne couvre l'année {annee}"
            + (f" pour le département {departement}" if departement else "")
            + " : le bilan se fait au regard d'un PDI/PTI. Importez-le (section « pacte ») ou vérifiez l'année.")
    if len(found) > 1:
        raise UnknownReferenceError(
            f"Plusieurs PDI/PTI couvrent l'année {annee} (" + ", ".join(f"{p.reference}, département "
                                                                         f"{p.departement.code}" for p in found)
            + ") : indiquez le département avec --departement.")
    return found[0]


def figures(rows: list[Realisation]) -> dict[str, aggregation.Chiffres]:
    return {r.cible: aggregation.Chiffres(**{name: getattr(r, name) for name in FIGURES}) for r in rows}


def axis_definitions(pacte: Pacte) -> list[aggregation.AxeDef]:
    return [aggregation.AxeDef(a.numero, a.intitule, a.nature, tuple((f.numero, f.intitule) for f in a.fiches))
            for a in pacte.axes]


def compute(session: Session, pacte: Pacte, annee: int) -> tuple[aggregation.Bilan, aggregation.ConventionsAnnee,
                                                                 list[Convention]]:
    departement = pacte.departement
    current = figures(queries.realisations(session, departement, (annee,)))
    previous = figures(queries.realisations(session, departement, (annee - 1,)))
    bilan = aggregation.aggregate(annee, axis_definitions(pacte), current, previous or None)
    conventions = [c for c in queries.conventions(session) if c.departement_id == departement.id]
    events = aggregation.conventions_in_year([(c.reference, queries.faits(c)) for c in conventions], annee)
    return bilan, events, conventions


def make_charts(bilan: aggregation.Bilan) -> dict[str, Image | None]:
    evolution = charts.evolution(bilan)
    return {
        "repartition": Image(charts.repartition(bilan), 110),
        "evolution": Image(evolution, 160) if evolution else None,
        "credits": Image(charts.credits_par_axe(bilan), 160),
        "entrees_sorties": Image(charts.entrees_sorties(bilan), 160),
    }


def bilan_context(session: Session, pacte: Pacte, annee: int) -> tuple[dict[str, Any], list[Convention]]:
    bilan, events, conventions = compute(session, pacte, annee)
    rows = {c.reference: context.convention_row(c, annee) for c in conventions}
    ctx = context.bilan_context(annee, pacte.departement, pacte, bilan, events, rows, make_charts(bilan))
    annexed = {row["reference"] for row in ctx["annexes"]}
    return ctx, [c for c in conventions if c.reference in annexed]


# ---------------------------------------------------------------- compiling

@holding("documents")
def compile_bilan(ws: Workspace, annee: int, *, sortie: Path | None = None, pdfa: bool = False,
                  departement: str | None = None) -> BilanReport:
    """Render, convert and compile the bilan of *annee*; record it when it is written in the workspace."""
    cache = TemplateCache(ws)
    target = sortie or ws.archives / "bilans" / str(annee) / f"bilan-{annee}.pdf"
    report = BilanReport(annee, ws.relative(target) if _inside(ws, target) else str(target), "cree")
    with ws.db.session() as session:
        pacte = pacte_for_year(session, annee, departement)
        reference = pacte.reference
        template = cache.get(TEMPLATE)
        ctx, annexed = bilan_context(session, pacte, annee)
        missing = {(template.name, path): [f"bilan {annee}"] for path in template.missing(ctx)}
        if missing:
            raise missing_variables(missing)
        docx_data = template.render(ctx)
        report.annexes = [c.reference for c in annexed]
        signed_in_year = {row["reference"] for row in ctx["annexes"] if row["motif"] == "signée"}
        meta = {"departement": pacte.departement.nom, "titre": pacte.titre, "periode": (pacte.periode_debut,
                                                                                          pacte.periode_fin)}
    titles = {row["reference"]: f"{row['reference']} – {row['partenaires']}" for row in ctx["annexes"]}
    annex_pdfs = [(titles[reference], path) for reference, path in _annex_pdfs(ws, report, signed_in_year)]
    _release_memory()  # what checking the annexes used goes back to the system before the assembly
    pacte_pdf, pacte_bookmarks = _pacte_pdf(ws, reference, report)
    fingerprint = context.fingerprint({"context": ctx, "template": sha256_bytes(template.data), "pdfa": pdfa,
                                       "annexes": [(r, sha256_bytes(p.read_bytes())) for r, p in annex_pdfs],
                                       "pacte": sha256_bytes(pacte_pdf.read_bytes())})
    cle = f"bilan-{annee}"
    if _inside(ws, target):
        with ws.db.session() as session:
            current = store.current(session, cle, NATURE, "pdf")
            if current is not None and current.empreinte == fingerprint and store.is_intact(ws, current) \
                    and ws.root / current.chemin == target:
                report.status = "inchange"
                report.pages = len(PdfReader(target).pages)
                return report

    with ws.scratch("bilan-") as work:
        source = work / f"bilan-{annee}.docx"
        source.write_bytes(docx_data)
        bilan_pdf = pdf.convert([source], work / "pdf", pdfa=pdfa, processes=1,
                                timeout=ws.config.pdf_timeout)[source]
        compiled = work / "compile.pdf"
        report.pages = assemble(bilan_pdf, annex_pdfs, pacte_pdf, pacte_bookmarks, work, annee, pdfa,
                                ws.config.pdf_timeout, meta, compiled)
        _write(ws, target, cle, docx_data, compiled, fingerprint, template.data, pdfa, report)
    return report


def _release_memory() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc keeps freed memory otherwise
    except (OSError, AttributeError):
        pass


def _inside(ws: Workspace, path: Path) -> bool:
    try:
        path.resolve().relative_to(ws.root.resolve())
    except ValueError:
        return False
    return True


def _annex_pdfs(ws: Workspace, report: BilanReport, signed_in_year: set[str]) -> list[tuple[str, Path]]:
    """The PDF of each annexed convention: for one signed in the year, its signed copy when one was archived;
    otherwise the generated PDF, which mentions its renewals (generated now if it is missing or out of date)."""
    if not report.annexes:
        return []
    made = generation.generate(ws, report.annexes, with_pdf=True)
    refreshed = [o.reference for o in made.outputs if o.docx_status != "inchange" or o.pdf_status not in (None,
                                                                                                         "inchange")]
    if refreshed:
        report.notes.append("Conventions produites ou mises à jour pour l'annexe 1 : " + ", ".join(refreshed) + ".")
    result = []
    with ws.db.session() as session:
        signed: dict[str, Document] = {}  # the last signed copy of each, in one query
        for copy in session.scalars(select(Document).where(Document.cle.in_(sorted(signed_in_year)),
                                                           Document.nature == "signe").order_by(Document.version)):
            signed[copy.cle] = copy
        generated = store.current_many(session, report.annexes, "convention")
        for reference in report.annexes:
            found = signed.get(reference)
            record = found if found is not None and store.is_intact(ws, found) else \
                generated.get((reference, "pdf"))
            if record is None:
                raise TemplateError(f"Le PDF de la convention {reference} est introuvable : « pacte conventions "
                                    f"generer {reference} » le produit.")
            result.append((reference, ws.root / record.chemin))
    return result


def _pacte_pdf(ws: Workspace, reference: str, report: BilanReport) -> tuple[Path, list[Bookmark]]:
    """The PDI/PTI PDF, made or brought up to date first, with its bookmarks."""
    made = pdi_pti.generate_pacte(ws, reference)
    if made.status != "inchange":
        report.notes.append(f"Le PDI/PTI {reference} a été mis à jour pour l'annexe 2 : {made.pdf}.")
    path = ws.root / str(made.pdf)
    return path, read_bookmarks(path)


def assemble(bilan_pdf: Path, annexes: list[tuple[str, Path]], pacte_pdf: Path, pacte_bookmarks: list[Bookmark],
             work: Path, annee: int, pdfa: bool, timeout: float, meta: dict[str, Any], output: Path) -> int:
    """Write the compiled PDF to *output* and return its page count: bilan up to annex 1's page, the
    conventions, annex 2's page, the fiches-actions; bookmarks sections → axes → annexes; « k / n » on every
    page; metadata. Written straight to a file, never held twice in memory."""
    bilan = PdfReader(bilan_pdf)
    own = read_bookmarks(bilan_pdf)
    annex1 = next((b for b in own if b.title.startswith("Annexe 1")), None)
    annex2 = next((b for b in own if b.title.startswith("Annexe 2")), None)
    if annex1 is None or annex2 is None:
        raise TemplateError("Le modèle bilan_annuel.docx doit garder ses titres « Annexe 1 – … » et « Annexe 2 – … » "
                            "(style Titre 1) : le bilan compilé insère les annexes après eux.")
    writer = PdfWriter()
    for page in bilan.pages[:annex2.page - 1]:  # the bilan, up to and including annex 1's page
        writer.add_page(page)
    starts: list[tuple[str, int]] = []
    for reference, path in annexes:
        starts.append((reference, len(writer.pages) + 1))
        for page in PdfReader(path).pages:
            writer.add_page(page)
    annex2_page = len(writer.pages) + 1
    for page in bilan.pages[annex2.page - 1:]:
        writer.add_page(page)
    fiches_first = _fiches_range(pacte_bookmarks)
    pacte = PdfReader(pacte_pdf)
    offset = len(writer.pages) + 1 - fiches_first[0]
    for page in pacte.pages[fiches_first[0] - 1:fiches_first[1]]:
        writer.add_page(page)

    # Bookmarks from the data: the bilan's sections and axes, then each annex and what it holds.
    for section in own:
        if section.title.startswith("Annexe"):
            continue
        parent = writer.add_outline_item(title=section.title, page_number=section.page - 1)
        for child in section.children:
            writer.add_outline_item(title=child.title, page_number=child.page - 1, parent=parent)
    first = writer.add_outline_item(title=annex1.title, page_number=annex1.page - 1)
    for reference, start in starts:
        writer.add_outline_item(title=reference, page_number=start - 1, parent=first)
    second = writer.add_outline_item(title=annex2.title, page_number=annex2_page - 1)
    for axe in pacte_bookmarks:
        if axe.title.startswith("Axe "):
            parent = writer.add_outline_item(title=axe.title, page_number=axe.page + offset - 1, parent=second)
            for fiche in axe.children:
                writer.add_outline_item(title=fiche.title, page_number=fiche.page + offset - 1, parent=parent)
    writer.page_mode = "/UseOutlines"

    _stamp(writer, work, pdfa, timeout)
    debut, fin = meta["periode"]
    writer.add_metadata({
        "/Title": f"Bilan {annee} de la politique départementale d'insertion",
        "/Author": meta["departement"],
        "/Subject": f"Bilan annuel du PDI/PTI {debut}-{fin} « {meta['titre']} », présenté à l'Assemblée "
                    "départementale",
        "/Keywords": f"bilan, insertion, RSA, PDI, PTI, {annee}",
        "/Creator": "pacte_docs",
        "/CreationDate": dt.datetime.now(dt.UTC).strftime("D:%Y%m%d%H%M%SZ"),
    })
    with output.open("wb") as stream:
        writer.write(stream)
        stream.flush()
        os.fsync(stream.fileno())
    return len(writer.pages)


def _fiches_range(bookmarks: list[Bookmark]) -> tuple[int, int]:
    """First and last page of the PDI/PTI's axes chapters (1-based, inclusive)."""
    axes = [b for b in bookmarks if b.title.startswith("Axe ")]
    if not axes:
        raise TemplateError("Le PDF du PDI/PTI n'a pas de signet « Axe … » : impossible d'en extraire les "
                            "fiches-actions pour l'annexe 2.")
    after = next((b.page for b in bookmarks if b.page > axes[-1].page and not b.title.startswith("Axe ")), None)
    last_axis = max([axes[-1].page] + [c.page for c in axes[-1].children])
    end = after - 1 if after is not None else last_axis
    return axes[0].page, max(end, last_axis)


def stamp_document(pages: int) -> bytes:
    """A DOCX of *pages* empty A4 pages whose footer reads « k / n » at the bottom right."""
    document = new_docx()
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(1.2)
    section.top_margin, section.bottom_margin = Cm(1.0), Cm(1.0)
    section.footer_distance = Cm(0.45)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    def run(text: str = "") -> Any:
        r = footer.add_run(text)
        r.font.size = Pt(8)
        r.font.name = "Liberation Sans"
        r.font.bold = True
        r.font.color.rgb = RGBColor(0x1F, 0x3A, 0x5F)
        return r

    def field_char(kind: str) -> None:
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        run()._r.append(element)

    field_char("begin")
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = " PAGE "
    run()._r.append(instruction)
    field_char("separate")
    run("1")
    field_char("end")
    run(f"\u00a0/\u00a0{pages}")
    for number in range(pages):  # one paragraph per page, each opening a new page but the first
        paragraph = document.add_paragraph("\u00a0")
        paragraph.paragraph_format.page_break_before = number > 0
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _stamp(writer: PdfWriter, work: Path, pdfa: bool, timeout: float) -> None:
    """« k / n » on every page, n being the compiled PDF's page count (an overlay laid out by LibreOffice)."""
    count = len(writer.pages)
    source = work / "numeros.docx"
    source.write_bytes(stamp_document(count))
    overlay = PdfReader(pdf.convert([source], work / "numeros", pdfa=pdfa, processes=1, timeout=timeout)[source])
    if len(overlay.pages) != count:
        raise TemplateError(f"La numérotation des pages a échoué ({len(overlay.pages)} numéros pour {count} pages).")
    stamper = _Stamper(writer)
    for page, stamp in zip(writer.pages, overlay.pages, strict=True):
        stamper.apply(page, stamp)


_NAME = re.compile(rb"/([A-Za-z0-9_.+-]+)")


class _Stamper:
    """Lays an overlay page over a page without decoding the page's own content (pypdf's merge_page parses it:
    about 25 ms a page): the page's streams are wrapped in q … Q, the overlay's stream, its resource names
    prefixed, is appended, and its resources (the embedded font) are added to the page's."""

    def __init__(self, writer: PdfWriter) -> None:
        self.writer = writer
        self.save = writer._add_object(_stream(b"q\n"))
        self.restore = writer._add_object(_stream(b"\nQ\n"))
        self.cloned: dict[int, Any] = {}

    def apply(self, page: Any, stamp: Any) -> None:
        resources = stamp.get("/Resources")
        resources = resources.get_object() if resources is not None else DictionaryObject()
        renamed: dict[bytes, bytes] = {}
        page_resources = page.get("/Resources")
        if page_resources is None:
            page_resources = DictionaryObject()
            page[NameObject("/Resources")] = page_resources
        page_resources = page_resources.get_object()
        for category, entries in resources.items():
            if category == "/ProcSet":
                continue
            target = page_resources.get(category)
            if target is None:
                target = DictionaryObject()
                page_resources[NameObject(category)] = target
            target = target.get_object()
            for name, value in entries.get_object().items():
                new_name = "/PacteK" + name[1:]
                renamed[name[1:].encode()] = new_name[1:].encode()
                target[NameObject(new_name)] = self._clone(value)
        content = stamp.get_contents()
        data = content.get_data() if content is not None else b""
        data = _NAME.sub(lambda m: b"/" + renamed.get(m.group(1), m.group(1)), data)
        own = page.get("/Contents")
        parts: list[Any] = []
        if own is not None:
            own = own.get_object()
            parts = list(own) if isinstance(own, ArrayObject) else [page.raw_get("/Contents")]
        addition = self.writer._add_object(_stream(b"q\n" + data + b"\nQ\n"))
        page[NameObject("/Contents")] = ArrayObject([self.save, *parts, self.restore, addition])

    def _clone(self, value: Any) -> Any:
        key = id(value.get_object())
        if key not in self.cloned:
            self.cloned[key] = value.clone(self.writer)
            if hasattr(self.cloned[key], "indirect_reference") and self.cloned[key].indirect_reference is not None:
                self.cloned[key] = self.cloned[key].indirect_reference
        return self.cloned[key]


def _stream(data: bytes) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


def _write(ws: Workspace, target: Path, cle: str, docx_data: bytes, compiled: Path, fingerprint: str,
           template_data: bytes, pdfa: bool, report: BilanReport) -> None:
    if not _inside(ws, target):
        files.write_atomic(target, compiled.read_bytes())
        report.notes.append(f"Écrit hors de l'espace de travail : non enregistré au registre "
                            f"(SHA-256 {sha256_file(target)}).")
        return
    folder = target.parent
    with ws.db.session() as session:
        for fmt in ("pdf", "docx"):
            old = store.current(session, cle, NATURE, fmt)
            if old is not None:
                report.status = "regenere"
                note = store.archive_record(session, ws, old, folder)
                if note:
                    report.notes.append(note)
        session.flush()
        docx_target = target.with_suffix(".docx")
        files.write_atomic(docx_target, docx_data)
        docx_record = store.record_file(
            session, ws, docx_target, cle=cle, nature=NATURE, version=store.next_version(session, cle, NATURE,
                                                                                              "docx"),
            data=docx_data, modele_sha256=sha256_bytes(template_data), empreinte=fingerprint)
        os.chmod(compiled, 0o644)
        files.move_into(compiled, target)
        store.record_file(session, ws, target, cle=cle, nature=NATURE,
                             version=store.next_version(session, cle, NATURE, "pdf"),
                             modele_sha256=sha256_bytes(template_data), source_sha256=docx_record.sha256,
                             empreinte=fingerprint, pdfa=pdfa)
        store.write_sums(session, ws)


# ---------------------------------------------------------------- the year's table of figures

@holding("documents")
def export_figures(ws: Workspace, annee: int, sortie: Path | None = None, departement: str | None = None) -> Path:
    """The year's figures per axis, fiche-action and convention, with totals, as an XLSX workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    target = sortie or ws.archives / "bilans" / str(annee) / f"bilan-{annee}.xlsx"
    with ws.db.session() as session:
        pacte = pacte_for_year(session, annee, departement)
        bilan, events, _ = compute(session, pacte, annee)
    book = Workbook()
    sheet = book.active
    sheet.title = f"Réalisations {annee}"
    headers = ["Niveau", "Numéro", "Intitulé", "Nature", "Actions financées", "Crédits engagés",
               "Crédits consommés", "Personnes accompagnées", "Entrées", "dont BRSA", "Sorties emploi",
               "Sorties formation", "Créations d'entreprise", "Sorties positives", "Taux de sorties positives",
               "Part BRSA"]
    sheet.append(headers)

    def line(level: str, number: str, title: str, nature: str, f: aggregation.Chiffres | None) -> list[Any]:
        values: list[Any] = [getattr(f, name) if f else None for name in FIGURES]
        rates = [f.sorties_positives, f.taux_sorties_positives, f.part_brsa] if f else [None] * 3
        return [level, number, title, nature, *values, *rates]

    for axe in bilan.axes:
        sheet.append(line("Axe", str(axe.numero), axe.intitule, axe.nature, axe.chiffres))
        for fiche in axe.fiches:
            sheet.append(line("Fiche-action", fiche.numero, fiche.intitule, axe.nature, fiche.chiffres))
    sheet.append(line("Total", "", "Total des axes", "", bilan.total))
    for reference, f in bilan.conventions:
        sheet.append(line("Convention", reference, "", "", f))
    keep_text(sheet)
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3A5F")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            header = headers[cell.column - 1]
            if header.startswith("Crédits") and cell.value is not None:
                cell.number_format = '#,##0.00 "€"'
            elif header.startswith(("Taux", "Part")) and cell.value is not None:
                cell.number_format = "0.0 %"
            if row[0].value in ("Axe", "Total"):
                cell.font = Font(bold=True)
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(12, min(48, len(header)))
    sheet.column_dimensions["C"].width = 60
    sheet.freeze_panes = "A2"
    summary = book.create_sheet("Conventions")
    summary.append(["Situation", "Nombre", "Conventions"])
    for label, refs in (("En vigueur", events.en_vigueur), ("Signées", events.signees),
                        ("Renouvelées", events.renouvelees), ("Terminées", events.terminees)):
        summary.append([label, len(refs), ", ".join(refs)])
    out = io.BytesIO()
    book.save(out)
    files.write_atomic(target, out.getvalue())
    return target

