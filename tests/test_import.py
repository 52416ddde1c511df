"""Import: YAML, CSV from French Excel, XLSX; all or nothing; hostile input refused with a precise message."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.helpers import DATA, Pacte, folder_state, registry_state

REGISTRE = (DATA / "registre.yaml").read_text(encoding="utf-8")


def test_import_yaml_then_reimport_changes_nothing(pacte: Pacte) -> None:
    first = pacte("importer", str(DATA / "registre.yaml"))
    assert "partenaires : 3 créés" in first.output
    assert "conventions : 3 créées" in first.output
    state = registry_state(pacte.root, pacte.base)
    again = pacte("importer", str(DATA / "registre.yaml"))
    assert "Registre déjà à jour : rien n'a changé." in again.output
    assert "conventions : 3 inchangées" in again.output
    assert registry_state(pacte.root, pacte.base) == state
    asso = next(c for c in state["conventions"] if c["reference"] == "ASSO-2025-001")
    assert asso["montant"] == Decimal("1234.56")
    assert asso["taux_fse"] == Decimal("0.5")
    assert asso["departement"] == "93"
    assert asso["duree_mois"] == 36 and asso["preavis_mois"] == 3  # documented defaults
    partner = next(p for p in state["partenaires"] if p["code"] == "ASSO-PIEGE")
    assert partner["nom"] == "Association « Pain & Partage » <Sud> 'Est' \"Nord\""


def test_simulation_validates_and_records_nothing(pacte: Pacte) -> None:
    before = registry_state(pacte.root, pacte.base)
    result = pacte("importer", "--simulation", str(DATA / "registre.yaml"))
    assert "conventions : 3 créées" in result.output
    assert "Simulation : rien n'a été enregistré." in result.output
    assert registry_state(pacte.root, pacte.base) == before


def test_update_is_applied_and_reported(pacte: Pacte, tmp_path: Path) -> None:
    pacte("importer", str(DATA / "registre.yaml"))
    changed = tmp_path / "modifie.yaml"
    changed.write_text(REGISTRE.replace("objet: La présente convention a pour objet de mieux orienter les usagers.",
                                        "objet: Nouvel objet."), encoding="utf-8")
    result = pacte("importer", str(changed))
    assert "conventions : 1 modifiée, 2 inchangées" in result.output
    state = registry_state(pacte.root, pacte.base)
    assert next(c for c in state["conventions"] if c["reference"] == "CCAS-2024-010")["objet"] == "Nouvel objet."


def test_csv_from_french_excel(pacte: Pacte, tmp_path: Path) -> None:
    pacte("importer", str(DATA / "registre.yaml"))
    partners = tmp_path / "partenaires.csv"
    partners.write_bytes(
        "code;type;nom;commune;code_insee;representant_civilite;representant_nom;representant_qualite\r\n"
        "CCAS-BONDY;ccas;CCAS de Bondy;Bondy;93010;Mme;Hélène Épée;Présidente déléguée\r\n".encode("cp1252"))
    conventions = tmp_path / "conventions.csv"
    conventions.write_bytes(
        ("reference;type;partenaires;objet;date_effet;renouvellement;responsable_email;montant;"
         "engagements_departement;actions\r\n"
         'CCAS-2025-020;ccas;CCAS-BONDY;Objet « accentué » éàç;01/06/2025;expresse;agent@cd93.example.fr;'
         '"12\xa0345,67";"premier engagement ;\r\nsecond engagement";"Atelier | BRSA | Participants | 10"\r\n'
         ).encode("cp1252"))
    result = pacte("importer", str(partners), str(conventions))
    assert "partenaires : 1 créé" in result.output
    state = registry_state(pacte.root, pacte.base)
    convention = next(c for c in state["conventions"] if c["reference"] == "CCAS-2025-020")
    assert convention["montant"] == Decimal("12345.67")
    assert convention["date_effet"] == dt.date(2025, 6, 1)
    assert convention["objet"] == "Objet « accentué » éàç"
    assert convention["engagements_departement"] == ["premier engagement ;", "second engagement"]
    assert convention["actions"] == [{"intitule": "Atelier", "public": "BRSA", "indicateur": "Participants",
                                      "cible": "10"}]
    partner = next(p for p in state["partenaires"] if p["code"] == "CCAS-BONDY")
    assert partner["representant"]["nom"] == "Hélène Épée"


def _xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_one_sheet_per_section(pacte: Pacte, tmp_path: Path) -> None:
    pacte("importer", str(DATA / "registre.yaml"))
    path = tmp_path / "registre.xlsx"
    path.write_bytes(_xlsx({
        "partenaires": [["code", "type", "nom", "code_insee"], ["CCAS-PANTIN", "ccas", "CCAS de Pantin", "93055"]],
        "conventions": [
            ["reference", "type", "partenaires", "objet", "date_effet", "renouvellement", "responsable_email",
             "montant", "duree_mois"],
            ["CCAS-2025-030", "ccas", "CCAS-PANTIN", "Objet.", dt.datetime(2025, 9, 1), "tacite",
             "agent@cd93.example.fr", 1500.5, 24],
        ],
        "_notes": [["ignorée"]],
    }))
    pacte("importer", str(path))
    state = registry_state(pacte.root, pacte.base)
    convention = next(c for c in state["conventions"] if c["reference"] == "CCAS-2025-030")
    assert convention["date_effet"] == dt.date(2025, 9, 1)
    assert convention["montant"] == Decimal("1500.50")
    assert convention["duree_mois"] == 24


def _hostile(name: str, text: str) -> tuple[str, bytes]:
    return name, text.encode("utf-8")


def _registre(old: str, new: str) -> bytes:
    assert old in REGISTRE, old
    return REGISTRE.replace(old, new, 1).encode("utf-8")


# (file name, content, fragments the message must contain)
HOSTILE: list[tuple[str, bytes, list[str]]] = [
    ("traversee.yaml", _registre("reference: ASSO-2025-001", "reference: ../../etc/passwd"),
     ["traversee.yaml", "ligne 29", "« reference »", "n'est pas une référence valide"]),
    ("reserve.yaml", _registre("reference: ASSO-2025-001", "reference: CON"),
     ["ligne 29", "nom réservé par Windows"]),
    ("date.yaml", _registre("date_effet: 2025-03-01", "date_effet: 2025-02-30"),
     ["ligne 35", "« date_effet »", "n'existe pas au calendrier"]),
    ("date-texte.yaml", _registre("date_effet: 2025-03-01", "date_effet: mars 2025"),
     ["« date_effet »", "n'est pas une date", "AAAA-MM-JJ"]),
    ("enum.yaml", _registre("renouvellement: expresse\n    renouvellements_max: 2",
                            "renouvellement: tacit\n    renouvellements_max: 2"),
     ["ligne 36", "« renouvellement »", "vouliez-vous dire « tacite »"]),
    ("type.yaml", _registre("type: ccas\n    nom: CCAS", "type: mairie\n    nom: CCAS"),
     ["ligne 18", "« type »", "valeurs permises"]),
    ("duree.yaml", _registre("renouvellements_max: 2", "renouvellements_max: 2\n    duree_mois: -12"),
     ["« duree_mois »", "hors des bornes"]),
    ("montant.yaml", _registre('montant: "1 234,56"', "montant: -5"), ["« montant »", "montant négatif"]),
    ("montant-absurde.yaml", _registre('montant: "1 234,56"', "montant: 1e15"), ["« montant »"]),
    ("taux.yaml", _registre("taux_fse: 50 %", "taux_fse: 1.5"), ["« taux_fse »", "hors de l'intervalle"]),
    ("partenaire.yaml", _registre("partenaires: [FT-93]", "partenaires: [FT-99]"),
     ["« partenaires »", "partenaire « FT-99 » inconnu"]),
    ("doublon.yaml", _registre("  - reference: CCAS-2024-010", "  - reference: ASSO-2025-001"),
     ["« reference »", "« ASSO-2025-001 » figure déjà (ligne 29)"]),
    ("siret.yaml", _registre('siret: "26930048000010"', 'siret: "26930048000011"'),
     ["« siret »", "clé de contrôle fausse"]),
    ("insee.yaml", _registre('code_insee: "93048"', "code_insee: 9304A"),
     ["« code_insee »", "n'est pas un code INSEE"]),
    ("insee-court.yaml", _registre('code_insee: "93048"', "code_insee: 1000"), ["« code_insee »", "5 caractères"]),
    ("insee-entier.yaml", _registre('code_insee: "93048"', 'code_insee: "9304"'), ["« code_insee »", "5 caractères"]),
    ("email.yaml", _registre("email: contact@pain-partage.example.org", "email: contact(at)pain-partage"),
     ["« email »", "n'est pas une adresse électronique"]),
    ("obligatoire.yaml", _registre("    objet: La présente convention a pour objet l'accompagnement global.\n", ""),
     ["« objet »", "champ obligatoire absent"]),
    ("inconnu.yaml", _registre("date_effet: 2024-06-01", "date_efet: 2024-06-01"),
     ["« date_efet »", "champ inconnu", "vouliez-vous dire « date_effet »"]),
    ("controle.yaml", _registre("nom: CCAS de Montreuil", "nom: \"CCAS de\\vMontreuil\""),
     ["« nom »", "caractère de contrôle invisible"]),
    ("blanc.yaml", _registre("nom: CCAS de Montreuil", 'nom: "   "'),  # was a NOT NULL crash (hypothesis)
     ["« nom »", "champ obligatoire absent"]),
    ("yaml-casse.yaml", b"partenaires:\n  - code: A1\n   type: ccas\n", ["YAML mal formé", "ligne"]),
    ("vide.yaml", b"", ["vide.yaml", "fichier vide"]),
    ("binaire.yaml", b"\x00\x01\x02PK\x03\x04" * 50, ["binaire.yaml", "fichier binaire"]),
    ("section.yaml", b"partenaire:\n  - code: A1\n", ["section « partenaire » inconnue"]),
    ("cle-repetee.yaml", _registre("  - code: FT-93\n", "  - code: FT-93\n    code: FT-94\n"),
     ["clé « code » répétée"]),
    ("tronque.csv", b"code;type;nom\nCCAS-X;ccas;\"CCAS", ["tronque.csv"]),
    ("conventions.csv", b"reference;type;partenaires;objet;date_effet;renouvellement;responsable_email\n"
                        b"CCAS-2025-040;ccas;CCAS-MONTREUIL;Objet;2025-13-01;expresse;a@b.fr\n",
     ["conventions.csv", "ligne 2", "« date_effet »"]),
    ("faux.xlsx", b"ceci n'est pas un classeur", ["faux.xlsx", "classeur XLSX illisible"]),
    ("signature.yaml", _registre("date_signature: 2025-02-01", "date_signature: 2025-01-02"),
     ["« date_signature »", "la signature précède la délibération"]),
    # the FSE+ 2021-2027: expenditure eligible until 31 December 2029; its programme named with its own years
    ("fse-duree.yaml", _registre("renouvellements_max: 2\n", "renouvellements_max: 2\n    duree_mois: 72\n"),
     ["« duree_mois »", "jusqu'au 31 décembre 2029 (règlement (UE) 2021/1060, art. 63)", "28/02/2031",
      "ramenez sa durée"]),
    ("fse-texte.yaml", _registre("aux <droits> de {{ tous }}.", "aux droits, programmation FSE+ 2027-2029."),
     ["« objet »", "« FSE+ 2027-2029 » : la programmation du FSE+ est 2021-2027"]),
    ("no.yaml", _registre("renouvellement: expresse\n    responsable: {email: agent", "renouvellement: NO\n"
                          "    responsable: {email: agent"), ["« renouvellement »", "« NO »"]),
]


@pytest.mark.parametrize(("name", "content", "expected"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_import_is_refused_and_changes_nothing(pacte: Pacte, tmp_path: Path, name: str, content: bytes,
                                                       expected: list[str]) -> None:
    pacte("importer", str(DATA / "registre.yaml"))
    registry_before = registry_state(pacte.root, pacte.base)
    folders_before = folder_state(pacte.root)
    hostile = tmp_path / name
    hostile.write_bytes(content)
    result = pacte("importer", str(hostile), ok=False)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("Erreur : ")
    assert "rien n'a été enregistré" in result.output
    for fragment in expected:
        assert fragment in result.output, f"{fragment!r} absent de :\n{result.output}"
    assert registry_state(pacte.root, pacte.base) == registry_before
    assert folder_state(pacte.root) == folders_before


def test_yaml_11_traps_are_read_as_text(pacte: Pacte, tmp_path: Path) -> None:
    """`01000` stays a code INSEE (not octal 512), `NO` would stay text, `2024-06-01` a date."""
    path = tmp_path / "pieges.yaml"
    path.write_bytes(_registre('code_insee: "93048"', "code_insee: 01000"))
    pacte("importer", str(path))
    state = registry_state(pacte.root, pacte.base)
    assert next(p for p in state["partenaires"] if p["code"] == "CCAS-MONTREUIL")["code_insee"] == "01000"


def test_every_problem_is_reported_at_once(pacte: Pacte, tmp_path: Path) -> None:
    bad = tmp_path / "plusieurs.yaml"
    bad.write_bytes(_registre("date_effet: 2025-03-01", "date_effet: 2025-02-30").decode().replace(
        "renouvellement: expresse", "renouvellement: jamais").encode())
    result = pacte("importer", str(bad), ok=False)
    assert "4 problèmes" in result.output  # one bad date, three bad renouvellement values
    assert result.output.count("« renouvellement »") == 3


def test_missing_file_is_a_usage_error(pacte: Pacte, tmp_path: Path) -> None:
    result = pacte("importer", str(tmp_path / "absent.yaml"), ok=False)
    assert result.exit_code == 2
    assert "n'existe pas" in result.output


def test_a_workbook_as_a_clerk_writes_it(pacte: Pacte, tmp_path: Path) -> None:
    """A merged title row and a blank row above the header, accented headers, the labels the tool prints
    (« France Travail », « Exprès », « Tacite »), dates typed « 15/03/2025 » and as Excel dates, an amount
    « 12 500,00 € », trailing empty rows: imported without a problem; a problem is named at the row Excel shows."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    book.create_sheet("departement").append(["Code", "Nom"])
    book["departement"].append(["94", "Département du Val-de-Marne"])
    partners = book.create_sheet("partenaires")
    partners.append(["Partenaires de la direction de l'insertion — mise à jour de mars 2025"])
    partners.merge_cells("A1:D1")
    partners.append([])
    partners.append(["Code", "Type", "Nom", "Code INSEE"])
    partners.append(["FT-94", "France Travail", "France Travail Val-de-Marne", None])
    partners.append(["CCAS-IVRY", "CCAS", "CCAS d'Ivry-sur-Seine", "94041"])
    conventions = book.create_sheet("conventions")
    conventions.append(["Conventions 2025"])
    conventions.merge_cells("A1:H1")
    conventions.append(["Référence", "Type", "Partenaires", "Objet", "Date d'effet", "Renouvellement",
                        "Courriel du responsable", "Montant", "N° de délibération", "Date de délibération"])
    conventions.append(["FT-2025-001", "accompagnement global France Travail", "FT-94", "Accompagnement global.",
                        "15/03/2025", "Exprès", "a.martin@valdemarne.example.fr", "12 500,00 €", "CP-2025-03-012",
                        dt.datetime(2025, 3, 3)])
    conventions.append(["CCAS-2025-002", "CCAS", "CCAS-IVRY", "Accompagnement social.", dt.datetime(2025, 4, 1),
                        "Tacite", "a.martin@valdemarne.example.fr", None, None, None])
    for _ in range(3):
        conventions.append([None] * 10)
    path = tmp_path / "registre.xlsx"
    book.save(path)
    result = pacte("importer", str(path))
    assert "2 partenaire" in result.output or "partenaires" in result.output
    shown = json.loads(pacte("conventions", "lister", "--format", "json").output)
    by_reference = {row["reference"]: row for row in shown}
    assert by_reference["FT-2025-001"]["type"] == "france_travail"
    assert by_reference["FT-2025-001"]["renouvellement"] == "expresse"
    assert by_reference["CCAS-2025-002"]["renouvellement"] == "tacite"
    detail = json.loads(pacte("conventions", "afficher", "FT-2025-001", "--format", "json").output)
    assert detail["date_effet"] == "2025-03-15" and detail["montant"] in ("12500.00", "12500", 12500)
    assert detail["deliberation"]["numero"] == "CP-2025-03-012" and detail["deliberation"]["date"] == "2025-03-03"
    partners_shown = json.loads(pacte("partenaires", "lister", "--format", "json").output)
    assert {p["code"]: p["type"] for p in partners_shown}["FT-94"] == "france_travail"
    # A mistake on the fourth data row of the sheet is named at row 4, as Excel numbers it.
    conventions["F4"] = "Toujours"
    book.save(path)
    refused = pacte("importer", str(path), ok=False)
    assert refused.exit_code == 1 and "feuille « conventions », cellule F4" in refused.output
    assert "« Toujours » n'est pas une valeur permise" in refused.output and "France Travail" not in \
        refused.output.split("valeurs permises :")[1].split("\n")[0]


