"""The annual bilan compiled for the Assemblée, from figures the tests generate (one spreadsheet per year):
totals, split and rates read back from the PDF equal what the figures give; bookmarks; « k / n » on every page."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader

from pacte_docs.documents.conformity import conformite
from tests.helpers import (
    Pacte,
    bookmarks,
    build_pacte,
    euros,
    folder_state,
    libreoffice_of,
    normalise,
    registry_state,
    scanned_pdf,
    start,
    wait_until,
    write,
)

YEAR = 2025
COLUMNS = ["annee", "axe", "fiche", "convention", "actions_financees", "credits_engages", "credits_consommes",
           "personnes_accompagnees", "entrees", "dont_brsa", "sorties_emploi", "sorties_formation",
           "creations_entreprise"]
FIGURES = COLUMNS[4:]


def conventions() -> list[dict[str, Any]]:
    common = {"objet": "Accompagnement des bénéficiaires du RSA.", "responsable": {"email": "dir@creuse.example.fr"}}
    return [
        {"reference": "CONV-2025-001", "type": "autre", "partenaires": ["ASSO-23"], "date_signature": "2025-03-10",
         "date_effet": "2025-04-01", "renouvellement": "expresse", **common},
        {"reference": "FT-2024-002", "type": "france_travail", "partenaires": ["FT-23"], "date_signature": "2023-12-01",
         "date_effet": "2024-01-01", "duree_mois": 12, "renouvellement": "tacite", "renouvellements_max": 3, **common},
        {"reference": "CCAS-2026-003", "type": "ccas", "partenaires": ["CAF-23"], "date_effet": "2026-01-01",
         "renouvellement": "expresse", **common},  # a draft: neither in force nor annexed
    ]


def generate_figures(rng: random.Random, pacte: dict[str, Any], year: int, *, axis_row: int | None,
                     missing: set[str]) -> list[dict[str, Any]]:
    rows = []
    for axe in pacte["axes"]:
        if axe["numero"] == axis_row:
            rows.append({"annee": year, "axe": axe["numero"], **_random_figures(rng, big=True)})
        for fiche in axe["fiches"]:
            if fiche["numero"] not in missing:
                rows.append({"annee": year, "fiche": fiche["numero"], **_random_figures(rng)})
    rows.append({"annee": year, "convention": "FT-2024-002", **_random_figures(rng)})
    return rows


def _random_figures(rng: random.Random, big: bool = False) -> dict[str, Any]:
    scale = 30 if big else 1
    people = rng.randrange(5, 400) * scale
    entries = rng.randrange(0, people + 1)
    committed = Decimal(rng.randrange(1_000_000, 90_000_000) * scale) / 100
    return {
        "actions_financees": rng.randrange(1, 20) * scale, "credits_engages": committed,
        "credits_consommes": (committed * Decimal(rng.randrange(60, 100)) / 100).quantize(Decimal("0.01")),
        "personnes_accompagnees": people, "entrees": entries, "dont_brsa": rng.randrange(0, entries + 1),
        "sorties_emploi": rng.randrange(0, people // 3 + 1), "sorties_formation": rng.randrange(0, people // 3 + 1),
        "creations_entreprise": rng.randrange(0, people // 3 + 1),
    }


def write_xlsx(path: Path, rows: list[dict[str, Any]], columns: list[str] = COLUMNS) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "realisations"
    sheet.append(columns)
    for row in rows:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in (row.get(c) for c in columns)])
    book.save(path)
    return path


def expected_totals(pacte: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What the figures give, computed here independently of the product's aggregation."""
    by_target = {(("axe", r["axe"]) if "axe" in r else ("fiche", r["fiche"]) if "fiche" in r else
                  ("convention", r["convention"])): r for r in rows}
    axes = {}
    for axe in pacte["axes"]:
        own = by_target.get(("axe", axe["numero"]))
        parts = [own] if own else [by_target[("fiche", f["numero"])] for f in axe["fiches"]
                                   if ("fiche", f["numero"]) in by_target]
        axes[axe["numero"]] = {name: sum((Decimal(str(p[name])) for p in parts), Decimal(0)) for name in FIGURES}
        axes[axe["numero"]]["nature"] = axe["nature"]
    total = {name: sum((a[name] for a in axes.values()), Decimal(0)) for name in FIGURES}
    pro = sum((a["credits_engages"] for a in axes.values() if a["nature"] == "professionnelle"), Decimal(0))
    positives = total["sorties_emploi"] + total["sorties_formation"] + total["creations_entreprise"]
    return {"axes": axes, "total": total, "pro": pro, "sociale": total["credits_engages"] - pro,
            "positives": positives}


def pct(part: Decimal, whole: Decimal) -> str:
    value = (part / whole).quantize(Decimal("0.001")) * 100
    return f"{value.normalize():f}".replace(".", ",") + " %"


def count(value: Decimal) -> str:
    return f"{int(value):,}".replace(",", " ")


def flat(text: str) -> str:
    return " ".join(normalise(text).replace("\uf0b7", " ").split())


@pytest.fixture
def scenario(pacte_sqlite: Pacte, tmp_path: Path) -> dict[str, Any]:
    rng = random.Random(20251)
    data = build_pacte(seed=5)
    data["conventions"] = conventions()
    write(tmp_path / "pti.yaml", data)
    pacte = data["pacte"]
    first = pacte["axes"][0]["fiches"][0]["numero"]
    last_year = generate_figures(rng, pacte, YEAR - 1, axis_row=None, missing=set())
    this_year = generate_figures(rng, pacte, YEAR, axis_row=2, missing={"3.2"})
    this_year[0]["personnes_accompagnees"] = 3  # a small count, masked in the bilan
    this_year[0].update(entrees=3, dont_brsa=2, sorties_emploi=1, sorties_formation=0, creations_entreprise=0)
    assert this_year[0]["fiche"] == first
    pacte_sqlite("importer", str(tmp_path / "pti.yaml"),
                 str(write_xlsx(tmp_path / f"realisations-{YEAR - 1}.xlsx", last_year)),
                 str(write_xlsx(tmp_path / f"realisations-{YEAR}.xlsx", this_year)))
    return {"pacte": pacte, "this_year": this_year, "last_year": last_year, "runner": pacte_sqlite}


