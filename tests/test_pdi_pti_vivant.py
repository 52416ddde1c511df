"""The living PDI/PTI: revisions adopted by délibération (the document as adopted and the consolidated one, each
archived), the fiches followed by their référents, the comité de pilotage's point d'étape and the bilan d'étape —
read back from the DOCX and PDF as their readers would; every bad input refused in French, nothing lost."""

from __future__ import annotations

import csv
import io
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook

from tests.helpers import (
    Pacte,
    bookmarks,
    build_pacte,
    docx_text,
    folder_state,
    normalise,
    pdf_text,
    registry_state,
    write,
)

DEMO = resources.files("pacte_docs") / "donnees"
FOLDER = "archives/pdi-pti/PACTE-2016-2020"


def demo_file(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes((DEMO / name).read_bytes())
    return str(path)


def essonne(runner: Pacte, tmp_path: Path) -> None:
    """The Essonne registry and its pacte as adopted in 2016, then its 2019 revision."""
    runner("importer", demo_file(tmp_path, "demo-91-essonne.yaml"),
           demo_file(tmp_path, "demo-91-pacte-solidarite.yaml"))
    result = runner("pdi-pti", "reviser", "PACTE-2016-2020", demo_file(tmp_path, "revision-91-2019.yaml"),
                    "--deliberation", "2019-04-0019", "--date", "2019-03-25", "--objet", "nouvelles actions 2019-2020")
    assert "révision n° 1, délibération n° 2019-04-0019 du 25 mars 2019" in result.output
    assert "Fiche 2.3 ajoutée : Crèche associative" in result.output
    assert "Fiche 2.1 modifiée : Accompagnement global conjoint avec Pôle emploi" in result.output


def grouped(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def yearly_sums(name: str) -> dict[str, int]:
    """The fiches' figures of a bundled realisations file, summed by column (amounts to the euro)."""
    rows = list(csv.DictReader(io.StringIO((DEMO / name).read_text(encoding="utf-8")), delimiter=";"))
    sums: dict[str, int] = {}
    for row in rows:
        if not row["fiche"]:
            continue
        for column in ("personnes_accompagnees", "entrees", "dont_brsa", "sorties_emploi", "sorties_formation",
                       "creations_entreprise", "credits_engages", "credits_consommes"):
            value = row[column].replace("\u00a0", "").replace(" ", "").split(",")[0]
            sums[column] = sums.get(column, 0) + int(value or 0)
    sums["sorties_positives"] = sums["sorties_emploi"] + sums["sorties_formation"] + sums["creations_entreprise"]
    return sums


def fiche_numbers(text: str) -> set[str]:
    return set(re.findall(r"Fiche action n° (\d+\.\d+) –", text))


# ---------------------------------------------------------------- revisions and the documents they give


@pytest.mark.lent
def test_the_2016_and_2019_documents_differ_exactly_by_the_revision_and_both_are_archived(pacte: Pacte,
                                                                                           tmp_path: Path) -> None:
    essonne(pacte, tmp_path)
    adopted = pacte("pdi-pti", "generer", "PACTE-2016-2020", "--au", "2018-12-31")
    assert "texte adopté le 17 octobre 2016" in adopted.output
    current = pacte("pdi-pti", "generer", "PACTE-2016-2020")
    assert "version consolidée par la délibération n° 2019-04-0019 du 25 mars 2019" in current.output
    old_pdf = pacte.root / FOLDER / "PACTE-2016-2020-2016-10-17.pdf"
    new_pdf = pacte.root / FOLDER / "PACTE-2016-2020.pdf"
    old, new = pdf_text(old_pdf), pdf_text(new_pdf)
    flat_old, flat_new = " ".join(old.split()), " ".join(new.split())
    # exactly the revision's fiches, in the text and in the bookmarks
    assert fiche_numbers(new) - fiche_numbers(old) == {"2.3", "4.1", "4.3", "5.2"}
    assert fiche_numbers(old) - fiche_numbers(new) == set()
    marks = {b.title for top in bookmarks(new_pdf) for b in top.children}
    assert "Fiche action n° 2.3 – Crèche associative pour les enfants de parents bénéficiaires du RSA" in marks
    assert not any("2.3" in b.title for top in bookmarks(old_pdf) for b in top.children)
    # the consolidated text says which délibérations made it, and marks what the revision added or amended
    assert "Révisé par l'Assemblée départementale le 25 mars 2019" in flat_new
    assert "Il a été révisé par la délibération n° 2019-04-0019 du 25 mars 2019 (nouvelles actions 2019-2020)" in \
        flat_new
    assert flat_new.count("Fiche ajoutée par la délibération n° 2019-04-0019 du 25 mars 2019.") == 4
    assert flat_new.count("Fiche modifiée par la délibération n° 2019-04-0019 du 25 mars 2019.") == 1
    assert "Conventions 2017-2018, renouvelées jusqu'en 2020." in flat_new
    # the text as adopted says nothing of a revision, and keeps the 2016 wording of the amended fiche
    assert "révisé" not in flat_old.lower() and "ajoutée par" not in flat_old
    assert "Convention 2017-2018, renouvelable une fois jusqu'en 2020." in flat_old
    # the budget: the four new fiches' more, as the two files give them
    adopted = yaml.safe_load((DEMO / "demo-91-pacte-solidarite.yaml").read_text(encoding="utf-8"))["pacte"]
    revision = yaml.safe_load((DEMO / "revision-91-2019.yaml").read_text(encoding="utf-8"))["fiches"]
    budget = sum(int(f["budget"]) for a in adopted["axes"] for f in a["fiches"])
    added = sum(int(f["budget"]) for f in revision if f["operation"] == "ajouter")
    assert f"Le budget prévisionnel du pacte s'élève à {grouped(budget)},00 €" in flat_old
    assert f"Le budget prévisionnel du pacte s'élève à {grouped(budget + added)},00 €" in flat_new
    # both recorded and intact; the earlier one produced again is unchanged
    again = pacte("pdi-pti", "generer", "PACTE-2016-2020", "--au", "2017-01-01")
    assert "(inchangé)" in again.output
    assert "4 fichier(s) vérifié(s) : tous intacts" in pacte("archives", "verifier").output


def test_a_revision_closes_and_amends_and_the_history_keeps_every_version(pacte: Pacte, tmp_path: Path) -> None:
    pacte("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(2, 1)))))
    first = write(tmp_path / "r1.yaml", {"fiches": [
        {"numero": "1.2", "operation": "clore", "motif": "Action reprise par France Travail."},
        {"numero": "2.2", "operation": "ajouter", "intitule": "Garde d'enfants & mobilité", "budget": "1000.50",
         "partenaires": ["CAF-23"], "referent": "Cheffe de projet mobilité"}],
        "axes": [{"numero": 3, "operation": "ajouter", "intitule": "Logement d'abord", "nature": "sociale"},
                 {"numero": 1, "operation": "modifier", "objectifs": ["Un objectif revu"]}]})
    pacte("pdi-pti", "reviser", "PTI-2024-2027", str(first), "--deliberation", "2025-01-12", "--date", "2025-02-03")
    second = write(tmp_path / "r2.yaml", {"fiches": [
        {"numero": "3.1", "operation": "ajouter", "intitule": "Bail glissant"},
        {"numero": "2.2", "operation": "modifier", "calendrier": "2025-2027"}]})
    out = pacte("pdi-pti", "reviser", "PTI-2024-2027", str(second), "--deliberation", "2026-02-01",
                "--date", "2026-02-09").output
    assert "révision n° 2" in out and "Fiche 3.1 ajoutée : Bail glissant" in out
    pacte("pdi-pti", "generer", "--sans-pdf", "--au", "2025-01-01")
    pacte("pdi-pti", "generer", "--sans-pdf", "--au", "2025-06-01")
    pacte("pdi-pti", "generer", "--sans-pdf")
    folder = pacte.root / "archives/pdi-pti/PTI-2024-2027"
    v0, v1 = docx_text(folder / "PTI-2024-2027-2024-03-01.docx"), docx_text(folder / "PTI-2024-2027-2025-02-03.docx")
    v2 = docx_text(folder / "PTI-2024-2027.docx")
    assert fiche_numbers(v0) == {"1.1", "1.2", "2.1"}
    assert fiche_numbers(v1) == {"1.1", "2.1", "2.2"}  # 1.2 closed, 2.2 added
    assert fiche_numbers(v2) == {"1.1", "2.1", "2.2", "3.1"}
    assert "Axe 3 – Logement d'abord" in v1 and "Axe ajouté par la délibération n° 2025-01-12 du 3 février 2025." in v1
    assert "Axe modifié par la délibération n° 2025-01-12 du 3 février 2025." in v1
    assert "Un objectif revu" in v1 and "Premier objectif de l'axe 1" in v0
    assert "Fiche modifiée par la délibération n° 2026-02-01 du 9 février 2026." in v2
    assert "Cheffe de projet mobilité" in v1
    assert "Il a été révisé par la délibération n° 2025-01-12 du 3 février 2025, puis par la délibération n° " \
           "2026-02-01 du 9 février 2026." in " ".join(v2.split())
    # the registry holds the latest version: what figures and states are given for
    listing = pacte("pdi-pti", "lister", "--format", "json").output
    assert '"fiches": 4' in listing


HOSTILE: list[tuple[Any, list[str], list[str]]] = [
    ({"fiches": [{"numero": "1.1", "operation": "ajouter", "intitule": "Doublon"}]}, [],
     ["r.yaml, ligne 3, champ « numero » : la fiche 1.1 existe déjà"]),
    ({"fiches": [{"numero": "1.9", "operation": "modifier", "calendrier": "2025"}]}, [],
     ["la fiche 1.9 n'est pas en vigueur"]),
    ({"fiches": [{"numero": "1.1", "operation": "supprimer"}]}, [],
     ["champ « operation » : « supprimer » n'est pas une valeur permise", "ajouter, modifier, clore"]),
    ({"fiches": [{"numero": "2.5", "operation": "ajouter", "axe": 1, "intitule": "Hors axe"}]}, [],
     ["la fiche 2.5 est numérotée hors de l'axe 1"]),
    ({"fiches": [{"numero": "1.3", "operation": "ajouter", "intitule": "X", "partenaires": ["NULLE-PART"]}]}, [],
     ["partenaire inconnu : NULLE-PART"]),
    ({"fiches": [{"numero": "1.1", "operation": "modifier", "axe": 2, "public": "Tous"}]}, [],
     ["une fiche ne change pas d'axe"]),
    ({"fiches": [{"numero": "1.1", "operation": "modifier"}]}, [], ["rien à modifier dans la fiche 1.1"]),
    ({"fiches": [{"numero": "9.1", "operation": "ajouter", "intitule": "Sans axe"}]}, [],
     ["l'axe 9 n'est pas en vigueur"]),
    ({"fiches": [{"numero": "1.1", "operation": "clore"}, {"numero": "1.1", "operation": "clore"}]}, [],
     ["la fiche 1.1 figure deux fois dans la révision"]),
    ({"fiches": [{"numero": "1.3", "operation": "ajouter", "intitule": "X", "budjet": "12"}]}, [],
     ["r.yaml, ligne 2, champ « budjet » : champ inconnu — vouliez-vous dire « budget » ?"]),
    ({"conventions": [{"reference": "X-1"}]}, [], ["la section « conventions » n'a pas sa place dans une révision"]),
    ({}, [], ["fichier vide"]),
    ({"fiches": [{"numero": "1.3", "operation": "ajouter", "intitule": "X"}]}, ["--date", "2023-01-01"],
     ["précède ou égale l'adoption du PDI/PTI PTI-2024-2027 le 01/03/2024"]),
    ({"fiches": [{"numero": "1.3", "operation": "ajouter", "intitule": "X"}]}, ["--date", "2099-01-01"],
     ["est datée après aujourd'hui"]),
    ({"fiches": [{"numero": "1.3", "operation": "ajouter", "intitule": "X"}]}, ["--date", "2024-02-30"],
     ["--date"]),
]


@pytest.mark.parametrize(("content", "options", "expected"), HOSTILE)
def test_a_bad_revision_is_refused_in_french_and_changes_nothing(pacte_sqlite: Pacte, tmp_path: Path, content: Any,
                                                                 options: list[str], expected: list[str]) -> None:
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(2, 1)))))
    before, files = registry_state(pacte_sqlite.root, None), folder_state(pacte_sqlite.root)
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True) if content else "", encoding="utf-8")
    result = pacte_sqlite("pdi-pti", "reviser", "PTI-2024-2027", str(path), "--deliberation", "2025-01",
                          *(options or ["--date", "2025-02-03"]), ok=False)
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in normalise(result.output), result.output
    assert registry_state(pacte_sqlite.root, None) == before
    assert folder_state(pacte_sqlite.root) == files


