"""The essential data of subsidy conventions, published in the SCDL « subventions » 2.1.1 format (issue 28, item 3),
validated by frictionless against the schema."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

from tests.helpers import Pacte, pdf_text, registry_state, scdl_rows

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
         "versements": ["32 000 € à la signature de la convention", "32 000 € au 1er mai 2026",
                        "le solde au 1er mai 2027, sur production du compte rendu financier de l'exercice 2026"]},
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
    pacte = pacte_sqlite
    _registry(pacte, tmp_path, REGISTRY)
    out = tmp_path / "subventions-2025.csv"
    result = pacte("exporter", "--subventions", "2025", str(out))
    assert "1 subvention publiée (SCDL subventions 2.1.1)" in result.output
    rows = scdl_rows(out)
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


@pytest.mark.libreoffice
def test_a_three_year_subsidy_reads_as_the_law_writes_it(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """ASSO-2025-042, 96 000 € over three years: the amount in figures and words, each year's share and the later
    years subject to the vote of the credits, the schedule in the act, the documents owed within six months after
    each exercice, control, repayment, the contrat d'engagement républicain, no tacit renewal."""
    pacte = pacte_sqlite
    _registry(pacte, tmp_path, REGISTRY)
    pacte("conventions", "generer", "ASSO-2025-042")
    raw = pdf_text(pacte.root / "conventions/ASSO-2025-042/ASSO-2025-042.pdf").replace("\uf0b7", " ")
    text = " ".join(re.sub(r"-\n\s*", "-", raw).split()).replace("1 er", "1er")
    assert "CONVENTION ATTRIBUTIVE DE SUBVENTION" in text
    assert ("une subvention de 96 000,00 € (quatre-vingt-seize mille euros) pour la durée de la convention, répartie "
            "comme suit :") in text
    assert ("32 000,00 € pour la première année, du 1er mai 2025 au 30 avril 2026, au titre de l'exercice 2025 ;"
            in text)
    for rank, start, end, year in (("deuxième", "1er mai 2026", "30 avril 2027", 2026),
                                   ("troisième", "1er mai 2027", "30 avril 2028", 2027)):
        assert (f"32 000,00 € pour la {rank} année, du {start} au {end}, au titre de l'exercice {year}, sous réserve "
                "du vote des crédits par l'Assemblée départementale") in text
    assert "32 000,00 € (33,33 %) à la signature de la convention ;" in text
    assert ("32 000,00 € (33,33 %) au 1er mai 2027, sur production du compte rendu financier de l'exercice 2026."
            in text)
    assert ("dans les six mois suivant la fin de chaque exercice (année civile) couvert par la convention, soit au "
            "plus tard le 30 juin de l'année suivante : le compte rendu financier, qui atteste de la conformité des "
            "dépenses effectuées à l'objet de la subvention") in text
    assert "une copie certifiée de son budget et de ses comptes de l'exercice" in text
    assert "le rapport d'activité de l'exercice" in text
    assert "conformément à l'article L. 1611-4 du code général des collectivités territoriales" in text
    assert "peut être soumise au contrôle des délégués du Département" in text
    assert "Le Département peut exiger le reversement de tout ou partie des sommes versées" in text
    assert ("déclare avoir souscrit le contrat d'engagement républicain prévu par l'article 10-1 de la loi n° 2000-321 "
            "du 12 avril 2000") in text
    assert "Elle n'est jamais reconduite tacitement" in text and "reconduite tacitement par périodes" not in text
    assert "comité de suivi" in text and "échéancier arrêté par le comité de suivi" not in text
    assert "contrat d'engagement réciproque" not in text and "engagements réciproques" not in text


def test_tacit_renewal_and_a_missing_schedule_are_refused_at_import(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """Each named with its file, line, field and fix; exit 1; nothing recorded."""
    pacte = pacte_sqlite
    data = json.loads(json.dumps(REGISTRY))
    data["conventions"][0]["renouvellement"] = "tacite"
    del data["conventions"][0]["versements"]
    path = tmp_path / "subventions.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = registry_state(pacte.root, pacte.base)
    result = pacte("importer", str(path), ok=False)
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert registry_state(pacte.root, pacte.base) == before
    assert ("subventions.yaml, ligne 30, champ « renouvellement » : une subvention à une association ne se reconduit "
            "pas tacitement") in said
    assert "écrivez « expresse » (renouvellement décidé par délibération avant le terme) ou « aucun »" in said
    assert ("champ « versements » : une subvention de plus de 23 000 € par an à une association sans échéancier de "
            "versement : la convention doit le fixer elle-même (loi n° 2000-321, art. 10)") in said
    assert "« 50 % à la signature de la convention »" in said
    # the first payment within the first year's share: the later years depend on the vote of their credits
    data = json.loads(json.dumps(REGISTRY))
    data["conventions"][0]["versements"] = ["40 % à la signature de la convention", "le solde au 1er mai 2027"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    early = " ".join(pacte("importer", str(path), ok=False).output.split())
    assert ("champ « versements » : le premier versement (38 400,00 €) dépasse la part de la première année "
            "(32 000,00 €) : les années suivantes ne sont dues que sous réserve du vote des crédits") in early
    assert "« 32 000 € à la signature de la convention »" in early
    # under the threshold, no schedule is required; a tacit renewal is refused all the same
    data = json.loads(json.dumps(REGISTRY))
    data["conventions"] = [data["conventions"][1] | {"renouvellement": "tacite"}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    small = " ".join(pacte("importer", str(path), ok=False).output.split())
    assert "ne se reconduit pas tacitement" in small and "versements" not in small
