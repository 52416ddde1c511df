"""The PDI/PTI document: a pacte file built here (never seen elsewhere), imported, generated, and read back
from the DOCX and the PDF as the Assemblée's readers would: every axis, fiche and co-signatory, long French
dates, French amounts, right totals, a table of contents with real page numbers and bookmarks axes → fiches."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from docx import Document as DocxDocument
from pypdf import PdfReader

from tests.helpers import (
    Pacte,
    bookmarks,
    build_pacte,
    docx_text,
    euros,
    folder_state,
    libreoffice_of,
    normalise,
    pdf_text,
    registry_state,
    start,
    wait_until,
    write,
)

FOLDER = "archives/pdi-pti/PTI-2024-2027"






def percent(part: Decimal, total: Decimal) -> str:
    value = (part / total * 100).quantize(Decimal("0.1"))
    return f"{value}".replace(".", ",").removesuffix(",0") + " %"


def flat(text: str) -> str:
    """Words separated by single spaces; the bullets' private-use glyph removed."""
    return " ".join(normalise(text).replace("\uf0b7", " ").split())


def page_texts(path: Path) -> list[str]:
    return [flat(page.extract_text()) for page in PdfReader(path).pages]


@pytest.mark.libreoffice
def test_pacte_file_gives_a_complete_pdf_with_toc_and_bookmarks(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    data = build_pacte()
    imported = pacte_sqlite("importer", str(write(tmp_path / "pti-creuse.yaml", data)))
    assert "PDI/PTI : 1 créé" in imported.output
    result = pacte_sqlite("pdi-pti", "generer")
    assert f"{FOLDER}/PTI-2024-2027.docx (créé)" in result.output
    assert f"{FOLDER}/PTI-2024-2027.pdf (créé" in result.output
    pdf = pacte_sqlite.root / FOLDER / "PTI-2024-2027.pdf"
    pages = page_texts(pdf)
    whole = " ".join(pages)
    pacte_data = data["pacte"]

    # Cover: title, period, adoption in long French form, co-signatories by name.
    assert "Pacte creusois pour l'insertion & l'emploi" in pages[0] and "2024-2027" in pages[0]
    assert "Adopté par l'Assemblée départementale le 1er mars 2024" in pages[0]
    for partner in data["partenaires"][:3]:
        assert partner["nom"] in pages[0]
    assert "Page" not in pages[0]  # no footer on the cover

    # Bookmarks: chapters and axes at the top, each axis's fiches under it, in the data's order.
    outline = bookmarks(pdf)
    top = [b.title for b in outline]
    axes = [b for b in outline if b.title.startswith("Axe ")]
    assert [b.title for b in axes] == [flat(f"Axe {a['numero']} – {a['intitule']}") for a in pacte_data["axes"]]
    for bookmark, axe in zip(axes, pacte_data["axes"], strict=True):
        assert [c.title for c in bookmark.children] == \
            [flat(f"Fiche action n° {f['numero']} – {f['intitule']}") for f in axe["fiches"]]
    assert top[:3] == ["Préambule", "Contexte et diagnostic", "Méthode d'élaboration"]
    assert top[-4:] == ["Gouvernance et suivi", "Engagements des cosignataires", "Budget prévisionnel", "Signatures"]

    # Each bookmark points at the page that carries its heading; the table of contents gives the same page.
    toc = pages[1]
    assert toc.startswith("Sommaire") or "Sommaire" in toc
    every = [b for top_level in outline for b in [top_level, *top_level.children]]
    for bookmark in every:
        assert bookmark.title in pages[bookmark.page - 1], (bookmark.title, bookmark.page)
        match = re.search(re.escape(bookmark.title) + r"\s*\.{3,}\s*(\d+)", toc)
        assert match is not None, f"{bookmark.title} absent du sommaire"
        assert int(match.group(1)) == bookmark.page, bookmark.title
    assert len({b.page for b in axes}) == len(axes)  # every axis opens a new page

    # Page numbers in the footer, counted on the whole document.
    assert f"Page 3 sur {len(pages)}" in pages[2]

    # Fiches: every field laid out; amounts in French.
    for axe in pacte_data["axes"]:
        for fiche in axe["fiches"]:
            assert euros(Decimal(fiche["budget"])) in whole
            assert f"Objectif {fiche['numero']}.b" in whole

    # Budget: per axis totals, overall total, professional/social split with shares.
    budget_page = next(b.page for b in outline if b.title == "Budget prévisionnel")
    budget_text = " ".join(pages[budget_page - 1:])
    totals = {a["numero"]: sum((Decimal(f["budget"]) for f in a["fiches"]), Decimal(0)) for a in pacte_data["axes"]}
    total = sum(totals.values(), Decimal(0))
    pro = sum((totals[a["numero"]] for a in pacte_data["axes"] if a["nature"] == "professionnelle"), Decimal(0))
    sociale = total - pro
    assert f"s'élève à {euros(total)} pour la période 2024-2027" in budget_text
    assert f"L'insertion professionnelle en représente {euros(pro)} ({percent(pro, total)})" in budget_text
    assert f"l'insertion sociale {euros(sociale)} ({percent(sociale, total)})" in budget_text
    for number, amount in totals.items():
        assert f"Total de l'axe {number} {euros(amount)}" in budget_text
    fiche_count = sum(len(a["fiches"]) for a in pacte_data["axes"])
    assert f"Total {fiche_count} {euros(total)} 100 %" in budget_text

    # Commitments and signatures: the President and every co-signatory.
    signatures = pages[-1]
    assert "Fait à Guéret, le 1er mars 2024, en quatre exemplaires originaux." in signatures
    for who in ("Pour le Département de la Creuse,", "Mme Valérie Simonet", "Pour l'État,",
                "Pour la Caisse d'allocations familiales de la Creuse,", "M. Yves O'Neil",
                "Pour France Travail Creuse,"):
        assert who in signatures, who
    assert "La Caisse d'allocations familiales de la Creuse s'engage à : Réduire les délais" in whole
    assert "Association « Rural & Solidaire » <Creuse>" in whole  # a fiche's partner, XML-special characters

    # The DOCX carries the same table of contents, with its page numbers.
    document_text = docx_text(pacte_sqlite.root / FOLDER / "PTI-2024-2027.docx")
    first_axe = axes[0]
    assert f"{normalise(pacte_data['axes'][0]['intitule'])}\t{first_axe.page}" in document_text
    metadata = PdfReader(pdf).metadata
    assert metadata is not None and metadata.author == "Département de la Creuse"
    assert metadata.title is not None and metadata.title.startswith("Pacte creusois pour l'insertion & l'emploi")
    assert "PTI-2024-2027" in (metadata.get("/Keywords") or "")


@pytest.mark.libreoffice
def test_regeneration_keeps_every_version_and_skips_unchanged(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    data = build_pacte(seed=7, fiches_per_axe=(1, 2))
    path = write(tmp_path / "pti.yaml", data)
    pacte_sqlite("importer", str(path))
    pacte_sqlite("pdi-pti", "generer", "PTI-2024-2027")
    first = folder_state(pacte_sqlite.root)
    again = pacte_sqlite("pdi-pti", "generer", "PTI-2024-2027")
    assert "(inchangé)" in again.output
    assert folder_state(pacte_sqlite.root) == first

    data["pacte"]["axes"][0]["fiches"][0]["budget"] = "1000000.00"
    pacte_sqlite("importer", str(write(path, data)))
    changed = pacte_sqlite("pdi-pti", "generer")
    assert "(régénéré" in changed.output
    folder = pacte_sqlite.root / FOLDER
    assert sorted(p.name for p in folder.iterdir()) == [
        "PTI-2024-2027-v1.docx", "PTI-2024-2027-v1.pdf", "PTI-2024-2027.docx", "PTI-2024-2027.pdf"]
    for old in ("PTI-2024-2027-v1.docx", "PTI-2024-2027-v1.pdf"):
        assert (folder / old).stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0
        assert first[f"{FOLDER}/{old.replace('-v1', '')}"] == folder_state(pacte_sqlite.root)[f"{FOLDER}/{old}"]
    assert "1 000 000,00 €" in normalise(" ".join(page_texts(folder / "PTI-2024-2027.pdf")))
    sums = (pacte_sqlite.root / "archives/SHA256SUMS").read_text(encoding="utf-8")
    assert sum(1 for line in sums.splitlines() if "pdi-pti/PTI-2024-2027/" in line) == 4
    check = pacte_sqlite("archives", "verifier")
    assert "4 fichier(s) vérifié(s)" in check.output


def test_without_pdf_the_docx_is_made_and_the_user_told(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(2, 1)))))
    result = pacte_sqlite("pdi-pti", "generer", "--sans-pdf")
    assert "sommaire du DOCX n'a pas de numéros de page" in result.output
    folder = pacte_sqlite.root / FOLDER
    assert sorted(p.name for p in folder.iterdir()) == ["PTI-2024-2027.docx"]
    document = DocxDocument(str(folder / "PTI-2024-2027.docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Fiche action n° 2.1" in normalise(text)


def test_pacte_import_on_both_databases(pacte: Pacte, tmp_path: Path) -> None:
    data = build_pacte(seed=11)
    path = write(tmp_path / "pti.yaml", data)
    pacte("importer", str(path))
    state = registry_state(pacte.root, pacte.base)
    record = state["pactes"][0]
    assert [a["numero"] for a in record["axes"]] == [1, 2, 3, 4]
    assert [f["numero"] for f in record["axes"][1]["fiches"]] == ["2.1", "2.2", "2.3", "2.4"]
    assert record["adoption"]["date"] == dt.date(2024, 3, 1)
    assert record["axes"][0]["fiches"][0]["budget"] == Decimal(data["pacte"]["axes"][0]["fiches"][0]["budget"])
    assert record["cosignataires"] == ["PREF-23", "CAF-23", "FT-23"]
    assert "PDI/PTI : 1 inchangé" in pacte("importer", str(path)).output
    assert registry_state(pacte.root, pacte.base) == state

    del data["pacte"]["axes"][1]["fiches"][3]
    data["pacte"]["axes"][0]["nature"] = "professionnelle"
    assert "PDI/PTI : 1 modifié" in pacte("importer", str(write(path, data))).output
    record = registry_state(pacte.root, pacte.base)["pactes"][0]
    assert [f["numero"] for f in record["axes"][1]["fiches"]] == ["2.1", "2.2", "2.3"]
    assert record["axes"][0]["nature"] == "professionnelle"

    exported = tmp_path / "export.yaml"
    pacte("exporter", str(exported))
    assert "PDI/PTI : 1 inchangé" in pacte("importer", str(exported)).output
    listing = pacte("pdi-pti", "lister", "--format", "json")
    assert '"reference": "PTI-2024-2027"' in listing.output and '"fiches": 11' in listing.output


def _mutate(change: str) -> Any:
    def apply(data: dict[str, Any]) -> None:
        p = data["pacte"]
        exec(change, {"p": p, "data": data})  # noqa: S102 — the cases below are the tests' own statements

    return apply


HOSTILE = [
    ("p['axes'][1]['numero'] = 1", ["axes.1.numero", "l'axe n° 1 figure deux fois"]),
    ("p['axes'][0]['fiches'][1]['numero'] = '2.1'", ["axes.0.fiches.1.numero", "« 2.1 » mal numérotée sous l'axe 1"]),
    ("p['axes'][0]['fiches'][1]['numero'] = '1.1'", ["axes.0.fiches.1.numero", "la fiche 1.1 figure deux fois"]),
    ("p['axes'][0]['fiches'][0]['numero'] = 'un'", ["axes.0.fiches.0.numero", "mal numérotée"]),
    ("p['cosignataires'].append('INCONNU-23')", ["cosignataires", "partenaire « INCONNU-23 » inconnu"]),
    ("p['axes'][2]['fiches'][0]['partenaires'] = ['NULLE-PART']",
     ["axes.2.fiches.0.partenaires", "partenaire « NULLE-PART » inconnu"]),
    ("p['periode'] = {'debut': 2027, 'fin': 2024}", ["periode.fin", "la période finit (2024) avant de commencer"]),
    ("p['adoption']['date'] = '2019-05-02'", ["adoption.date", "hors de la période 2024-2027"]),
    ("p['adoption']['date'] = '2024-02-30'", ["adoption.date"]),
    ("p['engagements']['ASSO-23'] = ['Aider']", ["engagements.ASSO-23", "n'est pas cosignataire"]),
    ("p['axes'][0]['nature'] = 'economique'", ["axes.0.nature"]),
    ("p['axes'][0]['fiches'][0]['budget'] = 'beaucoup'", ["axes.0.fiches.0.budget"]),
    ("del p['axes']", ["axes", "champ obligatoire absent"]),
    ("p['axes'][0]['fiches'][0]['budjet'] = '12'", ["axes.0.fiches.0.budjet", "vouliez-vous dire"]),
    ("p['axes'][0]['fiches'][0]['intitule'] = 'Lever\x0bles freins'",  # a line break pasted from Word
     ["axes.0.fiches.0.intitule", "caractère de contrôle invisible (U+000B)"]),
    ("p['axes'][1]['objectifs'][0] = 'Accompagner\x07'", ["axes.1.objectifs", "caractère de contrôle invisible"]),
]


@pytest.mark.parametrize(("change", "expected"), HOSTILE, ids=[c for c, _ in HOSTILE])
def test_hostile_pacte_is_refused_and_changes_nothing(pacte_sqlite: Pacte, tmp_path: Path, change: str,
                                                      expected: list[str]) -> None:
    pacte_sqlite("importer", str(write(tmp_path / "base.yaml", build_pacte(seed=3))))
    registry_before = registry_state(pacte_sqlite.root, None)
    folders_before = folder_state(pacte_sqlite.root)
    data = build_pacte(seed=3)
    _mutate(change)(data)
    result = pacte_sqlite("importer", str(write(tmp_path / "hostile.yaml", data)), ok=False)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.output.startswith("Erreur : ")
    assert "hostile.yaml, ligne " in result.output, result.output
    for fragment in expected:
        assert fragment in result.output, f"{fragment!r} absent de :\n{result.output}"
    assert registry_state(pacte_sqlite.root, None) == registry_before
    assert folder_state(pacte_sqlite.root) == folders_before


def test_a_pacte_in_a_spreadsheet_without_its_axes_is_refused_with_the_way_to_do_it(pacte_sqlite: Pacte,
                                                                                      tmp_path: Path) -> None:
    sheet = tmp_path / "pacte.csv"
    sheet.write_text("reference;titre;periode_debut;periode_fin\r\nPTI-2024-2027;Titre;2024;2027\r\n", encoding="utf-8")
    result = pacte_sqlite("importer", str(sheet), ok=False)
    assert result.exit_code == 1
    assert "pacte.csv, ligne 2, champ « axes » : champ obligatoire absent — remplissez la feuille « axes » du " \
        "classeur (ou importez avec lui le fichier axes.csv)" in result.output


def test_missing_variable_in_the_template_is_refused_before_writing(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(1,)))))
    template = pacte_sqlite.root / "modeles/pdi_pti.docx"
    document = DocxDocument(str(template))
    document.add_paragraph("Vu le {{ pacte.deliberation_inconnue }}")
    document.save(str(template))
    before = folder_state(pacte_sqlite.root)
    result = pacte_sqlite("pdi-pti", "generer", ok=False)
    assert result.exit_code == 1
    assert "modèle « pdi_pti » : variable « pacte.deliberation_inconnue » absente des données (PTI-2024-2027)" \
        in result.output
    assert folder_state(pacte_sqlite.root) == before


