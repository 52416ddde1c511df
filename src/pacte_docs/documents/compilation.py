"""The bilan's compiled PDF, written with pypdf: the bilan's pages, the annexed conventions after « Annexe 1 »,
the PDI/PTI's fiches-actions after « Annexe 2 », a bookmark tree built from the data, « k / n » stamped on every
page without decoding its content, and the document's metadata."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from html import escape
from pathlib import Path
from typing import Any

from docx import Document as new_docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    TextStringObject,
)

from pacte_docs.documents import pdf
from pacte_docs.documents.outline import Bookmark, read_bookmarks
from pacte_docs.documents.structure import Structure
from pacte_docs.errors import TemplateError


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
    structure = Structure(writer)
    bilan_kept = [(page, writer.add_page(page)) for page in bilan.pages[:annex2.page - 1]]  # up to annex 1's page
    starts: list[tuple[str, int]] = []
    for reference, path in annexes:
        starts.append((reference, len(writer.pages) + 1))
        annex = PdfReader(path)
        structure.add(annex, [(page, writer.add_page(page)) for page in annex.pages])
    annex2_page = len(writer.pages) + 1
    bilan_kept += [(page, writer.add_page(page)) for page in bilan.pages[annex2.page - 1:]]
    structure.add(bilan, bilan_kept)
    fiches_first = _fiches_range(pacte_bookmarks)
    pacte = PdfReader(pacte_pdf)
    offset = len(writer.pages) + 1 - fiches_first[0]
    structure.add(pacte, [(page, writer.add_page(page)) for page in pacte.pages[fiches_first[0] - 1:fiches_first[1]]])
    structure.finish()

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
    kind = "d'étape" if meta.get("etape") else "annuel"
    named = "d'étape " if meta.get("etape") else ""
    info = {
        "/Title": f"Bilan {named}{annee} de la politique départementale d'insertion",
        "/Author": meta["departement"],
        "/Subject": f"Bilan {kind} du PDI/PTI {debut}-{fin} « {meta['titre']} », présenté à l'Assemblée "
                    "départementale",
        "/Keywords": f"bilan, insertion, RSA, PDI, PTI, {annee}",
        "/Creator": "pacte_docs",
        "/Producer": "pacte_docs (pypdf)",
        "/CreationDate": dt.datetime.now(dt.UTC).strftime("D:%Y%m%d%H%M%SZ"),
    }
    writer.add_metadata(info)
    _declare(writer, bilan, info, pdfa)
    with output.open("wb") as stream:
        writer.write(stream)
        stream.flush()
        os.fsync(stream.fileno())
    return len(writer.pages)


def _declare(writer: PdfWriter, bilan: PdfReader, info: dict[str, str], pdfa: bool) -> None:
    """What the compiled PDF says of itself: its language and that a reader shows its title; with *pdfa*, the
    PDF/A-2b identification (XMP, agreeing with the document information) and the sRGB output intent of the bilan
    LibreOffice made in PDF/A. Its structure tree is the parts' own, merged (`structure.Structure`)."""
    root = writer._root_object
    root[NameObject("/Lang")] = TextStringObject("fr-FR")
    preferences = writer.create_viewer_preferences()
    preferences[NameObject("/DisplayDocTitle")] = BooleanObject(True)
    if not pdfa:
        return
    catalog: Any = bilan.trailer["/Root"]
    intents = catalog.get("/OutputIntents")
    if intents is not None:
        root[NameObject("/OutputIntents")] = intents.get_object().clone(writer)
    created = dt.datetime.strptime(info["/CreationDate"], "D:%Y%m%d%H%M%SZ").strftime("%Y-%m-%dT%H:%M:%SZ")
    xmp = XMP.format(title=escape(info["/Title"]), author=escape(info["/Author"]), subject=escape(info["/Subject"]),
                     keywords=escape(info["/Keywords"]), creator=escape(info["/Creator"]),
                     producer=escape(info["/Producer"]), created=created).encode("utf-8")
    stream = _stream(xmp)
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    root[NameObject("/Metadata")] = writer._add_object(stream)


XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
      xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
      xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{subject}</rdf:li></rdf:Alt></dc:description>
   <dc:language><rdf:Bag><rdf:li>fr-FR</rdf:li></rdf:Bag></dc:language>
   <pdf:Keywords>{keywords}</pdf:Keywords>
   <pdf:Producer>{producer}</pdf:Producer>
   <xmp:CreatorTool>{creator}</xmp:CreatorTool>
   <xmp:CreateDate>{created}</xmp:CreateDate>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


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
    """« k / n » on every page but the cover, n being the compiled PDF's page count (an overlay laid out by
    LibreOffice), in the bottom right corner, below the annexes' own footers."""
    count = len(writer.pages)
    source = work / "numeros.docx"
    source.write_bytes(stamp_document(count))
    overlay = PdfReader(pdf.convert([source], work / "numeros", pdfa=pdfa, processes=1, timeout=timeout)[source])
    if len(overlay.pages) != count:
        raise TemplateError(f"La numérotation des pages a échoué ({len(overlay.pages)} numéros pour {count} pages).")
    stamper = _Stamper(writer)
    for page, stamp in list(zip(writer.pages, overlay.pages, strict=True))[1:]:  # the cover carries no number
        stamper.apply(page, stamp)


_NAME = re.compile(rb"/([A-Za-z0-9_.+-]+)")
_MARKED = re.compile(rb"/[A-Za-z0-9_]+\s*<<\s*/MCID\s+\d+\s*>>\s*BDC")


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
        data = _MARKED.sub(b"/Artifact BMC", data)  # page furniture: no MCID of its own beside the page's
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
