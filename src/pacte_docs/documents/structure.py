"""The tagged structure of a PDF put together from the pages of others (the compiled bilan): pypdf copies pages
but not their structure tree, which a screen reader follows and RGAA 13.3 asks for. `Structure` copies, for the
pages kept, each source's structure elements — headings, paragraphs, tables, figures with their alternative
text — into one /Document, in the order of the pages, renumbers the pages' /StructParents and the parent tree,
and drops the elements whose content lies on pages left out (the PDI/PTI's pages outside its fiches-actions).

A source without a structure (a scanned signed copy) adds its pages untagged: there is no text to tag."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
)

_STRUCTURE_KEYS = {"/P", "/K", "/Pg"}


def _flat_number_tree(node: Any) -> dict[int, Any]:
    """The entries of a PDF number tree (/Nums and /Kids), by key."""
    node = node.get_object()
    found: dict[int, Any] = {}
    nums = node.get("/Nums")
    if nums is not None:
        nums = nums.get_object()
        for index in range(0, len(nums) - 1, 2):
            found[int(nums[index])] = nums[index + 1]
    for kid in node.get("/Kids", []) or []:
        found.update(_flat_number_tree(kid))
    return found


def _idnum(value: Any) -> int | None:
    return value.idnum if isinstance(value, IndirectObject) else None


@dataclass
class _Source:
    """One source PDF while its structure is copied: its pages kept (source object number → writer page and
    its position), and what its marked content and annotations now belong to."""

    pages: dict[int, tuple[PageObject, int]] = field(default_factory=dict)
    annotations: dict[int, IndirectObject] = field(default_factory=dict)  # source annotation → writer annotation
    content: dict[tuple[int, int], IndirectObject] = field(default_factory=dict)  # (page, MCID) → element
    objects: dict[int, IndirectObject] = field(default_factory=dict)  # source annotation → element (OBJR)


class Structure:
    """Collects the structure of every source added, then writes it into the writer (`finish`)."""

    def __init__(self, writer: PdfWriter) -> None:
        self.writer = writer
        self.document = writer._add_object(DictionaryObject({NameObject("/Type"): NameObject("/StructElem"),
                                                             NameObject("/S"): NameObject("/Document")}))
        self.top: list[tuple[int, int, IndirectObject]] = []  # (first page, order, element)
        self.parent_tree: list[tuple[int, Any]] = []
        self.role_map = DictionaryObject()
        self.next_key = 0

    def add(self, reader: PdfReader, kept: list[tuple[PageObject, PageObject]]) -> None:
        """Copy the structure of *reader* for its pages *kept* (source page, the writer's copy)."""
        source = _Source()
        positions = {id(page): index for index, page in enumerate(self.writer.pages)}
        for original, copy in kept:
            number = _idnum(original.indirect_reference)
            if number is None:
                continue
            source.pages[number] = (copy, positions.get(id(copy), len(positions)))
            for old, new in zip(original.get("/Annots", []) or [], copy.get("/Annots", []) or [], strict=False):
                if _idnum(old) is not None and isinstance(new, IndirectObject):
                    source.annotations[_idnum(old)] = new  # type: ignore[index]
        catalog: Any = reader.trailer["/Root"]
        found = catalog.get("/StructTreeRoot")
        if found is None:
            return
        root: Any = found.get_object()
        roles: Any = (root.get("/RoleMap") or DictionaryObject()).get_object()
        for role, target in roles.items():
            self.role_map.setdefault(NameObject(role), target)
        for element in self._kids(root):
            self._top(element, source)
        self._parent_tree(kept, source)

    def finish(self) -> None:
        """The structure tree root of the writer: one /Document holding every source's elements, in page order."""
        if not self.top:
            return
        ordered = [element for _, _, element in sorted(self.top, key=lambda t: (t[0], t[1]))]
        for element in ordered:
            node: Any = element.get_object()
            node[NameObject("/P")] = self.document
        root = DictionaryObject({
            NameObject("/Type"): NameObject("/StructTreeRoot"),
            NameObject("/K"): ArrayObject([self.document]),
            NameObject("/ParentTree"): DictionaryObject({NameObject("/Nums"): ArrayObject(
                [item for key, value in self.parent_tree for item in (NumberObject(key), value)])}),
            NameObject("/ParentTreeNextKey"): NumberObject(self.next_key),
        })
        if self.role_map:
            root[NameObject("/RoleMap")] = self.role_map
        reference = self.writer._add_object(root)
        document: Any = self.document.get_object()
        document[NameObject("/P")] = reference
        document[NameObject("/K")] = ArrayObject(ordered)
        catalog = self.writer._root_object
        catalog[NameObject("/StructTreeRoot")] = reference
        catalog[NameObject("/MarkInfo")] = DictionaryObject({NameObject("/Marked"): BooleanObject(True)})

    # ------------------------------------------------------------ inside

    @staticmethod
    def _kids(node: Any) -> list[Any]:
        kids = node.get("/K")
        if kids is None:
            return []
        kids = kids.get_object() if isinstance(kids, IndirectObject) else kids
        return list(kids) if isinstance(kids, ArrayObject) else [kids]

    def _top(self, element: Any, source: _Source) -> None:
        """A source's top-level element: its /Document wrapper is opened, the rest copied in place."""
        node = element.get_object()
        if isinstance(node, DictionaryObject) and node.get("/S") == "/Document":
            for kid in self._kids(node):
                self._top(kid, source)
            return
        copied = self._copy(element, None, source)
        if copied is not None:
            reference, first = copied
            self.top.append((first, len(self.top), reference))

    def _copy(self, element: Any, parent: IndirectObject | None,
              source: _Source) -> tuple[IndirectObject, int] | None:
        """A copy of a structure element and of its kept descendants, and the first writer page it touches;
        None when none of its content is on a kept page."""
        node = element.get_object()
        if not isinstance(node, DictionaryObject):
            return None
        new = DictionaryObject()
        for key, value in node.items():
            if key not in _STRUCTURE_KEYS:  # /S, /Alt, /ActualText, /Lang, /A (attributes), /T, /ID…
                new[NameObject(key)] = value.clone(self.writer)
        reference = self.writer._add_object(new)
        if parent is not None:
            new[NameObject("/P")] = parent
        own_page = source.pages.get(_idnum(node.raw_get("/Pg")) or -1) if "/Pg" in node else None
        if own_page is not None:
            new[NameObject("/Pg")] = own_page[0].indirect_reference
        kept: list[Any] = []
        first: list[int] = []
        had_content = False
        for kid in self._kids(node):
            had_content = True
            if isinstance(kid, NumberObject) or isinstance(kid, int):
                if own_page is not None:
                    source.content[(_idnum(own_page[0].indirect_reference) or 0, int(kid))] = reference
                    kept.append(NumberObject(int(kid)))
                    first.append(own_page[1])
                continue
            kid_node = kid.get_object()
            kind = kid_node.get("/Type") if isinstance(kid_node, DictionaryObject) else None
            if kind in ("/MCR", "/OBJR"):
                page = source.pages.get(_idnum(kid_node.raw_get("/Pg")) or -1) if "/Pg" in kid_node else own_page
                if page is None:
                    continue
                marker = DictionaryObject({NameObject("/Type"): NameObject(kind),
                                           NameObject("/Pg"): page[0].indirect_reference})
                if kind == "/MCR":
                    marker[NameObject("/MCID")] = NumberObject(int(kid_node["/MCID"]))
                    source.content[(_idnum(page[0].indirect_reference) or 0, int(kid_node["/MCID"]))] = reference
                else:
                    annotation = source.annotations.get(_idnum(kid_node.raw_get("/Obj")) or -1)
                    if annotation is None:
                        continue
                    marker[NameObject("/Obj")] = annotation
                    source.objects[annotation.idnum] = reference
                kept.append(marker)
                first.append(page[1])
                continue
            copied = self._copy(kid, reference, source)
            if copied is not None:
                kept.append(copied[0])
                first.append(copied[1])
        if had_content and not kept:
            return None
        if not had_content and own_page is None and "/Pg" in node:
            return None
        new[NameObject("/K")] = ArrayObject(kept)
        return reference, min(first) if first else (own_page[1] if own_page else 0)

    def _parent_tree(self, kept: list[tuple[PageObject, PageObject]], source: _Source) -> None:
        """New /StructParents keys for the kept pages (an array: MCID → element) and their annotations."""
        for _original, copy in kept:
            page_number = _idnum(copy.indirect_reference) or 0
            owners = {mcid: element for (page, mcid), element in source.content.items() if page == page_number}
            if owners:
                array = ArrayObject([owners.get(mcid, NullObject()) for mcid in range(max(owners) + 1)])
                copy[NameObject("/StructParents")] = NumberObject(self.next_key)
                self.parent_tree.append((self.next_key, self.writer._add_object(array)))
                self.next_key += 1
            for annotation in copy.get("/Annots", []) or []:
                if not isinstance(annotation, IndirectObject):
                    continue
                element = source.objects.get(annotation.idnum)
                target: Any = annotation.get_object()
                if element is None:
                    if "/StructParent" in target:
                        del target["/StructParent"]
                    continue
                target[NameObject("/StructParent")] = NumberObject(self.next_key)
                self.parent_tree.append((self.next_key, element))
                self.next_key += 1
