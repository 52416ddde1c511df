"""French typesetting of a rendered document, template text and typed data alike: typographic apostrophes,
non-breaking spaces inside « » and before « : ; ? ! », « 1er » with its superscript, and references and legal
numbers that never break at their hyphens (« CP-2025-05-087 », « n° 2023-1196 »).

It works on the WordprocessingML of each rendered part (body, headers, footers, footnotes), text node by text
node, so that it never touches a tag, an attribute or a field code."""

from __future__ import annotations

import copy
import functools
import html
import re

from lxml import etree

from pacte_docs.formatting import typographie

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_T = f"{{{W}}}t"
_R = f"{{{W}}}r"
_RPR = f"{{{W}}}rPr"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"

NBSP = "\u00a0"
NB_HYPHEN = "\u2011"  # LibreOffice and Word draw it as a hyphen and never break a line there

_APOSTROPHE = re.compile(r"(?<=\w)'|'(?=\w)")
# after « n° », « art. », a code's letter, and a civility (« M. Philippe Bouyssou » never breaks after « M. »)
_NUMERO = re.compile(r"\b(n°|N°|art\.|L\.|R\.|D\.|M\.|MM\.|Mme|Mmes|Mlle)[ \t]+(?=\w)")
# A reference or a legal number: segments of capitals and digits joined by hyphens, with at least one digit
# (CP-2025-05-087, FT-2027-006, 2023-1196, L. 262-1). Words such as « Jean-Jaurès » are left alone.
_REFERENCE = re.compile(r"\b(?=[A-Z0-9-]*\d)[A-Z0-9]+(?:-[A-Z0-9]+)+\b")
# Run properties that the schema orders after w:vertAlign.
_AFTER_VERTALIGN = {"rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath"}
_ORDINAL = re.compile(r"(?<![\w])(1)(er|re)(?![\w])")


@functools.lru_cache(maxsize=8192)
def typeset_text(text: str) -> str:
    """The text of one run, typeset (superscripts apart, see :func:`typeset_tree`). Most runs are the template's
    own words, the same in every document of a batch: each distinct text is typeset once."""
    if not _ANY.search(text):
        return text
    text = typographie(_APOSTROPHE.sub("’", text))  # the spaces around « » : ; ? ! as in the contexts
    text = _NUMERO.sub(lambda m: m.group(1) + NBSP, text)
    return _REFERENCE.sub(lambda m: m.group(0).replace("-", NB_HYPHEN), text)


# Whether a text may need typesetting at all: most runs do not, and are left as they are.
_ANY = re.compile(r"['«»:;?!\-]|n°|N°|art\.|\b[LRDM]\.|\bMM\.|\bMme|\bMlle|\b1(?:er|re)\b")


def typeset_tree(root: etree._Element) -> None:
    """Typeset every text node under *root*, in place; « 1er » and « 1re » get their letters in superscript."""
    for node in list(root.iter(_T)):
        old = node.text
        if not old:
            continue
        text = typeset_text(old)
        run = node.getparent()
        if "1" not in text or _ORDINAL.search(text) is None or run is None or run.tag != _R or \
                len(run.findall(_T)) != 1:
            if text != old:
                node.text = text
            continue
        _split_ordinals(run, node, text)