@pytest.mark.libreoffice
def test_compiled_bilan_shows_what_the_figures_give(scenario: dict[str, Any]) -> None:
    run: Pacte = scenario["runner"]
    result = run("bilan", "compiler", str(YEAR))
    target = run.root / f"archives/bilans/{YEAR}/bilan-{YEAR}.pdf"
    reader = PdfReader(target)
    n = len(reader.pages)
    # every chart says in words what it shows (its alternative text, exported by LibreOffice as /Alt)
    xml = zipfile.ZipFile(target.with_suffix(".docx")).read("word/document.xml").decode()
    alts = re.findall(r'<wp:docPr [^>]*descr="([^"]*)"', xml)
    assert len(alts) == len(re.findall(r"<wp:docPr ", xml)) == 4
    assert any(a.startswith(f"Crédits par axe en {YEAR} : axe 1 : ") for a in alts)
    assert any(a.startswith(f"Évolution {YEAR - 1}-{YEAR} : crédits engagés de ") for a in alts)
    assert f"archives/bilans/{YEAR}/bilan-{YEAR}.pdf (créé, {n} pages)" in result.output
    assert "Conventions en annexe : CONV-2025-001, FT-2024-002" in result.output
    assert "Conventions produites ou mises à jour pour l'annexe 1 : CONV-2025-001, FT-2024-002." in result.output
    pages = [flat(page.extract_text()) for page in reader.pages]
    # The table of contents (page 2) gives the compiled page of every section, axis and annexed convention.
    entries = re.findall(r"^(.+?)\.{3,}\s*(\d+)\s*$", reader.pages[1].extract_text(extraction_mode="layout"),
                         flags=re.MULTILINE)
    assert len(entries) >= 8
    first_pages: dict[str, int] = {}
    for top in bookmarks(target):
        for b in [top, *top.children]:
            first_pages.setdefault(normalise(b.title), b.page)  # an axis's first place: the bilan's
    for title, page in entries:
        title = " ".join(normalise(title).split())
        assert first_pages.get(title) == int(page), f"sommaire : « {title} » p. {page}, signet {first_pages.get(title)}"
    assert "PROJET — rapport à l'Assemblée départementale" in flat(reader.pages[0].extract_text())
    # one compiled number on every page but the cover
    assert not re.search(rf"(^| )\d+ / {n}( |$)", pages[0]), "la couverture porte un numéro"
    for k, text in enumerate(pages[1:], start=2):
        assert len(re.findall(rf"(?:^| )\d+ / {n}(?= |$)", text)) == 1, f"page {k} : un seul numéro compilé"
        assert re.search(rf"(^| ){k} / {n}( |$)", text), f"page {k} sans « {k} / {n} »"

    expected = expected_totals(scenario["pacte"], scenario["this_year"])
    before = expected_totals(scenario["pacte"], scenario["last_year"])
    total = expected["total"]
    synthesis = " ".join(pages[1:3])
    assert f"pour {euros(total['credits_engages'])} de crédits engagés, dont {euros(total['credits_consommes'])} " \
           f"consommés ({pct(total['credits_consommes'], total['credits_engages'])})" in synthesis
    assert f"{count(total['personnes_accompagnees'])} personnes ont été accompagnées et " \
           f"{count(total['entrees'])} sont entrées dans une action, dont " \
           f"{pct(total['dont_brsa'], total['entrees'])} de bénéficiaires du RSA" in synthesis
    assert f"{count(expected['positives'])} sorties positives" in synthesis
    assert f"soit {pct(expected['positives'], total['personnes_accompagnees'])} des personnes accompagnées" \
        in synthesis
    assert f"l'insertion professionnelle, {euros(expected['pro'])} ({pct(expected['pro'], total['credits_engages'])})" \
           f", et l'insertion sociale, {euros(expected['sociale'])}" in synthesis
    change = (total["credits_engages"] - before["total"]["credits_engages"]) / before["total"]["credits_engages"]
    sign = "+" if change > 0 else "−"
    shown = pct(abs(change), Decimal(1)).replace(",0 %", " %")
    assert f"Crédits engagés {euros(before['total']['credits_engages'])} {euros(total['credits_engages'])} " \
           f"{sign}{shown}" in synthesis

    whole = " ".join(pages)
    # each axis against last year: its credits then and now
    evolution_table = whole.split(f"Évolution par axe depuis {YEAR - 1}")[1].split("Crédits par axe")[0]
    for number, figures in expected["axes"].items():
        then = before["axes"][number]["credits_engages"]
        assert f"{euros(then)} {euros(figures['credits_engages'])}" in evolution_table, number
    for number, figures in expected["axes"].items():
        assert f"Total de l'axe {number} {count(figures['actions_financees'])} {euros(figures['credits_engages'])} " \
               f"{euros(figures['credits_consommes'])}" in whole
    assert "Sans chiffres en 2025 : fiche 3.2." in whole
    assert "1.1 – Action 1.1" in whole and "< 5" in whole  # the small count is masked

    # Bookmarks built from the data: sections → axes; annexes → conventions; fiches → axes → fiches.
    outline = bookmarks(target)
    titles = [b.title for b in outline]
    assert titles[0] == f"Synthèse de l'année {YEAR}"
    axes = next(b for b in outline if b.title == "Réalisations par axe").children
    assert [b.title for b in axes] == [flat(f"Axe {a['numero']} – {a['intitule']}") for a in scenario["pacte"]["axes"]]
    annex1 = next(b for b in outline if b.title.startswith("Annexe 1"))
    assert [b.title for b in annex1.children] == ["CONV-2025-001 – Association « Rural & Solidaire » <Creuse>",
                                                  "FT-2024-002 – France Travail Creuse"]
    for child in annex1.children:
        assert child.title.split(" – ")[0] in pages[child.page - 1]
    annex2 = next(b for b in outline if b.title.startswith("Annexe 2"))
    assert [len(a.children) for a in annex2.children] == [len(a["fiches"]) for a in scenario["pacte"]["axes"]]
    for axe in annex2.children:
        for fiche in axe.children:
            assert fiche.title in pages[fiche.page - 1]

    metadata = reader.metadata
    assert metadata is not None and metadata.title == f"Bilan {YEAR} de la politique départementale d'insertion"
    assert metadata.author == "Département de la Creuse"
    assert "Pacte creusois" in (metadata.subject or "") and str(YEAR) in (metadata.get("/Keywords") or "")
    assert metadata.creation_date is not None

    check = run("archives", "verifier")
    assert "Aucune anomalie" in check.output or "vérifié" in check.output
    sums = (run.root / "archives/SHA256SUMS").read_text(encoding="utf-8")
    assert f"bilans/{YEAR}/bilan-{YEAR}.pdf" in sums
    assert "(inchangé" in run("bilan", "compiler", str(YEAR)).output


