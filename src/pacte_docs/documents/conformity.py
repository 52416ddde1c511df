"""What a PDF declares about itself for archiving and accessibility: its PDF/A and PDF/UA identifications, whether it is
tagged (a structure tree, /MarkInfo /Marked), its language, its title and whether a reader shows that title
(RGAA criterion 13.3 for the documents a collectivité publishes). Read only, from the PDF's catalog and XMP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_PART = re.compile(rb"pdfaid:part(?:>|=[\"'])\s*(\d)")
_CONFORMANCE = re.compile(rb"pdfaid:conformance(?:>|=[\"'])\s*([ABUabu])")
_UA_PART = re.compile(rb"pdfuaid:part(?:>|=[\"'])\s*(\d)")


@dataclass(frozen=True)
class Conformite:
    pdfa: str | None  # « 2B » when the XMP identifies PDF/A-2b
    pdfua: str | None  # « 1 » when the XMP identifies PDF/UA-1
    balise: bool  # a structure tree, and /MarkInfo /Marked true
    langue: str | None  # /Lang of the catalog
    titre: str | None  # the document information's title
    affiche_titre: bool  # /ViewerPreferences /DisplayDocTitle

    @property
    def accessible(self) -> bool:
        return self.balise and bool(self.langue) and bool(self.titre) and self.affiche_titre


def conformite(pdf: Path) -> Conformite:
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    root: Any = reader.trailer["/Root"]
    metadata = root.get("/Metadata")
    xmp: bytes = metadata.get_object().get_data() if metadata is not None else b""
    part, conformance = _PART.search(xmp), _CONFORMANCE.search(xmp)
    mark = root.get("/MarkInfo")
    marked = bool(mark.get_object().get("/Marked", False)) if mark is not None else False
    preferences = root.get("/ViewerPreferences")
    shows_title = bool(preferences.get_object().get("/DisplayDocTitle", False)) if preferences is not None else False
    info: Any = reader.metadata or {}
    title = info.get("/Title")
    return Conformite(
        pdfa=(part.group(1) + conformance.group(1).upper()).decode() if part and conformance else None,
        pdfua=ua.group(1).decode() if (ua := _UA_PART.search(xmp)) else None,
        balise="/StructTreeRoot" in root and marked,
        langue=str(root["/Lang"]) if "/Lang" in root else None,
        titre=str(title) if title else None,
        affiche_titre=shows_title,
    )