def test_revisions_follow_each_other_and_a_revised_pacte_is_not_rewritten_by_an_import(pacte: Pacte,
                                                                                        tmp_path: Path) -> None:
    data = build_pacte(fiches_per_axe=(2, 1))
    pacte("importer", str(write(tmp_path / "pti.yaml", data)))
    revision = write(tmp_path / "r.yaml", {"fiches": [{"numero": "1.3", "operation": "ajouter", "intitule": "X"}]})
    pacte("pdi-pti", "reviser", "PTI-2024-2027", str(revision), "--deliberation", "2025-01", "--date", "2025-02-03")
    before = registry_state(pacte.root, pacte.base)
    same_number = pacte("pdi-pti", "reviser", "PTI-2024-2027", str(revision), "--deliberation", "2025-01",
                        "--date", "2025-06-03", ok=False)
    assert same_number.exit_code == 1 and "La délibération n° 2025-01 est déjà enregistrée" in same_number.output
    earlier = pacte("pdi-pti", "reviser", "PTI-2024-2027", str(revision), "--deliberation", "2025-02",
                    "--date", "2025-01-03", ok=False)
    assert "a déjà été révisé le 03/02/2025" in earlier.output
    # the pacte's own file, imported again, gives its axes as first adopted: nothing changes
    assert "PDI/PTI : 1 inchangé" in pacte("importer", str(tmp_path / "pti.yaml")).output
    assert registry_state(pacte.root, pacte.base) == before
    # a file whose fiches differ would rewrite what a délibération adopted: refused, the way named
    data["pacte"]["axes"][0]["fiches"][0]["intitule"] = "Intitulé réécrit"
    rewrite = pacte("importer", str(write(tmp_path / "pti.yaml", data)), ok=False)
    assert rewrite.exit_code == 1
    assert "le PDI/PTI PTI-2024-2027 a été révisé (délibération n° 2025-01 du 03/02/2025)" in rewrite.output
    assert "pacte pdi-pti reviser" in rewrite.output
    assert registry_state(pacte.root, pacte.base) == before
    # an export of the registry, imported again, says what the registry holds: accepted, nothing changes
    exported = tmp_path / "registre.yaml"
    pacte("exporter", str(exported))
    assert "PDI/PTI : 1 inchangé" in pacte("importer", str(exported)).output
    assert registry_state(pacte.root, pacte.base) == before


