"""Reading import files (YAML, CSV, XLSX) into located items, before any validation.

Every value keeps where it came from (line, row, cell), so that a problem can be shown at its place.
YAML scalars are kept as text: the schema decides what a value is, which avoids the YAML 1.1 traps
(`NO` read as false, `01000` read as an octal number).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pacte_docs import files
from pacte_docs.errors import InputFileError, Invalid, Problem
from pacte_docs.formatting import from_spreadsheet
from pacte_docs.kinds import as_code

SECTIONS = ("departement", "partenaires", "conventions", "pacte", "realisations",
            "renouvellements", "avenants", "denonciations", "journal", "axes", "fiches", "engagements", "suivi")
# The PDI/PTI's axes, fiches-actions and commitments: in a workbook (or CSV files), tables of their own, one row
# each, joined to the pacte imported with them (see `attach_pacte`); in YAML, they are written inside the pacte.
PACTE_PARTS = ("axes", "fiches", "engagements")
# A sheet's name, as a person writes it, for its section.
SHEET_NAMES = {"fiches-actions": "fiches", "fiches_actions": "fiches", "fiches actions": "fiches",
               "département": "departement", "réalisations": "realisations", "dénonciations": "denonciations"}
# A convention's life, in a table of its own (an XLSX sheet or a CSV file each), one row per act or event, with
# the convention's reference: the importer joins each row to its convention (see `attach_life`).
LIFE = {"renouvellements": "renouvellements", "avenants": "avenants", "denonciations": "denonciation",
        "journal": "journal"}
SINGLE = {"departement", "pacte"}  # sections holding one object rather than a list

# Nested objects, flattened with "_" in CSV and XLSX columns.
NESTED: dict[str, dict[str, tuple[str, ...]]] = {
    "departement": {"president": ("civilite", "nom", "qualite"), "signataire": ("civilite", "nom", "qualite"),
                    "delegation": ("numero", "date")},
    "partenaires": {"representant": ("civilite", "nom", "qualite"), "delegation": ("delegant", "numero", "date")},
    "conventions": {
        "deliberation": ("instance", "numero", "date"),
        "deliberation_partenaire": ("instance", "numero", "date"),
        "responsable": ("nom", "email"),
        "objectifs": ("entrees", "dont_brsa", "conseillers", "travailleurs_sociaux", "duree_accompagnement_mois"),
    },
    "pacte": {"periode": ("debut", "fin"), "adoption": ("instance", "numero", "date")},
    "realisations": {},
    "axes": {}, "fiches": {}, "engagements": {}, "suivi": {},
    "avenants": {"deliberation": ("numero", "date")},
}
# List fields: in a CSV or XLSX cell, one item per line (Alt+Entrée in Excel).
LISTS = {
    "partenaires": set(),
    "conventions": {"partenaires", "engagements_departement", "engagements_partenaire", "actions", "versements"},
    "departement": set(),
    "pacte": {"cosignataires", "gouvernance", "diagnostic"},
    "realisations": set(),
    "axes": {"objectifs"},
    "fiches": {"objectifs", "partenaires", "indicateurs", "financeurs"},
    "engagements": set(),
    "suivi": set(),
    "avenants": {"modifications"},
}
ACTION_COLUMNS = ("intitule", "public", "indicateur", "cible")
# Lists of objects in a cell: one per line, their fields separated by « | ».
ITEM_COLUMNS = {"actions": ACTION_COLUMNS, "modifications": ("article", "mode", "texte")}
# What one import file may cost: bytes on disk, bytes once unzipped (XLSX), rows and columns of a table. A
# département's registry is a few thousand rows; beyond these limits the file is refused before it is expanded.
MAX_FILE_BYTES = 50 * files.MIB
MAX_UNZIPPED_BYTES = 50 * files.MIB
MAX_ROWS = 100_000
MAX_COLUMNS = 500


@dataclass
class Item:
    """One record of a section, with the place of each of its fields."""

    section: str
    source: str
    where: str
    data: dict[str, Any]
    places: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # field → its column as the file spells it
    table: bool = False  # read from a CSV file or a sheet: a field is a column, nested ones flattened with « _ »

    def place(self, name: str) -> str:
        return self.places.get(name, self.where)

    def label(self, name: str) -> str:
        """The field as the user wrote it: « Courriel du responsable » for responsable.email in a table."""
        return self.labels.get(name, name)


@dataclass
class Reading:
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read(path: Path, revision: bool = False) -> Reading:
    """Items of one file, by its extension. A *revision* of the PDI/PTI (`pacte pdi-pti reviser`) gives its axes and
    fiches-actions as sections of their own, in YAML as in a workbook."""
    reading = Reading()
    name = path.name
    if not path.exists():
        reading.problems.append(Problem(name, None, None, "fichier introuvable", f"vérifiez le chemin {path}"))
        return reading
    try:
        data = files.read_input(path, MAX_FILE_BYTES, "le fichier d'import")
    except InputFileError as exc:
        reading.problems.append(Problem(name, None, None, str(exc), "découpez-le en plusieurs fichiers"
                                        if path.is_file() else None))
        return reading
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        _read_yaml(name, data, reading, revision)
    elif suffix == ".csv":
        _read_csv(path, data, reading)
    elif suffix == ".xlsx":
        _read_xlsx(name, data, reading)
    else:
        reading.problems.append(Problem(name, None, None, f"extension « {suffix or '(aucune)'} » non reconnue",
                                        "donnez un fichier .yaml, .yml, .csv ou .xlsx"))
    return reading


# ---------------------------------------------------------------- YAML

# Values one YAML file may expand to. Aliases (*nom) are followed, as PyYAML writes them for a repeated value,
# but counted: nested aliases are how a 1 KB file grows to gigabytes; a recursive one never ends.
MAX_YAML_VALUES = 1_000_000
_NO_ALIASES = "recopiez les valeurs au lieu d'y renvoyer par des alias (*nom)"


class _Tree:
    """A YAML node turned into plain values, with a line number for each path."""

    def __init__(self, source: str, reading: Reading) -> None:
        self.source = source
        self.reading = reading
        self.lines: dict[tuple[Any, ...], int] = {}
        self.values = 0
        self.line = 1
        self.open: set[int] = set()  # the nodes being converted: meeting one again is a recursive alias

    def convert(self, node: yaml.Node, path: tuple[Any, ...]) -> Any:
        self.values += 1
        self.line = node.start_mark.line + 1
        if self.values > MAX_YAML_VALUES:
            raise Invalid(f"le fichier se déploie en plus de {MAX_YAML_VALUES:,} "
                             "valeurs (alias imbriqués)".replace(",", "\u202f"), _NO_ALIASES)
        if id(node) in self.open:
            raise Invalid("alias récursif : ce bloc se contient lui-même", _NO_ALIASES)
        if isinstance(node, yaml.SequenceNode | yaml.MappingNode):
            self.open.add(id(node))
            try:
                return self._convert(node, path)
            finally:
                self.open.discard(id(node))
        return self._convert(node, path)

    def _convert(self, node: yaml.Node, path: tuple[Any, ...]) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            if node.style is None and node.value in ("", "~", "null", "Null", "NULL"):
                return None
            return node.value
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(child, (*path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self._problem(key_node, "clé composée non prise en charge", "écrivez une clé simple")
                    continue
                key = key_node.value
                if key == "<<":
                    self._problem(key_node, "les fusions YAML (« << ») ne sont pas prises en charge",
                                  "recopiez les champs")
                    continue
                if key in result:
                    self._problem(key_node, f"clé « {key} » répétée dans le même bloc",
                                  "gardez une seule occurrence")
                    continue
                result[key] = self.convert(value_node, (*path, key))
            return result
        return None

    def _problem(self, node: yaml.Node, message: str, fix: str) -> None:
        self.reading.problems.append(Problem(self.source, f"ligne {node.start_mark.line + 1}", None, message, fix))


def _decode_text(source: str, data: bytes, reading: Reading) -> str | None:
    if b"\x00" in data[:4096]:
        reading.problems.append(Problem(source, None, None, "fichier binaire, pas un fichier texte",
                                        "exportez les données au format YAML, CSV ou XLSX"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        reading.problems.append(Problem(source, None, None,
                                        f"encodage non reconnu (octet {data[exc.start]:#04x} en position {exc.start})",
                                        "enregistrez le fichier en UTF-8"))
        return None


# libyaml's parser when PyYAML was built with it (its wheels are): the same nodes and marks, ten times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TOO_DEEP = ("blocs imbriqués trop profondément", "un fichier d'import a deux ou trois niveaux d'imbrication")


def _read_yaml(source: str, data: bytes, reading: Reading, revision: bool = False) -> None:
    text = _decode_text(source, data, reading)
    if text is None:
        return
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"ligne {mark.line + 1}, colonne {mark.column + 1}" if mark else None
        if "nesting depth" in str(exc.problem):  # libyaml's own bound on nesting
            reading.problems.append(Problem(source, where, None, _TOO_DEEP[0], _TOO_DEEP[1]))
            return
        reading.problems.append(Problem(source, where, None, f"YAML mal formé ({exc.problem or exc.context})",
                                        "vérifiez l'indentation, les deux-points et les guillemets"))
        return
    except yaml.YAMLError as exc:
        reading.problems.append(Problem(source, None, None, f"YAML illisible ({exc})", "vérifiez le fichier"))
        return
    except RecursionError:
        reading.problems.append(Problem(source, None, None, *_TOO_DEEP))
        return
    if root is None:
        reading.problems.append(Problem(source, None, None, "fichier vide",
                                        "ajoutez au moins une section : " + ", ".join(SECTIONS)))
        return
    tree = _Tree(source, reading)
    try:
        document = tree.convert(root, ())
    except Invalid as exc:
        reading.problems.append(Problem(source, f"ligne {tree.line}", None, exc.message, exc.fix))
        return
    if not isinstance(document, dict):
        reading.problems.append(Problem(source, "ligne 1", None, "le fichier doit commencer par des sections",
                                        "par exemple « partenaires: » suivi de la liste des partenaires"))
        return
    for key, content in document.items():
        line = tree.lines.get((key,), 1)
        # « departements: » lists several départements (an export of a registry that holds more than one)
        section = "departement" if key == "departements" else key
        if section in PACTE_PARTS and not revision:
            reading.problems.append(Problem(source, f"ligne {line}", None,
                                            f"en YAML, la section « {section} » s'écrit dans la section pacte",
                                            f"placez « {section}: » sous « pacte: » (voir le README)"))
            continue
        if section not in SECTIONS:
            reading.problems.append(Problem(source, f"ligne {line}", None, f"section « {section} » inconnue",
                                            "sections reconnues : " + ", ".join(YAML_SECTIONS)))
            continue
        if content is None:
            continue
        entries: list[tuple[tuple[Any, ...], Any]]
        if section in SINGLE and key != "departements":
            entries = [((key,), content)]
        elif isinstance(content, list):
            entries = [((key, i), entry) for i, entry in enumerate(content)]
        else:
            reading.problems.append(Problem(source, f"ligne {line}", None,
                                            f"la section « {section} » doit être une liste",
                                            "faites précéder chaque élément d'un tiret « - »"))
            continue
        for path, entry in entries:
            where = f"ligne {tree.lines.get(path, line)}"
            if not isinstance(entry, dict):
                reading.problems.append(Problem(source, where, None, "élément mal formé : des champs sont attendus",
                                                "écrivez « champ: valeur » sur chaque ligne"))
                continue
            places = {
                ".".join(str(k) for k in p[len(path):]): f"ligne {n}"
                for p, n in tree.lines.items()
                if p[: len(path)] == path and len(p) > len(path)
            }
            reading.items.append(Item(section, source, where, entry, places))


YAML_SECTIONS = tuple(s for s in SECTIONS if s not in PACTE_PARTS)


def sheet_names() -> list[str]:
    """The sheets a workbook may hold, as `pacte modeles classeur` names them."""
    return [{"fiches": "fiches-actions"}.get(s, s) for s in SECTIONS]


# ---------------------------------------------------------------- CSV and XLSX

def _section_from(name: str, headers: list[str]) -> str | None:
    stem = name.lower()
    for section in SECTIONS:
        if re.search(rf"(^|[^a-z]){section}($|[^a-z])", stem):
            return section
    columns = set(headers)
    if "reference" in columns and "partenaires" in columns:
        return "conventions"
    if "annee" in columns:
        return "realisations"
    if {"code", "type", "nom"} <= columns:
        return "partenaires"
    return None


def _target(section: str, column: str) -> str:
    """The field a column fills: representant_nom → representant.nom."""
    for parent, children in NESTED.get(section, {}).items():
        prefix = parent + "_"
        if column.startswith(prefix) and column[len(prefix):] in children:
            return f"{parent}.{column[len(prefix):]}"
    return column


def _unflatten(section: str, row: dict[str, Any], places: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """representant_nom → representant.nom; list cells split into items."""
    data: dict[str, Any] = {}
    new_places: dict[str, str] = {}
    for column, value in row.items():
        target = _target(section, column)
        if column in LISTS.get(section, set()):
            value = _split_list(column, value)
        if "." in target:
            parent, child = target.split(".", 1)
            if value is not None:
                data.setdefault(parent, {})[child] = value
        else:
            data[target] = value
        new_places[target] = places[column]
    return data, new_places


def _split_list(column: str, value: Any) -> list[Any] | None:
    if value is None:
        return None
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    if column in ("partenaires", "cosignataires"):
        return [code for code in re.split(r"[\s,;|]+", text) if code]
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if column in ITEM_COLUMNS:
        fields = ITEM_COLUMNS[column]
        objects = []
        for line in lines:
            cells = [c.strip() or None for c in line.split("|", len(fields) - 1)]
            objects.append(dict(zip(fields, cells + [None] * (len(fields) - len(cells)), strict=False)))
        return objects
    return lines


# Column titles people write, read as the format's fields (after accents, case and spacing are set aside).
HEADER_ALIASES = {
    "courriel_du_responsable": "responsable_email", "email_du_responsable": "responsable_email",
    "mail_du_responsable": "responsable_email", "adresse_electronique_du_responsable": "responsable_email",
    "nom_du_responsable": "responsable_nom", "responsable": "responsable_nom",
    "date_d_effet": "date_effet", "date_de_debut": "date_effet", "date_de_signature": "date_signature",
    "duree_en_mois": "duree_mois", "duree": "duree_mois", "preavis_en_mois": "preavis_mois", "preavis": "preavis_mois",
    "ref": "reference", "numero_de_convention": "reference", "partenaire": "partenaires",
    "type_de_convention": "type", "code_partenaire": "code", "nom_du_partenaire": "nom",
    "courriel": "email", "adresse_electronique": "email", "e_mail": "email", "taux_de_cofinancement_fse": "taux_fse",
    "nom_du_representant": "representant_nom", "civilite_du_representant": "representant_civilite",
    "qualite_du_representant": "representant_qualite", "fonction_du_representant": "representant_qualite",
    "numero_de_deliberation": "deliberation_numero", "date_de_deliberation": "deliberation_date",
    "date_de_la_deliberation": "deliberation_date", "instance": "deliberation_instance",
    "n_de_deliberation": "deliberation_numero", "no_de_deliberation": "deliberation_numero",
    "n_deliberation": "deliberation_numero", "numero_deliberation": "deliberation_numero",
    "date_deliberation": "deliberation_date", "instance_deliberante": "deliberation_instance",
}


def _header(value: Any, section: str | None = None) -> str:
    """A column title as a field name: « Référence » → reference, « Date d'effet » → date_effet, « Courriel du
    responsable » → responsable_email, « N° de délibération » → deliberation_numero. A column of *section*
    keeps its name (« partenaire » of the engagements is not the conventions' « partenaires »)."""
    name = as_code(str(value or ""))
    if section is not None and name in _columns_of(section):
        return name
    return HEADER_ALIASES.get(name, name)


@functools.lru_cache(maxsize=32)
def _columns_of(section: str) -> frozenset[str]:
    from pacte_docs.intake.exporter import columns

    return frozenset(columns(section))


HEADER_SEARCH = 20  # rows looked at for the header: title rows, a blank row, merged cells may come first


def header_row(table: list[list[Any]], name: str, section: str | None) -> int:
    """The index of the header in *table*: the first row that holds every required column of its section
    (`import_format.required_columns`), else the first row that is not empty. A title row, a date, merged
    cells or blank rows above the header are passed over, as a person reads the sheet."""
    from pacte_docs.intake.import_format import required_columns

    first = None
    for index, row in enumerate(table[:HEADER_SEARCH]):
        if all(v in (None, "") for v in row):
            continue
        first = index if first is None else first
        found = section or _section_from(name, [_header(h) for h in row])
        headers = [_header(h, found) for h in row]
        required = required_columns(found) if found is not None else set()
        if required and required <= set(headers):
            return index
    return first or 0


def _read_csv(path: Path, data: bytes, reading: Reading) -> None:
    source = path.name
    text = _decode_text(source, data, reading)
    if text is None:
        return
    if not text.strip():
        reading.problems.append(Problem(source, None, None, "fichier vide",
                                        "la première ligne doit donner les noms des colonnes"))
        return
    first_line = text[:text.find("\n")] if "\n" in text else text
    delimiter = max((";", ",", "\t"), key=first_line.count)
    if first_line.count(delimiter) >= MAX_COLUMNS:
        reading.problems.append(_too_many_columns(source, "ligne 1", first_line.count(delimiter) + 1))
        return
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    table: list[list[str]] = []
    try:
        for row in rows:
            if len(table) > MAX_ROWS:
                reading.problems.append(_too_many_rows(source, None))
                return
            table.append(row)
    except csv.Error:
        reading.problems.append(Problem(source, f"ligne {rows.line_num}", None,
                                        "CSV mal formé : guillemet ouvert jamais refermé ou fichier tronqué",
                                        "vérifiez les guillemets de cette ligne et que le fichier est complet"))
        return
    start = header_row(table, path.stem, None)
    headers = [_header(h) for h in table[start]]
    found = _section_from(path.stem, headers)
    headers = [_header(h, found) for h in table[start]]
    values = [[from_spreadsheet(value) for value in row] for row in table[start + 1:]]  # « '=x » as pacte exported it
    _table_items(source, table[start], headers, values, path.stem, reading, lambda r, c: f"ligne {r}",
                 first_row=start + 1)


def _too_many_rows(source: str, where: str | None) -> Problem:
    return Problem(source, where, None, f"plus de {MAX_ROWS:,} lignes de données".replace(",", "\u202f"),
                   "découpez le fichier en plusieurs fichiers")


def _too_many_columns(source: str, where: str, count: int) -> Problem:
    return Problem(source, where, None, f"{count} colonnes, au-delà de la limite de {MAX_COLUMNS}",
                   "gardez les colonnes du format d'import (voir « pacte importer --help »)")


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _read_xlsx(source: str, data: bytes, reading: Reading) -> None:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        files.check_zip(data, f"le classeur {source}", max_bytes=MAX_UNZIPPED_BYTES)
    except InputFileError as exc:
        reading.problems.append(Problem(source, None, None, str(exc), "enregistrez un classeur ordinaire"))
        return
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        reading.problems.append(Problem(source, None, None, f"classeur XLSX illisible ({type(exc).__name__})",
                                        "ouvrez-le dans Excel ou LibreOffice et enregistrez-le au format .xlsx"))
        return
    try:
        for sheet in book.worksheets:
            title = sheet.title.strip()
            if title.startswith("_"):
                continue
            if getattr(sheet, "sheet_state", "visible") != "visible":
                reading.problems.append(Problem(source, f"feuille « {title} »", None,
                                                "feuille masquée : elle n'est pas lue sans que vous le voyiez",
                                                "affichez-la (clic droit sur les onglets › Afficher) si elle doit "
                                                "être importée, ou supprimez-la ou faites commencer son nom par "
                                                "« _ »"))
                continue
            section = SHEET_NAMES.get(title.lower(), title.lower())
            if section not in SECTIONS:
                reading.problems.append(Problem(source, f"feuille « {title} »", None, "feuille inconnue",
                                                "nommez-la d'après sa section (" + ", ".join(sheet_names())
                                                + ") ou faites commencer son nom par « _ » pour l'ignorer"))
                continue
            table: list[list[Any]] = []
            for row in sheet.iter_rows(values_only=True):
                if not table:
                    width = len(row) - next((i for i, v in enumerate(reversed(row)) if v is not None), len(row))
                    if width > MAX_COLUMNS:
                        reading.problems.append(_too_many_columns(source, f"feuille « {title} »", width))
                        return
                if len(table) > MAX_ROWS:
                    reading.problems.append(_too_many_rows(source, f"feuille « {title} »"))
                    return
                table.append(list(row))
            if not table:
                continue
            start = header_row(table, section, section)
            headers = [_header(h, section) for h in table[start]]
            for index in _hidden_columns(sheet):
                if index < len(headers) and headers[index]:
                    reading.problems.append(Problem(
                        source, f"feuille « {title} », colonne {_column_letter(index)}", str(table[start][index]),
                        "colonne masquée : elle serait lue sans que vous la voyiez",
                        "affichez-la (clic droit sur les en-têtes de colonnes › Afficher) ou supprimez-la"))

            def place(r: int, c: int | None, title: str = title) -> str:
                if c is None:
                    return f"feuille « {title} », ligne {r}"
                return f"feuille « {title} », cellule {_column_letter(c)}{r}"

            _table_items(source, table[start], headers, table[start + 1:], section, reading, place,
                         section=section, first_row=start + 1)
    finally:
        book.close()


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _hidden_columns(sheet: Any) -> list[int]:
    """The indexes (from 0) of the columns a sheet hides: its <cols> come before its cells, so only the start of
    the sheet's XML is read."""
    from lxml import etree

    get_source = getattr(sheet, "_get_source", None)
    if get_source is None:
        return []
    hidden: list[int] = []
    with get_source() as source:
        for _, element in etree.iterparse(source, events=("start",), resolve_entities=False, no_network=True):
            if element.tag == f"{_SHEET_NS}sheetData":
                break
            if element.tag == f"{_SHEET_NS}col" and element.get("hidden") in ("1", "true"):
                low, high = int(element.get("min", "1")), int(element.get("max", "1"))
                hidden.extend(range(low - 1, min(high, MAX_COLUMNS)))
    return hidden


def _table_items(source: str, titles: list[Any], headers: list[str], rows: list[list[Any]], name: str,
                 reading: Reading, place: Any, section: str | None = None, first_row: int = 1) -> None:
    """The rows under the header (row *first_row* as the spreadsheet numbers it) as items of their section."""
    section = section or _section_from(name, headers)
    if section is None:
        reading.problems.append(Problem(source, "ligne 1", None, "section impossible à reconnaître",
                                        "nommez le fichier d'après sa section (par exemple partenaires.csv "
                                        "ou conventions.csv)"))
        return
    seen: set[str] = set()
    for index, header in enumerate(headers):
        if header and header in seen:
            reading.problems.append(Problem(source, place(first_row, index), header, "colonne en double",
                                            "gardez une seule colonne de ce nom"))
        seen.add(header)
    for index, header in enumerate(headers):
        children = NESTED.get(section, {}).get(header)
        if children:  # « deliberation » alone: its parts go in columns of their own
            reading.problems.append(Problem(
                source, place(first_row, index), str(titles[index]).strip(),
                "colonne d'un champ en plusieurs parties",
                "remplacez-la par les colonnes " + ", ".join(f"{header}_{child}" for child in children)))
            headers[index] = ""
    for offset, row in enumerate(rows):
        number = first_row + 1 + offset
        values = [v.strip() if isinstance(v, str) else v for v in row]
        if all(v in (None, "") for v in values):
            continue
        if len(values) > len(headers) and any(v not in (None, "") for v in values[len(headers):]):
            reading.problems.append(Problem(source, place(number, None), None,
                                            f"{len(values)} cellules pour {len(headers)} colonnes",
                                            "vérifiez le séparateur et les guillemets de cette ligne"))
            continue
        record: dict[str, Any] = {}
        places: dict[str, str] = {}
        for index, header in enumerate(headers):
            if not header:
                continue
            value = values[index] if index < len(values) else None
            if isinstance(value, dt.datetime) and value.time() == dt.time(0):
                value = value.date()
            record[header] = None if value == "" else value
            places[header] = place(number, index)
        if is_example(section, record):  # the grey row of `pacte modeles classeur`, left as it was written
            continue
        data, field_places = _unflatten(section, record, places)
        if section == "pacte" and any(i.section == section and i.source == source for i in reading.items):
            # a table of départements may list several (an export of two), one per row
            reading.problems.append(Problem(source, place(number, None), None,
                                            f"la section « {section} » ne tient qu'une ligne",
                                            "gardez une seule ligne de données"))
            continue
        labels = {_target(section, header): str(title).strip() for header, title in zip(
            headers, titles, strict=False) if header and _target(section, header) != str(title).strip()}
        reading.items.append(Item(section, source, place(number, None), data, field_places, labels, table=True))


def is_example(section: str, record: dict[str, Any]) -> bool:
    from pacte_docs.intake import workbook

    return workbook.is_example(section, record)


def _axe_number(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


def attach_pacte(items: list[Item], problems: list[Problem]) -> list[Item]:
    """Join the rows of the sheets axes, fiches-actions and engagements to the pacte of their workbook (or to
    the one pacte imported with them), as the YAML nests them: each fiche under the axe whose number it gives,
    each commitment under its partner's code; every field keeps its cell, for the messages. A row without a
    pacte, or a fiche naming an axe that is not in the sheet, is a problem at its place."""
    pactes = [i for i in items if i.section == "pacte"]
    # in a table, what the sheets of the parts give is not a column: the column would be lost, it is named
    for item in pactes + [i for i in items if i.section == "axes"]:
        for name, sheet in (("axes", "axes"), ("engagements", "engagements"), ("fiches", "fiches-actions")):
            if item.table and name in item.data and (item.section == "pacte") != (name == "fiches"):
                problems.append(Problem(item.source, item.place(name), item.label(name), "colonne inconnue",
                                        f"les {sheet} s'écrivent dans la feuille « {sheet} », une ligne chacun"))
                del item.data[name]
    parts = [i for i in items if i.section in PACTE_PARTS]
    if not parts:
        return items
    axes_of: dict[int, dict[int, int]] = {}  # id(pacte) → axe number → its index

    def owner(item: Item) -> Item | None:
        same = [p for p in pactes if p.source == item.source]
        return same[0] if len(same) == 1 else pactes[0] if not same and len(pactes) == 1 else None

    def keep(target: Item, item: Item, path: str, fields: dict[str, Any]) -> None:
        target.places[path] = item.where
        for name in fields:
            target.places[f"{path}.{name}"] = item.place(name)
            target.labels[f"{path}.{name}"] = item.label(name)

    for section in PACTE_PARTS:  # the axes first, whatever the order of the sheets: fiches name them
        for item in (i for i in parts if i.section == section):
            target = owner(item)
            if target is None:
                problems.append(Problem(item.source, item.where, None,
                                        f"ligne de « {section} » sans PDI/PTI auquel la rattacher",
                                        "remplissez la feuille « pacte » du même classeur (une ligne)"))
                continue
            row = dict(item.data)
            if section == "axes":
                axes = target.data.setdefault("axes", [])
                keep(target, item, f"axes.{len(axes)}", row)
                number = _axe_number(row.get("numero"))
                if number is not None:
                    axes_of.setdefault(id(target), {}).setdefault(number, len(axes))
                axes.append(row)
            elif section == "fiches":
                raw = row.pop("axe", None)
                number = _axe_number(raw)
                index = axes_of.get(id(target), {}).get(number) if number is not None else None
                if index is None:
                    problems.append(Problem(item.source, item.place("axe"), item.label("axe"),
                                            f"axe « {raw if raw is not None else '(vide)'} » absent de la feuille "
                                            "« axes »", "écrivez le numéro d'un axe de la feuille « axes »"))
                    continue
                fiches = target.data["axes"][index].setdefault("fiches", [])
                keep(target, item, f"axes.{index}.fiches.{len(fiches)}", row)
                fiches.append(row)
            else:
                code = str(row.get("partenaire") or "").strip().upper()
                text = row.get("engagement")
                for name, value in (("partenaire", code), ("engagement", text)):
                    if value in (None, ""):
                        problems.append(Problem(item.source, item.place(name), item.label(name),
                                                "champ obligatoire absent", "renseignez-le"))
                if code and text not in (None, ""):
                    commitments = target.data.setdefault("engagements", {})
                    target.places.setdefault("engagements", item.place("partenaire"))
                    commitments.setdefault(code, []).append(text)
    return [i for i in items if i.section not in PACTE_PARTS]


def attach_life(items: list[Item], problems: list[Problem]) -> list[Item]:
    """Join the rows of the life tables (renouvellements, avenants, denonciations, journal) to the conventions
    they name, as the YAML export nests them; the rows themselves leave the list. A row whose convention is not in
    the files imported with it is a problem, at its place."""
    conventions = {str(i.data.get("reference") or "").strip().upper(): i for i in items if i.section == "conventions"}
    kept = []
    for item in items:
        if item.section not in LIFE:
            kept.append(item)
            continue
        reference = str(item.data.get("convention") or "").strip().upper()
        target = conventions.get(reference)
        if target is None:
            problems.append(Problem(item.source, item.place("convention"), "convention",
                                    f"convention « {reference or '(vide)'} » absente des fichiers importés",
                                    "importez ce fichier avec celui des conventions"))
            continue
        name = LIFE[item.section]
        row = {k: v for k, v in item.data.items() if k != "convention"}
        if name == "denonciation":
            target.data[name] = row
            target.places.update({f"{name}.{k}": item.place(k) for k in row})
            continue
        rows = target.data.setdefault(name, [])
        target.places.update({f"{name}.{len(rows)}.{k}": item.place(k) for k in row})
        rows.append(row)
    return kept
