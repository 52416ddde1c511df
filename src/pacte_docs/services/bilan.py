"""`pacte bilan compiler ANNEE`: the annual bilan rendered from modeles/bilan_annuel.docx, converted, then
compiled with pypdf into one PDF for the Assemblée — the bilan, the conventions signed or renewed in the year,
the fiches-actions of the PDI/PTI — with a bookmark tree built from the data, every page stamped « k / n »
and the document's metadata."""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy.orm import Session

from pacte_docs import files
from pacte_docs.documents import charts, context, pdf
from pacte_docs.documents.compilation import assemble
from pacte_docs.documents.outline import Bookmark, read_bookmarks
from pacte_docs.documents.rendering import Image, TemplateCache, missing_variables
from pacte_docs.documents.store import DocumentStore
from pacte_docs.errors import PacteError, TemplateError, UnknownReferenceError
from pacte_docs.files import sha256_bytes
from pacte_docs.formatting import date_courte
from pacte_docs.intake.exporter import keep_text
from pacte_docs.registry import queries
from pacte_docs.registry.models import Convention, Pacte, Realisation
from pacte_docs.rules import aggregation, periods, revisions
from pacte_docs.rules.aggregation import FIGURES
from pacte_docs.services import generation, pdi_pti, suivi
from pacte_docs.workspace import Workspace, holding

NATURE = "bilan"
TEMPLATE = "bilan_annuel"
ETAPE_TEMPLATE = "bilan_etape"


@dataclass
class BilanReport:
    annee: int
    chemin: str
    status: str  # "cree" | "regenere" | "inchange"
    pages: int = 0
    annexes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    copie: str | None = None  # the copy written where --sortie said
    etape: bool = False  # the mid-course bilan d'étape


# ---------------------------------------------------------------- gathering the data

def pacte_for_year(session: Session, annee: int, departement: str | None) -> Pacte:
    """The PDI/PTI whose period covers *annee* (for the département given when there are several)."""
    found = [p for p in queries.pactes(session) if p.periode_debut <= annee <= p.periode_fin
             and (departement is None or p.departement.code == departement)]
    if not found:
        raise UnknownReferenceError(
            f"Aucun PDI/PTI du registre ne couvre l'année {annee}"
            + (f" pour le département {departement}" if departement else "")
            + " : le bilan se fait au regard d'un PDI/PTI. Importez-le (section « pacte ») ou vérifiez l'année.")
    if len(found) > 1:
        raise UnknownReferenceError(
            f"Plusieurs PDI/PTI couvrent l'année {annee} (" + ", ".join(f"{p.reference}, département "
                                                                         f"{p.departement.code}" for p in found)
            + ") : indiquez le département avec --departement.")
    return found[0]


def figures(rows: list[Realisation]) -> dict[str, aggregation.Chiffres]:
    return {r.cible: aggregation.Chiffres(**{name: getattr(r, name) for name in FIGURES}) for r in rows}


def axis_definitions(pacte: Pacte, annee: int | None = None) -> list[aggregation.AxeDef]:
    """The axes and fiches of the pacte (a revised one: as they stood on 31 December of *annee*)."""
    if annee is None or not pacte.revisions:
        return [aggregation.AxeDef(a.numero, a.intitule, a.nature, tuple((f.numero, f.intitule) for f in a.fiches))
                for a in pacte.axes]
    version = revisions.in_force(queries.pacte_versions(pacte), dt.date(annee, 12, 31))
    return [aggregation.AxeDef(a["numero"], a["intitule"], a["nature"],
                               tuple((f["numero"], f["intitule"]) for f in a["fiches"])) for a in version.axes]