@pytest.mark.libreoffice
def test_compiled_bilan_is_tagged_in_reading_order(scenario: dict[str, Any]) -> None:
    """The compiled bilan was not tagged (pypdf copies pages, not their structure): a screen reader found no
    headings, no table, no reading order. Its structure is now its parts' own, merged: the bilan's headings, then
    each annexed convention where « Annexe 1 » puts it, then « Annexe 2 » and the PDI/PTI's fiches — and only
    those of the PDI/PTI's pages it keeps. The page numbers laid over the pages are page furniture (artifacts).
    Compiled without PDF/A: the structure is the same, and poppler's `pdfinfo -struct-text` takes 15 s per act
    on LibreOffice's PDF/A output (0.5 s on its plain output), two minutes on this bilan."""
    run: Pacte = scenario["runner"]
    run("bilan", "compiler", str(YEAR), "--sans-pdfa")
    target = run.root / f"archives/bilans/{YEAR}/bilan-{YEAR}.pdf"
    assert "Tagged:          yes" in subprocess.run(["pdfinfo", str(target)], capture_output=True, text=True,
                                                      check=True).stdout
    tree = subprocess.run(["pdfinfo", "-struct-text", str(target)], capture_output=True, text=True,
                          check=True).stdout
    texts = "".join(normalise("".join(re.findall(r'^\s*"(.*)"$', tree, flags=re.MULTILINE))).split())
    # in reading order, after the table of contents: each text found after the one before
    position = texts.index("Sommaire")
    annex2 = next(b for b in bookmarks(target) if b.title.startswith("Annexe 2"))
    fiches = ["".join(normalise(f.title).split()) for f in (annex2.children[0].children[0], annex2.children[-1])]
    for text in (f"Synthèsedel'année{YEAR}", f"Annexe1–Conventionssignéesourenouveléesen{YEAR}", "CONV-2025-001",
                 "ENTRELESSOUSSIGNÉS", "FT-2024-002", "ENTRELESSOUSSIGNÉS", "Annexe2–Fiches-actions", *fiches):
        found = texts.find(text, position + 1)
        assert found > position, f"« {text} » absent de la structure après la position {position}"
        position = found
    assert "H1" in tree and "Table" in tree and "Figure" in tree  # headings, tables and charts keep their roles
    reader = PdfReader(target)
    root: Any = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and root["/Lang"] == "fr-FR"
    pages = {page.indirect_reference.idnum for page in reader.pages if page.indirect_reference is not None}
    keys = [page.get("/StructParents") for page in reader.pages if page.get("/StructParents") is not None]
    assert len(keys) == len(set(keys)) >= len(reader.pages) - 2  # a blank page may hold no content
    nums = root["/StructTreeRoot"]["/ParentTree"]["/Nums"]
    assert sorted(int(nums[i]) for i in range(0, len(nums), 2)) == list(range(int(
        root["/StructTreeRoot"]["/ParentTreeNextKey"])))

    def walk(node: Any) -> Iterator[Any]:
        node = node.get_object()
        yield node
        kids = node.get("/K", [])
        for kid in (kids if isinstance(kids, list) else [kids]):
            if hasattr(kid, "get_object") and hasattr(kid.get_object(), "get"):
                yield from walk(kid)

    for element in walk(root["/StructTreeRoot"]):
        if "/Pg" in element:  # every element points at a page of this document, none at a page left out
            assert element.raw_get("/Pg").idnum in pages
    for number, page in enumerate(reader.pages, start=1):  # one owner per marked content: the stamp has none
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        mcids = re.findall(rb"/MCID\s+(\d+)", data)
        assert len(mcids) == len(set(mcids)), f"page {number} : MCID en double"


@pytest.mark.libreoffice
def test_first_year_has_no_evolution_and_says_so(scenario: dict[str, Any], tmp_path: Path) -> None:
    run: Pacte = scenario["runner"]
    out = tmp_path / "bilan-2024.pdf"
    result = run("bilan", "compiler", str(YEAR - 1), "--sortie", str(out))
    assert f"Copie demandée : {out}" in result.output
    text = flat(" ".join(page.extract_text() for page in PdfReader(out).pages))
    assert "Aucun chiffre n'a été importé pour 2023 : l'évolution sera présentée au prochain bilan." in text
    assert "Crédits engagés — " in text  # no previous year in the key figures
    assert "Sans chiffres" not in text  # every fiche reported in 2024


