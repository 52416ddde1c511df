"""Synthetic registries at the scale of a large département, written in the import format (CSV from French
Excel, XLSX, YAML) so that the benchmark loads them through the project's own importer."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import openpyxl
import yaml

TOWNS = ["Évry", "Corbeil-Essonnes", "Massy", "Palaiseau", "Savigny-sur-Orge", "Sainte-Geneviève-des-Bois",
         "Viry-Châtillon", "Athis-Mons", "Draveil", "Yerres", "Grigny", "Ris-Orangis", "Brunoy", "Étampes",
         "Montgeron", "Vigneux-sur-Seine", "Chilly-Mazarin", "Les Ulis", "Orsay", "Arpajon"]
PARTNER_COLUMNS = ["code", "type", "nom", "commune", "code_insee", "representant_civilite", "representant_nom",
                   "representant_qualite", "email"]
CONVENTION_COLUMNS = ["reference", "type", "departement", "partenaires", "objet", "deliberation_instance",
                      "deliberation_numero", "deliberation_date", "date_signature", "date_effet", "duree_mois",
                      "renouvellement", "renouvellements_max", "preavis_mois", "responsable_nom", "responsable_email",
                      "territoire", "montant", "taux_fse", "engagements_departement", "engagements_partenaire",
                      "actions"]


def departement_yaml(path: Path) -> Path:
    path.write_text(yaml.safe_dump({"departement": {
        "code": "91", "nom": "Département de l'Essonne", "direction": "Direction de l'insertion et de l'emploi",
        "adresse": "Boulevard de France, 91012 Évry Cedex", "ville": "Évry",
        "president": {"civilite": "M.", "nom": "Prénom Nom", "qualite": "Président du Conseil départemental"}},
    }, allow_unicode=True), encoding="utf-8")
    return path


def partners(count: int) -> list[dict[str, str]]:
    rows = []
    for i in range(count):
        town = f"{TOWNS[i % len(TOWNS)]}{'' if i < len(TOWNS) else f' {i // len(TOWNS)}'}"
        rows.append({"code": f"CCAS-{i:04d}", "type": "ccas", "nom": f"CCAS de {town} « solidarité & emploi »",
                     "commune": town, "code_insee": f"91{i % 1000:03d}", "representant_civilite": "Mme",
                     "representant_nom": f"Élise L'Hôte-{i}", "representant_qualite": "Vice-présidente du CCAS",
                     "email": f"ccas{i}@communes.example.fr"})
    return rows


def conventions(count: int, partner_count: int, seed: int = 91, signed_in: int | None = None,
                start: int = 0) -> list[dict[str, str]]:
    """*count* conventions, varied: several partners, actions, amounts; all signed in *signed_in* if given."""
    rng = random.Random(seed)
    rows = []
    for i in range(start, start + count):
        year = signed_in if signed_in is not None else rng.randrange(2018, 2027)
        effet = dt.date(year, rng.choice([1, 4, 7, 9]), 1)
        signature = effet - dt.timedelta(days=rng.randrange(10, 60))
        if signed_in is not None:
            signature = dt.date(signed_in, rng.randrange(1, 12), rng.randrange(1, 28))
            effet = signature + dt.timedelta(days=20)
        kind = rng.choice(["expresse", "tacite", "aucun"])
        duree = rng.choice([12, 24, 36, 36, 36, 48])
        # the FSE+ 2021-2027 programme funds what is spent from 2021 to the end of 2029 (règlement 2021/1060, art. 63)
        fse = rng.choice(["", "0,5", "0,4"]) if dt.date(2021, 1, 1) <= effet and \
            effet.year * 12 + effet.month - 1 + duree <= 2030 * 12 else ""
        actions = [f"Action {k} & accompagnement <{k}> | BRSA | Taux de sortie | {rng.randrange(10, 90)} %"
                   for k in range(rng.randrange(0, 6))]
        rows.append({
            "reference": f"CCAS-{year}-{i:05d}", "type": "ccas", "departement": "91",
            "partenaires": "\n".join(f"CCAS-{(i + k) % partner_count:04d}" for k in range(rng.randrange(1, 3))),
            "objet": "La présente convention organise l'accueil, l'orientation et l'accompagnement des publics "
                     f"en difficulté (n° {i}), « au plus près » des habitants.",
            "deliberation_instance": "Commission permanente", "deliberation_numero": f"CP-{year}-{i:05d}",
            "deliberation_date": (signature - dt.timedelta(days=15)).isoformat(),
            "date_signature": signature.isoformat(), "date_effet": effet.isoformat(),
            "duree_mois": str(duree), "renouvellement": kind,
            "renouvellements_max": str(rng.randrange(1, 4)), "preavis_mois": str(rng.choice([0, 1, 3, 6])),
            "responsable_nom": f"Directeur {i % 12}", "responsable_email": f"direction{i % 12}@essonne.example.fr",
            "territoire": TOWNS[i % len(TOWNS)],
            "montant": f"{rng.randrange(5_000, 900_000)},{rng.randrange(0, 100):02d}",
            "taux_fse": fse,
            "engagements_departement": "Mobiliser ses travailleurs sociaux\nAnimer le comité de suivi",
            "engagements_partenaire": "Accueillir les usagers\nTransmettre un bilan annuel",
            "actions": "\n".join(actions),
        })
    return rows


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    """A CSV as French Excel saves it: « ; », Windows-1252, CRLF, quoted cells with line breaks."""
    import csv
    import io

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    path.write_bytes(buffer.getvalue().encode("cp1252", errors="replace"))
    return path


def write_xlsx(path: Path, sheet: str, columns: list[str], rows: list[dict[str, str]]) -> Path:
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(columns)
    for row in rows:
        ws.append([row.get(c, "") for c in columns])
    book.save(path)
    return path


def pacte_yaml(path: Path, fiches_per_axe: int = 4) -> Path:
    axes = []
    for n in range(1, 6):
        axes.append({"numero": n, "intitule": f"Thématique {n} de l'insertion", "nature":
                     "professionnelle" if n in (3, 4) else "sociale", "objectifs": [f"Objectif {n}"],
                     "fiches": [{"numero": f"{n}.{k}", "intitule": f"Fiche {n}.{k}", "budget": "100000.00",
                                 "pilote": "Direction de l'insertion"} for k in range(1, fiches_per_axe + 1)]})
    path.write_text(yaml.safe_dump({"pacte": {
        "reference": "PACTE-2024-2027", "departement": "91", "titre": "Pacte synthétique",
        "periode": {"debut": 2024, "fin": 2027}, "adoption": {"instance": "Assemblée départementale",
                                                             "date": "2023-12-11"}, "axes": axes}},
        allow_unicode=True), encoding="utf-8")
    return path