# ---------------------------------------------------------------- the fiches followed


def test_states_are_recorded_with_their_history_from_the_command_line_and_the_workbook(pacte: Pacte,
                                                                                       tmp_path: Path) -> None:
    pacte("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(2, 1)))))
    out = pacte("--au", "2025-06-30", "pdi-pti", "suivi", "PTI-2024-2027", "1.1", "--etat", "à engager",
                "--date", "2024-04-02", "--commentaire", "Recherche d'un prestataire.").output
    assert "PTI-2024-2027, fiche 1.1 : « à engager » au 2 avril 2024 (enregistré)." in out
    pacte("--au", "2025-06-30", "pdi-pti", "suivi", "PTI-2024-2027", "1.1", "--etat", "En cours",
          "--date", "2024-09-02", "--referent", "Chargée de mission insertion")
    corrected = pacte("--au", "2025-06-30", "pdi-pti", "suivi", "PTI-2024-2027", "fiche 1.1", "--etat", "en_cours",
                      "--date", "2024-09-02", "--commentaire", "Démarrage en septembre.",
                      "--referent", "Chargée de mission insertion").output
    assert "(corrigé)" in corrected
    book = Workbook()
    sheet = book.active
    sheet.title = "suivi"
    sheet.append(["pacte", "fiche", "axe", "date", "etat", "commentaire"])
    sheet.append(["PTI-2024-2027", "1.2", None, "15/01/2025", "suspendue", "Local indisponible."])
    sheet.append(["PTI-2024-2027", None, 2, "2025-01-15", "ajustée", None])
    sheet.append(["PTI-2024-2027", "1.1", None, "2025-03-01", "réalisée", "Objectif atteint."])
    book.save(tmp_path / "suivi.xlsx")
    assert "états des fiches-actions : 3 créés" in pacte("importer", str(tmp_path / "suivi.xlsx")).output
    assert "états des fiches-actions : 3 inchangés" in pacte("importer", str(tmp_path / "suivi.xlsx")).output
    state = registry_state(pacte.root, pacte.base)["suivi"]
    history = [(cible, str(day), etat, comment) for _, cible, day, etat, comment, _ in state if cible == "fiche:1.1"]
    assert history == [("fiche:1.1", "2024-04-02", "a_engager", "Recherche d'un prestataire."),
                       ("fiche:1.1", "2024-09-02", "en_cours", "Démarrage en septembre."),
                       ("fiche:1.1", "2025-03-01", "realisee", "Objectif atteint.")]
    assert ("axe:2", "2025-01-15", "ajustee") in [(c, str(d), e) for _, c, d, e, _, _ in state]


SUIVI_REFUSED = [
    (["9.1", "--etat", "en cours"],
     "La fiche-action 9.1 n'existe pas dans le PDI/PTI ; fiches en vigueur : 1.1, 1.2, 2.1"),
    (["1.1", "--etat", "terminée"], "« terminée » n'est pas une valeur permise"),
    (["1.1", "--etat", "en cours", "--date", "2020-01-01"], "précède l'adoption du PDI/PTI le 01/03/2024"),
    (["1.1", "--etat", "en cours", "--date", "2030-01-01"], "est à venir"),
    (["un", "--etat", "en cours"], "« un » ne désigne ni une fiche-action (« 1.1 ») ni un axe (« axe 2 »)"),
    (["1.1", "--etat", "en cours", "--commentaire", "x" * 2001], "texte trop long (2001 caractères, 2000 au plus)"),
]


@pytest.mark.parametrize(("args", "expected"), SUIVI_REFUSED)
def test_a_bad_state_is_refused_in_french_and_changes_nothing(pacte_sqlite: Pacte, tmp_path: Path, args: list[str],
                                                              expected: str) -> None:
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(2, 1)))))
    before = registry_state(pacte_sqlite.root, None)
    result = pacte_sqlite("--au", "2025-06-30", "pdi-pti", "suivi", "PTI-2024-2027", *args, ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert expected in result.output, result.output
    assert "Rien n'a été enregistré." in result.output
    assert registry_state(pacte_sqlite.root, None) == before


def test_a_state_follows_the_revisions_and_a_bad_sheet_names_its_rows(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(2, 1)))))
    revision = write(tmp_path / "r.yaml", {"fiches": [{"numero": "1.3", "operation": "ajouter", "intitule": "X"},
                                                      {"numero": "1.2", "operation": "clore"}]})
    pacte_sqlite("pdi-pti", "reviser", "PTI-2024-2027", str(revision), "--deliberation", "2025-01", "--date",
                 "2025-02-03")
    too_early = pacte_sqlite("pdi-pti", "suivi", "PTI-2024-2027", "1.3", "--etat", "en cours", "--date",
                             "2024-12-01", ok=False)
    assert "La fiche-action 1.3 n'était pas encore en vigueur le 01/12/2024 : la délibération n° 2025-01 l'a " \
           "ajoutée le 03/02/2025" in too_early.output
    closed = pacte_sqlite("pdi-pti", "suivi", "PTI-2024-2027", "1.2", "--etat", "abandonnée", "--date",
                          "2025-03-01", ok=False)
    assert "n'est plus en vigueur le 01/03/2025 : une révision l'a close" in closed.output
    # before its closing, the fiche is followed
    pacte_sqlite("pdi-pti", "suivi", "PTI-2024-2027", "1.2", "--etat", "abandonnée", "--date", "2025-01-20")
    before = registry_state(pacte_sqlite.root, None)
    book = Workbook()
    sheet = book.active
    sheet.title = "suivi"
    sheet.append(["fiche", "date", "etat"])
    sheet.append(["1.1", "2025-04-01", "en cours"])
    sheet.append(["1.2", "2025-04-01", "en cours"])
    sheet.append(["1.1", "2025-04-01", "réalisée"])
    sheet.append(["7.7", "2025-04-01", "peut-être"])
    book.save(tmp_path / "suivi.xlsx")
    refused = pacte_sqlite("importer", str(tmp_path / "suivi.xlsx"), ok=False)
    text = normalise(refused.output)
    assert refused.exit_code == 1 and "rien n'a été enregistré" in text
    assert "suivi.xlsx, feuille « suivi », cellule A3, champ « fiche » : la fiche-action 1.2 n'est plus en vigueur " \
           "le 01/04/2025 : une révision l'a close" in text
    assert "cellule B4, champ « date » : deux états de la même fiche (ou du même axe) le même jour" in text
    assert "cellule C5, champ « etat » : « peut-être » n'est pas une valeur permise" in text
    assert registry_state(pacte_sqlite.root, None) == before


