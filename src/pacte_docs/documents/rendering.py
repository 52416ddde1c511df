"""The one Jinja environment every template renders with, and the static analysis of DOCX templates."""

from __future__ import annotations

import contextlib
import copy
import difflib
import functools
import hashlib
import html
import io
import re
import signal
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsmap as docx_nsmap
from docx.oxml.ns import qn
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2 import meta as jinja_meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from lxml import etree

from pacte_docs import files
from pacte_docs.documents.typesetting import typeset_part, typeset_tree, typeset_xml
from pacte_docs.errors import InputFileError, RenderLimitError, RenderTimeout, TemplateError
from pacte_docs.formatting import FILTERS
from pacte_docs.kinds import TEMPLATE_NAME
from pacte_docs.workspace import Workspace

W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# 1980-01-01 is the earliest date a ZIP entry can carry; a fixed date makes output reproducible.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


# What one template expression may build. A real document holds a few hundred kilobytes of text; a template
# edited by mistake or on purpose (« {{ 'x' * 10**9 }} », « {{ 'x'|center(10**9) }} ») is stopped before it
# allocates, and a template that loops for ever is stopped by the render deadline (BoundedSandbox.deadline).
MAX_VALUE_CHARS = 1_000_000
MAX_ITEMS = 100_000
MAX_WIDTH = 1_000
_PADDING = {"center", "ljust", "rjust", "zfill", "expandtabs"}
_FORMAT_WIDTH = re.compile(r"%[-#0 +]*(\*|\d{4,})")


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _refuse(what: str) -> RenderLimitError:
    return RenderLimitError(f"{what} dépasserait la taille permise pour un document")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox (no attribute of Python's internals, no change to lists and dicts), with every
    operation that can multiply a value's size bounded: *, **, + and the padding methods and filters."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                size = _sized(seq)
                if size is not None and isinstance(times, int) and size * times > MAX_VALUE_CHARS:
                    raise _refuse("une répétition")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and \
                    max(abs(left), 2).bit_length() * abs(right) > 4096:
                raise _refuse("une puissance")
        elif operator == "+":
            sizes = (_sized(left), _sized(right))
            if None not in sizes and sum(s for s in sizes if s is not None) > MAX_VALUE_CHARS:
                raise _refuse("une concaténation")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        if getattr(__obj, "__name__", None) in _PADDING and isinstance(getattr(__obj, "__self__", None), str) and \
                any(isinstance(a, int) and a > MAX_WIDTH for a in (*args, *kwargs.values())):
            raise _refuse("un remplissage")
        return super().call(__context, __obj, *args, **kwargs)


def _bounded_filter(name: str, original: Any) -> Any:
    """The builtin filter *name*, refusing the arguments that would make it allocate without bound."""

    passed = 1 if hasattr(original, "jinja_pass_arg") else 0  # the environment or context Jinja passes first

    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = [*args[passed:], *kwargs.values()]
        if name in ("center", "indent", "wordwrap") and \
                any(isinstance(a, int) and not isinstance(a, bool) and a > MAX_WIDTH for a in values[1:]):
            raise _refuse(f"le filtre « {name} »")
        if name == "format" and values and _FORMAT_WIDTH.search(str(values[0])):
            raise _refuse("le filtre « format »")
        if name == "replace" and len(values) >= 3 and isinstance(values[0], str):
            text, old, new = (str(v) for v in values[:3])
            if len(text) + (text.count(old) if old else len(text) + 1) * len(new) > MAX_VALUE_CHARS:
                raise _refuse("le filtre « replace »")
        return original(*args, **kwargs)

    for attribute in ("jinja_pass_arg",):  # keep how Jinja passes the environment or context
        if hasattr(original, attribute):
            setattr(bounded, attribute, getattr(original, attribute))
    return bounded


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Stop what runs inside after *seconds*: a template's nested loops or endless recursion ends there. The main
    thread of a process is stopped by a signal (the CLI, its worker processes); any other thread — the server's
    request threads and its worker — by an exception its interpreter raises in it at its next instruction (a
    template renders as Python code, so it is stopped wherever it loops)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        with _thread_deadline(seconds):
            yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise RenderTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _thread_deadline(seconds: float) -> Iterator[None]:
    """deadline() for a thread other than the main one: a timer raises RenderTimeout in it (CPython's
    PyThreadState_SetAsyncExc) if it is still inside after *seconds*; a raise still pending on the way out is
    withdrawn, so that nothing outside is interrupted."""
    import ctypes

    ident = ctypes.c_ulong(threading.get_ident())
    lock = threading.Lock()
    state = {"inside": True, "fired": False}

    def expire() -> None:
        with lock:
            if state["inside"]:
                state["fired"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ident, ctypes.py_object(RenderTimeout))

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["inside"] = False
            if state["fired"]:  # raised already (we are unwinding it), or still to come: never outside
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ident, None)


