"""`pacte demo`: a workspace built from the bundled data, with a convention at every stage of its life."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pacte_docs.documents.context import revision_summary
from pacte_docs.formatting import date_longue
from pacte_docs.intake.importer import ImportReport
from pacte_docs.registry import journal, queries
from pacte_docs.rules import alerts
from pacte_docs.services import bilan, generation, lifecycle, notify, pdi_pti, pieces, point_etape, records
from pacte_docs.services.generation import GenerationReport, Progress
from pacte_docs.workspace import InitReport, Workspace, init_workspace

D = dt.date
BILAN_YEAR = 2019


@dataclass
class DemoReport:
    root: Path
    init: InitReport
    imported: ImportReport
    generated: GenerationReport
    history: list[str] = field(default_factory=list)
    statuts: dict[str, str] = field(default_factory=dict)
    alertes: list[alerts.Alerte] = field(default_factory=list)
    calendrier: Path | None = None
    pactes: list[pdi_pti.PacteReport] = field(default_factory=list)
    bilans: list[bilan.BilanReport] = field(default_factory=list)
    points: list[point_etape.PointReport] = field(default_factory=list)


def demo_files() -> list[tuple[str, bytes]]:
    folder = resources.files("pacte_docs") / "donnees"
    return [(e.name, e.read_bytes()) for e in sorted(folder.iterdir(), key=lambda e: e.name)
            if e.name.startswith("demo-") and e.name.endswith((".yaml", ".csv"))]


def _history(ws: Workspace, on: dt.date) -> list[str]:
    """What happened to the conventions after they were imported, replayed once (a second demo skips it)."""
    lines: list[str] = []
    with ws.db.session() as session:
        pe = queries.convention(session, "PE-2016-001")
        renew = not pe.renouvellements
        asso = queries.convention(session, "ASSO-2023-011")
        denounce = asso.date_denonciation is None
        gennevilliers = queries.convention(session, "CCAS-2024-002")
        amend = not gennevilliers.avenants
        clichy = queries.convention(session, "CCAS-2027-005")
        sign = clichy.date_signature is None
        chantier = queries.convention(session, "ASSO-2024-007")
        receive = not any(e.nature == "piece" for e in journal.entries(session, chantier))
    steps = []
    if renew:
        steps.append(lifecycle.renouveler(ws, "PE-2016-001", D(2018, 9, 24), "2018-04-0412", on))
    if denounce:
        steps.append(lifecycle.denoncer(ws, "ASSO-2023-011", D(2026, 5, 15),
                                        "Reprise de l'action par la plateforme départementale de mobilité.", False,
                                        deliberation="CP-2026-05-0231", date_deliberation=D(2026, 5, 11)))
    if amend:
        steps.append(lifecycle.avenant(
            ws, "CCAS-2024-002", "Le CCAS et le service des solidarités territoriales ouvrent une permanence "
            "numérique commune.", D(2025, 6, 2), None,
            on, deliberation="CP-2025-05-087", date_deliberation=D(2025, 5, 19),
            changes=[("complete", "4", "Une action « Permanence numérique » est tenue chaque semaine par le CCAS dans "
                      "les locaux du service des solidarités territoriales.")]))
    if sign:
        steps.append(lifecycle.signer(ws, "CCAS-2027-005", D(2026, 11, 10)))
    for step in steps:
        lines += step.lines
        lines += [f"  {o.docx}" + (f" et {o.pdf}" if o.pdf else "") for made in step.generated for o in made.outputs]
    if receive and on >= D(2025, 7, 1):
        lines += _documents_owed(ws, on)
    return lines


def _documents_owed(ws: Workspace, on: dt.date) -> list[str]:
    """The chantier d'insertion's association sent its 2024 compte rendu financier in time; what it owes for 2025
    is late: the reminder letter goes (pacte pieces recevoir, pacte pieces relancer)."""
    from docx import Document as DocxDocument

    with tempfile.TemporaryDirectory(prefix="pacte-demo-") as tmp:
        report = Path(tmp) / "compte-rendu-financier-2024.docx"
        document = DocxDocument()
        document.add_heading("Compte rendu financier de l'exercice 2024", level=1)
        document.add_paragraph("Association « Trait d'union & Emploi » — chantier d'insertion « espaces verts » de "
                               "Méréville, convention n° ASSO-2024-007 (document de démonstration).")
        document.save(str(report))
        line = pieces.recevoir(ws, "ASSO-2024-007", "compte_rendu_financier", 2024, report, on, D(2025, 6, 12))
    lines = [f"Pièce reçue : {line.piece} {line.exercice} de ASSO-2024-007, archivée dans {line.document}."]
    reminded = pieces.relancer(ws, on, ["ASSO-2024-007"])
    for reference, numero, late in reminded.letters:
        lines.append(f"Lettre de relance n° {numero} de {reference} : "
                     + " ; ".join(f"{line.piece} {line.exercice}" for line in late) + ".")
    if reminded.generated is not None:
        lines += [f"  {o.docx}" + (f" et {o.pdf}" if o.pdf else "") for o in reminded.generated.outputs]
    return lines


PACTE, PACTE_ADOPTED = "PACTE-2016-2020", D(2016, 10, 17)
REVISION = ("2019-04-0019", D(2019, 3, 25), "nouvelles actions pour 2019-2020")
POINTS_ETAPE = (D(2019, 6, 14), D(2019, 12, 10))  # the comité de pilotage meets twice a year


def _pacte_story(ws: Workspace, on: dt.date) -> list[str]:
    """The Essonne pacte at mid-course: the 2019 revision brings the new actions the bilan d'étape announced, then
    the 2019 figures (which count them) and the référents' states through 2019 are imported (once: a second demo
    finds the revision recorded)."""
    with ws.db.session() as session:
        revised = bool(queries.pacte(session, PACTE).revisions)
    folder = resources.files("pacte_docs") / "donnees"
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pacte-demo-") as tmp:
        paths = {}
        for name in ("revision-91-2019.yaml", "realisations-91-2019.csv", "suivi-91-2019.yaml"):
            paths[name] = Path(tmp) / name
            paths[name].write_bytes((folder / name).read_bytes())
        if not revised:
            numero, date, objet = REVISION
            made = pdi_pti.revise(ws, PACTE, paths["revision-91-2019.yaml"], numero=numero, date=date, objet=objet,
                                  on=on)
            lines.append(f"PDI/PTI {PACTE} révisé par la délibération n° {numero} du {date_longue(date)} : "
                         + " ; ".join(revision_summary(made.changements)) + ".")
        imported = records.import_files(ws, [paths["realisations-91-2019.csv"], paths["suivi-91-2019.yaml"]])
    if imported.changed:
        lines.append("Importés ensuite — " + " ; ".join(imported.summary()) + ".")
    return lines


def run(root: Path, on: dt.date, base_url: str | None = None, progress: Progress | None = None) -> DemoReport:
    init = init_workspace(root, base_url)
    ws = Workspace(root, base_url)
    try:
        with tempfile.TemporaryDirectory(prefix="pacte-demo-") as tmp:
            paths = []
            for name, data in demo_files():
                path = Path(tmp) / name
                path.write_bytes(data)
                paths.append(path)
            imported = records.import_files(ws, paths)
        generated = generation.generate(ws, [], all_=True, with_pdf=True, progress=progress)
        report = DemoReport(ws.root, init, imported, generated, _history(ws, on))
        report.history += _pacte_story(ws, on)
        with ws.db.session() as session:
            references = [p.reference for p in queries.pactes(session)]
        report.pactes = [pdi_pti.generate_pacte(ws, PACTE, au=PACTE_ADOPTED)]  # the text adopted in 2016
        report.pactes += [pdi_pti.generate_pacte(ws, reference) for reference in references]
        report.points = [point_etape.produce(ws, PACTE, day) for day in POINTS_ETAPE]
        report.bilans = [bilan.compile_bilan(ws, BILAN_YEAR),  # figures for 2018 and 2019: an evolution
                         bilan.compile_etape(ws, BILAN_YEAR)]  # and the pacte at mid-course
        report.statuts = {row["reference"]: row["statut"] for row in records.list_conventions(ws, on)}
        report.alertes = notify.due(ws, on)
        report.calendrier = ws.root / "echeances.ics"
        notify.write_calendar(ws, on, report.calendrier)
    finally:
        ws.close()
    return report