def compute(session: Session, pacte: Pacte, annee: int,
            lines: list[Realisation] | None = None) -> tuple[aggregation.Bilan, aggregation.ConventionsAnnee,
                                                             list[Convention]]:
    """The bilan of *annee* from the realisations of that year and the one before (*lines*, read here unless
    given)."""
    departement = pacte.departement
    if lines is None:
        lines = queries.realisations(session, departement, (annee - 1, annee))
    current = figures([r for r in lines if r.annee == annee])
    previous = figures([r for r in lines if r.annee == annee - 1])
    bilan = aggregation.aggregate(annee, axis_definitions(pacte, annee), current, previous or None)
    conventions = [c for c in queries.conventions(session) if c.departement_id == departement.id]
    events = aggregation.conventions_in_year([(c.reference, queries.faits(c)) for c in conventions], annee)
    return bilan, events, conventions


def make_charts(bilan: aggregation.Bilan) -> dict[str, Image | None]:
    drawn = {"repartition": (charts.repartition(bilan), 110), "evolution": (charts.evolution(bilan), 160),
             "credits": (charts.credits_par_axe(bilan), 160), "entrees_sorties": (charts.entrees_sorties(bilan), 160)}
    # a chart without figures is not drawn, and the template leaves its place out
    alt = charts.descriptions(bilan)
    return {name: Image(png, width, alt[name]) if png else None for name, (png, width) in drawn.items()}


def bilan_context(session: Session, pacte: Pacte, annee: int, seance: dt.date | None = None,
                  deliberation: str | None = None) -> tuple[dict[str, Any], list[Convention]]:
    read = queries.realisations(session, pacte.departement, (annee - 1, annee))
    bilan, events, conventions = compute(session, pacte, annee, read)
    rows = {c.reference: context.convention_row(c, annee) for c in conventions}
    lines = {(r.annee, r.cible): r for r in read}
    commentaires = {cible: r.commentaire for (year, cible), r in lines.items() if year == annee and r.commentaire}
    foyers = tuple(lines[(year, queries.DEPARTEMENT)].foyers_rsa if (year, queries.DEPARTEMENT) in lines else None
                   for year in (annee, annee - 1))
    ctx = context.bilan_context(annee, pacte.departement, pacte, bilan, events, rows, make_charts(bilan),
                                seance=seance, deliberation=deliberation, commentaires=commentaires,
                                foyers_rsa=(foyers[0], foyers[1]),
                                pieces=pieces_by_partner(session, annee, pacte.departement_id))
    annexed = {row["reference"] for row in ctx["annexes"]}
    return ctx, [c for c in conventions if c.reference in annexed]


def pieces_by_partner(session: Session, annee: int, departement_id: int) -> list[dict[str, Any]]:
    """The documents the partners owe for the exercice *annee*, as they stand today: per partner, how many are
    owed, received, late (a count changes on a due date or a receipt, never from one day to the next)."""
    from pacte_docs.services import pieces

    found: dict[str, dict[str, Any]] = {}
    for line in pieces.owed(session, periods.today(), departement_id=departement_id):
        if line.exercice != annee:
            continue
        row = found.setdefault(line.partenaire, {"partenaire": line.partenaire, "dues": 0, "recues": 0,
                                                 "en_retard": 0})
        row["dues"] += 1
        row["recues"] += line.recue_le is not None
        row["en_retard"] += line.retard is not None
    return [found[name] for name in sorted(found, key=str.casefold)]


# ---------------------------------------------------------------- compiling