@functools.lru_cache(maxsize=1)
def make_environment() -> SandboxedEnvironment:
    """Bounded sandbox, StrictUndefined, autoescaped environment with the French filters: one per process (it holds
    no state), so that what is compiled with it can be kept for the next document of the same template."""
    # finalize: an absent optional value (None) prints as nothing, never as « None ».
    env = BoundedSandbox(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True,
                         finalize=lambda value: "" if value is None else value)
    for name in ("center", "indent", "wordwrap", "format", "replace"):
        env.filters[name] = _bounded_filter(name, env.filters[name])
    env.filters.update(FILTERS)
    return env


@dataclass(frozen=True)
class Part:
    """One XML part of a template that may carry Jinja tags, as docxtpl will see it."""

    name: str  # "corps", "en-tête 1", "pied de page 1"
    raw_xml: str
    patched_xml: str


def template_parts(data: bytes) -> list[Part]:
    """Body, headers and footers of a DOCX template, patched the way docxtpl patches them."""
    tpl = DocxTemplate(io.BytesIO(data))
    tpl.init_docx()
    docx = tpl.docx
    raw_body = tpl.xml_to_string(docx._element.body)
    parts = [Part("corps du document", raw_body, tpl.patch_xml(raw_body))]
    counters = {"en-tête": 0, "pied de page": 0}
    for _key, rel in sorted(docx._part.rels.items()):
        kind = {RT.HEADER: "en-tête", RT.FOOTER: "pied de page"}.get(rel.reltype)
        if kind is None or not rel.target_part.blob:
            continue
        counters[kind] += 1
        raw = tpl.xml_to_string(parse_xml(rel.target_part.blob))
        parts.append(Part(f"{kind} {counters[kind]}", raw, tpl.patch_xml(raw)))
    return parts


def _paragraph_text(xml_line: str) -> str:
    return re.sub(r"<[^>]+>", "", xml_line).strip()