# ---------------------------------------------------------------- the point d'étape and the bilan d'étape


@pytest.mark.lent
def test_the_demo_s_point_d_etape_and_bilan_d_etape_state_what_each_fiche_became(pacte_sqlite: Pacte,
                                                                                  tmp_path: Path) -> None:
    essonne(pacte_sqlite, tmp_path)
    pacte_sqlite("importer", demo_file(tmp_path, "demo-91-realisations-2018.csv"),
                 demo_file(tmp_path, "realisations-91-2019.csv"), demo_file(tmp_path, "suivi-91-2019.yaml"))
    first = pacte_sqlite("pdi-pti", "point-etape", "--date", "2019-06-14").output
    assert "changements depuis le 17 octobre 2016" in first
    second = pacte_sqlite("pdi-pti", "point-etape", "--date", "2019-12-10").output
    assert "changements depuis le 14 juin 2019" in second
    folder = pacte_sqlite.root / FOLDER / "points-etape"
    point = " ".join(docx_text(folder / "PACTE-2016-2020-point-etape-2019-12-10.docx").split())
    assert "Point d'étape au 10 décembre 2019" in point
    assert "14 fiches-actions en vigueur au 10 décembre 2019 : 12 en cours, 2 ajustées." in point
    assert "Ce qui a changé depuis le point d'étape du 14 juin 2019" in point
    assert "Fiche 5.2 (Mois de l'insertion) : en cours le 29 novembre 2019 (auparavant : à engager)" in point
    assert "Fiche 2.3 (Crèche associative pour les enfants de parents bénéficiaires du RSA) : en cours le " \
           "31 octobre 2019 (auparavant : à engager)" in point
    # a state before the previous point d'étape is not a change since it
    assert "Fiche 1.1 (Évaluation complète" not in point
    assert "Référent thématique : Chef du service de l'orientation et des parcours" in point
    assert "Référent : Conseillère technique petite enfance" in point
    # the figures of the last year closed on that day: 2018's (fiche 3.3), none yet for a fiche added in 2019
    assert "Chiffres 2018" in point and "dernière année close à cette date" in point
    assert "36 personnes accompagnées ; 24 entrées ; 15 sorties positives ; 374 000,00 € engagés" in point
    assert "1 personne accompagnée" not in point and "0 sorties positives" not in point
    assert "0 sortie positive" in point  # fiche 1.1: orientation, no exit counted
    assert "Ajoutée par la délibération n° 2019-04-0019 du 25 mars 2019" in point
    june = " ".join(docx_text(folder / "PACTE-2016-2020-point-etape-2019-06-14.docx").split())
    assert "Révision adoptée par la délibération n° 2019-04-0019 du 25 mars 2019 : fiches 2.3, 4.1, 4.3 et 5.2 " \
           "ajoutées ; fiche 2.1 modifiée." in june
    assert (folder / "PACTE-2016-2020-point-etape-2019-12-10.pdf").read_bytes().startswith(b"%PDF")

    result = pacte_sqlite("bilan", "compiler", "2019", "--etape", "--deliberation", "2020-03-0102")
    assert "Bilan d'étape 2019 : archives/bilans/2019/bilan-etape-2019.pdf" in result.output
    compiled = pacte_sqlite.root / "archives/bilans/2019/bilan-etape-2019.pdf"
    text = " ".join(pdf_text(compiled).split())
    assert "BILAN D'ÉTAPE 2019" in text
    assert "à sa quatrième année sur cinq" in text and "des réalisations de 2018 à 2019" in text
    assert "Aucun chiffre n'a été importé pour 2016 et 2017." in text
    assert "Fiche 2.1 – Accompagnement global conjoint avec Pôle emploi : modifiée (calendrier)." in text
    # figures year by year and cumulated: the 2018 and 2019 files' sums (fiches only)
    years = {"2018": yearly_sums("demo-91-realisations-2018.csv"), "2019": yearly_sums("realisations-91-2019.csv")}
    columns = ("personnes_accompagnees", "entrees", "dont_brsa", "sorties_positives")
    for year, sums in years.items():
        line = " ".join(grouped(sums[c]) for c in columns)
        assert f"{year} {line} {grouped(sums['credits_engages'])} € {grouped(sums['credits_consommes'])} €" in text
    total = {c: years["2018"][c] + years["2019"][c] for c in (*columns, "credits_engages", "credits_consommes")}
    assert "Cumul " + " ".join(grouped(total[c]) for c in columns) + f" {grouped(total['credits_engages'])} € " \
           f"{grouped(total['credits_consommes'])} € 2018-2019" in text
    assert "Au 31 décembre 2019, 14 fiches-actions en vigueur : 12 en cours, 2 ajustées." in text
    assert "Révision adoptée par la délibération n° 2019-04-0019 du 25 mars 2019 : nouvelles actions 2019-2020" in text
    assert "Fiche 4.1 – Cellule Emploi du Département : ajoutée." in text
    assert "Vu la délibération n° 2019-04-0019 du 25 mars 2019 révisant ce programme ;" in text
    assert "APPROUVE le bilan d'étape 2019 du Pacte solidarité Essonne" in text
    assert "Annexe 1 – Le suivi de chaque fiche-action, date par date" in text
    assert "14/12/2018 : ajustée — Chantier interne" in text
    from pypdf import PdfReader

    metadata = PdfReader(compiled).metadata
    assert metadata is not None and metadata.title == "Bilan d'étape 2019 de la politique départementale d'insertion"
    titles = [b.title for b in bookmarks(compiled)]
    assert titles[0] == "Synthèse du bilan d'étape" and titles[-1].startswith("Annexe 2 – Fiches-actions du PDI/PTI")
    annex = bookmarks(compiled)[-1]
    assert [a.title.split(" –")[0] for a in annex.children] == [f"Axe {n}" for n in range(1, 6)]
    assert sum(len(a.children) for a in annex.children) == 14  # the PDI/PTI in force on 31 December 2019