def _ordinal_pieces(text: str) -> list[tuple[str, bool]]:
    """*text* cut before and after the letters of each ordinal: (piece, in superscript), « 1er » → « 1 », « er »."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in _ORDINAL.finditer(text):
        pieces += [(text[position:match.start(2)], False), (match.group(2), True)]
        position = match.end(2)
    pieces.append((text[position:], False))
    return pieces


def _split_ordinals(run: etree._Element, node: etree._Element, text: str) -> None:
    """Replace *run* by runs of the same format, the letters of each ordinal in superscript."""
    pieces = _ordinal_pieces(text)
    node.text = pieces[0][0]
    node.set(_XML_SPACE, "preserve")
    anchor = run
    for piece, superscript in pieces[1:]:
        if not piece:
            continue
        new = copy.deepcopy(run)
        for child in list(new):
            if child.tag != _RPR:
                new.remove(child)
        if superscript:
            properties = new.find(_RPR)
            if properties is None:
                properties = etree.SubElement(new, _RPR)
                new.insert(0, properties)
            for old in properties.findall(f"{{{W}}}vertAlign"):
                properties.remove(old)
            align = etree.Element(f"{{{W}}}vertAlign")
            align.set(f"{{{W}}}val", "superscript")
            later = [child for child in properties if etree.QName(child).localname in _AFTER_VERTALIGN]
            if later:
                later[0].addprevious(align)
            else:
                properties.append(align)
        t = etree.SubElement(new, _T)
        t.text = piece
        t.set(_XML_SPACE, "preserve")
        anchor.addnext(new)
        anchor = new


# A run of one text and its formatting only (the shape of nearly every run a template or docxtpl writes), or a
# text node on its own. In a run of another shape, a text that needs a superscript takes the tree's path.
_TEXT_OR_RUN = re.compile(
    r"<w:r(?P<rattr>\s[^>]*?)?(?<!/)>(?:<w:rPr>(?P<rpr>(?:(?!</w:rPr>).)*?)</w:rPr>)?"
    r"<w:t(?P<rtattr>\s[^>]*?)?(?<!/)>(?P<rtext>[^<]*)</w:t></w:r>"
    r"|<w:t(?P<tattr>\s[^>]*?)?(?<!/)>(?P<text>[^<]*)</w:t>", re.DOTALL)
_MAIN_NAMESPACE = f'xmlns:w="{W}"'
_VERTALIGN = re.compile(r"<w:vertAlign\b[^>]*/>")
_LATER_PROPERTY = re.compile(r"<(?:[\w.-]+:)?(?:" + "|".join(sorted(_AFTER_VERTALIGN)) + r")[\s/>]")
_SPACE = re.compile(r'\sxml:space="[^"]*"')
_SUPERSCRIPT = '<w:vertAlign w:val="superscript"/>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _preserved(attributes: str) -> str:
    """The attributes of a w:t, with xml:space="preserve" (what `typeset_tree` sets on a split text)."""
    return _SPACE.sub("", attributes) + ' xml:space="preserve"'


def _ordinal_runs(rattr: str, rpr: str | None, tattr: str, text: str) -> str | None:
    """The run *text* split as `_split_ordinals` splits it, as XML; None when its properties are not flat."""
    if rpr is not None and "<w:rPrChange" in rpr:
        return None
    pieces = _ordinal_pieces(text)
    plain = "" if rpr is None else f"<w:rPr>{rpr}</w:rPr>"
    lifted = _VERTALIGN.sub("", rpr or "")
    later = _LATER_PROPERTY.search(lifted)
    lifted = (lifted[:later.start()] + _SUPERSCRIPT + lifted[later.start():]) if later else lifted + _SUPERSCRIPT
    out = [f"<w:r{rattr}>{plain}<w:t{_preserved(tattr)}>{_escape(pieces[0][0])}</w:t></w:r>"]
    for piece, superscript in pieces[1:]:
        if piece:
            properties = f"<w:rPr>{lifted}</w:rPr>" if superscript else plain
            out.append(f'<w:r{rattr}>{properties}<w:t xml:space="preserve">{_escape(piece)}</w:t></w:r>')
    return "".join(out)


def typeset_xml(xml: str) -> str | None:
    """`typeset_tree` on the serialised XML of a part, without parsing it: each text node is typeset in place,
    each run with an ordinal split as the tree does. None when the part needs the tree (a superscript in a run
    of another shape, or a main namespace under another prefix): the caller then parses it."""
    if _MAIN_NAMESPACE not in xml[:4096] and "<w:t" in xml:
        return None
    out: list[str] = []
    position = 0
    for match in _TEXT_OR_RUN.finditer(xml):
        in_run, alone = match.group("rtext", "text")
        raw = alone if in_run is None else in_run
        if not raw:
            continue
        old = html.unescape(raw) if "&" in raw else raw
        text = typeset_text(old)
        if "1" in text and _ORDINAL.search(text) is not None:
            if in_run is None:
                return None
            rattr, rpr, rtattr = match.group("rattr", "rpr", "rtattr")
            runs = _ordinal_runs(rattr or "", rpr, rtattr or "", text)
            if runs is None:
                return None
            out += [xml[position:match.start()], runs]
            position = match.end()
        elif text != old:
            group = "text" if in_run is None else "rtext"
            out += [xml[position:match.start(group)], _escape(text)]
            position = match.end(group)
    if not out:
        return xml
    out.append(xml[position:])
    return "".join(out)


def typeset_part(xml: bytes) -> bytes:
    """A rendered part (header, footer, footnotes), typeset."""
    if b"<w:t" not in xml:
        return xml
    done = typeset_xml(xml.decode("utf-8"))
    if done is not None:
        return done.encode("utf-8")
    root = etree.fromstring(xml)
    typeset_tree(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def plain(text: str) -> str:
    """Typeset text read back as typed: plain spaces, straight apostrophes and hyphens (for checks on rendered
    text)."""
    return (text.replace(NBSP, " ").replace("\u202f", " ").replace("’", "'").replace(NB_HYPHEN, "-"))