def _dotted(node: nodes.Node) -> str | None:
    """'a.b.c' for Getattr/Getitem chains over a Name, else None."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        inner = _dotted(node.node)
        return f"{inner}.{node.attr}" if inner else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        inner = _dotted(node.node)
        return f"{inner}.{node.arg.value}" if inner else None
    return None


def referenced_paths(ast: nodes.Template) -> set[str]:
    """Every context path (e.g. 'convention.deliberation.numero') the template reads."""
    free = jinja_meta.find_undeclared_variables(ast)
    found: set[str] = set()

    def visit(node: nodes.Node) -> None:
        if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
            path = _dotted(node)
            if path and path.split(".")[0] in free:
                found.add(path)
                return
        for child in node.iter_child_nodes():
            visit(child)

    visit(ast)
    # keep only the longest paths: 'a.b' is implied by 'a.b.c'
    return {p for p in found if not any(q.startswith(p + ".") for q in found)}


def missing_paths(paths: set[str], context: Mapping[str, Any]) -> list[str]:
    """The paths that cannot be resolved in *context* (only mappings are followed)."""
    missing = []
    for path in sorted(paths):
        value: Any = context
        for name in path.split("."):
            if isinstance(value, Mapping):
                if name not in value:
                    missing.append(path)
                    break
                value = value[name]
            else:
                break  # lists, strings, None: the rest is checked when rendering
    return missing


@dataclass
class Finding:
    severity: str  # "erreur" | "avertissement"
    part: str
    paragraph: int | None
    excerpt: str
    message: str

    def __str__(self) -> str:
        where = self.part + (f", paragraphe {self.paragraph}" if self.paragraph else "")
        extract = f" (« {self.excerpt[:70]} »)" if self.excerpt else ""
        return f"{self.severity} — {where}{extract} : {self.message}"


def _paragraphs(xml: str) -> list[str]:
    # docxtpl renders with one <w:p> per line: Jinja's line numbers are paragraph numbers.
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", xml).split("\n")


def _original_paragraph(part: Part, excerpt: str) -> int | None:
    """The paragraph number, as counted in Word, of the first paragraph holding *excerpt*."""
    texts = [_paragraph_text(line) for line in _paragraphs(part.raw_xml) if line.startswith("<w:p")]
    for number, text in enumerate(texts, start=1):
        if excerpt and excerpt in text:
            return number
    return None


_SYNTAX = [
    (re.compile(r"Unexpected end of template\. Jinja was looking for the following tags: (.*?)\. "
                r"The innermost block that needs to be closed is '(\w+)'\."),
     "le bloc « {1} » n'est jamais fermé (balise attendue : {0})"),
    (re.compile(r"Encountered unknown tag '(\w+)'\..*"), "balise « {0} » inconnue ou mal placée"),
    (re.compile(r"unexpected '(.*)'"), "caractère « {0} » inattendu"),
    (re.compile(r"expected token '(.*)', got '(.*)'"), "« {1} » inattendu (attendu : {0})"),
    (re.compile(r"unexpected end of template, expected '(.*)'\."), "balise non refermée (attendu : {0})"),
]


def french_syntax_message(message: str) -> str:
    for pattern, french in _SYNTAX:
        match = pattern.search(message)
        if match:
            groups = [g.replace("'", "").replace(" or ", " ou ") for g in match.groups()]
            return french.format(*groups)
    return message


def split_tags(part: Part) -> Iterator[Finding]:
    """Tags whose characters are spread over several Word runs (formatting changes inside a tag)."""
    paragraphs = [line for line in _paragraphs(part.raw_xml) if line.startswith("<w:p")]
    for number, line in enumerate(paragraphs, start=1):
        pieces = re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", line)
        text = "".join(pieces)
        bounds, offset = [], 0
        for piece in pieces:
            bounds.append((offset, offset + len(piece)))
            offset += len(piece)
        for match in re.finditer(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", text):
            spans = [b for b in bounds if b[0] < match.end() and b[1] > match.start()]
            if len(spans) > 1:
                yield Finding(
                    "avertissement", part.name, number, match.group(0),
                    "balise répartie sur plusieurs segments de mise en forme ; elle sera recollée mais perd "
                    "sa mise en forme propre. Retapez-la d'un seul tenant, sans changer la police au milieu.",
                )


_WHOLE_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
_BROKEN_TAG = re.compile(r"\{\{|\}\}|\{%|%\}|\{\s*[A-Za-z_][\w.|]*\s*\}")


def broken_tags(part: Part) -> Iterator[Finding]:
    """Text that looks like a tag but is not one (« {{ convention.objet } », « { convention.montant }} », « {% if
    x »): Jinja would print it as it is or swallow the text up to the next tag, and the document would read
    wrong without a word. Each is an error, at its paragraph."""
    paragraphs = [line for line in _paragraphs(part.raw_xml) if line.startswith("<w:p")]
    for number, line in enumerate(paragraphs, start=1):
        text = html.unescape("".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", line)))
        rest = _WHOLE_TAG.sub(" ", text)
        found = _BROKEN_TAG.search(rest)
        if found:
            yield Finding("erreur", part.name, number, text.strip(),
                          f"balise mal formée près de « {found.group(0)} » : une variable s'écrit {{{{ nom }}}}, un "
                          "bloc {% … %}, chacun avec ses deux accolades de chaque côté")


def unknown_names(ast: nodes.Template, env: SandboxedEnvironment, lines: list[str], part: Part) -> Iterator[Finding]:
    """Filters and tests the environment does not have (« |date_longe »): Jinja only finds them when it compiles
    the template, and the document would not be made."""
    for node in ast.find_all((nodes.Filter, nodes.Test)):
        known = env.filters if isinstance(node, nodes.Filter) else env.tests
        if node.name in known:
            continue
        what = "filtre" if isinstance(node, nodes.Filter) else "test"
        close = difflib.get_close_matches(node.name, list(known), n=1)
        hint = f" ; vouliez-vous dire « {close[0]} » ?" if close else ""
        excerpt = _paragraph_text(lines[node.lineno - 1]) if 0 < node.lineno <= len(lines) else ""
        yield Finding("erreur", part.name, _original_paragraph(part, excerpt), excerpt,
                      f"{what} « {node.name} » inconnu{hint}")


@dataclass
class TemplateAnalysis:
    name: str
    paths: set[str]
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "erreur"]


# What a template may cost: its file, and its parts once unzipped (a Word document with pictures is a few MB).
MAX_TEMPLATE_BYTES = 20 * files.MIB
MAX_TEMPLATE_UNZIPPED = 100 * files.MIB


def read_template(path: Path) -> bytes:
    """The bytes of a template file, within the limits above (InputFileError otherwise)."""
    data = files.read_input(path, MAX_TEMPLATE_BYTES, "le modèle")
    files.check_zip(data, f"le modèle {path.name}", max_bytes=MAX_TEMPLATE_UNZIPPED)
    return data


_MACRO_PART = re.compile(r"(^|/)(vbaProject\.bin|vbaData\.xml)$", re.IGNORECASE)
_FETCHING_FIELD = re.compile(rb"(<w:instrText[^>]*>|w:instr=\")\s*(INCLUDEPICTURE|INCLUDETEXT|LINK|DDEAUTO|DDE)\b",
                             re.IGNORECASE)
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def package_findings(data: bytes) -> list[Finding]:
    """What the package of a template must not hold, since every document made from it would carry or fetch it:
    macros (vbaProject.bin), relations to files outside the document (a picture « liée au fichier », an attached
    template, an OLE object: LibreOffice would read them from the disk or the network at each conversion), fields
    that fetch (INCLUDEPICTURE, INCLUDETEXT, LINK, DDE), and DOCTYPE declarations (XML entities). Hyperlinks to
    the outside are fine: they are only written in the document."""
    findings: list[Finding] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if _MACRO_PART.search(name):
                findings.append(Finding("erreur", "fichier", None, name,
                                        "le modèle contient des macros : enregistrez-le au format « Document Word "
                                        "(.docx) », sans macros"))
                continue
            if not name.endswith((".xml", ".rels")):
                continue
            content = archive.read(name)
            if b"<!DOCTYPE" in content[:4096].upper() or b"<!ENTITY" in content.upper():
                findings.append(Finding("erreur", name, None, "", "déclaration DOCTYPE ou entité XML : un document "
                                        "Word n'en contient pas ; enregistrez de nouveau le modèle dans Word ou "
                                        "LibreOffice"))
                continue
            if name.endswith(".rels"):
                root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
                for rel in root.iter(f"{_RELS_NS}Relationship"):
                    kind = rel.get("Type", "").rsplit("/", 1)[-1]
                    if rel.get("TargetMode") == "External" and kind != "hyperlink":
                        findings.append(Finding("erreur", name, None, rel.get("Target", "")[:70],
                                                f"élément « {kind} » lié à un fichier extérieur au document : "
                                                "insérez-le dans le document (Word : Insérer › Image › Cet "
                                                "appareil, sans « Lier au fichier »)"))
            else:
                found = _FETCHING_FIELD.search(content)
                word = found.group(2) if found else _fetching_instruction(content)
                if word:
                    findings.append(Finding("erreur", name, None, word.decode(),
                                            f"champ {word.decode().upper()} : il lit un fichier ou une "
                                            "adresse extérieurs à chaque conversion ; remplacez-le par son contenu"))
    return findings


_FIELD_TOKEN = re.compile(rb'<w:fldChar\b[^>]*w:fldCharType="(begin|separate|end)"|<w:instrText\b[^>]*>([^<]*)<',
                          re.IGNORECASE)
_FETCHING_WORD = re.compile(rb"\s*(INCLUDEPICTURE|INCLUDETEXT|LINK|DDEAUTO|DDE)\b", re.IGNORECASE)


def _fetching_instruction(content: bytes) -> bytes | None:
    """The fetching keyword of a complex field whose instruction Word split over several runs (« INCL » then
    « UDETEXT … »): each field's instruction put back together, from its begin to its separate or end."""
    fields: list[bytearray] = []  # the instructions being read, innermost last (fields nest)
    for match in _FIELD_TOKEN.finditer(content):
        kind, text = match.group(1), match.group(2)
        if kind is None:
            if fields:
                fields[-1] += text
        elif kind.lower() == b"begin":
            fields.append(bytearray())
        elif fields:
            found = _FETCHING_WORD.match(bytes(fields[-1]))
            if found:
                return found.group(1)
            if kind.lower() == b"end":
                fields.pop()
            else:  # separate: the instruction is over, the result follows until end
                fields[-1] = bytearray(b"\x00")
    return None


def analyse(path: Path, env: SandboxedEnvironment, data: bytes | None = None) -> TemplateAnalysis:
    """Parse every part; report syntax errors with their paragraph, split tags, and the paths used. The analysis
    of the same bytes is made once per process (a server, a test run, `modeles verifier` after `generer`)."""
    try:
        data = read_template(path) if data is None else data
    except InputFileError as exc:
        return TemplateAnalysis(path.stem, set(), [Finding("erreur", "fichier", None, "", str(exc))])
    kept = _analyse_bytes(path.stem, data, env)
    return TemplateAnalysis(kept.name, set(kept.paths), list(kept.findings))


@functools.lru_cache(maxsize=16)
def _analyse_bytes(name: str, data: bytes, env: SandboxedEnvironment) -> TemplateAnalysis:
    try:
        parts = template_parts(data)
    except InputFileError as exc:
        return TemplateAnalysis(name, set(), [Finding("erreur", "fichier", None, "", str(exc))])
    except (zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        return TemplateAnalysis(name, set(), [Finding("erreur", "fichier", None, "", f"DOCX illisible ({exc})")])
    findings: list[Finding] = package_findings(data)
    paths: set[str] = set()
    for part in parts:
        findings.extend(split_tags(part))
        broken = list(broken_tags(part))
        findings.extend(broken)
        lines = _paragraphs(part.patched_xml)
        try:
            ast = env.parse("\n".join(lines))
        except TemplateSyntaxError as exc:
            number = exc.lineno or 0
            excerpt = _paragraph_text(lines[number - 1]) if 0 < number <= len(lines) else ""
            paragraph = _original_paragraph(part, excerpt)
            if not any(f.paragraph == paragraph for f in broken):  # the broken tag already says it better
                findings.append(Finding("erreur", part.name, paragraph, excerpt,
                                        "syntaxe Jinja : " + french_syntax_message(exc.message or "")))
            continue
        for tag in ast.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
            excerpt = _paragraph_text(lines[tag.lineno - 1]) if 0 < tag.lineno <= len(lines) else ""
            keyword = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from",
                       nodes.Extends: "extends"}[type(tag)]
            findings.append(Finding("erreur", part.name, _original_paragraph(part, excerpt), excerpt,
                                    f"balise « {keyword} » : un modèle ne lit aucun autre fichier ; recopiez ici le "
                                    "texte voulu"))
        unknown = list(unknown_names(ast, env, lines, part))
        findings.extend(unknown)
        if not unknown:  # Jinja compiles the template to list its variables: an unknown filter stops it
            paths |= referenced_paths(ast)
    return TemplateAnalysis(name, paths, findings)


_TYPESET = re.compile(r"word/(document|header\d*|footer\d*|footnotes)\.xml")


def normalise_docx(data: bytes, typeset: bool = False) -> bytes:
    """Rewrite a DOCX with fixed entry dates, so that same data and template give the same bytes; with *typeset*,
    its text is typeset in French (see `typesetting`)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            content = source.read(info.filename)
            if typeset and _TYPESET.fullmatch(info.filename):
                content = typeset_part(content)
            target.writestr(entry, content)
    return out.getvalue()


@dataclass(frozen=True)
class Image:
    """A picture (PNG bytes) to show where a template writes its variable, e.g. {{ graphiques.credits }}, with
    the alternative text a screen reader says in its place (RGAA: every informative image has one)."""

    data: bytes
    width_mm: float = 160
    alt: str = ""

    def __str__(self) -> str:  # what a fingerprint of the context sees
        return "image:" + hashlib.sha256(self.data).hexdigest() + ":" + self.alt


class _DescribedImage(InlineImage):  # type: ignore[misc]
    """docxtpl's inline image with its alternative text (wp:docPr/@descr, which LibreOffice exports as /Alt)."""

    def __init__(self, tpl: DocxTemplate, image: Image) -> None:
        super().__init__(tpl, io.BytesIO(image.data), width=Mm(image.width_mm))
        self.alt = image.alt

    def _insert_image(self) -> str:
        xml: str = super()._insert_image()
        if not self.alt:
            return xml
        return xml.replace("<wp:docPr ", f'<wp:docPr descr="{html.escape(self.alt, quote=True)}" ', 1)


def _with_images(value: Any, tpl: DocxTemplate) -> Any:
    if isinstance(value, Image):
        return _DescribedImage(tpl, value)
    if isinstance(value, dict):
        return {key: _with_images(item, tpl) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_images(item, tpl) for item in value]
    return value


def _has_image(value: Any) -> bool:
    """Whether a picture is anywhere in *value* (walked without recursion: a context has hundreds of values)."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            continue
        if isinstance(item, Image):
            return True
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return False


_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
_CORE_FIELDS = {"title": "dc:title", "author": "dc:creator", "subject": "dc:subject", "keywords": "cp:keywords",
                "comments": "dc:description", "category": "cp:category"}
_CORE_NS = {"dc": "http://purl.org/dc/elements/1.1/",
            "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"}
_BODY_MARK = b"<!--pacte-docs-body-->"
_DOS_DATE = (_ZIP_EPOCH[0] - 1980) << 9 | _ZIP_EPOCH[1] << 5 | _ZIP_EPOCH[2]


def _deflate(data: bytes) -> tuple[int, int, bytes]:
    """(CRC-32, size, raw deflate stream) of an entry. Level 3: twice as fast as zlib's default for a file about a
    tenth larger, on the parts rendered for every document of a batch."""
    compressor = zlib.compressobj(3, zlib.DEFLATED, -15)
    return zlib.crc32(data), len(data), compressor.compress(data) + compressor.flush()


class _ZipWriter:
    """Writes the same list of entries again and again, some of them replaced, with fixed dates and
    permissions (what normalise_docx gives), copying the compressed bytes of the others as they are."""

    def __init__(self, entries: list[tuple[str, tuple[int, int, bytes]]]) -> None:
        self.entries = entries

    def write(self, replaced: dict[str, tuple[int, int, bytes]]) -> bytes:
        out = bytearray()
        central = bytearray()
        for name, original in self.entries:
            crc, size, data = replaced.get(name, original)
            encoded = name.encode("utf-8")
            offset = len(out)
            out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, _DOS_DATE, crc, len(data), size,
                               len(encoded), 0) + encoded + data
            central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 3 << 8 | 20, 20, 0, 8, 0, _DOS_DATE, crc, len(data),
                                   size, len(encoded), 0, 0, 0, 0, 0o644 << 16, offset) + encoded
        start = len(out)
        out += central
        out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(self.entries), len(self.entries), len(central),
                           start, 0)
        return bytes(out)


_PARSER = etree.XMLParser(recover=True)  # as docxtpl's fix_tables parses the rendered body
_ROW_OR_CELL_TAG = re.compile(r"\{[%{#]-?\s*t[rc]\b")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _grid_mismatch(tree: etree._Element) -> bool:
    """Whether docxtpl's fix_tables would change a table of *tree*: a row with more cells than the grid has
    columns, or no row as wide as the grid (counting merged cells, w:gridSpan)."""
    for table in tree.iter(f"{_W}tbl"):
        grid = table.find(f"{_W}tblGrid")
        columns = len(grid.findall(f"{_W}gridCol")) if grid is not None else 0
        widest = cells = 0
        for row in table.iter(f"{_W}tr"):
            found = row.findall(f"{_W}tc")
            cells = max(cells, len(found))
            span = 0
            for cell in found:
                merged = cell.find(f"{_W}tcPr/{_W}gridSpan")
                span += int(merged.get(f"{_W}val")) if merged is not None else 1
            widest = max(widest, span)
        if grid is None or cells > columns or widest < columns:
            return True
    return False


_TABLE_START = re.compile(r"<w:tbl[\s>]")
_TABLE = re.compile(r"<w:tbl>.*?</w:tbl>", re.DOTALL)
_ROW = re.compile(r"<w:tr[\s>].*?</w:tr>", re.DOTALL)
_CELL = re.compile(r"<w:tc[\s>]")
_GRID_COLUMN = re.compile(r"<w:gridCol[\s/>]")
_SPAN = re.compile(r'<w:gridSpan w:val="(\d+)"/>')


def _grid_mismatch_text(xml: str) -> bool | None:
    """`_grid_mismatch` read on the serialised body, without parsing it; None when a table is of a shape it does
    not read (a table inside a table, a revision of the grid): the caller then parses the body."""
    tables = _TABLE.findall(xml)
    if len(tables) != len(_TABLE_START.findall(xml)):
        return None
    for table in tables:
        if "Change" in table or "<w:tblGrid>" not in table:
            return None if "Change" in table else True
        columns = len(_GRID_COLUMN.findall(table))
        widest = cells = 0
        for row in _ROW.findall(table):
            found = len(_CELL.findall(row))
            spans = [int(value) for value in _SPAN.findall(row)]
            cells = max(cells, found)
            widest = max(widest, found - len(spans) + sum(spans))
        if cells > columns or widest < columns:
            return True
    return False


class FastDocx:
    """A template parsed once (docxtpl's XML patching, Jinja compilation), rendered many times by rendering only
    the parts that carry tags — body, headers, footers, footnotes, core properties — and copying the DOCX's
    other parts as they are. The output equals docxtpl's (same text, tables, headers and footers): the test
    suite compares them, and `CompiledTemplate` falls back to docxtpl for pictures."""

    def __init__(self, data: bytes, env: SandboxedEnvironment) -> None:
        self.data = data
        self.tpl = DocxTemplate(io.BytesIO(data))
        self.tpl.init_docx()
        document = self.tpl.docx
        source = self.tpl.get_xml()
        self.body = env.from_string(self.tpl.patch_xml(source))
        # Whether a rendered table may need docxtpl's fix of its grid: a row or cell loop ({%tr …%}, {%tc …%}),
        # or a grid already at odds with the rows in the template. Otherwise no table can change shape.
        self.tables_move = bool(_ROW_OR_CELL_TAG.search(re.sub(r"<[^>]+>", "", source))) or \
            _grid_mismatch(etree.fromstring(source.encode("utf-8"), _PARSER))
        root = copy.deepcopy(document._element)
        body = root.find(qn("w:body"))
        position = list(root).index(body)
        root.remove(body)
        root.insert(position, etree.Comment(_BODY_MARK[4:-3].decode()))
        whole = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        self.prefix, self.suffix = whole.split(_BODY_MARK)
        self.document_name = document.part.partname.lstrip("/")
        self.parts: dict[str, tuple[Any, bytes]] = {}  # zip name → (template, XML declaration)
        for rel in document.part.rels.values():
            if rel.reltype in (RT.HEADER, RT.FOOTER) and not rel.is_external and rel.target_part.blob:
                xml = self.tpl.get_part_xml(rel.target_part)
                self.parts[rel.target_part.partname.lstrip("/")] = (
                    env.from_string(self.tpl.patch_xml(xml)),
                    b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n")
        for part in document.part.package.parts:
            if part.content_type == _FOOTNOTES:
                xml = part.blob.decode("utf-8")
                self.parts[part.partname.lstrip("/")] = (env.from_string(self.tpl.patch_xml(xml)), b"")
        self.core_name = "docProps/core.xml"
        self.core: dict[str, Any] = {}  # Clark name of a core property → its template
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            raw = {name: archive.read(name) for name in archive.namelist()}
        # The parts that are never rendered are compressed once, here, and copied into every output.
        self.archive = _ZipWriter([(name, _deflate(content)) for name, content in raw.items()])
        self.core_xml = raw.get(self.core_name, b"")
        if self.core_xml:
            core = etree.fromstring(self.core_xml)
            for tag in _CORE_FIELDS.values():
                prefix, local = tag.split(":")
                element = core.find(f"{{{_CORE_NS[prefix]}}}{local}")
                if element is not None and element.text and "{" in element.text:
                    self.core[element.tag] = env.from_string(element.text)

    def _finish(self, xml: str) -> str:
        # docxtpl puts a line break before each paragraph of the source and takes it out of the output (for its
        # error messages); the output is the same without that round trip, which costs a tenth of a render.
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        if any(c in xml for c in "\t\a\n\f"):
            xml = self.tpl.resolve_listing(xml)
        return xml

    def render(self, context: dict[str, Any]) -> bytes:
        rendered: dict[str, bytes] = {}
        xml = self._finish(self.body.render(context))
        fixed = self.tables_move and _grid_mismatch_text(xml) is not False
        typeset = None if fixed or "docPr" in xml else typeset_xml(xml)
        if typeset is not None:  # nearly always: the body is typeset as text, never parsed
            body = typeset.encode("utf-8")
        else:
            tree = etree.fromstring(xml, _PARSER)
            if _grid_mismatch(tree):  # a row or a column taken out by a tag: docxtpl fixes the table's grid
                tree = self.tpl.fix_tables(xml)
            typeset_tree(tree)
            for number, element in enumerate(tree.xpath("//wp:docPr", namespaces=docx_nsmap), start=1001):
                element.attrib["id"] = str(number)
            body = etree.tostring(tree, encoding="UTF-8", xml_declaration=False)
        rendered[self.document_name] = self.prefix + body + self.suffix
        for name, (template, declaration) in self.parts.items():
            rendered[name] = typeset_part(declaration + self._finish(template.render(context)).encode("utf-8"))
        if self.core:
            core = etree.fromstring(self.core_xml)
            for tag, template in self.core.items():
                core.find(tag).text = html.unescape(template.render(context))
            rendered[self.core_name] = etree.tostring(core, xml_declaration=True, encoding="UTF-8", standalone=True)
        return self.archive.write({name: _deflate(data) for name, data in rendered.items()})


@functools.lru_cache(maxsize=16)
def _fast_docx(data: bytes, env: SandboxedEnvironment) -> FastDocx:
    """A template's bytes compiled once per process: rendering never changes a FastDocx."""
    return FastDocx(data, env)


class CompiledTemplate:
    """A DOCX template loaded once, checked once, rendered many times."""

    def __init__(self, path: Path, env: SandboxedEnvironment, render_timeout: float = 60.0) -> None:
        self.path = path
        self.render_timeout = render_timeout
        self.name = path.stem
        self.env = env
        try:
            self.data = read_template(path)
        except InputFileError as exc:
            raise TemplateError(f"{exc}\nRemplacez ce fichier par une version enregistrée dans Word ou LibreOffice, "
                                "ou par le modèle d'origine (supprimez-le puis lancez « pacte init »).") from None
        self._fast: FastDocx | None = None
        self.analysis = analyse(path, env, self.data)
        if self.analysis.errors:
            raise TemplateError(
                f"Le modèle {path} contient des erreurs :\n"
                + "\n".join(f"  • {f}" for f in self.analysis.errors)
                + "\nCorrigez-le dans Word ou LibreOffice puis relancez « pacte modeles verifier »."
            )

    def missing(self, context: Mapping[str, Any]) -> list[str]:
        return missing_paths(self.analysis.paths, context)

    @functools.cached_property
    def sha256(self) -> str:
        """The template's SHA-256, which every document made from it records (`Document.modele_sha256`)."""
        return hashlib.sha256(self.data).hexdigest()

    def prepare(self) -> FastDocx:
        if self._fast is None:
            self._fast = _fast_docx(self.data, self.env)
        return self._fast

    def render(self, context: Mapping[str, Any]) -> bytes:
        """The rendered DOCX, normalised, within the render deadline; a failure becomes a TemplateError."""
        try:
            with deadline(self.render_timeout):
                if _has_image(context):
                    return self.render_docxtpl(context)
                return self.prepare().render(dict(context))
        except UndefinedError as exc:
            raise TemplateError(f"Modèle {self.path} : variable absente des données ({exc.message}).") from exc
        except SecurityError as exc:
            raise TemplateError(f"Modèle {self.path} : opération interdite par le bac à sable ({exc}).") from exc
        except RenderLimitError as exc:
            raise TemplateError(f"Modèle {self.path} : {exc} ; corrigez le modèle.") from None
        except TemplateSyntaxError as exc:
            raise TemplateError(f"Modèle {self.path} : syntaxe Jinja incorrecte ({exc.message}).") from exc
        except RecursionError:
            raise TemplateError(f"Modèle {self.path} : une macro s'appelle elle-même sans fin ; corrigez-la.") from None
        except OverflowError:  # the sandbox's range() beyond MAX_RANGE
            raise TemplateError(f"Modèle {self.path} : une boucle « range » dépasse 100 000 tours ; corrigez le "
                                "modèle.") from None
        except TypeError as exc:  # an include, an import or an extends: no loader, no other file
            if "loader" not in str(exc):
                raise
            raise TemplateError(f"Modèle {self.path} : une balise « include », « import » ou « extends » y lit un "
                                "autre fichier, ce qu'un modèle ne fait pas ; recopiez ici le texte voulu.") from None
        except (RenderTimeout, MemoryError):
            raise TemplateError(f"Modèle {self.path} : le document n'est pas rendu en {self.render_timeout:g} s "
                                "(boucles imbriquées sans fin ?) ; corrigez le modèle, ou allongez [generation] "
                                "delai_rendu_secondes dans pacte.toml.") from None

    def render_docxtpl(self, context: Mapping[str, Any]) -> bytes:
        """The rendered DOCX through docxtpl's own path (pictures), normalised."""
        tpl = DocxTemplate(io.BytesIO(self.data))
        tpl.render(_with_images(dict(context), tpl), self.env, autoescape=True)
        self._render_properties(tpl, context)
        out = io.BytesIO()
        tpl.save(out)
        return normalise_docx(out.getvalue(), typeset=True)

    def _render_properties(self, tpl: DocxTemplate, context: Mapping[str, Any]) -> None:
        """docxtpl renders the title, author… with the autoescaping environment, and python-docx escapes them again
        when it writes them (« l'Essonne » would read « l&#39;Essonne » in the PDF); it leaves the keywords and
        the category unrendered."""
        properties = tpl.docx.core_properties
        for name in ("title", "author", "subject", "keywords", "comments", "category"):
            value = getattr(properties, name)
            if value and name in ("keywords", "category") and "{" in value:
                value = self.env.from_string(value).render(dict(context))
            if value and "&" in value:
                value = html.unescape(value)
            setattr(properties, name, value)


class TemplateCache:
    """Each template file is read, parsed and checked once per run."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.env = make_environment()
        self._loaded: dict[str, CompiledTemplate] = {}

    def get(self, name: str) -> CompiledTemplate:
        if name not in self._loaded:
            if not TEMPLATE_NAME.fullmatch(name):  # a registry filled by an older version may hold a path
                raise TemplateError(f"« {name} » n'est pas un nom de modèle : une convention nomme un modèle du "
                                    f"dossier {self.ws.modeles}, sans chemin ni extension. Corrigez le champ "
                                    "« modele » de la convention et importez-la de nouveau.")
            path = self.ws.modeles / f"{name}.docx"
            if not path.is_file():
                raise TemplateError(
                    f"Modèle « {name} » introuvable : {path} n'existe pas. « pacte init » remet les modèles "
                    "par défaut manquants ; « pacte modeles lister » montre ceux de l'espace."
                )
            self._loaded[name] = CompiledTemplate(path, self.env, self.ws.config.render_timeout)
        return self._loaded[name]


def missing_variables(missing: dict[tuple[str, str], list[str]]) -> TemplateError:
    """The refusal naming every (template, variable) absent from the data, with the documents concerned."""
    lines = []
    for (name, path), refs in sorted(missing.items()):
        shown = ", ".join(refs[:5]) + (f" et {len(refs) - 5} autres" if len(refs) > 5 else "")
        lines.append(f"  • modèle « {name} » : variable « {path} » absente des données ({shown})")
    return TemplateError("Aucun document n'a été écrit : des variables des modèles manquent.\n" + "\n".join(lines)
                         + "\nCorrigez le modèle (« pacte modeles verifier » liste les variables documentées) "
                           "ou complétez les données.")
