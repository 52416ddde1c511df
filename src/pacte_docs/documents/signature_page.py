"""The signature page of an act holds the end of its last article.

The templates keep « Fait à … » and the signature table with the last article (keep-with-next, rows that never
split), which Word honours. LibreOffice 7.4 does not always follow a heading's keep-with-next: in some layouts the
last article's heading stays alone at the foot of a page, or « Fait à » and the signatures start a page of their
own. So each act's PDF is checked once made: when the last heading and « Fait à » are not on the same page, the
act is laid out again from a copy of its DOCX whose last heading starts a new page (the recorded DOCX is left as
it is)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from lxml import etree
from pypdf import PdfReader

from pacte_docs.documents.typesetting import plain

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS = {"w": W}
SIGNATURE_START = "Fait à"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", plain(text)).strip()


def _last_heading(root: etree._Element) -> etree._Element | None:
    headings = [p for p in root.iter(f"{{{W}}}p")
                if any(s.get(f"{{{W}}}val", "").lower().startswith("heading") or
                       s.get(f"{{{W}}}val", "").lower().startswith("titre")
                       for s in p.findall("w:pPr/w:pStyle", _NS))]
    return headings[-1] if headings else None


def last_heading(docx: bytes) -> str | None:
    """The text of the document's last heading (the last article's), if any."""
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    heading = _last_heading(root)
    return _flat("".join(heading.itertext())) if heading is not None else None


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", plain(text))


def signature_apart(pdf: Path, heading: str) -> bool:
    """Whether the PDF shows its last heading on an earlier page than its last one, where « Fait à … » and the
    signatures stand (they are kept together and nothing follows them). The heading's page comes from the
    outline LibreOffice exports, which is cheap to read; the text of the last page is read only when the outline
    does not have it."""
    reader = PdfReader(pdf)
    wanted = _squeezed(heading)
    pages = [reader.get_destination_page_number(item) for item in _outline(reader.outline)
             if _squeezed(str(item.title)) == wanted]
    last = len(reader.pages) - 1
    if pages:
        return pages[-1] != last
    text = _squeezed(reader.pages[last].extract_text() or "")
    start = _squeezed(SIGNATURE_START)
    return start in text and wanted not in text.split(start)[0]


def _outline(items: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for item in items:
        flat.extend(_outline(item) if isinstance(item, list) else [item])
    return flat


def break_before_last_heading(docx: bytes) -> bytes:
    """A copy of the DOCX whose last heading starts a new page."""
    source = zipfile.ZipFile(io.BytesIO(docx))
    root = etree.fromstring(source.read("word/document.xml"))
    heading = _last_heading(root)
    if heading is None:
        return docx
    properties = heading.find("w:pPr", _NS)
    if properties is None:
        properties = etree.SubElement(heading, f"{{{W}}}pPr")
        heading.insert(0, properties)
    page_break = etree.Element(f"{{{W}}}pageBreakBefore")
    # the schema's order: pStyle, keepNext, keepLines, pageBreakBefore, …
    before = [child for child in properties if etree.QName(child).localname in ("pStyle", "keepNext", "keepLines")]
    if before:
        before[-1].addnext(page_break)
    else:
        properties.insert(0, page_break)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            target.writestr(info, data)
    return out.getvalue()