def test_a_revision_from_the_workbook_s_sheets_and_states_exported_and_imported_again(pacte: Pacte,
                                                                                     tmp_path: Path) -> None:
    pacte("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(2, 1)))))
    book = Workbook()
    sheet = book.active
    sheet.title = "fiches-actions"
    sheet.append(["operation", "axe", "numero", "intitule", "objectifs", "motif"])
    sheet.append(["ajouter", 2, "2.2", "Atelier « code de la route »", "Objectif un\nObjectif deux", None])
    sheet.append(["clore", None, "1.2", None, None, "Action reprise par une SIAE."])
    book.save(tmp_path / "revision.xlsx")
    out = pacte("pdi-pti", "reviser", "PTI-2024-2027", str(tmp_path / "revision.xlsx"), "--deliberation", "2025-07",
                "--date", "2025-07-07").output
    assert "Fiche 2.2 ajoutée : Atelier « code de la route »" in out
    assert "— Action reprise par une SIAE." in out
    pacte("--au", "2025-09-30", "pdi-pti", "suivi", "PTI-2024-2027", "2.2", "--etat", "en cours", "--date",
          "2025-09-01", "--commentaire", "Premier atelier = 12 inscrits.")
    before = registry_state(pacte.root, pacte.base)
    exported = tmp_path / "registre.xlsx"
    pacte("exporter", str(exported))
    again = pacte("importer", str(exported)).output
    assert "états des fiches-actions : 1 inchangé" in again and "PDI/PTI : 1 inchangé" in again
    assert registry_state(pacte.root, pacte.base) == before


# ---------------------------------------------------------------- the pages


@pytest.mark.lent
@pytest.mark.navigateur
def test_the_directors_page_shows_where_each_fiche_stands_on_a_desktop_and_a_phone(pacte_sqlite: Pacte,
                                                                                  tmp_path: Path,
                                                                                  browser: Any) -> None:
    from tests.helpers import create_link, start_server
    from tests.test_espace_agents import violations

    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(2, 1)))))
    revision = write(tmp_path / "r.yaml", {"fiches": [{"numero": "1.2", "operation": "clore", "motif": "Reprise."},
                                                      {"numero": "2.2", "operation": "ajouter", "intitule": "Nouvelle",
                                                       "referent": "Cheffe de projet <mobilité>"}]})
    pacte_sqlite("pdi-pti", "reviser", "PTI-2024-2027", str(revision), "--deliberation", "2025-01", "--date",
                 "2025-02-03")
    pacte_sqlite("pdi-pti", "suivi", "PTI-2024-2027", "1.1", "--etat", "suspendue", "--date", "2025-03-03",
                 "--commentaire", "Local indisponible jusqu'en septembre.")
    url, _, _ = create_link(pacte_sqlite, "--tout")
    server = start_server(pacte_sqlite.root)
    try:
        for width, phone in ((1280, False), (390, True)):
            context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=phone, locale="fr-FR",
                                          bypass_csp=True)
            page = context.new_page()
            page.goto(url.replace("http://127.0.0.1:8000", server.url) + "/publications")
            assert "révisé par la délibération n° 2025-01 du 3 février 2025" in page.locator("main").inner_text()
            first = page.get_by_role("table").first
            assert "Axe 1" in first.locator("caption").inner_text()
            row = first.get_by_role("row").filter(has_text="1.1 –")
            assert "suspendue" in row.inner_text() and "depuis le 03/03/2025" in row.inner_text()
            assert "Local indisponible jusqu'en septembre." in row.inner_text()
            assert first.get_by_role("row").filter(has_text="1.2 –").count() == 0  # closed by the revision
            second = page.get_by_role("table").nth(1)
            added = second.get_by_role("row").filter(has_text="2.2 –").inner_text()
            assert "non renseigné" in added and "Cheffe de projet <mobilité>" in added  # escaped, shown as text
            assert violations(page) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            context.close()
    finally:
        server.stop()


