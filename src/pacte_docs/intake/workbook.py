"""The import workbook, as `pacte modeles classeur` and `pacte exporter registre.xlsx` write it: one sheet per
section, the columns the import reads as headers, a note on each header with its rule, a drop-down list of the
labels the tool prints for every closed list, dates and amounts in the formats Excel shows in French; in the blank
workbook, a first row in grey gives an example that the import passes over (`is_example`)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from pacte_docs.formatting import LABELS
from pacte_docs.intake import import_format, readers

# (sheet, section), in the order a clerk fills them: the partners before the conventions that name them, the
# pacte before its axes, the axes before their fiches-actions.
SHEETS = [("departement", "departement"), ("partenaires", "partenaires"), ("conventions", "conventions"),
          ("realisations", "realisations"), ("pacte", "pacte"), ("axes", "axes"), ("fiches-actions", "fiches"),
          ("engagements", "engagements"), ("suivi", "suivi")]
LIFE_SHEETS = [(name, name) for name in readers.LIFE]  # an export's: what happened to each convention
SHEET_OF = {section: sheet for sheet, section in SHEETS + LIFE_SHEETS}

# What a column means, where its rule alone does not say it.
MEANING = {
    "departement.code": "code du département",
    "departement.nom": "nom tel qu'il figure en tête des actes (« Département de l'Essonne »)",
    "departement.ville": "ville du « Fait à … » des actes",
    "departement.siret": "SIRET du Département, qui attribue les subventions publiées (idAttribuant)",
    "partenaires.rna": "numéro de l'association au Répertoire national des associations",
    "partenaires.code": "code court qui désigne le partenaire dans les autres feuilles",
    "partenaires.nom": "nom tel qu'il figure dans les actes",
    "partenaires.representant_qualite": "fonction du signataire (« Présidente du CCAS »)",
    "conventions.reference": "référence de la convention ; elle nomme aussi ses fichiers",
    "conventions.partenaires": "partenaires signataires",
    "conventions.objet": "objet de la convention, tel que l'article 1 le donne",
    "conventions.date_signature": "à laisser vide tant que la convention n'est pas signée (brouillon)",
    "conventions.date_effet": "date d'entrée en vigueur",
    "conventions.duree_mois": "durée de chaque période, en mois",
    "conventions.renouvellement": "expresse : par délibération ; tacite : reconduction sans décision",
    "conventions.preavis_mois": "préavis de dénonciation, en mois",
    "conventions.responsable_email": "adresse du directeur qui reçoit les alertes d'échéance",
    "conventions.montant": "montant total de la participation du Département",
    "conventions.versements": "échéancier : un versement par ligne (« 50 % à la signature »)",
    "realisations.annee": "année des chiffres",
    "pacte.reference": "référence du PDI/PTI",
    "pacte.periode_debut": "première année du programme",
    "pacte.periode_fin": "dernière année du programme",
    "pacte.cosignataires": "partenaires qui cosignent le pacte",
    "axes.numero": "numéro de l'axe (1, 2, 3…) ; les fiches-actions le citent",
    "axes.nature": "insertion professionnelle ou sociale : le bilan les distingue",
    "fiches.axe": "numéro de l'axe de la feuille « axes » auquel la fiche appartient",
    "fiches.numero": "numéro de la fiche (« 1.1 »)",
    "fiches.partenaires": "partenaires associés à la fiche-action",
    "engagements.partenaire": "code d'un cosignataire du pacte",
    "engagements.engagement": "un engagement par ligne de la feuille",
    "suivi.pacte": "référence du PDI/PTI (vide s'il n'y en a qu'un)",
    "suivi.fiche": "numéro de la fiche-action (« 1.1 ») ; ou bien, colonne axe, le numéro de l'axe",
    "suivi.date": "date du constat ; un état par fiche et par date, l'historique est gardé",
    "suivi.etat": "à engager, en cours, réalisée, ajustée, suspendue ou abandonnée",
    "suivi.commentaire": "ce qui a été fait ou ajusté, en une ou deux phrases",
    "suivi.referent": "référent thématique, s'il change (une fonction ou un agent)",
}

# The example row of each sheet of the blank workbook (Essonne, as the demonstration): written in grey, passed
# over by the import as long as it is left as it is.
EXAMPLES: dict[str, dict[str, Any]] = {
    "departement": {"code": "91", "nom": "Département de l'Essonne",
                    "direction": "Direction de l'insertion et de l'emploi", "ville": "Évry-Courcouronnes",
                    "president_civilite": "M.", "president_qualite": "Président du Conseil départemental"},
    "partenaires": {"code": "CCAS-MENNECY", "type": "ccas", "nom": "CCAS de Mennecy", "commune": "Mennecy",
                    "code_insee": "91386", "adresse": "Place de la Mairie, 91540 Mennecy",
                    "representant_civilite": "Mme", "representant_nom": "Claire Dupuis",
                    "representant_qualite": "Vice-présidente du CCAS", "email": "ccas@mennecy.example.fr"},
    "conventions": {"reference": "CCAS-2025-001", "type": "ccas", "partenaires": "CCAS-MENNECY",
                    "objet": "Accompagnement social des bénéficiaires du RSA par le CCAS de Mennecy.",
                    "deliberation_instance": "Commission permanente", "deliberation_numero": "CP-2025-03-012",
                    "deliberation_date": dt.date(2025, 3, 17), "date_effet": dt.date(2025, 4, 1),
                    "duree_mois": 36, "renouvellement": "expresse", "preavis_mois": 3,
                    "responsable_nom": "Anne Martin", "responsable_email": "anne.martin@essonne.example.fr",
                    "montant": Decimal("12500.00"), "versements": "50 % à la signature\n50 % au 1er juillet"},
    "realisations": {"annee": 2025, "convention": "CCAS-2025-001", "entrees": 120, "sorties_emploi": 18},
    "pacte": {"reference": "PTI-2025-2028", "titre": "Pacte territorial pour l'insertion de l'Essonne",
              "periode_debut": 2025, "periode_fin": 2028, "adoption_instance": "Assemblée départementale",
              "adoption_numero": "2025-01-0012", "adoption_date": dt.date(2025, 1, 27),
              "bilan_decision": "approbation"},
    "axes": {"numero": 1, "intitule": "Favoriser le retour à l'emploi", "nature": "professionnelle"},
    "fiches": {"axe": 1, "numero": "1.1", "intitule": "Accompagnement global avec France Travail",
               "budget": Decimal("250000.00")},
    "engagements": {"partenaire": "FT-91", "engagement": "Désigner un conseiller référent par agence."},
    "suivi": {"pacte": "PTI-2025-2028", "fiche": "1.1", "date": dt.date(2025, 6, 30), "etat": "en_cours",
              "commentaire": "Premières entrées en accompagnement global."},
}


def columns(section: str) -> list[str]:
    from pacte_docs.intake.exporter import columns as export_columns

    return export_columns(section)


def _field(section: str, column: str) -> import_format.Field | None:
    schema = import_format.table_schema(section) if section not in readers.LIFE else _life_schema(section)
    target = readers._target(section, column)
    if "." in target:
        parent, child = target.split(".", 1)
        spec = schema.get(parent)
        return spec.children.get(child) if spec is not None else None
    return schema.get(target)


def _life_schema(section: str) -> dict[str, import_format.Field]:
    spec = import_format.SCHEMAS["conventions"][readers.LIFE[section]]
    return {"convention": import_format.Field(import_format.key("référence"), required=True),
            **(spec.children or spec.items)}


def label(code: str) -> str:
    """A code as the tool prints it, capitalised as a list shows it: « France Travail », « Expresse »."""
    shown = LABELS.get(code, code)
    return shown[:1].upper() + shown[1:]


def choices(section: str, column: str) -> tuple[str, ...]:
    spec = _field(section, column)
    return import_format.RULES.get(spec.convert, ("", ()))[1] if spec is not None else ()


def note(section: str, column: str) -> str:
    """The note of a header: required or not, what the column means, its format or its values, its default."""
    spec = _field(section, column)
    if spec is None:
        return ""
    parts = ["Obligatoire." if spec.required else "Facultatif."]
    meaning = MEANING.get(f"{section}.{column}")
    if meaning:
        parts.append(meaning[:1].upper() + meaning[1:] + ".")
    if spec.items:
        fields = readers.ITEM_COLUMNS.get(column)
        parts.append("Un élément par ligne (Alt+Entrée)" + (f", ses parties séparées par « | » : "
                                                             f"{' | '.join(fields)}." if fields else "."))
    else:
        rule, closed = import_format.RULES.get(spec.convert, ("", ()))
        if closed:
            parts.append("Valeurs : " + ", ".join(label(c) for c in closed) + ".")
        elif rule:
            parts.append(rule[:1].upper() + rule[1:] + ".")
    if spec.default not in (None, [], {}):
        parts.append(f"Si vide : {spec.default}.")
    return " ".join(parts)


def _comparable(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value).replace("\r\n", "\n").strip()


_EXAMPLE_CELLS = {section: {k: _comparable(v) for k, v in row.items()} for section, row in EXAMPLES.items()}


def is_example(section: str, row: dict[str, Any]) -> bool:
    """Whether a row (column → value, as a sheet gives it) is the blank workbook's example, left as written."""
    example = _EXAMPLE_CELLS.get(section)
    return example is not None and {k: _comparable(v) for k, v in row.items() if v not in (None, "")} == example