@holding("documents")
def compile_bilan(ws: Workspace, annee: int, *, sortie: Path | None = None, pdfa: bool = True,
                  departement: str | None = None, seance: dt.date | None = None,
                  deliberation: str | None = None) -> BilanReport:
    """Render, convert and compile the bilan of *annee*; record it when it is written in the workspace. The cover
    names the Assemblée's session (*seance*) or says « Projet »; with *deliberation*, the bilan ends with the draft
    délibération by which the Assemblée takes note of it. Its table of contents gives the compiled pages."""
    cache = TemplateCache(ws)
    target = ws.archives / "bilans" / str(annee) / f"bilan-{annee}.pdf"  # recorded here, versions beside it
    _check_copy(ws, sortie, target)
    report = BilanReport(annee, ws.relative(target), "cree")
    with ws.db.session() as session:
        pacte = pacte_for_year(session, annee, departement)
        reference = pacte.reference
        template = cache.get(TEMPLATE)
        ctx, annexed = bilan_context(session, pacte, annee, seance, deliberation)
        missing = {(template.name, path): [f"bilan {annee}"] for path in template.missing(ctx)}
        if missing:
            raise missing_variables(missing)
        docx_data = template.render(ctx)
        report.annexes = [c.reference for c in annexed]
        signed_in_year = {row["reference"] for row in ctx["annexes"] if row["motif"] == "signée"}
        meta = {"departement": pacte.departement.nom, "titre": pacte.titre, "periode": (pacte.periode_debut,
                                                                                          pacte.periode_fin)}
    titles = {row["reference"]: f"{row['reference']} – {row['partenaires']}" for row in ctx["annexes"]}
    annex_pdfs = _annex_pdfs(ws, report, signed_in_year, pdfa, annee, titles)
    _release_memory()  # what checking the annexes used goes back to the system before the assembly
    return _compile(ws, report, template, ctx, docx_data, annex_pdfs, reference, meta, target, f"bilan-{annee}",
                    sortie, pdfa)


def _compile(ws: Workspace, report: BilanReport, template: Any, ctx: dict[str, Any], docx_data: bytes,
             annex_pdfs: list[tuple[str, Path]], reference: str, meta: dict[str, Any], target: Path, cle: str,
             sortie: Path | None, pdfa: bool) -> BilanReport:
    """Lay the bilan out with its table of contents, compile it with its annexes and the PDI/PTI (as it stood on
    31 December of the year), record it, unless what it is made from has not changed."""
    annee = report.annee
    pacte_pdf, pacte_bookmarks = _pacte_pdf(ws, reference, report, pdfa, dt.date(annee, 12, 31))
    fingerprint = context.fingerprint({"context": ctx, "template": template.sha256, "pdfa": pdfa,
                                       "annexes": [(r, sha256_bytes(p.read_bytes())) for r, p in annex_pdfs],
                                       "pacte": sha256_bytes(pacte_pdf.read_bytes())})
    with ws.db.session() as session:
        documents = DocumentStore(session, ws)
        current = documents.current(cle, NATURE, "pdf")
        if documents.is_up_to_date(current, empreinte=fingerprint, chemin=ws.relative(target)):
            report.status = "inchange"
            report.pages = len(PdfReader(target).pages)
            _copy(target, sortie, report)
            return report

    with ws.scratch("bilan-") as work:
        docx_data, bilan_pdf = _with_contents(ws, work, template, ctx, docx_data, annex_pdfs, pdfa, report)
        compiled = work / "compile.pdf"
        report.pages = assemble(bilan_pdf, annex_pdfs, pacte_pdf, pacte_bookmarks, work, annee, pdfa,
                                ws.config.pdf_timeout, meta, compiled)
        _write(ws, target, cle, docx_data, compiled, fingerprint, template.data, pdfa, report)
    _copy(target, sortie, report)
    return report


