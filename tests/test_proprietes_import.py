"""Properties of the importer on whole files (hypothesis): any registry that the rules allow, written as YAML,
is imported exactly — every text, date and amount as given — and its export in YAML, CSV or XLSX imports into an
empty workspace as the same registry; importing it again changes nothing. And a file spoiled anywhere is either
imported or refused with exit 1 and a French message, never a traceback, the registry left as it was."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pacte_docs.intake.import_format import RESERVED
from pacte_docs.rules import subventions, visas
from tests.helpers import Pacte, folder_state, registry_state

# What a person can type or paste and the importer keeps as it is: no control character (refused), no line or
# paragraph separator (YAML reads them as line ends), no surrounding spaces (trimmed).
_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"), blacklist_characters="\u200b\ufeff")
line = st.text(_CHARS, min_size=1, max_size=40).map(str.strip).filter(bool)
paragraph = st.lists(line, min_size=1, max_size=3).map("\n".join)
key = st.from_regex(r"\A[A-Z0-9][A-Z0-9-]{1,15}\Z").filter(lambda k: k not in RESERVED)
day = st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31))
amount = st.decimals(Decimal("0"), Decimal("999999999.99"), places=2)
# valid addresses only (no dot first, last or twice in a row): the importer checks them as email-validator does
email = st.from_regex(r"\A[a-z][a-z0-9]{0,5}(?:\.[a-z0-9]{1,5}){0,2}@[a-z]{2,10}\.example\.fr\Z")


@st.composite
def registries(draw: st.DrawFn) -> dict[str, Any]:
    codes = draw(st.lists(key, min_size=1, max_size=4, unique=True))
    partners = [{"code": code, "type": draw(st.sampled_from(["commune", "ccas", "france_travail", "association"])),
                 "nom": draw(line), "commune": draw(line),
                 "code_insee": draw(st.from_regex(r"\A(0[1-9]|[1-8][0-9]|9[0-5])[0-9]{3}\Z"))} for code in codes]
    references = draw(st.lists(key, min_size=1, max_size=4, unique=True))
    conventions = []
    for reference in references:
        effet = draw(day)
        duree = draw(st.integers(1, 240))
        convention: dict[str, Any] = {
            "reference": reference, "type": draw(st.sampled_from(["ccas", "france_travail", "autre"])),
            "partenaires": draw(st.lists(st.sampled_from(codes), min_size=1, max_size=2, unique=True)),
            "objet": draw(paragraph), "date_effet": effet.isoformat(),
            "date_signature": (effet - dt.timedelta(days=draw(st.integers(0, 90)))).isoformat(),
            "duree_mois": duree, "renouvellement": draw(st.sampled_from(["expresse", "tacite",
                                                                                             "aucun"])),
            "renouvellements_max": draw(st.integers(0, 20)), "preavis_mois": draw(st.integers(0, min(24, duree - 1))),
            "responsable": {"nom": draw(line), "email": draw(email)},
            "territoire": draw(line), "montant": str(draw(amount)),
            "engagements_departement": draw(st.lists(line, max_size=3)),
        }
        _as_a_subsidy_allows(convention, {p["code"]: p["type"] for p in partners})
        conventions.append(convention)
    return {"departement": {"code": "93", "nom": draw(line), "ville": draw(line)}, "partenaires": partners,
            "conventions": conventions}


def _as_a_subsidy_allows(convention: dict[str, Any], types: dict[str, str]) -> None:
    """A subsidy to an association as the rules allow it: renewed expressly or not at all; above 23 000 € a year,
    its schedule, the first payment within the first year's share."""
    total = Decimal(convention["montant"])
    if not total or "association" not in {types[code] for code in convention["partenaires"]}:
        return
    if convention["renouvellement"] == "tacite":
        convention["renouvellement"] = "expresse"
    if total * 12 / convention["duree_mois"] > visas.SUBVENTION_THRESHOLD:
        share = subventions.annuites(total, dt.date.fromisoformat(convention["date_effet"]),
                                     convention["duree_mois"])[0].montant
        convention["versements"] = ["le solde à la signature de la convention"] if share == total else [
            f"{share} € à la signature de la convention", "le solde au terme de la convention"]


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised, empty workspace, copied for each example (creating one runs every migration)."""
    root = tmp_path_factory.mktemp("vierge") / "espace"
    Pacte(root, None)("init", str(root))
    return root


def fresh_workspace(blank: Path, parent: Path) -> Pacte:
    root = Path(tempfile.mkdtemp(dir=parent)) / "espace"
    shutil.copytree(blank, root)
    return Pacte(root, None)


def as_given(value: Any) -> Any:
    """A record as the file gave it: amounts as decimals, empty values dropped."""
    if isinstance(value, dict):
        return {k: as_given(v) for k, v in value.items() if v not in (None, [], {}, "")}
    if isinstance(value, list):
        return [as_given(v) for v in value]
    if isinstance(value, Decimal | dt.date):
        return str(value) if isinstance(value, dt.date) else value
    return value


@pytest.mark.lent  # whole files imported a hundred times: about 10 s each
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=registries(), fmt=st.sampled_from(["yaml", "csv", "xlsx"]))
def test_any_allowed_registry_is_imported_exactly_and_survives_export(blank: Path, tmp_path: Path,
                                                                      data: dict[str, Any], fmt: str) -> None:
    first = fresh_workspace(blank, tmp_path)
    source = Path(tempfile.mkdtemp(dir=tmp_path)) / "registre.yaml"
    source.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = first("importer", str(source), ok=False)
    assert result.exit_code == 0, result.output
    state = registry_state(first.root, None)
    by_reference = {c["reference"]: as_given(c) for c in state["conventions"]}
    for convention in data["conventions"]:
        stored = by_reference[convention["reference"]]
        for name, value in convention.items():
            got = stored.get(name)
            expected = Decimal(value) if name == "montant" else None if value in ("", []) else value
            assert got == expected, (name, value, got)
    names = {p["code"]: p["nom"] for p in state["partenaires"]}
    assert names == {p["code"]: p["nom"] for p in data["partenaires"]}

    again = first("importer", str(source))
    assert "Registre déjà à jour" in again.output, again.output
    assert registry_state(first.root, None) == state

    exported = source.with_name(f"export.{fmt}")
    first("exporter", str(exported), "--format", fmt)
    files = sorted(str(p) for p in exported.parent.glob(f"export*.{fmt}"))
    second = fresh_workspace(blank, tmp_path)
    second("importer", *files)
    copy = registry_state(second.root, None)
    assert {k: v for k, v in copy.items() if k != "documents"} == {k: v for k, v in state.items() if k != "documents"}


SPOILERS: list[Any] = [
    "", " ", "NO", "yes", "~", "null", "01000", "0x1F", "1e400", "-1", "2025-02-30", "31/12/2025", "../../x",
    "CON", "é" * 5000, "\x0b", "a\x00b", "{{ 7 * 7 }}", "{% for %}", "<w:t>", "=SUM(A1)", "\u202e", 10**30, -1.5,
    [], {}, ["a", ["b"]], {"x": {"y": 1}}, True, None, dt.date(1, 1, 1),
]


@pytest.mark.lent  # whole files imported a hundred times: about 10 s each
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=registries(), where=st.randoms(use_true_random=False), spoiler=st.sampled_from(SPOILERS))
def test_a_spoiled_file_is_imported_or_refused_cleanly(blank: Path, tmp_path: Path, data: dict[str, Any],
                                                       where: random.Random, spoiler: Any) -> None:
    pacte_sqlite = fresh_workspace(blank, tmp_path)
    section = where.choice(["departement", "partenaires", "conventions"])
    entry = data[section] if section == "departement" else where.choice(data[section])
    entry[where.choice(sorted(entry))] = spoiler
    before, folders = registry_state(pacte_sqlite.root, None), folder_state(pacte_sqlite.root)
    source = Path(tempfile.mkdtemp(dir=tmp_path)) / "abime.yaml"
    source.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = pacte_sqlite("importer", str(source), ok=False)
    assert result.exit_code in (0, 1), (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert result.output.startswith("Erreur : ") and "abime.yaml" in result.output, result.output
        assert registry_state(pacte_sqlite.root, None) == before and folder_state(pacte_sqlite.root) == folders


def test_text_that_looks_like_a_formula_stays_text(blank: Path, tmp_path: Path) -> None:
    """Found by the property above: « =… » exported to XLSX was written as a formula and read back empty."""
    data = {"departement": {"code": "93", "nom": "Seine-Saint-Denis", "ville": "Bobigny"},
            "partenaires": [{"code": "P1", "type": "commune", "nom": "=SOMME(A1:A9)", "commune": "+33 1 23"},
                            {"code": "P2", "type": "commune", "nom": "@Commune", "commune": "=1+1"}],
            "conventions": []}
    first = fresh_workspace(blank, tmp_path)
    source = tmp_path / "formules.yaml"
    source.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    first("importer", str(source))
    exported = tmp_path / "export.xlsx"
    first("exporter", str(exported))
    second = fresh_workspace(blank, tmp_path)
    second("importer", str(exported))
    names = {p["code"]: (p["nom"], p["commune"]) for p in registry_state(second.root, None)["partenaires"]}
    assert names == {"P1": ("=SOMME(A1:A9)", "+33 1 23"), "P2": ("@Commune", "=1+1")}


_HEADER_WORDS = st.sampled_from(["reference", "Référence", "deliberation", "Délibération", "N° de délibération",
                                 "responsable", "representant", "objectifs", "type", "partenaires", "date_effet",
                                 "renouvellement", "", " ", "_", "_x", "deliberation_", "avenants", "journal",
                                 "deliberation_date", "representant_nom", "Date de délibération", "axe", "numero",
                                 "intitule", "nature", "partenaire", "engagement", "periode_debut", "titre",
                                 "fiches", "axes", "engagements"])
_CELLS = st.one_of(st.none(), st.text(max_size=12), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                   st.booleans(), st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)))


@settings(max_examples=150, deadline=None)
@example(sheet="conventions", headers=["reference", "deliberation", "deliberation_date"],  # a TypeError once
         rows=[["CCAS-2025-001", "CP-2025-01", "2025-01-15"]], blank_rows=0, hidden=False)
@example(sheet="conventions", headers=["Conventions 2025"], rows=[[], ["reference", "N° de délibé"], ["X-1", 1]],
         blank_rows=1, hidden=False)
@example(sheet="fiches-actions", headers=["axe", "numero", "intitule"], rows=[["1", 1.5, None], [None, "x", "y"]],
         blank_rows=0, hidden=False)
@example(sheet="pacte", headers=["reference", "titre", "periode_debut", "periode_fin", "engagements", "axes"],
         rows=[["PTI-1", "T", 2025, 2028, "FT-91", "1"]], blank_rows=0, hidden=False)
@example(sheet="axes", headers=["numero", "intitule", "nature", "fiches"], rows=[[1, "A", "sociale", "1.1"]],
         blank_rows=0, hidden=False)
@given(sheet=st.sampled_from(["conventions", "partenaires", "pacte", "realisations", "avenants", "departement",
                              "Feuil1", "axes", "fiches-actions", "engagements"]),
       headers=st.lists(st.one_of(_HEADER_WORDS, _HEADER_WORDS, st.text(max_size=15)), min_size=1, max_size=8),
       rows=st.lists(st.lists(_CELLS, min_size=1, max_size=9), min_size=1, max_size=4), blank_rows=st.integers(0, 3),
       hidden=st.booleans())
def test_no_header_value_or_sheet_ends_in_a_traceback(sheet: str, headers: list[str], rows: list[list[Any]],
                                                       blank_rows: int, hidden: bool) -> None:
    """Any sheet name, header (a field in parts, a title row, blanks, odd words) and cell value is read and
    checked into problems, never an exception: the reading and the checks a workbook import goes through."""
    import io

    import openpyxl
    from openpyxl.utils.exceptions import IllegalCharacterError

    from pacte_docs.errors import Problem
    from pacte_docs.intake import import_format, readers

    book = openpyxl.Workbook()
    book.remove(book.active)
    target = book.create_sheet(sheet)
    try:
        for _ in range(blank_rows):
            target.append([])
        target.append(headers)
        for row in rows:
            target.append(row)
    except (IllegalCharacterError, ValueError):  # what Excel could not hold either
        return
    if hidden:
        target.sheet_state = "hidden"
        book.create_sheet("_visible")
    if sheet in ("axes", "fiches-actions", "engagements"):  # the pacte they join, and an axe for the fiches
        book.create_sheet("pacte").append(["reference", "titre", "periode_debut", "periode_fin"])
        book["pacte"].append(["PTI-2025-2028", "Pacte", 2025, 2028])
        if sheet != "axes":
            book.create_sheet("axes").append(["numero", "intitule", "nature"])
            book["axes"].append([1, "Axe", "sociale"])
    out = io.BytesIO()
    book.save(out)
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / "classeur.xlsx"
        path.write_bytes(out.getvalue())
        reading = readers.read(path)
        problems: list[Problem] = list(reading.problems)
        items = readers.attach_pacte(readers.attach_life(reading.items, problems), problems)
        for item in items:
            import_format.clean(item, problems)
        assert all(isinstance(p, Problem) and str(p) for p in problems)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
