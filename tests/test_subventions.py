"""The essential data of subsidy conventions, published in the SCDL « subventions » 2.1.1 format (issue 28, item 3),
validated by frictionless against the schema."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

import yaml

from tests.helpers import Pacte

REGISTRY: dict[str, object] = {
    "departement": {"code": "93", "nom": "Département de la Seine-Saint-Denis", "siret": "22930008201453"},
    "partenaires": [
        {"code": "ASSO-TREMPLIN", "type": "association", "nom": "Association Tremplin 93", "siret": "44306184100047",
         "rna": "W931000123"},
        {"code": "ASSO-PETITE", "type": "association", "nom": "Petite association"},
        {"code": "CCAS-BONDY", "type": "ccas", "nom": "CCAS de Bondy"},
    ],
    "conventions": [
        {"reference": "ASSO-2025-042", "type": "autre", "partenaires": ["ASSO-TREMPLIN"],
         "objet": "Accompagnement vers l'emploi des bénéficiaires du RSA par l'association Tremplin 93.",
         "deliberation": {"instance": "Commission permanente", "numero": "CP-2025-03-118", "date": "2025-03-17"},
         "date_signature": "2025-04-02", "date_effet": "2025-05-01", "renouvellement": "expresse",
         "responsable": {"email": "agent@seinesaintdenis.example.fr"}, "montant": "96000",
         "versements": ["40 % à la signature de la convention", "30 % au 1er mai 2026",
                        "le solde sur production du compte rendu financier"]},
        {"reference": "ASSO-2025-050", "type": "autre", "partenaires": ["ASSO-PETITE"], "objet": "Petit projet.",
         "date_signature": "2025-06-01", "date_effet": "2025-06-01", "renouvellement": "aucun",
         "responsable": {"email": "agent@seinesaintdenis.example.fr"}, "montant": "30000"},
        {"reference": "CCAS-2025-001", "type": "ccas", "partenaires": ["CCAS-BONDY"], "objet": "Accompagnement.",
         "date_signature": "2025-02-01", "date_effet": "2025-03-01", "renouvellement": "expresse",
         "responsable": {"email": "agent@seinesaintdenis.example.fr"}, "montant": "200000"},
    ],
}


def _registry(pacte: Pacte, tmp_path: Path, data: dict[str, object]) -> None:
    path = tmp_path / "subventions.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte("importer", str(path))


def test_the_year_s_subsidies_are_published_in_the_scdl_format(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    from frictionless import Resource, Schema

    pacte = pacte_sqlite
    _registry(pacte, tmp_path, REGISTRY)
    out = tmp_path / "subventions-2025.csv"
    result = pacte("exporter", "--subventions", "2025", str(out))
    assert "1 subvention publiée (SCDL subventions 2.1.1)" in result.output
    schema = Schema.from_descriptor(json.loads(
        (resources.files("pacte_docs") / "scdl" / "subventions-2.1.1.json").read_text(encoding="utf-8")))
    report = Resource(path=out.name, basepath=str(out.parent), schema=schema).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    with out.open(encoding="utf-8", newline="") as read:
        rows = list(csv.DictReader(read))
    # only the association given more than 23 000 € a year (96 000 € over three years), signed in 2025
    assert [r["nomBeneficiaire"] for r in rows] == ["Association Tremplin 93"]
    row = rows[0]
    assert (row["idAttribuant"], row["dateConvention"], row["referenceDecision"]) == (
        "22930008201453", "2025-04-02", "CP-2025-03-118")
    assert (row["idBeneficiaire"], row["rnaBeneficiaire"], row["montant"]) == ("44306184100047", "W931000123",
                                                                               "96000.00")
    assert (row["conditionsVersement"], row["datesPeriodeVersement"], row["pourcentageSubvention"]) == (
        "échelonné", "2025-05-01/2028-04-30", "1.00")
    assert row["notificationUE"] == "non" and row["nature"] == "aide en numéraire"
    # the shared reference the schema was copied from, when it is at hand
    reference = Path(__file__).resolve().parents[2] / "shared/reference/scdl-subventions/schema.json"
    copied = resources.files("pacte_docs") / "scdl" / "subventions-2.1.1.json"
    if reference.is_file():
        assert reference.read_bytes() == copied.read_bytes()


def test_a_convention_lacking_a_required_value_is_named_before_anything_is_written(pacte_sqlite: Pacte,
                                                                                   tmp_path: Path) -> None:
    pacte = pacte_sqlite
    data = dict(REGISTRY, departement={"code": "93", "nom": "Département de la Seine-Saint-Denis"})
    _registry(pacte, tmp_path, data)
    out = tmp_path / "subventions-2025.csv"
    refused = pacte("exporter", "--subventions", "2025", str(out), ok=False)
    said = " ".join(refused.output.split())
    assert refused.exit_code != 0 and "le SIRET du Département (idAttribuant) manque" in said, said
    assert "siret" in said and not out.exists()
    bad = tmp_path / "rna.yaml"
    bad.write_text("partenaires:\n  - code: ASSO-X\n    type: association\n    nom: X\n    rna: W12\n",
                   encoding="utf-8")
    wrong = pacte("importer", str(bad), ok=False)
    assert wrong.exit_code != 0 and "n'est pas un numéro RNA" in wrong.output
