"""`pacte exporter`: the registry in the import format (YAML, CSV, XLSX), so that it can be re-imported."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from pacte_docs.files import write_atomic
from pacte_docs.formatting import spreadsheet_safe
from pacte_docs.intake import readers
from pacte_docs.registry import queries
from pacte_docs.registry.models import Convention, Departement, Evenement, Partenaire


def _person(civilite: str | None, nom: str | None, qualite: str | None) -> dict[str, Any]:
    return {"civilite": civilite, "nom": nom, "qualite": qualite}


def departement_record(d: Departement) -> dict[str, Any]:
    return {"code": d.code, "nom": d.nom, "direction": d.direction, "adresse": d.adresse, "ville": d.ville,
            "siret": d.siret,
            "president": _person(d.president_civilite, d.president_nom, d.president_qualite),
            "signataire": _person(d.signataire_civilite, d.signataire_nom, d.signataire_qualite),
            "delegation": {"numero": d.delegation_numero, "date": d.delegation_date}}


def partenaire_record(p: Partenaire) -> dict[str, Any]:
    return {"code": p.code, "type": p.type, "nom": p.nom, "commune": p.commune, "code_insee": p.code_insee,
            "siret": p.siret, "rna": p.rna, "adresse": p.adresse,
            "representant": _person(p.representant_civilite, p.representant_nom, p.representant_qualite),
            "delegation": {"delegant": p.delegation_delegant, "numero": p.delegation_numero,
                           "date": p.delegation_date},
            "email": p.email}


def convention_record(c: Convention) -> dict[str, Any]:
    return {
        "reference": c.reference, "type": c.type, "departement": c.departement.code, "modele": c.modele,
        "partenaires": [p.code for p in c.partenaires], "objet": c.objet,
        "deliberation": {"instance": c.deliberation_instance, "numero": c.deliberation_numero,
                         "date": c.deliberation_date},
        "deliberation_partenaire": {"instance": c.deliberation_partenaire_instance,
                                    "numero": c.deliberation_partenaire_numero,
                                    "date": c.deliberation_partenaire_date},
        "date_signature": c.date_signature, "date_effet": c.date_effet, "duree_mois": c.duree_mois,
        "renouvellement": c.renouvellement, "renouvellements_max": c.renouvellements_max,
        "preavis_mois": c.preavis_mois, "responsable": {"nom": c.responsable_nom, "email": c.responsable_email},
        "territoire": c.territoire, "montant": c.montant, "taux_fse": c.taux_fse,
        "fse_accorde_le": c.fse_accorde_le,
        "engagements_departement": list(c.engagements_departement or []),
        "engagements_partenaire": list(c.engagements_partenaire or []),
        "actions": list(c.actions or []), "objectifs": dict(c.objectifs or {}),
        "versements": list(c.versements or []), "imputation": c.imputation,
    }


def lifecycle_record(c: Convention, events: list[Evenement]) -> dict[str, Any]:
    """What happened to a convention after it was drawn up — dénonciation, renewals, avenants — and its journal,
    in the import format: an export re-imported into an empty workspace gives the same statuses and deadlines."""
    return {
        "denonciation": {"date": c.date_denonciation, "motif": c.motif_denonciation},
        "renouvellements": [queries.renewal_record(r) for r in c.renouvellements],
        "avenants": [queries.avenant_record(a) for a in c.avenants],
        "journal": [{"quand": e.quand.astimezone(dt.UTC).isoformat(), "nature": e.nature, "date": e.date,
                     "description": e.description, "document": e.document, "sha256": e.document_sha256}
                    for e in events],
    }


def life_tables(records: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The conventions' life taken out of their records into tables of its own, one row per act or event with
    its convention's reference: a sheet or a CSV file each (the importer joins them back, `readers.attach_life`)."""
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in readers.LIFE}
    conventions = []
    for record in records["conventions"]:
        record = dict(record)
        reference = {"convention": record["reference"]}
        denonciation = record.pop("denonciation")
        if denonciation["date"] is not None:
            tables["denonciations"].append(reference | denonciation)
        for name in ("renouvellements", "avenants", "journal"):
            tables[name].extend(reference | row for row in record.pop(name))
        conventions.append(record)
    return {**records, "conventions": conventions, **tables}


