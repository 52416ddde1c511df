"""`pacte conventions generer`: render DOCX from the templates, convert to PDF, archive and record everything."""

from __future__ import annotations

import datetime as dt
import functools
import io
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import object_session

from pacte_docs.documents import context, pdf, signature_page
from pacte_docs.documents.rendering import CompiledTemplate, TemplateCache, missing_variables
from pacte_docs.documents.store import DocumentStore
from pacte_docs.errors import IntegrityError, TemplateError, UnknownReferenceError
from pacte_docs.files import make_durable, sha256_bytes, stage
from pacte_docs.kinds import ConventionType
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Convention
from pacte_docs.rules import periods
from pacte_docs.workspace import Workspace, holding

Progress = Callable[[str, int, int], None]  # (phase, advanced by, total)


@dataclass
class Output:
    reference: str  # the output's stable name: CCAS-2024-001, CCAS-2024-001-avenant-1
    nature: str  # "convention" | "avenant"
    docx: str
    pdf: str | None
    docx_status: str  # "cree" | "regenere" | "inchange" | "fige" (a signed act's text, kept as signed)
    pdf_status: str | None

    @property
    def made(self) -> bool:
        """Whether this run wrote the DOCX or the PDF (a frozen or unchanged document is not rewritten)."""
        return self.docx_status in ("cree", "regenere") or self.pdf_status in ("cree", "regenere")


@dataclass
class GenerationReport:
    outputs: list[Output] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outputs if o.docx_status == status)


@dataclass
class _Planned:
    job: Job
    template: CompiledTemplate | None  # None for a frozen document: its template is not even read
    frozen: bool = False  # the current document is a signed act's text, never rewritten
    fingerprint: str = ""  # of the context, known once the document is rendered (or found up to date)
    data: bytes | None = None  # rendered DOCX, None when the current file is up to date
    staged: Path | None = None  # the rendered DOCX written under a temporary name next to its final one

    @property
    def convention(self) -> Convention:
        return self.job.convention

    @property
    def cle(self) -> str:
        return self.job.cle

    @property
    def nature(self) -> str:
        return self.job.nature

    @property
    def context(self) -> dict[str, Any]:
        return self.job.context

    @property
    def freeze(self) -> bool:
        return self.job.freeze


def template_name(c: Convention) -> str:
    """The template a convention is generated from: the one it names, else its kind's."""
    if c.modele:
        return c.modele
    return "convention_subvention" if context.grants_subsidy(c) else ConventionType(c.type).default_template


def select_conventions(session: Any, references: list[str], all_: bool) -> list[Convention]:
    if all_:
        return queries.conventions(session)
    if not references:
        raise UnknownReferenceError("Indiquez au moins une référence de convention, ou --toutes pour toutes les "
                                    "générer. Exemple : pacte conventions generer CCAS-2024-001")
    return [queries.convention(session, ref) for ref in dict.fromkeys(references)]


@holding("documents")
def generate(ws: Workspace, references: list[str], *, all_: bool = False, with_pdf: bool = True,
             pdfa: bool = True, progress: Progress | None = None) -> GenerationReport:
    """Render, check and write the DOCX of each convention, then its PDF; unchanged documents are skipped."""
    with ws.db.session() as session:
        conventions = select_conventions(session, references, all_)
        jobs = []
        for c in conventions:
            # a signed text is kept as signed; one that cannot name a signatory stays a draft (« PROJET »)
            jobs.append(Job(c, c.reference, "convention", template_name(c),
                            functools.partial(context.convention_context, c),
                            freeze=c.date_signature is not None and not context.unnamed_signatories(c)))
            jobs.extend(_recorded_acts(ws, c))  # made once; those a failed run left without a document are made now
        report = render_and_write(session, ws, jobs, progress)
    return finish(ws, report, with_pdf, pdfa, progress)


ACTS = ("avenant", "renouvellement", "denonciation")  # each later decision on a convention is an act of its own


