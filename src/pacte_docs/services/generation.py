"""`pacte conventions generer`: render DOCX from the templates, convert to PDF, archive and record everything."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pacte_docs.documents import context, pdf, signature_page
from pacte_docs.documents.rendering import CompiledTemplate, TemplateCache, missing_variables
from pacte_docs.documents.store import DocumentStore
from pacte_docs.errors import TemplateError, UnknownReferenceError
from pacte_docs.files import make_durable, sha256_bytes, stage
from pacte_docs.kinds import ConventionType
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Convention
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
    convention: Convention
    cle: str
    nature: str
    template: CompiledTemplate | None  # None for a frozen document: its template is not even read
    context: dict[str, Any]
    fingerprint: str
    freeze: bool = False  # the text of a signed act: once written, never rewritten
    frozen: bool = False  # the current document is such a text
    data: bytes | None = None  # rendered DOCX, None when the current file is up to date
    staged: Path | None = None  # the rendered DOCX written under a temporary name next to its final one


def template_name(c: Convention) -> str:
    return c.modele or ConventionType(c.type).default_template


def select_conventions(session: Any, references: list[str], all_: bool) -> list[Convention]:
    if all_:
        return queries.conventions(session)
    if not references:
        raise UnknownReferenceError("Indiquez au moins une référence de convention, ou --toutes pour toutes les "
                                    "générer. Exemple : pacte conventions generer CCAS-2024-001")
    return [queries.convention(session, ref) for ref in dict.fromkeys(references)]


@holding("documents")
def generate(ws: Workspace, references: list[str], *, all_: bool = False, with_pdf: bool = True,
             pdfa: bool = False, progress: Progress | None = None) -> GenerationReport:
    """Render, check and write the DOCX of each convention, then its PDF; unchanged documents are skipped."""
    with ws.db.session() as session:
        conventions = select_conventions(session, references, all_)
        jobs = []
        for c in conventions:
            jobs.append(Job(c, c.reference, "convention", template_name(c), context.convention_context(c),
                            freeze=c.date_signature is not None))
            jobs.extend(_recorded_acts(c))  # made once; those a failed run left without a document are made now
        report = _render_and_write(session, ws, jobs, progress)
    return _finish(ws, report, with_pdf, pdfa, progress)


ACTS = ("avenant", "renouvellement", "denonciation")  # each later decision on a convention is an act of its own


def generate_avenant(ws: Workspace, reference: str, numero: int, *, with_pdf: bool = True, pdfa: bool = False,
                     progress: Progress | None = None) -> GenerationReport:
    """The DOCX (and PDF) of avenant *numero* of a convention: conventions/REF/REF-avenant-N."""
    return generate_act(ws, reference, "avenant", numero, with_pdf=with_pdf, pdfa=pdfa, progress=progress)


@holding("documents")
def generate_act(ws: Workspace, reference: str, nature: str, numero: int | None = None, *, with_pdf: bool = True,
                 pdfa: bool = False, progress: Progress | None = None) -> GenerationReport:
    """The DOCX (and PDF) of an act recorded on a convention, from modeles/<nature>.docx: avenant *numero*
    (REF-avenant-N), renewal *numero* (REF-renouvellement-N) or the dénonciation letter (REF-denonciation)."""
    with ws.db.session() as session:
        c = queries.convention(session, reference)
        report = _render_and_write(session, ws, [_act_job(c, nature, numero)], progress)
    return _finish(ws, report, with_pdf, pdfa, progress)


def _act_job(c: Convention, nature: str, numero: int | None) -> Job:
    """The act *nature* (number *numero*) recorded on convention *c*. An act is the text sent or signed: once
    written, it is frozen like a signed convention."""
    reference = c.reference
    if nature == "avenant":
        recorded = next((a for a in c.avenants if a.numero == numero), None)
        if recorded is None:
            raise UnknownReferenceError(f"La convention {reference} n'a pas d'avenant n° {numero}.")
        ctx = context.avenant_context(c, recorded.numero, recorded.objet, recorded.date, recorded.nouvelle_fin,
                                      recorded.deliberation_numero, recorded.deliberation_date,
                                      list(recorded.modifications or []))
        return Job(c, f"{reference}-avenant-{numero}", nature, nature, ctx, freeze=True)
    if nature == "renouvellement":
        if not any(r.numero == numero for r in c.renouvellements):
            raise UnknownReferenceError(f"La convention {reference} n'a pas de renouvellement n° {numero}.")
        return Job(c, f"{reference}-renouvellement-{numero}", nature, nature,
                   context.renouvellement_context(c, int(numero or 0)), freeze=True)
    if nature == "denonciation":
        if c.date_denonciation is None:
            raise UnknownReferenceError(f"La convention {reference} n'a pas été dénoncée.")
        return Job(c, f"{reference}-denonciation", nature, nature, context.denonciation_context(c), freeze=True)
    raise ValueError(f"unknown act {nature!r}; acts: {', '.join(ACTS)}")


def _recorded_acts(c: Convention) -> list[Job]:
    """Every act recorded on a convention: its avenants, its renewals, its dénonciation."""
    jobs = [_act_job(c, "avenant", a.numero) for a in c.avenants]
    if c.renouvellement == "expresse":
        jobs += [_act_job(c, "renouvellement", r.numero) for r in c.renouvellements]
    if c.date_denonciation is not None:
        jobs.append(_act_job(c, "denonciation", None))
    return jobs


@dataclass
class Job:
    """A document to produce: of which convention, under which name, from which template and data."""

    convention: Convention
    cle: str  # CCAS-2024-001, CCAS-2024-001-avenant-1, CCAS-2024-001-renouvellement-1
    nature: str  # convention | avenant | renouvellement | denonciation
    template: str
    context: dict[str, Any]
    freeze: bool = False  # a signed act: its text, once written, stays the current document


def _render_and_write(session: Any, ws: Workspace, jobs: list[Job], progress: Progress | None) -> GenerationReport:
    report = GenerationReport()
    cache = TemplateCache(ws)
    documents = DocumentStore(session, ws)
    for nature in {j.nature for j in jobs}:
        documents.load([j.cle for j in jobs if j.nature == nature], nature)
    plans = []
    for job in jobs:
        current = documents.current(job.cle, job.nature, "docx")
        frozen = current is not None and current.fige
        plans.append(_Planned(job.convention, job.cle, job.nature, cache.get(job.template) if not frozen else None,
                              job.context, context.fingerprint(job.context), job.freeze, frozen))
    _check_and_render(documents, plans, progress)
    for plan in plans:
        missing = context.blanks(plan.context) if plan.nature == "convention" and not plan.frozen else []
        if missing:
            report.notes.append(f"{plan.cle} : {len(missing)} blanc{'s' if len(missing) > 1 else ''} à remplir à "
                                f"la main ({', '.join(b.what for b in missing)}) ; pour que le texte les donne, "
                                "complétez le classeur ou le fichier d'import puis réimportez-le :\n"
                                + "\n".join(f"    – {blank}" for blank in missing))
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


def _finish(ws: Workspace, report: GenerationReport, with_pdf: bool, pdfa: bool,
            progress: Progress | None) -> GenerationReport:
    if with_pdf:
        with ws.db.session() as session:
            documents = DocumentStore(session, ws)
            _convert(documents, report, pdfa, progress)
            documents.write_sums()
            report.notes.extend(documents.notes)
    return report


def _check_and_render(documents: DocumentStore, plans: list[_Planned], progress: Progress | None) -> None:
    """Check every document's variables, then render the changed ones in memory: nothing is written yet."""
    missing: dict[tuple[str, str], list[str]] = {}
    for plan in plans:
        if plan.template is not None:
            for path in plan.template.missing(plan.context):
                missing.setdefault((plan.template.name, path), []).append(plan.cle)
    if missing:
        raise missing_variables(missing)
    todo = []
    shas = _template_shas(plans)
    for plan in plans:
        if plan.template is None or documents.is_up_to_date(
                documents.current(plan.cle, plan.nature, "docx"), empreinte=plan.fingerprint,
                modele_sha256=shas[id(plan.template)]):
            if progress:
                progress("docx", 1, len(plans))
        else:
            todo.append(plan)
    errors = []
    try:
        for plan, result in zip(todo, render_all([(p.template, p.context) for p in todo if p.template is not None],
                                                 documents.ws.config.pdf_processes,
                                                 lambda n: progress("docx", n, len(plans)) if progress else None),
                                strict=True):
            if isinstance(result, TemplateError):
                errors.append(f"  • {plan.cle} : {result}")
            else:
                plan.data = result
                if not errors:  # written while the other documents render; made durable with the batch
                    plan.staged = stage(_docx_target(documents.ws, plan), result, sync=False)
        if errors:
            raise TemplateError("Aucun document n'a été écrit :\n" + "\n".join(errors))
    except BaseException:
        _unstage(plans)
        raise


