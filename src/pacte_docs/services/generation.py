"""`pacte conventions generer`: render DOCX from the templates, convert to PDF, archive and record everything."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pacte_docs import files
from pacte_docs.documents import context, pdf, store
from pacte_docs.documents.rendering import CompiledTemplate, make_environment
from pacte_docs.errors import TemplateError, UnknownReferenceError
from pacte_docs.files import sha256_bytes
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
    docx_status: str  # "cree" | "regenere" | "inchange"
    pdf_status: str | None


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
    template: CompiledTemplate
    context: dict[str, Any]
    fingerprint: str
    data: bytes | None = None  # rendered DOCX, None when the current file is up to date


class TemplateCache:
    """Each template file is read, parsed and checked once per run."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.env = make_environment()
        self._loaded: dict[str, CompiledTemplate] = {}

    def get(self, name: str) -> CompiledTemplate:
        if name not in self._loaded:
            path = self.ws.modeles / f"{name}.docx"
            if not path.is_file():
                raise TemplateError(
                    f"Modèle « {name} » introuvable : {path} n'existe pas. « pacte init » remet les modèles "
                    "par défaut manquants ; « pacte modeles lister » montre ceux de l'espace."
                )
            self._loaded[name] = CompiledTemplate(path, self.env)
        return self._loaded[name]


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
        jobs = [(c, c.reference, "convention", template_name(c), context.convention_context(c)) for c in conventions]
        report = _render_and_write(session, ws, jobs, progress)
    return _finish(ws, report, with_pdf, pdfa, progress)


@holding("documents")
def generate_avenant(ws: Workspace, reference: str, numero: int, *, with_pdf: bool = True, pdfa: bool = False,
                     progress: Progress | None = None) -> GenerationReport:
    """The DOCX (and PDF) of avenant *numero* of a convention: conventions/REF/REF-avenant-N."""
    with ws.db.session() as session:
        c = queries.convention(session, reference)
        recorded = next((a for a in c.avenants if a.numero == numero), None)
        if recorded is None:
            raise UnknownReferenceError(f"La convention {reference} n'a pas d'avenant n° {numero}.")
        ctx = context.avenant_context(c, recorded.numero, recorded.objet, recorded.date, recorded.nouvelle_fin)
        jobs = [(c, f"{reference}-avenant-{numero}", "avenant", "avenant", ctx)]
        report = _render_and_write(session, ws, jobs, progress)
    return _finish(ws, report, with_pdf, pdfa, progress)


def _render_and_write(session: Any, ws: Workspace, jobs: list[tuple[Convention, str, str, str, dict[str, Any]]],
                      progress: Progress | None) -> GenerationReport:
    report = GenerationReport()
    cache = TemplateCache(ws)
    plans = [_Planned(c, cle, nature, cache.get(name), ctx, context.fingerprint(ctx))
             for c, cle, nature, name, ctx in jobs]
    _check_and_render(session, ws, plans, progress)
    _write_docx(session, ws, plans, report)
    store.write_sums(session, ws)
    return report


def _finish(ws: Workspace, report: GenerationReport, with_pdf: bool, pdfa: bool,
            progress: Progress | None) -> GenerationReport:
    if with_pdf:
        with ws.db.session() as session:
            _convert(session, ws, report, pdfa, progress)
            store.write_sums(session, ws)
    return report


def missing_variables(missing: dict[tuple[str, str], list[str]]) -> TemplateError:
    """The refusal naming every (template, variable) absent from the data, with the documents concerned."""
    lines = []
    for (name, path), refs in sorted(missing.items()):
        shown = ", ".join(refs[:5]) + (f" et {len(refs) - 5} autres" if len(refs) > 5 else "")
        lines.append(f"  • modèle « {name} » : variable « {path} » absente des données ({shown})")
    return TemplateError("Aucun document n'a été écrit : des variables des modèles manquent.\n" + "\n".join(lines)
                         + "\nCorrigez le modèle (« pacte modeles verifier » liste les variables documentées) "
                           "ou complétez les données.")


def _check_and_render(session: Any, ws: Workspace, plans: list[_Planned], progress: Progress | None) -> None:
    """Check every document's variables, then render the changed ones in memory: nothing is written yet."""
    missing: dict[tuple[str, str], list[str]] = {}
    for plan in plans:
        for path in plan.template.missing(plan.context):
            missing.setdefault((plan.template.name, path), []).append(plan.cle)
    if missing:
        raise missing_variables(missing)
    todo = []
    shas = {id(t): sha256_bytes(t.data) for t in {id(p.template): p.template for p in plans}.values()}
    currents: dict[tuple[str, str, str], Any] = {}
    for nature in {p.nature for p in plans}:
        found = store.current_many(session, [p.cle for p in plans if p.nature == nature], nature)
        currents.update({(cle, nature, fmt): record for (cle, fmt), record in found.items()})
    for plan in plans:
        current = currents.get((plan.cle, plan.nature, "docx"))
        if current and current.empreinte == plan.fingerprint and current.modele_sha256 == shas[id(plan.template)] \
                and store.is_intact(ws, current):
            if progress:
                progress("docx", 1, len(plans))
        else:
            todo.append(plan)
    errors = []
    for plan, result in zip(todo, render_all([(p.template, p.context) for p in todo], ws.config.pdf_processes,
                                             lambda n: progress("docx", n, len(plans)) if progress else None),
                            strict=True):
        if isinstance(result, TemplateError):
            errors.append(f"  • {plan.cle} : {result}")
        else:
            plan.data = result
    if errors:
        raise TemplateError("Aucun document n'a été écrit :\n" + "\n".join(errors))


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