def generate_avenant(ws: Workspace, reference: str, numero: int, *, with_pdf: bool = True, pdfa: bool = True,
                     progress: Progress | None = None) -> GenerationReport:
    """The DOCX (and PDF) of avenant *numero* of a convention: conventions/REF/REF-avenant-N."""
    return generate_act(ws, reference, "avenant", numero, with_pdf=with_pdf, pdfa=pdfa, progress=progress)


@holding("documents")
def generate_act(ws: Workspace, reference: str, nature: str, numero: int | None = None, *, with_pdf: bool = True,
                 pdfa: bool = True, progress: Progress | None = None) -> GenerationReport:
    """The DOCX (and PDF) of an act recorded on a convention, from modeles/<nature>.docx: avenant *numero*
    (REF-avenant-N), renewal *numero* (REF-renouvellement-N) or the dénonciation letter (REF-denonciation)."""
    with ws.db.session() as session:
        c = queries.convention(session, reference)
        report = render_and_write(session, ws, [_act_job(ws, c, nature, numero)], progress)
    return finish(ws, report, with_pdf, pdfa, progress)


def _act_job(ws: Workspace, c: Convention, nature: str, numero: int | None) -> Job:
    """The act *nature* (number *numero*) recorded on convention *c*. An act is the text sent or signed: once
    written, it is frozen like a signed convention."""
    reference = c.reference
    if nature == "avenant":
        recorded = next((a for a in c.avenants if a.numero == numero), None)
        if recorded is None:
            raise UnknownReferenceError(f"La convention {reference} n'a pas d'avenant n° {numero}.")
        changes = list(recorded.modifications or [])

        def build() -> dict[str, Any]:
            titles = article_titles(ws, c) if changes else {}
            return context.avenant_context(c, recorded.numero, recorded.objet, recorded.date, recorded.nouvelle_fin,
                                           recorded.deliberation_numero, recorded.deliberation_date, changes, titles)
        return Job(c, f"{reference}-avenant-{numero}", nature, nature, build,
                   freeze=not context.act_gaps(c, nature))
    if nature == "renouvellement":
        if not any(r.numero == numero for r in c.renouvellements):
            raise UnknownReferenceError(f"La convention {reference} n'a pas de renouvellement n° {numero}.")
        return Job(c, f"{reference}-renouvellement-{numero}", nature, nature,
                   functools.partial(context.renouvellement_context, c, int(numero or 0)),
                   freeze=not context.act_gaps(c, nature))
    if nature == "denonciation":
        if c.date_denonciation is None:
            raise UnknownReferenceError(f"La convention {reference} n'a pas été dénoncée.")
        cited = [(number, article.titre) for number, article in articles(ws, c).items()
                 if _TERMINATION.search(article.titre)]
        return Job(c, f"{reference}-denonciation", nature, nature,
                   functools.partial(context.denonciation_context, c, cited),
                   freeze=not context.act_gaps(c, nature))
    if nature == "bordereau":  # the circuit and the signature of an act signed in pacte (services.esignature)
        def bordereau() -> dict[str, Any]:
            from pacte_docs.services import circuit

            session = object_session(c)
            assert session is not None  # the convention was read in a session still open
            steps, copy = circuit.bordereau(session, ws, c)
            return context.bordereau_context(c, periods.today(), steps, circuit.steps(ws), copy)
        return Job(c, f"{reference}-bordereau", nature, nature, bordereau, freeze=True)
    raise ValueError(f"unknown act {nature!r}; acts: {', '.join(ACTS)}")


def reminder_job(c: Convention, numero: int, day: dt.date, lines: list[dict[str, Any]]) -> Job:
    """Reminder letter *numero* of a convention, dated *day*, for the documents *lines* its partner is late with
    (services.pieces.relancer): conventions/REF/REF-relance-N, from modeles/relance.docx; a letter once written is
    the letter sent, frozen like an act."""
    return Job(c, f"{c.reference}-relance-{numero}", "relance", "relance",
               functools.partial(context.relance_context, c, numero, day, lines),
               freeze=not context.act_gaps(c, "relance"))