@holding("documents")
def compile_etape(ws: Workspace, annee: int, *, sortie: Path | None = None, pdfa: bool = True,
                  departement: str | None = None, seance: dt.date | None = None,
                  deliberation: str | None = None) -> BilanReport:
    """The bilan d'étape at the end of *annee*: the programme since its adoption — figures year by year and
    cumulated, where each fiche stands, the revisions and the actions they brought — with the yearly bilan's front
    matter and délibération, and the PDI/PTI in force on 31 December as its annex."""
    cache = TemplateCache(ws)
    target = ws.archives / "bilans" / str(annee) / f"bilan-etape-{annee}.pdf"
    _check_copy(ws, sortie, target)
    report = BilanReport(annee, ws.relative(target), "cree", etape=True)
    end = dt.date(annee, 12, 31)
    with ws.db.session() as session:
        pacte = pacte_for_year(session, annee, departement)
        known = queries.pacte_versions(pacte)
        start = max(pacte.periode_debut, pacte.adoption_date.year if pacte.adoption_date else pacte.periode_debut)
        years = tuple(range(start, annee + 1))
        lines = queries.realisations(session, pacte.departement, years)
        with_figures = sorted({r.annee for r in lines})
        years = tuple(y for y in years if y >= (with_figures[0] if with_figures else annee))
        bilans = [aggregation.aggregate(y, axis_definitions(pacte, y), figures([r for r in lines if r.annee == y]))
                  for y in years]
        template = cache.get(ETAPE_TEMPLATE)
        ctx = context.bilan_etape_context(pacte, annee, bilans, revisions.in_force(known, end),
                                          [v for v in known if v.rang > 0 and v.date is not None and v.date <= end],
                                          suivi.history(session, pacte, end), seance=seance, deliberation=deliberation)
        missing = {(template.name, path): [f"bilan d'étape {annee}"] for path in template.missing(ctx)}
        if missing:
            raise missing_variables(missing)
        docx_data = template.render(ctx)
        meta = {"departement": pacte.departement.nom, "titre": pacte.titre,
                "periode": (pacte.periode_debut, pacte.periode_fin), "etape": True}
        reference = pacte.reference
    return _compile(ws, report, template, ctx, docx_data, [], reference, meta, target, f"bilan-etape-{annee}",
                    sortie, pdfa)


def _check_copy(ws: Workspace, sortie: Path | None, target: Path) -> None:
    """A copy the user asks for (--sortie) goes where they say, but never among the files the registry keeps."""
    if sortie is None:
        return
    if sortie.suffix.lower() not in (".pdf", ".docx"):
        raise PacteError(f"--sortie {sortie} : donnez un nom de fichier en .pdf (le bilan compilé) ou en .docx (le "
                         "bilan à relire dans Word).")
    ws.check_output(sortie, "--sortie")  # the bilan itself is recorded at target


def _copy(target: Path, sortie: Path | None, report: BilanReport) -> None:
    """Write exactly the file the user named: the compiled PDF, or the bilan's DOCX for a .docx name."""
    if sortie is None:
        return
    source = target.with_suffix(".docx") if sortie.suffix.lower() == ".docx" else target
    files.write_atomic(sortie, source.read_bytes())
    report.copie = str(sortie)


def _with_contents(ws: Workspace, work: Path, template: Any, ctx: dict[str, Any], docx_data: bytes,
                   annex_pdfs: list[tuple[str, Path]], pdfa: bool, report: BilanReport) -> tuple[bytes, Path]:
    """Lay the bilan out, read its headings' pages from the PDF's bookmarks, and lay it out again with its table
    of contents filled in, at the pages of the compiled PDF (the annexed conventions come after annex 1). The
    table of contents has a page of its own, so filling it moves nothing."""
    source = work / f"bilan-{ctx['annee']}.docx"
    source.write_bytes(docx_data)
    first = pdf.convert([source], work / "passe-1", pdfa=pdfa, processes=1, timeout=ws.config.pdf_timeout)[source]
    sections = read_bookmarks(first)
    sommaire = contents(sections, annex_pdfs)
    if not sommaire:
        return docx_data, first
    docx_data = template.render(ctx | {"sommaire": sommaire})
    source.write_bytes(docx_data)
    second = pdf.convert([source], work / "passe-2", pdfa=pdfa, processes=1, timeout=ws.config.pdf_timeout)[source]
    if contents(read_bookmarks(second), annex_pdfs) != sommaire:
        report.notes.append("Le sommaire a déplacé des titres : vérifiez ses numéros de page (modèle modifié ?).")
    return docx_data, second