def registry_records(session: Session, lifecycle: bool = False) -> dict[str, list[dict[str, Any]]]:
    """The registry in the import format; with *lifecycle*, each convention's life and journal too."""
    conventions = queries.conventions(session)
    records = [convention_record(c) for c in conventions]
    if lifecycle:
        events: dict[int, list[Evenement]] = {}
        for event in session.scalars(select(Evenement).order_by(Evenement.quand, Evenement.id)):
            events.setdefault(event.convention_id, []).append(event)
        records = [record | lifecycle_record(c, events.get(c.id, [])) for record, c in zip(records, conventions,
                                                                                            strict=True)]
    return {
        "departement": [departement_record(d) for d in queries.departements(session)],
        "partenaires": [partenaire_record(p) for p in queries.partenaires(session)],
        "conventions": records,
        "realisations": [queries.realisation_record(r) for r in queries.realisations(session)],
        "suivi": [queries.suivi_record(row) for row in queries.suivi_rows(session)],
    }


def _prune(value: Any) -> Any:
    """Drop empty values, so that the YAML reads like a hand-written file."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    pass


_Dumper.add_representer(Decimal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v)))
_Dumper.add_representer(dt.date, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v.isoformat()))


def export(session: Session, path: Path, fmt: str | None = None, raw: bool = False) -> list[Path]:
    """Write the registry to *path* (CSV: one file per section next to it); returns the files written. In CSV, a
    text that a spreadsheet would take for a formula is protected by an apostrophe, unless *raw*."""
    fmt = (fmt or path.suffix.lstrip(".") or "yaml").lower()
    records = registry_records(session, lifecycle=True)
    if fmt not in ("yaml", "yml"):
        records = life_tables(records)
    pactes = [_prune(queries.pacte_record(p)) for p in queries.pactes(session)]
    if fmt not in ("yaml", "yml", "csv", "xlsx"):
        raise ValueError(fmt)
    # A PDI/PTI, with its axes and fiches, goes into the YAML file or the workbook (its sheets pacte, axes,
    # fiches-actions, engagements) when there is only one; otherwise each goes to a YAML file of its own.
    inline_pacte = fmt in ("yaml", "yml", "xlsx") and len(pactes) == 1
    pacte_files: list[Path] = []
    if not inline_pacte:
        for record in pactes:
            target = path.with_name(f"{path.stem}-pacte-{record['reference']}.yaml")
            write_atomic(target, _yaml({"pacte": record}).encode("utf-8"))
            pacte_files.append(target)
    return _export_registry(path, fmt, records, pactes[0] if inline_pacte else None, raw) + pacte_files


def _yaml(document: dict[str, Any]) -> str:
    return str(yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110))


def _export_registry(path: Path, fmt: str, records: dict[str, list[dict[str, Any]]],
                     pacte: dict[str, Any] | None, raw: bool) -> list[Path]:
    if fmt in ("yaml", "yml"):
        document: dict[str, Any] = {}
        departements = records["departement"]
        if len(departements) == 1:
            document["departement"] = _prune(departements[0])
        elif departements:
            document["departements"] = [_prune(d) for d in departements]  # one file, whatever their number
        document["partenaires"] = [_prune(r) for r in records["partenaires"]]
        document["conventions"] = [_prune(r) for r in records["conventions"]]
        if pacte is not None:
            document["pacte"] = pacte
        if records["realisations"]:
            document["realisations"] = [_prune(r) for r in records["realisations"]]
        if records["suivi"]:
            document["suivi"] = [_prune(r) for r in records["suivi"]]
        text = "# Registre pacte_docs, exporté pour être relu ou réimporté avec « pacte importer ».\n" + _yaml(document)
        write_atomic(path, text.encode("utf-8"))
        return [path]
    if fmt == "csv":
        written = []
        for section, rows in records.items():
            if not rows and section in ("realisations", "suivi", *readers.LIFE):
                continue  # nothing of that kind yet: no empty file to re-import
            target = path.with_name(f"{path.stem}-{section}.csv")
            write_atomic(target, _csv(section, rows, raw).encode("utf-8-sig"))
            written.append(target)
        return written
    write_atomic(path, _xlsx({**records, **(pacte_tables(pacte) if pacte is not None else {})}))
    return [path]


def blank_record(section: str) -> dict[str, Any]:
    """An empty record of *section* with every field an export writes, in the import format's order: the header
    of a sheet with no row yet, so that an export of an empty registry is a workbook to fill in."""
    from pacte_docs.intake.import_format import SCHEMAS, table_schema

    def empty(fields: dict[str, Any]) -> dict[str, Any]:
        return {name: {} if spec.children else [] if spec.items else None for name, spec in fields.items()}

    if section in readers.LIFE:
        life = SCHEMAS["conventions"][readers.LIFE[section]]
        return {"convention": None, **empty(life.children or life.items)}
    return empty({name: spec for name, spec in table_schema(section).items()
                  if section != "conventions" or name not in readers.LIFE.values()})


def flatten(section: str, record: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in record.items():
        if name in readers.NESTED.get(section, {}):
            for child in readers.NESTED[section][name]:
                flat[f"{name}_{child}"] = (value or {}).get(child)
        elif name in readers.ITEM_COLUMNS:
            flat[name] = "\n".join(" | ".join(str(a.get(k) or "") for k in readers.ITEM_COLUMNS[name]).rstrip(" |")
                                   for a in value) or None
        elif isinstance(value, list):
            flat[name] = "\n".join(str(v) for v in value) or None
        else:
            flat[name] = value
    return flat


def _csv_value(value: Any, raw: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value).replace(".", ",")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value) if raw else spreadsheet_safe(str(value))


def form_text(value: Any) -> str:
    """A field's value as a form shows it: a date as a date field wants it (2025-03-15), an amount in French."""
    return _csv_value(value, raw=True)