# the articles a letter of dénonciation relies on: the convention's term and its dénonciation
_TERMINATION = re.compile(r"\b(?:durée|dénonciation)\b", re.IGNORECASE)
_ARTICLE = re.compile(r"^Article\s+(\d+)(?:er)?((?:\s+(?:bis|ter|quater))?)\s*[–—-]\s*(.+?)\s*$")


@dataclass(frozen=True)
class Article:
    titre: str
    texte: str  # its paragraphs, as the text gives them (typeset: non-breaking spaces, typographic apostrophes)


def articles(ws: Workspace, c: Convention) -> dict[str, Article]:
    """The articles of the convention's text, by number (« 5 » → « Dispositions financières » and its
    paragraphs): those of its recorded DOCX (the signed text, once signed), else of its text rendered in memory
    from its template."""
    from docx import Document as DocxDocument

    data = None
    with ws.db.session() as session:
        documents = DocumentStore(session, ws)
        recorded = documents.current(c.reference, "convention", "docx")
        if recorded is not None:
            data = documents.intact_bytes(recorded)
    if data is None:
        data = TemplateCache(ws).get(template_name(c)).render(context.convention_context(c))
    found: dict[str, tuple[str, list[str]]] = {}
    current: list[str] | None = None
    for paragraph in DocxDocument(io.BytesIO(data)).paragraphs:
        heading = _ARTICLE.match(paragraph.text.replace("\u00a0", " ").replace("\u2011", "-"))
        if heading:
            current = []
            found[(heading.group(1) + heading.group(2)).strip()] = (heading.group(3), current)
        elif current is not None:
            current.append(paragraph.text)
    return {number: Article(title, "\n".join(lines)) for number, (title, lines) in found.items()}


def article_titles(ws: Workspace, c: Convention) -> dict[str, str]:
    """The articles' titles, by number (« 5 » → « Dispositions financières »)."""
    return {number: article.titre for number, article in articles(ws, c).items()}


def _recorded_acts(ws: Workspace, c: Convention) -> list[Job]:
    """Every act recorded on a convention: its avenants, its renewals, its dénonciation."""
    jobs = [_act_job(ws, c, "avenant", a.numero) for a in c.avenants]
    if c.renouvellement == "expresse":
        jobs += [_act_job(ws, c, "renouvellement", r.numero) for r in c.renouvellements]
    if c.date_denonciation is not None:
        jobs.append(_act_job(ws, c, "denonciation", None))
    if c.date_signature is not None and c.signature_electronique:  # signed in pacte: its bordereau is an act
        jobs.append(_act_job(ws, c, "bordereau", None))
    return jobs


@dataclass
class Job:
    """A document to produce: of which convention, under which name, from which template and data."""

    convention: Convention
    cle: str  # CCAS-2024-001, CCAS-2024-001-avenant-1, CCAS-2024-001-renouvellement-1
    nature: str  # convention | avenant | renouvellement | denonciation
    template: str
    build: Callable[[], dict[str, Any]]  # its context, built when the document is rendered (while others render)
    freeze: bool = False  # a signed act: its text, once written, stays the current document

    @functools.cached_property
    def context(self) -> dict[str, Any]:
        return self.build()


