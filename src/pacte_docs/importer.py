"""`pacte importer`: read, validate everything, then apply all or nothing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pacte_docs import journal, registry, schema, sources
from pacte_docs.errors import Problem, ValidationError
from pacte_docs.models import Departement, Partenaire

SECTION_LABELS = {"departement": "départements", "partenaires": "partenaires", "conventions": "conventions"}


@dataclass
class ImportReport:
    simulation: bool
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, section: str, status: str) -> None:
        self.counts.setdefault(section, Counter())[status] += 1

    @property
    def changed(self) -> bool:
        return any(c["cree"] or c["modifie"] for c in self.counts.values())


@dataclass
class _Clean:
    item: sources.Item
    values: dict[str, Any]


def import_files(session: Session, paths: list[Path], *, simulation: bool = False,
                 default_departement: str | None = None) -> ImportReport:
    """Validate every file, then apply them in the caller's transaction; raise ValidationError on any problem."""
    problems: list[Problem] = []
    cleaned: dict[str, list[_Clean]] = {"departement": [], "partenaires": [], "conventions": []}
    # Codes of partners present in the files, even invalid ones: their own problem is reported once.
    partner_codes: set[str] = set()
    for path in paths:
        reading = sources.read(path)
        problems.extend(reading.problems)
        for item in reading.items:
            if item.section == "partenaires" and item.data.get("code"):
                partner_codes.add(str(item.data["code"]).strip())
            values = schema.clean(item, problems)
            if values is not None:
                cleaned[item.section].append(_Clean(item, values))
    _check_duplicates(cleaned, problems)
    departement_of = _resolve_departements(session, cleaned, problems, default_departement)
    known_partners = set(session.scalars(select(Partenaire.code)))
    for entry in cleaned["conventions"]:
        for code in entry.values["partenaires"]:
            if code not in partner_codes and code not in known_partners:
                problems.append(Problem(entry.item.source, entry.item.place("partenaires"), "partenaires",
                                        f"partenaire « {code} » inconnu",
                                        "ajoutez-le à la section partenaires ou corrigez le code "
                                        "(liste : « pacte partenaires lister »)"))
        values = entry.values
        if values["date_signature"] and values["deliberation"]["date"] and \
                values["date_signature"] < values["deliberation"]["date"]:
            problems.append(Problem(entry.item.source, entry.item.place("date_signature"), "date_signature",
                                    "la signature précède la délibération qui l'autorise",
                                    "vérifiez les deux dates"))
        if values["objectifs"].get("dont_brsa") and values["objectifs"].get("entrees") is not None and \
                values["objectifs"]["dont_brsa"] > values["objectifs"]["entrees"]:
            problems.append(Problem(entry.item.source, entry.item.place("objectifs.dont_brsa"), "objectifs.dont_brsa",
                                    "plus de bénéficiaires du RSA que d'entrées", "vérifiez les deux objectifs"))
    if problems:
        raise ValidationError(problems)

    report = ImportReport(simulation)
    departements: dict[str, Departement] = {}
    for entry in cleaned["departement"]:
        dep, status = registry.upsert_departement(session, entry.values)
        departements[dep.code] = dep
        report.add("departement", status)
    partners: dict[str, Partenaire] = {}
    for entry in cleaned["partenaires"]:
        partner, status = registry.upsert_partenaire(session, entry.values)
        partners[partner.code] = partner
        report.add("partenaires", status)
    session.flush()
    for entry in cleaned["conventions"]:
        codes = entry.values["partenaires"]
        missing = [c for c in codes if c not in partners]
        if missing:
            for partner in session.scalars(select(Partenaire).where(Partenaire.code.in_(missing))):
                partners[partner.code] = partner
        code = departement_of[id(entry)]
        if code not in departements:
            departements[code] = session.scalars(select(Departement).where(Departement.code == code)).one()
        convention, status = registry.upsert_convention(session, entry.values, departements[code],
                                                        [partners[c] for c in codes])
        report.add("conventions", status)
        if status != "inchange":
            session.flush()
            journal.record(session, convention, "import",
                             f"{'Créée' if status == 'cree' else 'Modifiée'} par l'import de {entry.item.source}.")
    session.flush()
    return report


def _check_duplicates(cleaned: dict[str, list[_Clean]], problems: list[Problem]) -> None:
    keys = {"departement": "code", "partenaires": "code", "conventions": "reference"}
    for section, entries in cleaned.items():
        first: dict[str, sources.Item] = {}
        for entry in entries:
            value = entry.values[keys[section]]
            if value in first:
                other = first[value]
                where = other.where if other.source == entry.item.source else f"{other.source}, {other.where}"
                problems.append(Problem(entry.item.source, entry.item.where, keys[section],
                                        f"« {value} » figure déjà ({where})", "gardez une seule fiche par clé"))
            else:
                first[value] = entry.item


def _resolve_departements(session: Session, cleaned: dict[str, list[_Clean]], problems: list[Problem],
                          default: str | None) -> dict[int, str]:
    """The département of each convention: its own field, else its file's, else the registry's default."""
    known = set(session.scalars(select(Departement.code)))
    in_files = {e.values["code"] for e in cleaned["departement"]}
    by_file = {e.item.source: e.values["code"] for e in cleaned["departement"]}
    fallback = default
    if fallback is None and len(known | in_files) == 1:
        fallback = next(iter(known | in_files))
    result: dict[int, str] = {}
    for entry in cleaned["conventions"]:
        code = entry.values.get("departement") or by_file.get(entry.item.source) or fallback
        if code is None:
            problems.append(Problem(entry.item.source, entry.item.where, "departement",
                                    "impossible de savoir à quel département rattacher la convention",
                                    "ajoutez une section « departement » au fichier, un champ « departement » à la "
                                    "convention, ou [departement] code dans pacte.toml"))
        elif code not in known and code not in in_files:
            problems.append(Problem(entry.item.source, entry.item.place("departement"), "departement",
                                    f"département « {code} » inconnu du registre",
                                    "importez d'abord sa section « departement »"))
        else:
            result[id(entry)] = code
    return result