def test_odd_columns_and_hidden_sheets_are_reported_never_a_traceback(pacte: Pacte, tmp_path: Path) -> None:
    """« Délibération » alone (a field in parts) ended in a TypeError; « N° de délibé » was told « vouliez-vous dire
    « deliberation » ? », a column that does not exist; a hidden sheet or column was read without anyone seeing it."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheet = book.create_sheet("conventions")
    sheet.append(["reference", "type", "partenaires", "objet", "date_effet", "renouvellement", "responsable_email",
                  "Délibération", "deliberation_date", "N° de délibé"])
    sheet.append(["CCAS-2025-003", "ccas", "CCAS-IVRY", "Objet.", "2025-01-01", "tacite", "a@b.example.fr",
                  "CP-1", "2025-01-01", "CP-2"])
    hidden = book.create_sheet("partenaires")
    hidden.append(["code", "type", "nom"])
    hidden.append(["CCAS-IVRY", "ccas", "CCAS d'Ivry-sur-Seine"])
    hidden.sheet_state = "hidden"
    sheet.column_dimensions["G"].hidden = True  # responsable_email, read without anyone seeing it
    path = tmp_path / "conventions.xlsx"
    book.save(path)
    result = pacte("importer", str(path), ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
    assert "colonne d'un champ en plusieurs parties" in result.output
    assert "deliberation_numero, deliberation_date" in result.output.replace("\u202f", " ")
    assert "vouliez-vous dire « deliberation_numero » ?" in result.output
    assert "vouliez-vous dire « deliberation » ?" not in result.output
    assert "feuille « partenaires »" in result.output and "feuille masquée" in result.output
    assert "feuille « conventions », colonne G, champ « responsable_email » : colonne masquée" in result.output


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_an_export_always_has_its_headers_and_an_empty_one_is_a_workbook_to_fill(pacte: Pacte,
                                                                                 tmp_path: Path) -> None:
    """Exporting an empty workspace gave sheets without headers: no blank workbook to start from. Every sheet now
    has its header, the same one an export of a full registry writes."""
    from pacte_docs.intake.exporter import columns as of_section
    from pacte_docs.intake.readers import SHEET_NAMES

    def columns(sheet: str) -> list[str]:
        return of_section(SHEET_NAMES.get(sheet, sheet))

    empty = tmp_path / "vide.xlsx"
    pacte("exporter", str(empty))
    book = openpyxl.load_workbook(empty)
    for sheet in book.worksheets:
        assert [c.value for c in sheet[1]] == columns(sheet.title), sheet.title
    pacte("importer", str(DATA / "registre.yaml"))
    pacte("conventions", "avenant", "CCAS-2024-010", "--objet", "Ajout d'une action.", "--date", "2025-01-10",
          "--sans-pdf")
    full = tmp_path / "plein.xlsx"
    pacte("exporter", str(full))
    for sheet in openpyxl.load_workbook(full).worksheets:
        assert [c.value for c in sheet[1]] == columns(sheet.title), sheet.title
    # the empty export, filled in as a clerk would, imports
    book["partenaires"].append(["CCAS-ORLY", "CCAS", "CCAS d'Orly"])
    book.save(empty)
    pacte("importer", str(empty))
    assert "CCAS-ORLY" in pacte("partenaires", "lister").output