def render_and_write(session: Any, ws: Workspace, jobs: list[Job], progress: Progress | None) -> GenerationReport:
    report = GenerationReport()
    cache = TemplateCache(ws)
    documents = DocumentStore(session, ws)
    for nature in {j.nature for j in jobs}:
        documents.load([j.cle for j in jobs if j.nature == nature], nature)
    plans = []
    altered = []
    for job in jobs:
        current = documents.current(job.cle, job.nature, "docx")
        frozen = current is not None and current.fige
        if frozen and current is not None and not documents.is_intact(current):
            altered.append(current)
        plans.append(_Planned(job, cache.get(job.template) if not frozen else None, frozen))
    if altered:  # a signed text is never rewritten: one changed on the disk is said, and nothing is done
        raise IntegrityError(
            "Texte signé modifié ou absent sur le disque : "
            + " ; ".join(f"{d.chemin} (empreinte SHA-256 enregistrée : {d.sha256})" for d in altered)
            + ". pacte ne le réécrit jamais. Remettez le fichier enregistré depuis la sauvegarde de l'espace (son "
              "empreinte doit redevenir celle-ci) ; le texte qui fait foi est celui de la copie signée archivée "
              "(archives/conventions/). Rien n'a été produit.")
    _check_and_render(documents, plans, progress)
    for plan in plans:
        missing = context.blanks(plan.context) if plan.nature == "convention" and not plan.frozen else []
        if missing:
            report.notes.append(f"{plan.cle} : {len(missing)} blanc{'s' if len(missing) > 1 else ''} à remplir à "
                                f"la main ({', '.join(b.what for b in missing)}) ; pour que le texte les donne, "
                                "complétez le classeur ou le fichier d'import puis réimportez-le :\n"
                                + "\n".join(f"    – {blank}" for blank in missing))
        unnamed = context.unnamed_signatories(plan.convention, plan.nature) if not plan.frozen else []
        if unnamed and (plan.nature != "convention" or plan.convention.date_signature is not None):
            said = "signée, mais le texte" if plan.nature == "convention" else "l'acte"
            report.notes.append(f"{plan.cle} : {said} reste marqué « PROJET » tant qu'il lui manque "
                                f"{', '.join(unnamed)} : un acte donne les prénom, nom et qualité de chaque "
                                "signataire (CRPA, art. L. 212-1).")
        undecided = context.act_gaps(plan.convention, plan.nature)[len(unnamed):] if not plan.frozen else []
        if undecided:
            report.notes.append(f"{plan.cle} : l'acte reste marqué « PROJET » tant qu'il lui manque "
                                f"{', '.join(undecided)} ; pour le compléter : pacte conventions denoncer "
                                f"{plan.convention.reference} --date {plan.convention.date_denonciation} "
                                "--deliberation NUMERO --date-deliberation AAAA-MM-JJ")
        shown = plan.context.get("convention", {})
        if plan.nature == "convention" and not plan.frozen and shown.get("subvention_association") \
                and not shown.get("versements"):
            report.notes.append(
                f"{plan.cle} : subvention de plus de 23 000 € par an à une association sans échéancier de "
                "versement ; la convention renvoie au comité de suivi. Le décret n° 2001-495 demande les conditions "
                "de versement : ajoutez « versements » (un par ligne, « 50 % à la signature de la convention ») "
                "et réimportez.")
    _write_docx(documents, plans, report)
    documents.write_sums()
    report.notes.extend(documents.notes)
    return report


def finish(ws: Workspace, report: GenerationReport, with_pdf: bool, pdfa: bool,
           progress: Progress | None) -> GenerationReport:
    if with_pdf:
        with ws.db.session() as session:
            documents = DocumentStore(session, ws)
            _convert(documents, report, pdfa, progress)
            documents.write_sums()
            report.notes.extend(documents.notes)
    return report


def _check_and_render(documents: DocumentStore, plans: list[_Planned], progress: Progress | None) -> None:
    """Build each document's context, check its variables and render it in memory if it changed; each rendered
    text is staged (written under a temporary name) while the others render. On any missing variable or
    rendering error, nothing is kept: the staged files are removed and the current documents are untouched."""
    todo: list[_Planned] = []

    def work() -> Iterator[tuple[CompiledTemplate, dict[str, Any], str | None]]:
        for plan in plans:
            if plan.template is None:  # a signed text, kept: its fingerprint only tells whether the data moved on
                plan.fingerprint = context.fingerprint(plan.context)
                if progress:
                    progress("docx", 1, len(plans))
                continue
            current = documents.current(plan.cle, plan.nature, "docx")
            same_template = documents.is_up_to_date(current, modele_sha256=plan.template.sha256)
            todo.append(plan)
            yield plan.template, plan.context, current.empreinte if current is not None and same_template else None

    missing: dict[tuple[str, str], list[str]] = {}
    errors = []
    try:
        for count, result in enumerate(render_all(work(), documents.ws.config.pdf_processes,
                                                  [p.template for p in plans if p.template is not None])):
            plan = todo[count]
            plan.fingerprint = result.fingerprint
            if progress:
                progress("docx", 1, len(plans))
            if result.missing and plan.template is not None:
                for path in result.missing:
                    missing.setdefault((plan.template.name, path), []).append(plan.cle)
            elif result.error is not None:
                errors.append(f"  • {plan.cle} : {result.error}")
            elif result.data is not None:
                plan.data = result.data
                if not errors and not missing:  # written while the others render; made durable with the batch
                    plan.staged = stage(_docx_target(documents, plan), result.data, sync=False)
        if missing:
            raise missing_variables(missing)
        if errors:
            raise TemplateError("Aucun document n'a été écrit :\n" + "\n".join(errors))
    except BaseException:
        _unstage(plans)
        raise