def _docx_target(ws: Workspace, plan: _Planned) -> Path:
    return ws.confined(ws.conventions / plan.convention.reference / f"{plan.cle}.docx")


def _unstage(plans: list[_Planned]) -> None:
    """Remove every temporary file of the batch: those moved into place are gone already."""
    for plan in plans:
        if plan.staged is not None:
            plan.staged.unlink(missing_ok=True)
            plan.staged = None


PARALLEL_FROM = 24  # below this, starting worker processes costs more than it saves
_WORKER_TEMPLATES: list[CompiledTemplate] = []


def _render_in_worker(job: tuple[int, dict[str, Any]]) -> bytes | TemplateError:
    index, ctx = job
    try:
        return _WORKER_TEMPLATES[index].render(ctx)
    except TemplateError as exc:
        return exc


def render_all(jobs: list[tuple[CompiledTemplate, dict[str, Any]]], processes: int,
               advance: Callable[[int], None] | None = None) -> list[bytes | TemplateError]:
    """Render every (template, context), in order; on several cores, in worker processes that inherit the
    compiled templates (fork), each given a share of the documents."""
    workers = min(processes, os.cpu_count() or 1)
    if len(jobs) < PARALLEL_FROM or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        results: list[bytes | TemplateError] = []
        for template, ctx in jobs:
            try:
                results.append(template.render(ctx))
            except TemplateError as exc:
                results.append(exc)
            if advance:
                advance(1)
        return results
    templates = list({id(t): t for t, _ in jobs}.values())
    for template in templates:
        template.prepare()  # parsed and compiled once, before the workers are forked
    index = {id(t): i for i, t in enumerate(templates)}
    _WORKER_TEMPLATES[:] = templates
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = []
            chunk = max(1, min(64, len(jobs) // (workers * 4)))
            for result in pool.imap(_render_in_worker, [(index[id(t)], c) for t, c in jobs], chunksize=chunk):
                results.append(result)
                if advance:
                    advance(1)
            return results
    finally:
        _WORKER_TEMPLATES.clear()


def _template_shas(plans: list[_Planned]) -> dict[int, str]:
    templates = {id(p.template): p.template for p in plans if p.template is not None}
    return {key: sha256_bytes(template.data) for key, template in templates.items()}


def _write_docx(documents: DocumentStore, plans: list[_Planned], report: GenerationReport) -> None:
    """Every new text is on disk under a temporary name next to its final one (staged while rendering), made
    durable at once for the batch (`make_durable`), and only then moved into place and recorded. On a failure
    (a full disk), what was staged is removed and the current documents are untouched."""
    shas = _template_shas(plans)
    try:
        for plan in plans:
            if plan.data is not None and not plan.frozen and plan.staged is None:
                plan.staged = stage(_docx_target(documents.ws, plan), plan.data, sync=False)
        make_durable([plan.staged for plan in plans if plan.staged is not None])
        _record_docx(documents, plans, report, shas)
    finally:
        _unstage(plans)  # moved into place, or left by a failure: never kept under a temporary name


def _record_docx(documents: DocumentStore, plans: list[_Planned], report: GenerationReport,
                 shas: dict[int, str]) -> None:
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
                                 modele_sha256=shas[id(plan.template)], empreinte=plan.fingerprint, fige=plan.freeze)
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


def _keep_signature_with_text(ws: Workspace, todo: list[tuple[Output, Any]], converted: dict[Path, Path],
                              tmp: Path, pdfa: bool) -> None:
    """Lay out again, last article on a new page, the acts whose signature block LibreOffice left apart from the
    last article (see `signature_page`); the recorded DOCX is unchanged."""
    again: dict[Path, Path] = {}
    for output, _ in todo:
        source = ws.root / output.docx
        if output.nature not in SIGNED_ACTS:
            continue
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


def _convert_batch(documents: DocumentStore, report: GenerationReport, todo: list[tuple[Output, Any]],
                   pdfa: bool, progress: Progress | None) -> None:
    ws, session = documents.ws, documents.session
    with ws.scratch("pdf-") as tmp:
        def done(count: int) -> None:
            if progress:
                progress("pdf", count, len(todo))

        converted = pdf.convert([ws.root / o.docx for o, _ in todo], Path(tmp), pdfa=pdfa,
                                processes=ws.config.pdf_processes, timeout=ws.config.pdf_timeout, on_done=done)
        _keep_signature_with_text(ws, todo, converted, Path(tmp), pdfa)
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