def contents(sections: list[Bookmark], annex_pdfs: list[tuple[str, Path]]) -> list[dict[str, Any]]:
    """The table of contents of the compiled bilan: its sections and their axes, and under annex 1 each annexed
    convention, with the page each has in the compiled PDF."""
    annex2 = next((b for b in sections if b.title.startswith("Annexe 2")), None)
    if annex2 is None:
        return []
    lengths = [len(PdfReader(path).pages) for _, path in annex_pdfs]
    entries: list[dict[str, Any]] = []
    for section in sections:
        shift = sum(lengths) if section.page >= annex2.page else 0
        entries.append({"niveau": 1, "titre": section.title, "page": section.page + shift})
        entries.extend({"niveau": 2, "titre": child.title, "page": child.page + shift} for child in section.children)
        if section.title.startswith("Annexe 1"):
            start = annex2.page
            for (title, _), length in zip(annex_pdfs, lengths, strict=True):
                entries.append({"niveau": 2, "titre": title, "page": start})
                start += length
    return entries


def _release_memory() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc keeps freed memory otherwise
    except (OSError, AttributeError):
        pass


def _annex_pdfs(ws: Workspace, report: BilanReport, signed_in_year: set[str], pdfa: bool,
                annee: int, titles: dict[str, str]) -> list[tuple[str, Path]]:
    """The PDFs of each annexed convention, as they stood in the year: the convention (for one signed in the year,
    its signed copy when one was archived; otherwise the generated PDF, made now if missing or out of date), then
    each renewal act and avenant decided by 31 December of *annee*, in their order (made now if missing)."""
    if not report.annexes:
        return []
    made = generation.generate(ws, report.annexes, with_pdf=True, pdfa=pdfa)
    report.notes.extend(made.notes)
    refreshed = list(dict.fromkeys(o.reference for o in made.outputs if o.made and o.nature == "convention"))
    if refreshed:
        report.notes.append("Conventions produites ou mises à jour pour l'annexe 1 : " + ", ".join(refreshed) + ".")
    end = dt.date(annee, 12, 31)
    with ws.db.session() as session:
        acts = {reference: _acts_in_force(queries.convention(session, reference), end)
                for reference in report.annexes}
    for reference, found in acts.items():
        for nature, numero, _ in found:
            generation.generate_act(ws, reference, nature, numero, with_pdf=True, pdfa=pdfa)
    result = []
    with ws.db.session() as session:
        documents = DocumentStore(session, ws)
        signed = documents.latest(sorted(signed_in_year), "signe")
        documents.load(report.annexes, "convention")
        for reference in report.annexes:
            found_signed = signed.get(reference)
            record = found_signed if found_signed is not None and documents.is_intact(found_signed) else \
                documents.current(reference, "convention", "pdf")
            if record is None:
                raise TemplateError(f"Le PDF de la convention {reference} est introuvable : « pacte conventions "
                                    f"generer {reference} » le produit.")
            result.append((titles[reference], ws.root / record.chemin))
            for nature, numero, label in acts[reference]:
                act = documents.current(f"{reference}-{nature}-{numero}", nature, "pdf")
                if act is None:
                    raise TemplateError(f"Le PDF {label} de la convention {reference} est introuvable.")
                result.append((f"{reference} – {label}", ws.root / act.chemin))
    return result


def _acts_in_force(c: Convention, end: dt.date) -> list[tuple[str, int, str]]:
    """The renewal acts and the dated avenants of *c* decided by *end*, in date order: (nature, number, label)."""
    dated = [(r.date, "renouvellement", r.numero) for r in c.renouvellements if r.date <= end]
    dated += [(a.date, "avenant", a.numero) for a in c.avenants if a.date is not None and a.date <= end]
    labels = {"renouvellement": "renouvellement n° {}", "avenant": "avenant n° {}"}
    return [(nature, numero, labels[nature].format(numero) + f" du {date_courte(date)}")
            for date, nature, numero in sorted(dated)]


def _pacte_pdf(ws: Workspace, reference: str, report: BilanReport, pdfa: bool,
               au: dt.date) -> tuple[Path, list[Bookmark]]:
    """The PDI/PTI PDF as it stood on *au*, made or brought up to date first (in PDF/A for a PDF/A bilan; a PDF/A
    copy is never replaced by a plain one), with its bookmarks."""
    made = pdi_pti.generate_pacte(ws, reference, pdfa=pdfa, au=au)
    if made.status != "inchange":
        report.notes.append(f"Le PDI/PTI {reference} a été mis à jour pour l'annexe 2 : {made.pdf}.")
    path = ws.root / str(made.pdf)
    return path, read_bookmarks(path)