def test_unknown_or_ambiguous_pacte_is_named(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    none = pacte_sqlite("pdi-pti", "generer", ok=False)
    assert none.exit_code == 1 and "Aucun PDI/PTI dans le registre" in none.output
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(1,)))))
    other = build_pacte(fiches_per_axe=(1,))
    other["pacte"]["reference"] = "PTI-2028-2031"
    other["pacte"]["periode"] = {"debut": 2028, "fin": 2031}
    other["pacte"]["adoption"]["date"] = "2027-12-13"
    pacte_sqlite("importer", str(write(tmp_path / "pti2.yaml", other)))
    both = pacte_sqlite("pdi-pti", "generer", ok=False)
    assert "plusieurs PDI/PTI" in both.output and "PTI-2024-2027, PTI-2028-2031" in both.output
    unknown = pacte_sqlite("pdi-pti", "generer", "PTI-1999", ok=False)
    assert unknown.exit_code == 1 and "PDI/PTI « PTI-1999 » inconnu" in unknown.output


@pytest.mark.libreoffice
def test_pdfa_replaces_the_pdf_and_keeps_the_identical_docx(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", build_pacte(fiches_per_axe=(2, 2)))))
    pacte_sqlite("pdi-pti", "generer", "--sans-pdfa")
    docx_before = folder_state(pacte_sqlite.root)[f"{FOLDER}/PTI-2024-2027.docx"]
    pacte_sqlite("pdi-pti", "generer")  # PDF/A by default
    folder = pacte_sqlite.root / FOLDER
    assert sorted(p.name for p in folder.iterdir()) == [
        "PTI-2024-2027-v1.pdf", "PTI-2024-2027.docx", "PTI-2024-2027.pdf"]
    assert folder_state(pacte_sqlite.root)[f"{FOLDER}/PTI-2024-2027.docx"] == docx_before
    xmp = PdfReader(folder / "PTI-2024-2027.pdf").xmp_metadata
    assert xmp is not None and b"pdfaid" in xmp.stream.get_data()
    assert len(bookmarks(folder / "PTI-2024-2027.pdf")) >= 9  # the PDF/A keeps its bookmarks
    assert "3 fichier(s) vérifié(s)" in pacte_sqlite("archives", "verifier").output


def test_pacte_saved_in_windows_1252_is_read_with_its_accents(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    data = build_pacte(seed=3)
    data["pacte"]["titre"] = "Pacte creusois : l'égalité d'accès à l'emploi, « ensemble »"
    path = tmp_path / "pacte-ansi.yaml"
    path.write_bytes(yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("cp1252"))
    pacte_sqlite("importer", str(path))
    listed = pacte_sqlite("pdi-pti", "lister", "--format", "json").output
    assert "Pacte creusois : l'égalité d'accès à l'emploi, « ensemble »" in json.loads(listed)[0]["titre"]


def test_pacte_in_an_unknown_encoding_is_refused_and_changes_nothing(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    before, folders = registry_state(pacte_sqlite.root, None), folder_state(pacte_sqlite.root)
    path = tmp_path / "pacte-illisible.yaml"
    text = yaml.safe_dump(build_pacte(seed=3), allow_unicode=True, sort_keys=False)
    path.write_bytes(text.encode("cp1252", "replace").replace(b"Pr\xe9fecture", b"Pr\x81fecture", 1))
    result = pacte_sqlite("importer", str(path), ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "pacte-illisible.yaml" in result.output and "encodage non reconnu (octet 0x81" in result.output
    assert "enregistrez le fichier en UTF-8" in result.output
    assert registry_state(pacte_sqlite.root, None) == before and folder_state(pacte_sqlite.root) == folders


@pytest.mark.crash
@pytest.mark.libreoffice
def test_kill_9_during_the_layout_keeps_the_previous_document(pacte_sqlite: Pacte, tmp_path: Path) -> None:

    data = build_pacte(seed=3)
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", data)))
    pacte_sqlite("pdi-pti", "generer")
    current = pacte_sqlite.root / FOLDER / "PTI-2024-2027.pdf"
    previous = current.read_bytes()
    data["pacte"]["titre"] += " (révisé)"
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", data)))
    process = start(pacte_sqlite, "pdi-pti", "generer")
    scratch = pacte_sqlite.root / ".pacte-tmp"
    assert wait_until(lambda: any(scratch.glob("pdi-pti-*/passe-*")) and bool(libreoffice_of(pacte_sqlite.root))
                      or process.poll() is not None, 120)
    assert process.poll() is None, "la génération a fini avant d'être interrompue"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert wait_until(lambda: not libreoffice_of(pacte_sqlite.root), 10), "LibreOffice a survécu à pacte"
    assert current.read_bytes() == previous

    result = pacte_sqlite("pdi-pti", "generer")
    assert "régénéré" in result.output, result.output
    assert (pacte_sqlite.root / FOLDER / "PTI-2024-2027-v1.pdf").read_bytes() == previous
    assert "(révisé)" in flat(pdf_text(current))
    assert not scratch.exists()
    assert pacte_sqlite("archives", "verifier").exit_code == 0


@pytest.mark.libreoffice
def test_a_fiche_shows_only_the_fields_it_has(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """A fiche-action known by its title, objectives and budget alone: no « Contexte — », no « Pilote — »."""
    data = build_pacte()
    fiche = data["pacte"]["axes"][0]["fiches"][0]
    for name in ("contexte", "public", "pilote", "partenaires", "modalites", "calendrier", "indicateurs",
                 "financeurs"):
        fiche.pop(name, None)
    pacte_sqlite("importer", str(write(tmp_path / "pti.yaml", data)))
    pacte_sqlite("pdi-pti", "generer")
    pages = page_texts(pacte_sqlite.root / FOLDER / "PTI-2024-2027.pdf")
    page = next(p for p in pages if f"Fiche action n° {fiche['numero']}" in p and "Objectifs" in p)
    card = page.split(f"Fiche action n° {fiche['numero']}")[1].split("Fiche action n°")[0]
    assert "Objectifs" in card and "Budget prévisionnel" in card
    for label in ("Contexte", "Public cible", "Pilote", "Partenaires", "Modalités", "Calendrier", "Indicateurs",
                  "Financeurs"):
        assert label not in card, label
    assert "—" not in card
    other = data["pacte"]["axes"][0]["fiches"][1]
    assert "Contexte" in " ".join(pages).split(f"Fiche action n° {other['numero']}")[1]