def test_xlsx_table_of_the_year(scenario: dict[str, Any], tmp_path: Path) -> None:
    run: Pacte = scenario["runner"]
    out = tmp_path / "chiffres.xlsx"
    run("bilan", "compiler", str(YEAR), "--format", "xlsx", "--sortie", str(out))
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    total = next(r for r in rows if r[0] == "Total")
    expected = expected_totals(scenario["pacte"], scenario["this_year"])["total"]
    for name, label in (("credits_engages", "Crédits engagés"), ("personnes_accompagnees", "Personnes accompagnées"),
                        ("entrees", "Entrées")):
        assert Decimal(str(total[header.index(label)])) == expected[name]
    assert [r[1] for r in rows if r[0] == "Axe"] == ["1", "2", "3", "4"]
    assert any(r[0] == "Convention" and r[1] == "FT-2024-002" for r in rows)


def test_a_year_without_pacte_is_refused(pacte_sqlite: Pacte) -> None:
    result = pacte_sqlite("bilan", "compiler", "2019", ok=False)
    assert result.exit_code == 1 and "Aucun PDI/PTI du registre ne couvre l'année 2019" in result.output


PERSONAL = [
    (["annee", "fiche", "nom", "entrees"], [YEAR, "1.1", "Dupont", 3], "donnée personnelle refusée"),
    (["annee", "fiche", "date_naissance", "entrees"], [YEAR, "1.1", "12/03/1984", 3], "donnée personnelle refusée"),
    (["annee", "fiche", "nir"], [YEAR, "1.1", "184127512345678"], "donnée personnelle refusée"),
    (["annee", "fiche", "commentaire"], [YEAR, "1.1", "voir 1 84 12 75 123 456 78"], "numéro de sécurité sociale"),
    (["annee", "fiche", "observations"], [YEAR, "1.1", "né le 03/04/1990"], "date de naissance"),
]


@pytest.mark.parametrize(("columns", "values", "message"), PERSONAL, ids=[c[2] for c, _, _ in PERSONAL])
def test_figures_about_a_person_are_refused(pacte_sqlite: Pacte, tmp_path: Path, columns: list[str],
                                            values: list[Any], message: str) -> None:
    data = build_pacte(seed=5)
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", data)))
    before, folders = registry_state(pacte_sqlite.root, None), folder_state(pacte_sqlite.root)
    path = write_xlsx(tmp_path / "realisations.xlsx", [dict(zip(columns, values, strict=True))], columns)
    result = pacte_sqlite("importer", str(path), ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "realisations.xlsx, feuille « realisations », cellule " in result.output and message in result.output
    assert registry_state(pacte_sqlite.root, None) == before and folder_state(pacte_sqlite.root) == folders


HOSTILE = [
    ({"annee": YEAR, "axe": 9, "entrees": 1}, ["champ « axe »", "l'axe 9 n'existe pas dans le PDI/PTI de 2025"]),
    ({"annee": YEAR, "fiche": "1.9", "entrees": 1}, ["champ « fiche »", "la fiche-action 1.9 n'existe pas"]),
    ({"annee": 2031, "fiche": "1.1", "entrees": 1}, ["aucun PDI/PTI du département 23 ne couvre l'année 2031"]),
    ({"annee": YEAR, "axe": 1, "fiche": "1.1"}, ["une fiche-action ou une convention, et un seul"]),
    ({"annee": YEAR}, ["une fiche-action ou une convention, et un seul"]),
    ({"annee": YEAR, "convention": "INCONNUE-1"}, ["convention « INCONNUE-1 » inconnue"]),
    ({"annee": YEAR, "fiche": "1.1", "entrees": 10, "dont_brsa": 11}, ["plus de bénéficiaires du RSA que d'entrées"]),
    ({"annee": YEAR, "fiche": "1.1", "personnes_accompagnees": 5, "sorties_emploi": 6},
     ["sorties emploi (6) dépasse le nombre de personnes accompagnées (5)"]),
    ({"annee": YEAR, "fiche": "1.1", "credits_engages": "beaucoup"}, ["champ « credits_engages »"]),
    ({"annee": YEAR, "fiche": "1.1", "entrees": -4}, ["champ « entrees »"]),
]


@pytest.mark.parametrize(("row", "expected"), HOSTILE, ids=[e[0] for _, e in HOSTILE])
def test_hostile_figures_are_refused(pacte_sqlite: Pacte, tmp_path: Path, row: dict[str, Any],
                                     expected: list[str]) -> None:
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(seed=5))))
    before, folders = registry_state(pacte_sqlite.root, None), folder_state(pacte_sqlite.root)
    result = pacte_sqlite("importer", str(write_xlsx(tmp_path / "realisations.xlsx", [row], list(row))), ok=False)
    assert result.exit_code == 1, result.output
    assert re.search(r"realisations\.xlsx, feuille « realisations », (cellule [A-Z]+2|ligne 2)", result.output)
    for fragment in expected:
        assert fragment in result.output, f"{fragment!r} absent de :\n{result.output}"
    assert registry_state(pacte_sqlite.root, None) == before and folder_state(pacte_sqlite.root) == folders