def _write(ws: Workspace, target: Path, cle: str, docx_data: bytes, compiled: Path, fingerprint: str,
           template_data: bytes, pdfa: bool, report: BilanReport) -> None:
    folder = target.parent
    template_sha = sha256_bytes(template_data)
    with ws.db.session() as session:
        documents = DocumentStore(session, ws)
        if documents.retire(cle, NATURE, "pdf", folder) | documents.retire(cle, NATURE, "docx", folder):
            report.status = "regenere"
        docx_record = documents.put(target.with_suffix(".docx"), docx_data, cle=cle, nature=NATURE, folder=folder,
                                    modele_sha256=template_sha, empreinte=fingerprint)
        documents.put(target, compiled, cle=cle, nature=NATURE, folder=folder, modele_sha256=template_sha,
                      source_sha256=docx_record.sha256, empreinte=fingerprint, pdfa=pdfa)
        documents.write_sums()
        report.notes.extend(documents.notes)


# ---------------------------------------------------------------- the year's table of figures

@holding("documents")
def export_figures(ws: Workspace, annee: int, sortie: Path | None = None, departement: str | None = None) -> Path:
    """The year's figures per axis, fiche-action and convention, with totals, as an XLSX workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    if sortie is not None:
        ws.check_output(sortie, "--sortie")
    target = sortie or ws.archives / "bilans" / str(annee) / f"bilan-{annee}.xlsx"
    with ws.db.session() as session:
        pacte = pacte_for_year(session, annee, departement)
        bilan, events, _ = compute(session, pacte, annee)
    book = Workbook()
    sheet = book.active
    sheet.title = f"Réalisations {annee}"
    headers = ["Niveau", "Numéro", "Intitulé", "Nature", "Actions financées", "Crédits engagés",
               "Crédits consommés", "Personnes accompagnées", "Entrées", "dont BRSA", "Sorties emploi",
               "Sorties formation", "Créations d'entreprise", "Sorties positives", "Taux de sorties positives",
               "Part BRSA"]
    sheet.append(headers)

    def line(level: str, number: str, title: str, nature: str, f: aggregation.Chiffres | None) -> list[Any]:
        values: list[Any] = [getattr(f, name) if f else None for name in FIGURES]
        rates = [f.sorties_positives, f.taux_sorties_positives, f.part_brsa] if f else [None] * 3
        return [level, number, title, nature, *values, *rates]

    for axe in bilan.axes:
        sheet.append(line("Axe", str(axe.numero), axe.intitule, axe.nature, axe.chiffres))
        for fiche in axe.fiches:
            sheet.append(line("Fiche-action", fiche.numero, fiche.intitule, axe.nature, fiche.chiffres))
    sheet.append(line("Total", "", "Total des axes", "", bilan.total))
    for reference, f in bilan.conventions:
        sheet.append(line("Convention", reference, "", "", f))
    keep_text(sheet)
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3A5F")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            header = headers[cell.column - 1]
            if header.startswith("Crédits") and cell.value is not None:
                cell.number_format = '#,##0.00 "€"'
            elif header.startswith(("Taux", "Part")) and cell.value is not None:
                cell.number_format = "0.0 %"
            if row[0].value in ("Axe", "Total"):
                cell.font = Font(bold=True)
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(12, min(48, len(header)))
    sheet.column_dimensions["C"].width = 60
    sheet.freeze_panes = "A2"
    summary = book.create_sheet("Conventions")
    summary.append(["Situation", "Nombre", "Conventions"])
    for label, refs in (("En vigueur", events.en_vigueur), ("Signées", events.signees),
                        ("Renouvelées", events.renouvelees), ("Terminées", events.terminees)):
        summary.append([label, len(refs), ", ".join(refs)])
    out = io.BytesIO()
    book.save(out)
    files.write_atomic(target, out.getvalue())
    return target