def _write_docx(session: Any, ws: Workspace, plans: list[_Planned], report: GenerationReport) -> None:
    written = [p for p in plans if p.data is not None]
    currents: dict[tuple[str, str, str], Any] = {}
    versions: dict[tuple[str, str, str], int] = {}
    for nature in {p.nature for p in written}:
        cles = [p.cle for p in written if p.nature == nature]
        currents.update({(c, nature, f): r for (c, f), r in store.current_many(session, cles, nature).items()})
        versions.update({(c, nature, f): v for (c, f), v in store.versions_many(session, cles, nature).items()})
    shas = {id(t): sha256_bytes(t.data) for t in {id(p.template): p.template for p in written}.values()}
    for plan in plans:
        ref, cle = plan.convention.reference, plan.cle
        target = ws.conventions / ref / f"{cle}.docx"
        if plan.data is None:
            report.outputs.append(Output(cle, plan.nature, ws.relative(target), None, "inchange", None))
            continue
        status = "cree"
        if (cle, plan.nature, "docx") in currents:
            status = "regenere"
            archive_folder = ws.archives / "conventions" / ref
            for fmt in ("docx", "pdf"):
                old = currents.get((cle, plan.nature, fmt))
                if old is not None:
                    note = store.archive_record(session, ws, old, archive_folder)
                    if note:
                        report.notes.append(note)
            session.flush()
        files.write_atomic(target, plan.data)
        version = versions.get((cle, plan.nature, "docx"), 0) + 1
        versions[(cle, plan.nature, "docx")] = version
        document = store.record_file(
            session, ws, target, cle=cle, nature=plan.nature, version=version, convention_id=plan.convention.id,
            data=plan.data, modele_sha256=shas[id(plan.template)], empreinte=plan.fingerprint,
        )
        journal.record(session, plan.convention, "generation",
                         f"Document {'régénéré' if status == 'regenere' else 'produit'} : {document.chemin} "
                         f"(version {document.version}).", document=document.chemin, sha256=document.sha256)
        report.outputs.append(Output(cle, plan.nature, ws.relative(target), None, status, None))
    session.flush()


def _convert(session: Any, ws: Workspace, report: GenerationReport, pdfa: bool, progress: Progress | None) -> None:
    todo: list[tuple[Output, Any]] = []
    for output in report.outputs:
        docx_record = store.current(session, output.reference, output.nature, "docx")
        if docx_record is None:
            continue
        output.pdf = ws.relative(ws.root / output.docx).removesuffix(".docx") + ".pdf"
        existing = store.current(session, output.reference, output.nature, "pdf")
        if existing and existing.source_sha256 == docx_record.sha256 and existing.pdfa == pdfa \
                and store.is_intact(ws, existing):
            output.pdf_status = "inchange"
            continue
        todo.append((output, docx_record))
    if todo:
        _convert_batch(session, ws, report, todo, pdfa, progress)


def _convert_batch(session: Any, ws: Workspace, report: GenerationReport, todo: list[tuple[Output, Any]],
                   pdfa: bool, progress: Progress | None) -> None:
    with ws.scratch("pdf-") as tmp:
        def done(count: int) -> None:
            if progress:
                progress("pdf", count, len(todo))

        converted = pdf.convert([ws.root / o.docx for o, _ in todo], Path(tmp), pdfa=pdfa,
                                processes=ws.config.pdf_processes, timeout=ws.config.pdf_timeout, on_done=done)
        for output, docx_record in todo:
            source = converted[ws.root / output.docx]
            target = ws.root / str(output.pdf)
            old = store.current(session, output.reference, output.nature, "pdf")
            if old is not None:
                folder = ws.archives / "conventions" / Path(output.docx).parent.name
                note = store.archive_record(session, ws, old, folder)
                if note:
                    report.notes.append(note)
                session.flush()
            data = source.read_bytes()
            files.move_into(source, target)
            version = store.next_version(session, output.reference, output.nature, "pdf")
            document = store.record_file(
                session, ws, target, cle=output.reference, nature=output.nature, version=version,
                convention_id=docx_record.convention_id, data=data, modele_sha256=docx_record.modele_sha256,
                source_sha256=docx_record.sha256, empreinte=docx_record.empreinte, pdfa=pdfa,
            )
            convention = session.get(Convention, docx_record.convention_id)
            if convention is not None:
                journal.record(session, convention, "generation",
                                 f"PDF{'/A' if pdfa else ''} produit : {document.chemin}.",
                                 document=document.chemin, sha256=document.sha256)
            session.flush()
            output.pdf_status = "cree" if version == 1 else "regenere"  # its predecessor may be archived already