def test_the_same_line_twice_is_refused(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(seed=5))))
    row = {"annee": YEAR, "fiche": "2.1", "entrees": 4}
    result = pacte_sqlite("importer", str(write_xlsx(tmp_path / "r.xlsx", [row, row], list(row))), ok=False)
    assert "r.xlsx, feuille « realisations », cellule B3, champ « fiche » : réalisations 2025 déjà données pour " \
           "fiche 2.1 (feuille « realisations », ligne 2)" in result.output


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_figures_in_yaml_on_both_databases(pacte: Pacte, tmp_path: Path) -> None:
    data = build_pacte(seed=5)
    data["conventions"] = conventions()
    data["realisations"] = [
        {"annee": YEAR, "fiche": "1.1", "credits_engages": "1234.56", "personnes_accompagnees": 40, "entrees": 30},
        {"annee": YEAR, "axe": 2, "actions_financees": 7},
        {"annee": YEAR, "convention": "FT-2024-002", "sorties_emploi": 12, "personnes_accompagnees": 80},
    ]
    path = write(tmp_path / "tout.yaml", data)
    assert "réalisations annuelles : 3 créées" in pacte("importer", str(path)).output
    state = registry_state(pacte.root, pacte.base)
    assert [(r["annee"], r["axe"], r["fiche"], r["convention"]) for r in state["realisations"]] == [
        (YEAR, 2, None, None), (YEAR, None, None, "FT-2024-002"), (YEAR, None, "1.1", None)]
    assert state["realisations"][2]["credits_engages"] == Decimal("1234.56")
    assert "réalisations annuelles : 3 inchangées" in pacte("importer", str(path)).output
    data["realisations"][1]["actions_financees"] = 8
    result = pacte("importer", str(write(path, data)))
    assert "réalisations annuelles : 1 modifiée, 2 inchangées" in result.output
    assert registry_state(pacte.root, pacte.base)["realisations"][0]["actions_financees"] == 8
    for name in ("export.yaml", "export.xlsx", "export.csv"):  # the figures round-trip in every format
        written = [line.split("écrit ")[1] for line in pacte("exporter", str(tmp_path / name)).output.splitlines()]
        imported = pacte("importer", *written)
        assert "réalisations annuelles : 3 inchangées" in imported.output, (name, imported.output)


@pytest.mark.crash
@pytest.mark.libreoffice
def test_kill_9_while_compiling_keeps_the_previous_bilan_whole(scenario: dict[str, Any], tmp_path: Path) -> None:
    """Killed while LibreOffice converts the bilan, then while it makes the page numbers: the previous bilan stays
    whole under its name, no LibreOffice is left, and the next run compiles and archives it as version 1."""
    run: Pacte = scenario["runner"]
    run("bilan", "compiler", str(YEAR))
    target = run.root / f"archives/bilans/{YEAR}/bilan-{YEAR}.pdf"
    previous = target.read_bytes()
    changed = [dict(row) for row in scenario["this_year"]]
    changed[1]["actions_financees"] += 1
    run("importer", str(write_xlsx(tmp_path / f"realisations-{YEAR}-corrigees.xlsx", changed)))

    scratch = run.root / ".pacte-tmp"
    for stage in ("passe-1", "numeros"):  # the bilan's own conversion, then the « k / n » overlay's
        process = start(run, "bilan", "compiler", str(YEAR))

        def reached(stage: str = stage, process: subprocess.Popen[bytes] = process) -> bool:
            return any(scratch.glob(f"bilan-*/{stage}")) and bool(libreoffice_of(run.root)) \
                or process.poll() is not None

        assert wait_until(reached, 120)
        assert process.poll() is None, f"la compilation a fini avant l'étape {stage}"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert wait_until(lambda: not libreoffice_of(run.root), 10), "LibreOffice a survécu à pacte"
        assert target.read_bytes() == previous, f"tué à l'étape {stage} : le bilan en place a changé"

    result = run("bilan", "compiler", str(YEAR))
    assert "(régénéré," in result.output, result.output
    assert (target.parent / f"bilan-{YEAR}-v1.pdf").read_bytes() == previous
    assert len(PdfReader(target).pages) >= 1 and target.read_bytes() != previous
    assert not scratch.exists()
    check = run("archives", "verifier")
    assert check.exit_code == 0, check.output


FIGURES_CSV = [
    ("controle.csv", "annee;fiche;entrees\r\n2025;1.\x0b1;4\r\n".encode("cp1252"),  # pasted from Word
     ["controle.csv, ligne 2", "« fiche »", "caractère de contrôle invisible (U+000B)"]),
    ("illisible.csv", b"annee;fiche;entrees;axe\r\n2025;1.1;4;\r\n2025;;\x81;\r\n",
     ["illisible.csv", "encodage non reconnu (octet 0x81", "enregistrez le fichier en UTF-8"]),
    ("tronque.csv", b"annee;fiche;entrees;commentaire\r\n2025;1.1;4;\"Atelier", ["tronque.csv"]),
    ("binaire.csv", b"PK\x03\x04\x00\x00" * 40, ["binaire.csv", "fichier binaire"]),
]


@pytest.mark.parametrize(("name", "content", "expected"), FIGURES_CSV, ids=[c[0] for c in FIGURES_CSV])
def test_figures_files_that_cannot_be_read_are_refused(pacte_sqlite: Pacte, tmp_path: Path, name: str,
                                                       content: bytes, expected: list[str]) -> None:
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(seed=5))))
    before, folders = registry_state(pacte_sqlite.root, None), folder_state(pacte_sqlite.root)
    (tmp_path / name).write_bytes(content)
    result = pacte_sqlite("importer", str(tmp_path / name), ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    for fragment in expected:
        assert fragment in result.output, f"{fragment!r} absent de :\n{result.output}"
    assert registry_state(pacte_sqlite.root, None) == before and folder_state(pacte_sqlite.root) == folders


def test_figures_from_french_excel_are_read(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """Semicolons, a byte-order mark, Windows line ends, amounts with a space and a decimal comma."""
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(seed=5))))
    path = tmp_path / "realisations-2025.csv"
    path.write_bytes(b"\xef\xbb\xbfannee;fiche;credits_engages;entrees\r\n2025;1.1;\"12\xc2\xa0345,67\";4\r\n")
    pacte_sqlite("importer", str(path))
    table = tmp_path / "table.xlsx"
    pacte_sqlite("bilan", "compiler", str(YEAR), "--format", "xlsx", "--sortie", str(table))
    rows = list(openpyxl.load_workbook(table).active.iter_rows(values_only=True))
    fiche = next(r for r in rows if r[1] == "1.1")
    assert Decimal(str(fiche[rows[0].index("Crédits engagés")])) == Decimal("12345.67")