def test_the_versions_are_listed_and_a_point_d_etape_before_the_adoption_is_refused(pacte_sqlite: Pacte,
                                                                                   tmp_path: Path) -> None:
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(2, 1)))))
    revision = write(tmp_path / "r.yaml", {"fiches": [{"numero": "1.2", "operation": "clore", "motif": "Reprise."},
                                                      {"numero": "1.3", "operation": "ajouter", "intitule": "X"},
                                                      {"numero": "1.4", "operation": "ajouter", "intitule": "Y"}]})
    pacte_sqlite("pdi-pti", "reviser", "PTI-2024-2027", str(revision), "--deliberation", "2025-01", "--date",
                 "2025-02-03")
    rows = json.loads(pacte_sqlite("pdi-pti", "versions", "--format", "json").output)
    assert [(r["rang"], r["deliberation"], r["fiches"], r["changements"]) for r in rows] == [
        (0, None, 3, "adoption"), (1, "2025-01", 4, "fiches 1.3 et 1.4 ajoutées ; fiche 1.2 close")]
    before, files = registry_state(pacte_sqlite.root, None), folder_state(pacte_sqlite.root)
    for args, expected in ((["--date", "2023-05-01"], "Le point d'étape du 01/05/2023 précède l'adoption du PDI/PTI "
                                                      "PTI-2024-2027 le 01/03/2024"),
                           (["--date", "2025-05-01", "--depuis", "2025-06-01"], "--depuis 01/06/2025 : donnez une date "
                                                                                "entre l'adoption du PDI/PTI"),
                           (["--date", "2025-13-01"], "--date")):
        result = pacte_sqlite("pdi-pti", "point-etape", *args, ok=False)
        assert result.exit_code in (1, 2) and expected in result.output, result.output
    assert registry_state(pacte_sqlite.root, None) == before and folder_state(pacte_sqlite.root) == files