# ---------------------------------------------------------------- writing

_DATE = "DD/MM/YYYY"
_AMOUNT = '#,##0.00\\ "€"'
_RATE = "0%"
_TEXT = "@"
_FORMATTED_ROWS = 500  # rows below the data that get the columns' formats and lists, ready to be filled


def _format(section: str, column: str) -> str | None:
    spec = _field(section, column)
    if spec is None:
        return None
    if spec.convert is import_format.date:
        return _DATE
    if spec.convert is import_format.amount:
        return _AMOUNT
    if spec.convert is import_format.rate:
        return _RATE
    if spec.convert in (import_format.insee, import_format.siret, import_format.departement_code) or \
            column in ("code", "reference", "convention", "partenaire", "numero") and section != "axes":
        return _TEXT  # « 01004 », « 1.10 » stay as typed
    return None


def write(records: dict[str, list[dict[str, Any]]], example: bool = False) -> bytes:
    """The workbook of *records* (section → flat rows, in the import format) — every sheet of `SHEETS` and, for
    an export, of the conventions' life — with its headers even when a sheet has no row; with *example*, each
    sheet's example row, in grey."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    from pacte_docs.intake.exporter import keep_text

    book = Workbook()
    book.remove(book.active)
    if example:
        _read_me(book.create_sheet("_lisez-moi"))
    sheets = SHEETS + ([] if example else [s for s in LIFE_SHEETS if s[1] in records])
    for title, section in sheets:
        sheet = book.create_sheet(title)
        headers = columns(section)
        rows = [[row.get(h) for h in headers] for row in records.get(section, [])]
        if example:
            rows.insert(0, [EXAMPLES.get(section, {}).get(h) for h in headers])
        sheet.append(headers)
        for index, header in enumerate(headers, start=1):
            cell = sheet.cell(row=1, column=index)
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="1F3A5F")
            text = note(section, header)
            if text:
                cell.comment = Comment(text, "pacte", width=320, height=120)
        for row in rows:
            sheet.append(row)
        keep_text(sheet)
        if example:
            for cell in sheet[2]:
                cell.font = Font(italic=True, color="808080")
        last = len(rows) + 1 + _FORMATTED_ROWS
        for index, header in enumerate(headers, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            longest = max((len(str(row[index - 1]).split("\n")[0]) for row in rows[:200]
                           if row[index - 1] is not None), default=0)
            sheet.column_dimensions[letter].width = min(45, max(12, len(header) + 3, longest + 2))
            shown = _format(section, header)
            for (cell,) in sheet.iter_rows(min_row=2, max_row=last, min_col=index, max_col=index):
                if shown is not None:
                    cell.number_format = shown
                if isinstance(cell.value, str) and "\n" in cell.value:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            closed = choices(section, header)
            listed = ",".join(label(c) for c in closed)
            if closed and len(listed) < 250:
                validation = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True,
                                            showErrorMessage=False)  # a code (france_travail) is read too
                validation.prompt, validation.promptTitle = note(section, header)[:250], header[:32]
                sheet.add_data_validation(validation)
                validation.add(f"{letter}2:{letter}{last}")
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _read_me(sheet: Any) -> None:
    from openpyxl.styles import Alignment, Font

    lines = [
        "Classeur d'import de pacte_docs",
        "",
        "Une feuille par section : departement, partenaires, conventions, realisations, et le PDI/PTI : pacte "
        "(une ligne), axes, fiches-actions, engagements, et suivi (l'état de chaque fiche-action, date par date).",
        "Une révision du PDI/PTI adoptée par délibération se donne à part, par « pacte pdi-pti reviser » : les "
        "feuilles axes et fiches-actions avec une colonne « operation » (ajouter, modifier ou clore).",
        "La première ligne de chaque feuille porte les noms des colonnes, tels que l'import les lit ; la note de "
        "chaque en-tête donne sa règle (obligatoire ou non, format, valeurs permises).",
        "La ligne grise est un exemple : l'import la passe tant qu'elle reste telle quelle. Écrivez vos données "
        "en dessous (ou remplacez-la).",
        "Dans une cellule, une liste s'écrit un élément par ligne (Alt+Entrée). Dates : 15/03/2025 ; montants : "
        "12 500,00 €. Les listes déroulantes donnent les valeurs permises.",
        "Une feuille dont le nom commence par « _ », comme celle-ci, n'est pas lue.",
        "",
        "Puis : pacte importer classeur.xlsx --simulation, et, si rien n'est signalé, pacte importer classeur.xlsx",
    ]
    for line in lines:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 100
    for (cell,) in sheet.iter_rows(min_row=2, max_col=1):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        # Calc does not fit a row to wrapped text it did not lay out itself: a height per line of about 95 signs
        sheet.row_dimensions[cell.row].height = 15 * max(1, -(-len(str(cell.value or "")) // 95))


def blank() -> bytes:
    """The blank workbook of `pacte modeles classeur`."""
    return write({}, example=True)