@pytest.mark.libreoffice
def test_a_convention_signed_in_the_year_is_annexed_as_its_signed_copy(scenario: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    run: Pacte = scenario["runner"]
    run("bilan", "compiler", str(YEAR))
    target = run.root / f"archives/bilans/{YEAR}/bilan-{YEAR}.pdf"
    generated_pages = len(PdfReader(run.root / "conventions/CONV-2025-001/CONV-2025-001.pdf").pages)
    pages_before = len(PdfReader(target).pages)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned_pdf("EXEMPLAIRE SIGNE CONV-2025-001", pages=generated_pages))
    run("conventions", "signer", "CONV-2025-001", "--date", "2025-03-10", "--fichier", str(scan))

    result = run("bilan", "compiler", str(YEAR))
    assert "(régénéré," in result.output, result.output
    reader = PdfReader(target)
    n = len(reader.pages)
    assert n == pages_before  # the scan, page for page, instead of the generated convention
    annex1 = next(b for b in bookmarks(target) if b.title.startswith("Annexe 1"))
    signed, renewed = annex1.children
    page = flat(reader.pages[signed.page - 1].extract_text())
    assert "EXEMPLAIRE SIGNE CONV-2025-001" in page and f"{signed.page} / {n}" in page
    assert "FT-2024-002" in flat(reader.pages[renewed.page - 1].extract_text())  # renewed: its generated PDF
    assert renewed.page == signed.page + generated_pages
    assert (run.root / "archives/conventions/CONV-2025-001/CONV-2025-001-signee.pdf").read_bytes() == \
        scan.read_bytes()  # stamped in the bilan, never in the archive