@pytest.mark.lent
@pytest.mark.navigateur
def test_a_clerk_records_a_fiche_s_state_from_the_staff_pages(pacte_sqlite: Pacte, tmp_path: Path,
                                                              browser: Any) -> None:
    from tests.helpers import start_server
    from tests.test_espace_agents import violations

    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(2, 1)))))
    made = pacte_sqlite("agents", "creer", "claire.dubois@creuse.example.fr", "--nom", "Claire Dubois", "--role",
                        "redaction", "--lien")
    invitation = re.search(r"(/connexion/invitation/\S+)", made.output)
    assert invitation
    server = start_server(pacte_sqlite.root, au="2025-06-30")
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", bypass_csp=True)
        page = context.new_page()
        page.goto(server.url + invitation.group(1))
        page.get_by_label("Mot de passe", exact=True).fill("une phrase de passe")
        page.get_by_label("Le même, de nouveau").fill("une phrase de passe")
        page.keyboard.press("Enter")
        page.wait_for_url(server.url + "/agents/")
        page.goto(server.url + "/agents/publications")
        form = page.locator("form[action='/agents/pdi-pti/suivi']")
        form.get_by_label("Fiche-action (obligatoire)").select_option("1.2")
        form.get_by_label("État (obligatoire)").select_option(label="suspendue")
        form.get_by_label("Date du constat").fill("2025-07-15")  # after the server's day: refused
        form.get_by_label("Où en est-on").fill("Local indisponible jusqu'en septembre.")
        before = registry_state(pacte_sqlite.root, None)
        form.get_by_role("button", name="Enregistrer l'état").click()
        alert = page.get_by_role("alert").inner_text()
        assert "Le 15/07/2025 est à venir" in alert and "Rien n'a été enregistré" in alert
        assert form.get_by_label("Où en est-on").input_value() == "Local indisponible jusqu'en septembre."
        assert registry_state(pacte_sqlite.root, None) == before
        assert violations(page) == []
        form.get_by_label("Date du constat").fill("2025-06-02")
        form.get_by_role("button", name="Enregistrer l'état").click()
        assert "PTI-2024-2027, fiche 1.2 : « suspendue » au 2 juin 2025 (enregistré)." in \
            page.get_by_role("status").inner_text()
        row = page.get_by_role("table").first.get_by_role("row").filter(has_text="1.2 –").inner_text()
        assert "suspendue" in row and "Local indisponible jusqu'en septembre." in row
        assert violations(page) == []
        context.close()
    finally:
        server.stop()
    state = registry_state(pacte_sqlite.root, None)["suivi"]
    assert [(c, str(d), e) for _, c, d, e, _, _ in state] == [("fiche:1.2", "2025-06-02", "suspendue")]