def columns(section: str) -> list[str]:
    """The columns of *section* in a sheet or a CSV file, in the import format's order, whatever the rows."""
    return list(flatten(section, blank_record(section)))


def _in_columns(flat: dict[str, Any], headers: list[str]) -> dict[str, Any]:
    extra = set(flat) - set(headers)
    if extra:  # a field the records write and the import format does not know: it would be lost
        raise ValueError(f"export columns unknown to the import format: {sorted(extra)}")
    return {header: flat.get(header) for header in headers}


def _csv(section: str, rows: list[dict[str, Any]], raw: bool) -> str:
    headers = columns(section)
    flat = [_in_columns(flatten(section, r), headers) for r in rows]
    buffer = io.StringIO(newline="")
    if flat:
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(headers)
        for row in flat:
            writer.writerow([_csv_value(v, raw) for v in row.values()])
    return buffer.getvalue()


def keep_text(sheet: Any) -> None:
    """Text that begins with « = » stays text: openpyxl would write it as a formula, which Excel computes (or
    refuses) and which reads back empty."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def pacte_tables(pacte: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A pacte (import format) as the workbook's tables: its own row, its axes, its fiches-actions (each with the
    number of its axe) and its commitments (one row each)."""
    own = {name: value for name, value in pacte.items() if name not in ("axes", "engagements")}
    axes = pacte.get("axes") or []
    return {
        "pacte": [own],
        "axes": [{name: value for name, value in axe.items() if name != "fiches"} for axe in axes],
        "fiches": [{"axe": axe["numero"], **fiche} for axe in axes for fiche in axe.get("fiches") or []],
        "engagements": [{"partenaire": code, "engagement": text}
                        for code, texts in (pacte.get("engagements") or {}).items() for text in texts],
    }


def _xlsx(records: dict[str, list[dict[str, Any]]]) -> bytes:
    from pacte_docs.intake import workbook

    return workbook.write({section: [_in_columns(flatten(section, r), columns(section)) for r in rows]
                           for section, rows in records.items()})
