"""The registry's records as users handle them: import (all or nothing, or simulated), export, the listings of
partners, conventions and PDI/PTI, and a convention's detail with its documents and journal."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pacte_docs.documents.conformity import Conformite, conformite
from pacte_docs.documents.store import Anomaly, DocumentStore, verify
from pacte_docs.errors import PacteError, Problem, ValidationError
from pacte_docs.formatting import montant
from pacte_docs.intake import exporter, importer
from pacte_docs.intake.importer import ImportReport
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Convention
from pacte_docs.rules import periods
from pacte_docs.workspace import Config, Workspace


def import_files(ws: Workspace, paths: list[Path], *, simulation: bool = False,
                 signed_allowed: bool = True, via: str | None = None) -> ImportReport:
    """Import YAML, CSV or XLSX files, all or nothing; with *simulation*, check everything and record nothing.
    Without *signed_allowed* (an agent below « juriste »), a file that signs a convention or changes a signed one
    is refused.

    Imports take turns with the other commands that change the registry (the « registre » lock)."""
    with ws.exclusive("registre"), ws.db.session() as session:
        report = importer.import_files(session, list(paths), simulation=simulation,
                                       default_departement=ws.config.departement, signed_allowed=signed_allowed,
                                       via=via)
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


# ---------------------------------------------------------------- a partner or a draft typed in a form

FORM_SECTIONS = {"partenaires": "code", "conventions": "reference", "departement": "code"}
# fields a form never types: a signature is recorded by `signer`, with its copy and its checks
NOT_TYPED = {"conventions": ("date_signature",)}


def form_columns(section: str) -> list[str]:
    """The fields of a partner's or a convention's form: the workbook's columns of its sheet (same names, same
    rules, same notes), less what is recorded otherwise."""
    from pacte_docs.intake import workbook

    return [c for c in workbook.columns(section) if c not in NOT_TYPED.get(section, ())]


SIGNED_NOT_EDITED = ("la convention {key} est signée : son texte ne se modifie plus ici",
                     "un changement se fait par avenant, depuis la page de la convention")


def departement_code(ws: Workspace) -> str:
    """The workspace's département: pacte.toml's, else the registry's first (most registries hold one)."""
    if ws.config.departement:
        return ws.config.departement
    with ws.db.session() as session:
        found = queries.departements(session)
    return found[0].code if found else ""


def form_values(ws: Workspace, section: str, key: str) -> dict[str, str] | None:
    """The record of *key* as its form shows it (each field as text, as the workbook would give it), or None.
    A signed convention has no form: PacteError."""
    with ws.db.session() as session:
        if section == "partenaires":
            found = queries.partenaire(session, key)
            record = exporter.partenaire_record(found) if found is not None else None
        elif section == "departement":
            dep = next((d for d in queries.departements(session) if d.code == key), None)
            record = exporter.departement_record(dep) if dep is not None else None
        else:
            c = session.scalar(select(Convention).where(Convention.reference == key))
            if c is not None and c.date_signature is not None:
                message, fix = SIGNED_NOT_EDITED
                raise PacteError(f"{message.format(key=key)[:1].upper()}{message.format(key=key)[1:]} ; {fix}.")
            record = exporter.convention_record(c) if c is not None else None
    if record is None:
        return None
    flat = exporter.flatten(section, record)
    shown = {column: exporter.form_text(flat.get(column)) for column in form_columns(section)}
    if isinstance(flat.get("taux_fse"), Decimal):  # a rate as a clerk writes it: « 60 % », not « 0,6000 »
        shown["taux_fse"] = f"{(flat['taux_fse'] * 100).normalize():f}".replace(".", ",") + " %"
    return shown


