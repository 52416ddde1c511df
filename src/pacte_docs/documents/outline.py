"""A PDF's outline (bookmarks) read back as a tree of (title, page): how the PDI/PTI finds its headings' pages
after LibreOffice laid it out, and how the bilan finds its sections and the PDI/PTI's fiches-actions."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from pacte_docs.documents.typesetting import NB_HYPHEN, plain


@dataclass
class Bookmark:
    title: str
    page: int  # 1-based
    children: list[Bookmark] = field(default_factory=list)


def normal(title: str) -> str:
    """A title as the outline shows it: one space between words, plain hyphens (a viewer's font may lack the
    non-breaking hyphen the typesetting puts in references)."""
    return re.sub(r"\s+", " ", title).replace(NB_HYPHEN, "-").strip()


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
            result.append(Bookmark(normal(str(item.title)), (page or 0) + 1))
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
        title = plain(normal(entry["titre"]))
        for index in range(position, len(flat)):
            if plain(flat[index].title) == title:
                pages[entry["titre"]] = flat[index].page
                position = index + 1
                break
        else:
            missing.append(entry["titre"])
    return pages, missing
