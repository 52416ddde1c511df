"""The import workbook a clerk starts from (`pacte modeles classeur`): its rules on each header, its drop-down
lists and formats, its example row; filled as a clerk fills it (title row, accented headers, French labels, dates
and amounts typed the French way), it gives the conventions, statuses and acts; converted by LibreOffice Calc, the
same; and a PDI/PTI written in its sheets gives the document of its YAML twin."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.helpers import Pacte, build_pacte, docx_text, write

SHEETS = ["_lisez-moi", "departement", "partenaires", "conventions", "realisations", "pacte", "axes",
          "fiches-actions", "engagements", "suivi"]


def blank(pacte: Pacte, tmp_path: Path) -> tuple[Path, Any]:
    path = tmp_path / "classeur.xlsx"
    result = pacte("modeles", "classeur", str(path))
    assert "Classeur écrit" in result.output and "pacte importer" in result.output
    return path, openpyxl.load_workbook(path)


def headers(sheet: Any) -> dict[str, int]:
    return {str(cell.value): cell.column for cell in sheet[1] if cell.value}


def put(sheet: Any, row: int, values: dict[str, Any], header_row: int = 1) -> None:
    """Type *values* into *row*, each under its header, as a clerk does."""
    columns = {str(cell.value): cell.column for cell in sheet[header_row] if cell.value}
    for name, value in values.items():
        sheet.cell(row=row, column=columns[name], value=value)


def test_the_blank_workbook_says_its_rules_and_imports_as_nothing(pacte: Pacte, tmp_path: Path) -> None:
    path, book = blank(pacte, tmp_path)
    assert book.sheetnames == SHEETS
    conventions = book["conventions"]
    columns = headers(conventions)
    assert list(columns)[:4] == ["reference", "type", "departement", "modele"]
    reference = conventions.cell(row=1, column=columns["reference"])
    assert reference.comment.text.startswith("Obligatoire. Référence de la convention")
    signature = conventions.cell(row=1, column=columns["date_signature"]).comment.text
    assert signature.startswith("Facultatif.") and "15/03/2025" in signature
    renewal = conventions.cell(row=1, column=columns["renouvellement"]).comment.text
    assert "Valeurs : Expresse, Tacite, Aucun." in renewal
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in conventions.data_validations.dataValidation}
    letter = conventions.cell(row=1, column=columns["type"]).column_letter
    assert lists[f"{letter}2"] == '"CCAS,France Travail,Autre"'
    partners = book["partenaires"]
    type_letter = partners.cell(row=1, column=headers(partners)["type"]).column_letter
    assert "France Travail" in {str(v.sqref).split(":")[0]: v.formula1 for v in
                                partners.data_validations.dataValidation}[f"{type_letter}2"]
    assert book["axes"].cell(row=1, column=headers(book["axes"])["nature"]).comment.text.endswith(
        "Valeurs : Professionnelle, Sociale.")
    # French formats where the clerk types: dates, amounts, codes kept as text
    assert conventions.cell(row=3, column=columns["date_effet"]).number_format == "DD/MM/YYYY"
    assert "€" in conventions.cell(row=3, column=columns["montant"]).number_format
    assert partners.cell(row=3, column=headers(partners)["code_insee"]).number_format == "@"
    # the example row, in grey, is passed over by the import
    example = conventions.cell(row=2, column=columns["reference"])
    assert example.value == "CCAS-2025-001" and example.font.color.rgb.endswith("808080")
    result = pacte("importer", str(path))
    assert "Aucune donnée à importer" in result.output
    assert json.loads(pacte("conventions", "lister", "--format", "json").output) == []
    # a second run keeps the file being filled in
    refused = pacte("modeles", "classeur", str(path), ok=False)
    assert refused.exit_code == 1 and "existe déjà" in refused.output and "--remplacer" in refused.output


def fill_as_a_clerk(book: Any) -> None:
    """Département, two partners and two conventions, typed as people type them: a merged title row above the
    partners' header, accented headers, the labels the tool prints, dates « 15/03/2025 » and Excel dates, an
    amount « 12 500,00 € »; the example rows left in place."""
    put(book["departement"], 3, {"code": "94", "nom": "Département du Val-de-Marne", "ville": "Créteil",
                                 "president_civilite": "M.", "president_nom": "Olivier Capitanio",
                                 "president_qualite": "Président du Conseil départemental"})
    partners = book["partenaires"]
    partners.insert_rows(1)
    partners["A1"] = "Partenaires de la direction de l'insertion — mars 2025"
    partners.merge_cells("A1:E1")
    put(partners, 4, {"code": "FT-94", "type": "France Travail", "nom": "France Travail Val-de-Marne",
                      "representant_civilite": "M.", "representant_nom": "Paul Girard",
                      "representant_qualite": "Directeur territorial"}, header_row=2)
    put(partners, 5, {"code": "CCAS-IVRY", "type": "CCAS", "nom": "CCAS d'Ivry-sur-Seine", "code_insee": "94041",
                      "representant_civilite": "Mme", "representant_nom": "Nadia Benali",
                      "representant_qualite": "Vice-présidente du CCAS"}, header_row=2)
    conventions = book["conventions"]
    columns = headers(conventions)
    conventions.cell(row=1, column=columns["reference"], value="Référence")
    conventions.cell(row=1, column=columns["date_effet"], value="Date d'effet")
    conventions.cell(row=1, column=columns["responsable_email"], value="Courriel du responsable")
    put(conventions, 3, {"Référence": "FT-2025-001", "type": "France Travail", "partenaires": "FT-94",
                         "objet": "Accompagnement global des demandeurs d'emploi bénéficiaires du RSA.",
                         "deliberation_instance": "Commission permanente", "deliberation_numero": "CP-2025-03-012",
                         "deliberation_date": dt.datetime(2025, 3, 3), "Date d'effet": "15/03/2025",
                         "renouvellement": "Exprès", "Courriel du responsable": "a.martin@valdemarne.example.fr",
                         "responsable_nom": "Anne Martin", "montant": "12 500,00 €"})
    put(conventions, 4, {"Référence": "CCAS-2025-002", "type": "CCAS", "partenaires": "CCAS-IVRY",
                         "objet": "Accompagnement social des bénéficiaires du RSA.",
                         "date_signature": dt.datetime(2025, 3, 28), "Date d'effet": dt.datetime(2025, 4, 1),
                         "duree_mois": 36, "renouvellement": "Tacite",
                         "Courriel du responsable": "a.martin@valdemarne.example.fr"})


def listed(pacte: Pacte) -> dict[str, dict[str, Any]]:
    rows = json.loads(pacte("--au", "2026-12-06", "conventions", "lister", "--format", "json").output)
    return {row["reference"]: {k: row[k] for k in ("type", "renouvellement", "statut", "fin_periode")}
            for row in rows}


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_the_blank_workbook_filled_as_a_clerk_gives_the_conventions_and_acts(pacte: Pacte, tmp_path: Path) -> None:
    path, book = blank(pacte, tmp_path)
    fill_as_a_clerk(book)
    book.save(path)
    result = pacte("importer", str(path))
    assert "Import enregistré" in result.output
    shown = listed(pacte)
    assert shown == {
        "CCAS-2025-002": {"type": "ccas", "renouvellement": "tacite", "statut": "en_cours",
                          "fin_periode": "2028-03-31"},
        "FT-2025-001": {"type": "france_travail", "renouvellement": "expresse", "statut": "brouillon",
                        "fin_periode": "2028-03-14"}}
    detail = json.loads(pacte("conventions", "afficher", "FT-2025-001", "--format", "json").output)
    assert detail["montant"] in ("12500.00", 12500) and detail["deliberation"]["date"] == "2025-03-03"
    pacte("conventions", "generer", "FT-2025-001", "CCAS-2025-002", "--sans-pdf")
    text = docx_text(pacte.root / "conventions" / "FT-2025-001" / "FT-2025-001.docx").replace("\u202f", " ")
    assert "France Travail Val-de-Marne" in text and "15 mars 2025" in text and "12 500,00 €" in text
    assert "CCAS-MENNECY" not in text  # the example row was not imported
    ccas = docx_text(pacte.root / "conventions" / "CCAS-2025-002" / "CCAS-2025-002.docx")
    assert "CCAS d’Ivry-sur-Seine" in ccas.replace("'", "’") and "Département du Val-de-Marne" in ccas
    assert json.loads(pacte("partenaires", "lister", "--format", "json").output)[0]["code"] == "CCAS-IVRY"


def soffice_xlsx(source: Path, folder: Path) -> Path:
    """The workbook as LibreOffice Calc saves it (`soffice --convert-to xlsx`)."""
    folder.mkdir()
    profile = folder / "profil"
    subprocess.run([shutil.which("soffice") or "soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(folder / "sortie"), str(source)],
                   check=True, capture_output=True, timeout=180)
    return folder / "sortie" / source.name


@pytest.mark.libreoffice
def test_a_workbook_saved_by_libreoffice_calc_imports_the_same(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """The filled workbook converted by Calc gives the same registry; an export edited and saved by Calc gives
    back what was edited, and nothing else changes."""
    path, book = blank(pacte_sqlite, tmp_path)
    fill_as_a_clerk(book)
    book.save(path)
    converted = soffice_xlsx(path, tmp_path / "calc")
    assert converted.read_bytes() != path.read_bytes()
    pacte_sqlite("importer", str(converted))
    other = Pacte(tmp_path / "autre", None)
    other("init", str(other.root))
    other("importer", str(path))
    assert listed(pacte_sqlite) == listed(other)
    # export → edit → Calc → import
    exported = tmp_path / "registre.xlsx"
    pacte_sqlite("exporter", str(exported))
    book = openpyxl.load_workbook(exported)
    sheet = book["conventions"]
    columns = headers(sheet)
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, columns["reference"]).value == "FT-2025-001")
    sheet.cell(row, columns["objet"], value="Accompagnement global, objet revu en commission.")
    book.save(exported)
    again = soffice_xlsx(exported, tmp_path / "calc-export")
    result = pacte_sqlite("importer", str(again))
    assert "1 modifiée" in result.output and "1 inchangée" in result.output
    detail = json.loads(pacte_sqlite("conventions", "afficher", "FT-2025-001", "--format", "json").output)
    assert detail["objet"] == "Accompagnement global, objet revu en commission."
    assert listed(pacte_sqlite) == listed(other)


def fill_pacte(book: Any, data: dict[str, Any]) -> None:
    """The pacte of *data* (the YAML's) typed into the workbook's sheets, one row per axe, fiche, commitment."""
    lines = "\n".join
    put(book["departement"], 3, {"code": data["departement"]["code"], "nom": data["departement"]["nom"],
                                 "ville": data["departement"]["ville"], "adresse": data["departement"]["adresse"],
                                 "president_civilite": data["departement"]["president"]["civilite"],
                                 "president_nom": data["departement"]["president"]["nom"],
                                 "president_qualite": data["departement"]["president"]["qualite"]})
    for row, partner in enumerate(data["partenaires"], start=3):
        put(book["partenaires"], row, {"code": partner["code"], "type": partner["type"], "nom": partner["nom"],
                                       **{f"representant_{k}": v for k, v in partner["representant"].items()}})
    p = data["pacte"]
    put(book["pacte"], 3, {"reference": p["reference"], "titre": p["titre"], "periode_debut": p["periode"]["debut"],
                           "periode_fin": p["periode"]["fin"], "adoption_instance": p["adoption"]["instance"],
                           "adoption_date": dt.datetime.fromisoformat(p["adoption"]["date"]),
                           "cosignataires": ", ".join(p["cosignataires"]), "contexte": p["contexte"],
                           "diagnostic": lines(p["diagnostic"]), "methode": p["methode"],
                           "gouvernance": lines(p["gouvernance"])})
    fiche_row = 3
    for row, axe in enumerate(p["axes"], start=3):
        put(book["axes"], row, {"numero": axe["numero"], "intitule": axe["intitule"], "nature": axe["nature"].title(),
                                "objectifs": lines(axe["objectifs"])})
        for fiche in axe["fiches"]:
            put(book["fiches-actions"], fiche_row, {
                "axe": axe["numero"], **{k: lines(v) if isinstance(v, list) else v for k, v in fiche.items()},
                "budget": float(fiche["budget"])})
            fiche_row += 1
    row = 3
    for code, texts in p["engagements"].items():
        for text in texts:
            put(book["engagements"], row, {"partenaire": code, "engagement": text})
            row += 1


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_a_pacte_in_the_workbook_gives_the_pdi_pti_of_its_yaml_twin(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    data = build_pacte(fiches_per_axe=(2, 1))
    pacte_sqlite("importer", str(write(tmp_path / "pacte.yaml", data)))
    path, book = blank(pacte_sqlite, tmp_path)
    fill_pacte(book, data)
    book.save(path)
    twin = Pacte(tmp_path / "jumeau", None)
    twin("init", str(twin.root))
    assert "Import enregistré" in twin("importer", str(path)).output
    for runner in (pacte_sqlite, twin):
        runner("pdi-pti", "generer", "PTI-2024-2027", "--sans-pdf")
    documents = [docx_text(r.root / "archives" / "pdi-pti" / "PTI-2024-2027" / "PTI-2024-2027.docx")
                 for r in (pacte_sqlite, twin)]
    assert documents[0] == documents[1]
    assert "Action 1.2" in documents[1] and "Réduire les délais d'ouverture des droits".replace("'", "’") in \
        documents[1].replace("'", "’")
    exported = tmp_path / "export.xlsx"
    twin("exporter", str(exported))
    back = openpyxl.load_workbook(exported)
    assert [[c.value for c in r][:3] for r in back["fiches-actions"].iter_rows(min_row=2, max_row=4)] == [
        [1, "1.1", documents and data["pacte"]["axes"][0]["fiches"][0]["intitule"]],
        [1, "1.2", data["pacte"]["axes"][0]["fiches"][1]["intitule"]],
        [2, "2.1", data["pacte"]["axes"][1]["fiches"][0]["intitule"]]]


def test_a_fiche_of_an_unknown_axe_or_a_pacte_without_axes_is_named_at_its_cell(pacte: Pacte,
                                                                                   tmp_path: Path) -> None:
    data = build_pacte(fiches_per_axe=(1, 1))
    path, book = blank(pacte, tmp_path)
    fill_pacte(book, data)
    book["fiches-actions"]["A4"] = 7
    book.save(path)
    refused = pacte("importer", str(path), ok=False)
    assert refused.exit_code == 1
    assert "feuille « fiches-actions », cellule A4, champ « axe » : axe « 7 » absent de la feuille « axes »" \
        in refused.output
    for row in (3, 4):
        for cell in book["axes"][row]:
            cell.value = None
    book.save(path)
    refused = pacte("importer", str(path), ok=False)
    assert "feuille « pacte », ligne 3" in refused.output and "axes" in refused.output
    assert json.loads(pacte("pdi-pti", "lister", "--format", "json").output) == []


def test_a_column_that_a_sheet_of_its_own_gives_is_named_never_a_traceback(pacte: Pacte, tmp_path: Path) -> None:
    """A pacte sheet with a column « engagements » or « axes », an axes sheet with a column « fiches », next to
    the sheets that give them: each such column is named, with the sheet to use."""
    data = build_pacte(fiches_per_axe=(1, 1))
    path, book = blank(pacte, tmp_path)
    fill_pacte(book, data)
    for name, sheet, value in (("engagements", "pacte", "FT-23"), ("axes", "pacte", "1"), ("fiches", "axes", "1.1")):
        column = book[sheet].max_column + 1
        book[sheet].cell(row=1, column=column, value=name)
        book[sheet].cell(row=3, column=column, value=value)
    book.save(path)
    refused = pacte("importer", str(path), ok=False)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    for name, sheet in (("engagements", "engagements"), ("axes", "axes"), ("fiches", "fiches-actions")):
        assert f"champ « {name} » : colonne inconnue — les {sheet} s'écrivent dans la feuille « {sheet} »" in \
            refused.output
