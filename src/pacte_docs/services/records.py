"""The registry's records as users handle them: import (all or nothing, or simulated), export, the listings of
partners, conventions and PDI/PTI, and a convention's detail with its documents and journal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from pacte_docs.documents.conformity import Conformite, conformite
from pacte_docs.documents.store import Anomaly, DocumentStore, verify
from pacte_docs.errors import Problem, ValidationError
from pacte_docs.formatting import montant
from pacte_docs.intake import exporter, importer
from pacte_docs.intake.importer import ImportReport
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Convention
from pacte_docs.rules import periods
from pacte_docs.workspace import Config, Workspace


def import_files(ws: Workspace, paths: list[Path], *, simulation: bool = False,
                 signed_allowed: bool = True) -> ImportReport:
    """Import YAML, CSV or XLSX files, all or nothing; with *simulation*, check everything and record nothing.
    Without *signed_allowed* (an agent below « juriste »), a file that signs a convention or changes a signed one
    is refused.

    Imports take turns with the other commands that change the registry (the « registre » lock)."""
    with ws.exclusive("registre"), ws.db.session() as session:
        report = importer.import_files(session, list(paths), simulation=simulation,
                                       default_departement=ws.config.departement, signed_allowed=signed_allowed)
        if simulation:
            session.rollback()
    return report


def record_departement(ws: Workspace, code: str, nom: str) -> ImportReport:
    """Record the workspace's département (`pacte init --departement CODE --nom …`), checked as an import's
    « departement » section is: the conventions and PDI/PTI then belong to it without a word."""
    import yaml

    with ws.scratch("departement-") as folder:
        source = folder / "pacte-init-departement.yaml"
        source.write_text(yaml.safe_dump({"departement": {"code": code, "nom": nom}}, allow_unicode=True),
                          encoding="utf-8")
        try:
            return import_files(ws, [source])
        except ValidationError as exc:  # told as the options the user typed, not as the file written for them
            options = {"code": "--departement", "nom": "--nom"}
            raise ValidationError([Problem("pacte init", None, options.get(p.field or "", p.field), p.message,
                                           p.fix) for p in exc.problems]) from None


def export_registry(ws: Workspace, path: Path, fmt: str | None = None, raw: bool = False) -> list[Path]:
    """Write the registry to a re-importable file (xlsx, csv — a file per section — or yaml); returns them. CSV
    cells that a spreadsheet would compute are protected, unless *raw*."""
    with ws.db.session() as session:
        return exporter.export(session, path, fmt, raw)


def list_partenaires(ws: Workspace) -> list[dict[str, Any]]:
    """The partners, in code order."""
    with ws.db.session() as session:
        return [{"code": p.code, "type": p.type, "nom": p.nom, "commune": p.commune,
                 "representant": " ".join(filter(None, [p.representant_civilite, p.representant_nom])) or None,
                 "email": p.email} for p in queries.partenaires(session)]


def convention_row(c: Convention, on: dt.date, config: Config) -> dict[str, Any]:
    """A convention's line in the listings: status and deadlines on *on*."""
    situation = queries.situation(c, on, config.premier_seuil(c.type))
    return {
        "reference": c.reference, "type": c.type, "departement": c.departement.code,
        "partenaires": [p.code for p in c.partenaires], "statut": situation.statut,
        "periode": situation.periode.numero, "date_effet": c.date_effet, "debut_periode": situation.periode.debut,
        "fin_periode": situation.fin_periode, "date_limite": situation.date_limite,
        "renouvellement": c.renouvellement, "responsable": c.responsable_email,
    }


def list_conventions(ws: Workspace, on: dt.date | None = None, *, type_: str | None = None,
                     statut: str | None = None) -> list[dict[str, Any]]:
    """The conventions with their status and deadlines on *on* (today by default), optionally of one type or
    one status."""
    on = on or periods.today()
    with ws.db.session() as session:
        rows = [convention_row(c, on, ws.config) for c in queries.conventions(session, type_)]
    return [r for r in rows if statut is None or r["statut"] == statut]


def show_convention(ws: Workspace, reference: str, on: dt.date | None = None) -> dict[str, Any]:
    """Everything about one convention: its record, status and deadlines on *on*, its documents, its journal."""
    on = on or periods.today()
    with ws.db.session() as session:
        c = queries.convention(session, reference)
        row = convention_row(c, on, ws.config) | exporter.convention_record(c)
        life = exporter.lifecycle_record(c, [])
        row |= {"denonciation": life["denonciation"], "renouvellements": life["renouvellements"],
                "avenants": life["avenants"]}
        documents = DocumentStore(session, ws).documents(c.id)
        row["documents"] = [
            {"chemin": d.chemin, "version": d.version, "archive": d.archive, "sha256": d.sha256,
             "cree_le": d.cree_le.isoformat()}
            for d in documents
        ]
        signed = [d for d in documents if d.nature == "signe"]
        # what was found about the last signed copy recorded (None: no copy, or one recorded before the checks)
        row["signature"] = signed[-1].verification if signed else None
        row["journal"] = [
            {"quand": e.quand.isoformat(), "nature": e.nature, "date": e.date, "description": e.description,
             "document": e.document, "sha256": e.document_sha256, "auteur": e.auteur}
            for e in journal.entries(session, c)
        ]
    return row


def list_pactes(ws: Workspace) -> list[dict[str, Any]]:
    """The PDI/PTI of the registry, with their axes, fiches-actions and budget."""
    rows = []
    with ws.db.session() as session:
        for p in queries.pactes(session):
            fiches = [f for a in p.axes for f in a.fiches]
            rows.append({
                "reference": p.reference, "titre": p.titre, "periode": f"{p.periode_debut}-{p.periode_fin}",
                "adoption": p.adoption_date, "axes": len(p.axes), "fiches": len(fiches),
                "budget": montant(sum((f.budget or Decimal(0) for f in fiches), Decimal(0))),
                "cosignataires": [c.code for c in p.cosignataires],
            })
    return rows


def pdf_conformity(ws: Workspace) -> list[tuple[str, str, Conformite]]:
    """The conformity of every current PDF the registry records (conventions, acts, PDI/PTI, bilans): path,
    nature, conformity."""
    with ws.db.session() as session:
        found = [(d.chemin, d.nature) for d in DocumentStore(session, ws).current_pdfs()]
    return [(path, nature, conformite(ws.root / path)) for path, nature in found if (ws.root / path).is_file()]


def verify_archives(ws: Workspace) -> tuple[int, list[Anomaly]]:
    """Check every recorded file, SHA256SUMS, and look for files nobody recorded: (files checked, anomalies)."""
    with ws.db.session() as session:
        return verify(session, ws)