def _docx_target(documents: DocumentStore, plan: _Planned) -> Path:
    path = documents.ws.conventions / plan.convention.reference / f"{plan.cle}.docx"
    documents.relative(path)  # inside the workspace, whatever links are on the way
    return path


def _unstage(plans: list[_Planned]) -> None:
    """Remove every temporary file of the batch: those moved into place are gone already."""
    for plan in plans:
        if plan.staged is not None:
            plan.staged.unlink(missing_ok=True)
            plan.staged = None


PARALLEL_FROM = 24  # below this, starting worker processes costs more than it saves
_WORKER_TEMPLATES: list[CompiledTemplate] = []


@dataclass(frozen=True)
class Rendered:
    """What became of one document: its context's fingerprint, and its variables absent from the data, or the
    error of its rendering, or its DOCX (None when the fingerprint is the current document's)."""

    fingerprint: str
    missing: tuple[str, ...] = ()
    error: TemplateError | None = None
    data: bytes | None = None


def _render_one(template: CompiledTemplate, ctx: dict[str, Any], current: str | None) -> Rendered:
    """Check and render one document (in a worker process when there are many): *current* is the fingerprint of
    the document on disk, made from the same template; the same fingerprint means nothing to render."""
    fingerprint = context.fingerprint(ctx)
    missing = template.missing(ctx)
    if missing:
        return Rendered(fingerprint, tuple(missing))
    if fingerprint == current:
        return Rendered(fingerprint)
    try:
        return Rendered(fingerprint, data=template.render(ctx))
    except TemplateError as exc:
        return Rendered(fingerprint, error=exc)


def _render_chunk(chunk: list[tuple[int, dict[str, Any], str | None]]) -> list[Rendered]:
    return [_render_one(_WORKER_TEMPLATES[index], ctx, current) for index, ctx, current in chunk]