@pytest.mark.libreoffice
def test_a_year_with_financial_figures_only_reads_as_well(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """Only actions and credits known, no convention in the year: every sentence is written with the figures it
    has (no « — », no empty brackets, no sentence about people), the key figures list only known rows, and no
    conventions section of zeros."""
    data = build_pacte(seed=7)
    write(tmp_path / "pti.yaml", data)
    fiches = [f["numero"] for axe in data["pacte"]["axes"] for f in axe["fiches"]]
    rows = [{"annee": YEAR, "fiche": numero, "actions_financees": 2, "credits_engages": Decimal("10000.00"),
             "credits_consommes": Decimal("9000.00")} for numero in fiches]
    pacte_sqlite("importer", str(tmp_path / "pti.yaml"),
                 str(write_xlsx(tmp_path / f"realisations-{YEAR}.xlsx", rows)))
    out = tmp_path / "bilan.pdf"
    pacte_sqlite("bilan", "compiler", str(YEAR), "--sortie", str(out), "--seance", "2026-03-30",
                 "--deliberation", "2026-03-0101")
    pages = [flat(page.extract_text()) for page in PdfReader(out).pages]
    synthesis = next(p for p in pages if f"Synthèse de l'année {YEAR}" in p and "Chiffres clés" in p)
    total, spent = 10000 * len(fiches), 9000 * len(fiches)
    assert (f"En {YEAR}, {2 * len(fiches)} actions ont été financées au titre du PDI/PTI, pour "
            f"{euros(Decimal(total))} de crédits engagés, dont {euros(Decimal(spent))} consommés (90 %).") in synthesis
    sentences = synthesis.split(f"Synthèse de l'année {YEAR}")[1].split("Chiffres clés")[0]
    assert "—" not in sentences and "()" not in sentences and "( )" not in sentences
    assert "personnes" not in sentences and "sorties positives" not in sentences
    key = synthesis.split("Chiffres clés")[1]
    assert "Crédits engagés" in key and "Taux de consommation des crédits" in key
    assert "Personnes accompagnées" not in key and "Sorties positives" not in key
    whole = " ".join(pages)
    assert f"Les conventions en {YEAR}" not in whole
    assert "Rapport présenté à l'Assemblée départementale, séance du 30 mars 2026" in pages[0]
    assert ("Vu le rapport n° 2026-03-0101 du Président du Conseil départemental ; Après en avoir délibéré, "
            f"PREND ACTE du bilan annuel {YEAR} de la politique départementale d'insertion") in whole
    assert "Vu la délibération de l'Assemblée départementale n° ………… du 1er mars 2024 adoptant le" in whole


@pytest.mark.libreoffice
def test_a_pdfa_bilan_is_pdfa_and_never_downgrades_its_annexes(scenario: dict[str, Any]) -> None:
    """By default the compiled bilan identifies itself as PDF/A-2b with an sRGB output intent, in French, its title
    shown; its PDI/PTI annex is made in PDF/A and a later --sans-pdfa compilation does not turn it back."""
    run: Pacte = scenario["runner"]
    run("bilan", "compiler", str(YEAR))
    compiled = run.root / f"archives/bilans/{YEAR}/bilan-{YEAR}.pdf"
    found = conformite(compiled)
    assert found.pdfa == "2B" and found.langue == "fr-FR" and found.affiche_titre
    catalog: Any = PdfReader(compiled).trailer["/Root"]
    assert "/OutputIntents" in catalog
    pacte_pdf = next((run.root / "archives/pdi-pti").glob("*/*.pdf"))
    assert conformite(pacte_pdf).pdfa == "2B"
    again = run("bilan", "compiler", str(YEAR), "--sans-pdfa")
    assert "a été mis à jour pour l'annexe 2" not in again.output
    assert conformite(pacte_pdf).pdfa == "2B"  # a PDF/A copy answers a plain request: never downgraded
    assert conformite(compiled).pdfa is None and conformite(compiled).langue == "fr-FR"


@pytest.mark.libreoffice
def test_context_commentaries_and_perspectives_come_from_the_figures(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """Households receiving the RSA at year end (the département's line, without axis, fiche or convention) give
    a context section with their yearly change; a commentary per axis or fiche and the département's
    « difficultés et perspectives » are printed where they belong."""
    data = build_pacte(seed=7)
    write(tmp_path / "pti.yaml", data)
    axe = data["pacte"]["axes"][0]
    fiche = axe["fiches"][0]["numero"]
    rows: list[dict[str, Any]] = [
        {"annee": year, "fiche": f["numero"], "actions_financees": 1, "credits_engages": Decimal("1000.00")}
        for year in (YEAR - 1, YEAR) for a in data["pacte"]["axes"] for f in a["fiches"]]
    next(r for r in rows if r["annee"] == YEAR and r["fiche"] == fiche)["commentaire"] = \
        "Démarrage tardif, faute de locaux."
    rows += [{"annee": YEAR - 1, "foyers_rsa": 4000},
             {"annee": YEAR, "foyers_rsa": 4180,
              "commentaire": "Des délais d'orientation encore longs.\n\nUn référent unique pour chacun en 2026."}]
    columns = [*COLUMNS, "foyers_rsa", "commentaire"]
    pacte_sqlite("importer", str(tmp_path / "pti.yaml"),
                 str(write_xlsx(tmp_path / "realisations.xlsx", rows, columns)))
    out = tmp_path / "bilan.pdf"
    pacte_sqlite("bilan", "compiler", str(YEAR), "--sortie", str(out))
    whole = " ".join(flat(page.extract_text()) for page in PdfReader(out).pages)
    assert (f"Le contexte Fin {YEAR}, 4 180 foyers percevaient le revenu de solidarité active dans le Département "
            f"de la Creuse, soit +4,5 % en un an (4 000 fin {YEAR - 1}).") in whole
    assert f"Fiche {fiche} : Démarrage tardif, faute de locaux." in whole
    assert ("Difficultés et perspectives Des délais d'orientation encore longs. Un référent unique pour chacun en "
            "2026.") in whole


def test_a_household_count_belongs_to_the_departement_line(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    data = build_pacte(seed=7)
    write(tmp_path / "pti.yaml", data)
    fiche = data["pacte"]["axes"][0]["fiches"][0]["numero"]
    rows = [{"annee": YEAR, "fiche": fiche, "foyers_rsa": 12}, {"annee": YEAR, "actions_financees": 3}]
    path = write_xlsx(tmp_path / "realisations.xlsx", rows, [*COLUMNS, "foyers_rsa"])
    result = pacte_sqlite("importer", str(tmp_path / "pti.yaml"), str(path), ok=False)
    flat_output = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "le nombre de foyers bénéficiaires du RSA est celui du département" in flat_output
    assert "une ligne sans axe, fiche ni convention décrit le département" in flat_output


@pytest.mark.libreoffice
def test_sortie_writes_exactly_the_named_file(scenario: dict[str, Any], tmp_path: Path) -> None:
    """`--sortie b.pdf` then `--sortie a.pdf` moved the user's b.pdf to bilan-…-v1.pdf beside it and wrote a.docx
    there too. The bilan is now recorded in archives/bilans/ANNEE/ (its versions beside it) and --sortie writes
    a copy, exactly the file named."""
    run: Pacte = scenario["runner"]
    out = tmp_path / "sorties"
    out.mkdir()
    first = run("bilan", "compiler", str(YEAR), "--sortie", str(out / "b.pdf"))
    assert f"Copie demandée : {out / 'b.pdf'}" in first.output
    second = run("bilan", "compiler", str(YEAR), "--sortie", str(out / "a.pdf"))
    assert "(inchangé" in second.output
    run("bilan", "compiler", str(YEAR), "--sortie", str(out / "relecture.docx"))
    assert sorted(p.name for p in out.iterdir()) == ["a.pdf", "b.pdf", "relecture.docx"]
    recorded = run.root / f"archives/bilans/{YEAR}/bilan-{YEAR}.pdf"
    assert (out / "a.pdf").read_bytes() == (out / "b.pdf").read_bytes() == recorded.read_bytes()
    assert (out / "relecture.docx").read_bytes() == recorded.with_suffix(".docx").read_bytes()
    refused = run("bilan", "compiler", str(YEAR), "--sortie", str(run.root / "archives/ailleurs.pdf"), ok=False)
    assert refused.exit_code == 1 and "ce chemin est tenu par pacte" in " ".join(refused.output.split())
    assert "tous intacts, aucun fichier inconnu" in run("archives", "verifier").output


def _draft_deliberation(tmp_path: Path, **pacte: Any) -> str:
    """The draft délibération of the bilan rendered from the package template with the sample data, *pacte*
    changed: its paragraphs, as Word shows them."""
    import io

    from docx import Document as DocxDocument

    from pacte_docs.documents.context import sample_bilan_context
    from pacte_docs.documents.rendering import CompiledTemplate, make_environment
    from pacte_docs.workspace import package_templates

    path = tmp_path / "bilan_annuel.docx"
    path.write_bytes(package_templates()["bilan_annuel"])
    ctx = sample_bilan_context()
    ctx["graphiques"] = dict.fromkeys(ctx["graphiques"])  # no chart: the template leaves their places out
    ctx["pacte"] = ctx["pacte"] | {name: value for name, value in pacte.items() if name != "adoption"}
    ctx["pacte"]["adoption"] = ctx["pacte"]["adoption"] | pacte.get("adoption", {})
    text = "\n".join(p.text for p in DocxDocument(io.BytesIO(CompiledTemplate(path, make_environment())
                                                               .render(ctx))).paragraphs)
    draft = " ".join(text[text.index("Projet de délibération"):text.index("Annexe 1")].split())
    return draft.replace("’", "'").replace("\u2011", "-")


def test_the_draft_deliberation_approves_or_takes_note_as_the_pacte_provides(tmp_path: Path) -> None:
    """The PDI/PTI says whether its bilans are approved or taken note of (`bilan_decision`); the draft follows it,
    and cites the adopting délibération by its number — or leaves « n° ………… » to fill in, never nothing."""
    approved = _draft_deliberation(tmp_path, bilan_approuve=True, adoption={"numero": "2023-12-0042"})
    assert "APPROUVE le bilan annuel 2025 de la politique départementale d'insertion" in approved
    assert "PREND ACTE" not in approved
    assert "Vu la délibération de l'Assemblée départementale n° 2023-12-0042 du 11 décembre 2023 adoptant" \
        in approved
    noted = _draft_deliberation(tmp_path, bilan_approuve=False, adoption={"numero": None, "date": None})
    assert "PREND ACTE du bilan annuel 2025" in noted and "APPROUVE" not in noted
    assert "Vu la délibération de l'Assemblée départementale n° ………… du ………… adoptant" in noted


def test_bilan_decision_is_imported_checked_and_exported(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """`bilan_decision` and `adoption.numero` go from the file to the registry and back; a value that is neither
    approbation nor prise d'acte is refused with the values allowed."""
    data = build_pacte()
    data["pacte"]["adoption"]["numero"] = "2024-03-0007"
    data["pacte"]["bilan_decision"] = "approbation"
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", data)))
    exported = pacte_sqlite("exporter", "--format", "yaml", str(tmp_path / "export.yaml")).output
    assert "export.yaml" in exported
    written = (tmp_path / "export.yaml").read_text(encoding="utf-8")
    assert "bilan_decision: approbation" in written and "2024-03-0007" in written
    data["pacte"]["bilan_decision"] = "vote"
    refused = pacte_sqlite("importer", str(write(tmp_path / "faux.yaml", data)), ok=False)
    assert refused.exit_code == 1 and "bilan_decision" in refused.output and "prise d'acte" in refused.output


@pytest.mark.libreoffice
def test_the_annex_reproduces_the_acts_in_force_in_the_year(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """A convention renewed in the year is annexed with its renewal act, and one signed in the year with the
    avenant that changed it that year — each after its convention, in the bookmarks and the table of contents;
    an avenant of the following year is not annexed."""
    data = build_pacte(seed=5)
    data["conventions"] = conventions()[:1] + [
        {"reference": "CCAS-2022-004", "type": "ccas", "partenaires": ["CAF-23"], "date_signature": "2021-12-06",
         "date_effet": "2022-01-01", "duree_mois": 36, "renouvellement": "expresse", "preavis_mois": 3,
         "objet": "Accompagnement des bénéficiaires du RSA.", "responsable": {"email": "dir@creuse.example.fr"}}]
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", data)))
    pacte_sqlite("--au", "2024-06-15", "conventions", "renouveler", "CCAS-2022-004", "--date", "2024-06-10",
                 "--deliberation", "CP-2024-06-021", "--sans-pdf")  # its second period opens on 1 January 2025
    pacte_sqlite("--au", "2025-09-15", "conventions", "avenant", "CONV-2025-001", "--date", "2025-09-01",
                 "--objet", "Le calendrier des permanences a changé.", "--sans-pdf",
                 "--complete-article", "2", "Une permanence est tenue le jeudi.")
    pacte_sqlite("--au", "2026-02-15", "conventions", "avenant", "CONV-2025-001", "--date", "2026-02-01",
                 "--objet", "Une seconde modification.", "--sans-pdf",
                 "--complete-article", "2", "Une permanence est tenue le vendredi.")
    result = pacte_sqlite("--au", "2026-03-01", "bilan", "compiler", str(YEAR))
    assert "Conventions en annexe : CCAS-2022-004, CONV-2025-001" in result.output
    compiled = pacte_sqlite.root / f"archives/bilans/{YEAR}/bilan-{YEAR}.pdf"
    annex = next(b for b in bookmarks(compiled) if b.title.startswith("Annexe 1"))
    titles = [normalise(child.title) for child in annex.children]
    assert [t.split(" – ")[0] + " – " + t.split(" – ")[1].split(" du ")[0] for t in titles[1::2]] == [
        "CCAS-2022-004 – renouvellement n° 1", "CONV-2025-001 – avenant n° 1"]
    assert len(titles) == 4 and "avenant n° 2" not in " ".join(titles)
    pages = [flat(page.extract_text()) for page in PdfReader(compiled).pages]
    renewal = next(b for b in annex.children if "renouvellement" in b.title).page
    assert "RENOUVELLEMENT N° 1" in pages[renewal - 1].upper()
    avenant = next(b for b in annex.children if "avenant" in b.title).page
    assert "AVENANT N° 1" in pages[avenant - 1].upper()
    assert "chacune suivie des actes qui l'ont renouvelée ou modifiée jusqu'au 31 décembre 2025" in \
        " ".join(pages).replace("’", "'")