def save_form(ws: Workspace, section: str, values: dict[str, str], *, existing: str | None,
              signed_allowed: bool) -> ImportReport:
    """Record a partner or a draft convention typed in the staff pages: the form's fields are one row of the
    workbook's sheet, imported by the same rules (all or nothing), the journal saying where it came from.
    *existing* is the key of the record edited, None for a new one. A signed convention is never edited here
    (an avenant changes it). Problems name the form's fields (Problem.field is the column) and no file."""
    import csv
    import io

    key_column = FORM_SECTIONS[section]
    columns = form_columns(section)
    key = (values.get(key_column) or "").strip().upper() if existing is None else existing
    what = {"partenaires": "Le partenaire", "departement": "Le Département"}.get(section, "La convention")

    def refused(field: str | None, message: str, fix: str) -> ValidationError:
        return ValidationError([Problem("formulaire", None, field, message, fix)])

    with ws.db.session() as session:
        if section == "partenaires":
            there = queries.partenaire(session, key) is not None if key else False
        elif section == "departement":
            there = any(d.code == key for d in queries.departements(session))
        else:
            c = session.scalar(select(Convention).where(Convention.reference == key)) if key else None
            there = c is not None
            if c is not None and existing is not None and c.date_signature is not None:
                raise refused(None, SIGNED_NOT_EDITED[0].format(key=key), SIGNED_NOT_EDITED[1])
    if existing is None and there:
        raise refused(key_column, f"{what.lower()} {key} existe déjà",
                      "choisissez un autre code, ou modifiez l'existant depuis sa page")
    if existing is not None and not there:
        raise refused(None, f"{what} {existing} n'est plus au registre", "recommencez depuis la liste")
    row = {column: (values.get(column) or "").strip() for column in columns}
    row[key_column] = key
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns + list(NOT_TYPED.get(section, ())))
    writer.writerow([row[column] for column in columns] + ["" for _ in NOT_TYPED.get(section, ())])
    via = "depuis le formulaire de l'espace agents"
    with ws.scratch("formulaire-") as folder:
        source = folder / f"{section}.csv"
        source.write_text(buffer.getvalue(), encoding="utf-8")
        try:
            return import_files(ws, [source], signed_allowed=signed_allowed, via=via)
        except ValidationError as exc:
            raise ValidationError([Problem("formulaire", None, _form_field(p.field, columns), p.message, p.fix)
                                   for p in exc.problems]) from None


def _form_field(field: str | None, columns: list[str]) -> str | None:
    """The form's field a problem is about: « representant.nom » or « actions[2].intitule » → the column."""
    if not field:
        return None
    for candidate in (field, field.replace(".", "_"), re.split(r"[\[.]", field)[0]):
        if candidate in columns:
            return candidate
    return None


def export_registry(ws: Workspace, path: Path, fmt: str | None = None, raw: bool = False) -> list[Path]:
    """Write the registry to a re-importable file (xlsx, csv — a file per section — or yaml); returns them. CSV
    cells that a spreadsheet would compute are protected, unless *raw*."""
    ws.check_output(path, "FICHIER")
    with ws.db.session() as session:
        return exporter.export(session, path, fmt, raw)


def list_partenaires(ws: Workspace) -> list[dict[str, Any]]:
    """The partners, in code order."""
    with ws.db.session() as session:
        return [{"code": p.code, "type": p.type, "nom": p.nom, "commune": p.commune,
                 "representant": " ".join(filter(None, [p.representant_civilite, p.representant_nom]))
                 if p.representant_nom else None,  # a civility alone names nobody
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
        from pacte_docs.services import pieces

        documents = DocumentStore(session, ws).documents(c.id)
        row["documents"] = [
            {"id": d.id, "nature": d.nature, "chemin": d.chemin, "version": d.version, "archive": d.archive,
             "sha256": d.sha256, "cree_le": d.cree_le.isoformat()}
            for d in documents
        ]
        from pacte_docs.services import circuit

        row["circuit"] = circuit.summary(session, ws, c)  # where the draft stands in its visa circuit, if any
        # what the partner owes in return, exercice by exercice, and where it stands
        row["pieces"] = [line.as_json() | {"etat": line.etat, "echeance": line.echeance}
                         for line in pieces.owed(session, on, [c.reference])]
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