def render_all(jobs: Iterable[tuple[CompiledTemplate, dict[str, Any], str | None]], processes: int,
               templates: list[CompiledTemplate]) -> Iterator[Rendered]:
    """Check and render every (template, context, current fingerprint), in order, as `_render_one`. With many
    documents (*templates* lists one per document) and several cores, the workers — forked once the templates
    are compiled, so that they inherit them — render a share each while the caller builds the next contexts
    and writes what comes back."""
    workers = min(processes, os.cpu_count() or 1)
    if len(templates) < PARALLEL_FROM or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for template, ctx, current in jobs:
            yield _render_one(template, ctx, current)
        return
    distinct = list({id(t): t for t in templates}.values())
    for template in distinct:
        template.prepare()  # parsed and compiled once, before the workers are forked
    index = {id(t): i for i, t in enumerate(distinct)}
    _WORKER_TEMPLATES[:] = distinct
    size = max(1, min(32, len(templates) // (workers * 4)))
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pending: deque[Any] = deque()
            chunk: list[tuple[int, dict[str, Any], str | None]] = []
            for template, ctx, current in jobs:
                chunk.append((index[id(template)], ctx, current))
                if len(chunk) == size:
                    pending.append(pool.apply_async(_render_chunk, (chunk,)))
                    chunk = []
                    while pending and pending[0].ready():
                        yield from pending.popleft().get()
            if chunk:
                pending.append(pool.apply_async(_render_chunk, (chunk,)))
            while pending:
                yield from pending.popleft().get()
    finally:
        _WORKER_TEMPLATES.clear()


def _write_docx(documents: DocumentStore, plans: list[_Planned], report: GenerationReport) -> None:
    """Every new text is on disk under a temporary name next to its final one (staged while rendering), made
    durable at once for the batch (`make_durable`), and only then moved into place and recorded. On a failure
    (a full disk), what was staged is removed and the current documents are untouched."""
    try:
        for plan in plans:
            if plan.data is not None and not plan.frozen and plan.staged is None:
                plan.staged = stage(_docx_target(documents, plan), plan.data, sync=False)
        make_durable([plan.staged for plan in plans if plan.staged is not None])
        _record_docx(documents, plans, report)
    finally:
        _unstage(plans)  # moved into place, or left by a failure: never kept under a temporary name


def _record_docx(documents: DocumentStore, plans: list[_Planned], report: GenerationReport) -> None:
    ws = documents.ws
    for plan in plans:
        ref, cle = plan.convention.reference, plan.cle
        target = ws.conventions / ref / f"{cle}.docx"
        if plan.frozen:
            current = documents.current(cle, plan.nature, "docx")
            if current is not None and current.empreinte != plan.fingerprint:
                report.notes.append(
                    f"{cle} : le texte signé reste celui du document enregistré ({current.chemin}) ; les données "
                    f"ont changé depuis. Pour modifier une clause d'un acte signé, passez par un avenant "
                    f"(pacte conventions avenant {ref} …).")
            report.outputs.append(Output(cle, plan.nature, ws.relative(target), None, "fige", None))
            continue
        if plan.data is None or plan.staged is None:
            report.outputs.append(Output(cle, plan.nature, ws.relative(target), None, "inchange", None))
            continue
        folder = ws.archives / "conventions" / ref
        regenerated = documents.current(cle, plan.nature, "docx") is not None
        documents.retire(cle, plan.nature, "pdf", folder)  # made from the previous text, it no longer matches
        document = documents.put(target, plan.staged, cle=cle, nature=plan.nature, folder=folder,
                                 convention_id=plan.convention.id, sha256=sha256_bytes(plan.data),
                                 modele_sha256=plan.template.sha256 if plan.template else None,
                                 empreinte=plan.fingerprint, fige=plan.freeze)
        journal.record(documents.session, plan.convention, "generation",
                       f"Document {'régénéré' if regenerated else 'produit'} : {document.chemin} "
                       f"(version {document.version}).", document=document.chemin, sha256=document.sha256)
        report.outputs.append(Output(cle, plan.nature, document.chemin, None, "regenere" if regenerated else "cree",
                                     None))
    documents.session.flush()


def _convert(documents: DocumentStore, report: GenerationReport, pdfa: bool, progress: Progress | None) -> None:
    ws = documents.ws
    todo: list[tuple[Output, Any]] = []
    for nature in {o.nature for o in report.outputs}:
        documents.load([o.reference for o in report.outputs if o.nature == nature], nature)
    for output in report.outputs:
        docx_record = documents.current(output.reference, output.nature, "docx")
        if docx_record is None:
            continue
        output.pdf = ws.relative(ws.root / output.docx).removesuffix(".docx") + ".pdf"
        current_pdf = documents.current(output.reference, output.nature, "pdf")
        if docx_record.fige and documents.is_up_to_date(current_pdf, source_sha256=docx_record.sha256):
            output.pdf_status = "fige"  # the signed act's PDF, PDF/A or not, is kept as it is
            if pdfa and current_pdf is not None and not current_pdf.pdfa:
                report.notes.append(f"{output.reference} : le PDF du texte signé est gardé tel quel ; il n'est pas "
                                    "refait en PDF/A.")
            continue
        if documents.is_up_to_date(current_pdf, source_sha256=docx_record.sha256, pdfa=pdfa):
            output.pdf_status = "inchange"
            continue
        todo.append((output, docx_record))
    if todo:
        _convert_batch(documents, report, todo, pdfa, progress)


SIGNED_ACTS = ("convention", "avenant", "renouvellement")


def _keep_signature_with_text(ws: Workspace, sources: list[Path], converted: dict[Path, Path], tmp: Path,
                              pdfa: bool) -> None:
    """Lay out again, last article on a new page, the acts (DOCX *sources*) whose signature block LibreOffice left
    apart from the last article (see `signature_page`); the recorded DOCX is unchanged."""
    again: dict[Path, Path] = {}
    for source in sources:
        data = source.read_bytes()
        heading = signature_page.last_heading(data)
        if heading and signature_page.signature_apart(converted[source], heading):
            copy = tmp / "mise-en-page" / source.name
            copy.parent.mkdir(exist_ok=True)
            copy.write_bytes(signature_page.break_before_last_heading(data))
            again[copy] = source
    if again:
        redone = pdf.convert(list(again), tmp / "mise-en-page" / "pdf", pdfa=pdfa,
                             processes=ws.config.pdf_processes, timeout=ws.config.pdf_timeout)
        for copy, source in again.items():
            converted[source] = redone[copy]


def final_text(ws: Workspace, reference: str, day: dt.date) -> tuple[bytes, bytes]:
    """The DOCX and PDF/A of a draft convention as it reads once signed on *day* (no « PROJET », the date of
    signature given), made in the scratch space, nothing recorded: the text the Département signs
    electronically (services.esignature), which the signed text generated afterwards repeats."""
    with ws.db.session() as session:
        c = queries.convention(session, reference)
        # for this text only: the session is rolled back, never committed
        c.date_signature, c.signature_electronique = day, True
        try:
            ctx = context.convention_context(c)
            template = TemplateCache(ws).get(template_name(c))
            missing = template.missing(ctx)
            if missing:
                raise missing_variables({(template.name, path): [reference] for path in missing})
            data = template.render(ctx)
        finally:
            session.rollback()
    with ws.scratch("signature-") as tmp:
        source = Path(tmp) / f"{reference}.docx"
        source.write_bytes(data)
        converted = pdf.convert([source], Path(tmp) / "pdf", pdfa=True, processes=1, timeout=ws.config.pdf_timeout)
        _keep_signature_with_text(ws, [source], converted, Path(tmp), True)
        return data, converted[source].read_bytes()


def _convert_batch(documents: DocumentStore, report: GenerationReport, todo: list[tuple[Output, Any]],
                   pdfa: bool, progress: Progress | None) -> None:
    ws, session = documents.ws, documents.session
    with ws.scratch("pdf-") as tmp:
        def done(count: int) -> None:
            if progress:
                progress("pdf", count, len(todo))

        converted = pdf.convert([ws.root / o.docx for o, _ in todo], Path(tmp), pdfa=pdfa,
                                processes=ws.config.pdf_processes, timeout=ws.config.pdf_timeout, on_done=done)
        _keep_signature_with_text(ws, [ws.root / o.docx for o, _ in todo if o.nature in SIGNED_ACTS], converted,
                                  Path(tmp), pdfa)
        for output, docx_record in todo:
            folder = ws.archives / "conventions" / Path(output.docx).parent.name
            document = documents.put(
                ws.root / str(output.pdf), converted[ws.root / output.docx], cle=output.reference,
                nature=output.nature, folder=folder, convention_id=docx_record.convention_id,
                modele_sha256=docx_record.modele_sha256, source_sha256=docx_record.sha256,
                empreinte=docx_record.empreinte, pdfa=pdfa, fige=docx_record.fige)
            convention = session.get(Convention, docx_record.convention_id)
            if convention is not None:
                journal.record(session, convention, "generation",
                               f"PDF{'/A' if pdfa else ''} produit : {document.chemin}.",
                               document=document.chemin, sha256=document.sha256)
            session.flush()
            # its predecessor may have been archived already, by the DOCX's regeneration
            output.pdf_status = "cree" if document.version == 1 else "regenere"
