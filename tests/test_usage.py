"""Issue 17's findings — everyday use as staff meet it — each as a test that failed before its fix."""

from __future__ import annotations

import re

import pytest
from docx import Document as DocxDocument

from tests.helpers import DATA, Pacte, folder_state, registry_state

BROKEN = {
    "accolade perdue": ("Objet : {{ convention.objet }", "balise mal formée près de « {{ »"),
    "accolade en trop": ("Montant : { convention.montant }}", "balise mal formée près de « { convention.montant } »"),
    "bloc ouvert": ("Texte {% if convention.objet ", "balise mal formée près de « {% »"),
    "filtre mal tapé": ("Date : {{ convention.date_effet|date_longe }}",
                        "filtre « date_longe » inconnu ; vouliez-vous dire « date_longue » ?"),
    "test inconnu": ("{% if convention.montant is nombreux %}oui{% endif %}", "test « nombreux » inconnu"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_template_is_reported_at_its_place(pacte_sqlite: Pacte, case: str) -> None:
    """A tag that lost a brace passed `modeles verifier` and gave an empty Article 1; a filter typo passed it and
    then `generer` printed a traceback. Each is now an error, with its paragraph and its text, in both."""
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "registre.yaml"))
    text, expected = BROKEN[case]
    path = pacte.root / "modeles/convention_ccas.docx"
    document = DocxDocument(str(path))
    document.add_paragraph(text)
    document.save(str(path))
    checked = pacte("modeles", "verifier", "convention_ccas", ok=False)
    assert checked.exit_code == 1
    line = next(line for line in checked.output.splitlines() if expected in line)
    assert re.search(rf"corps du document, paragraphe \d+ \(« {re.escape(text.strip())} »\)", line), line
    before, registry = folder_state(pacte.root), registry_state(pacte.root, None)
    made = pacte("conventions", "generer", "CCAS-2024-010", "--sans-pdf", ok=False)
    assert made.exit_code == 1 and expected in made.output and "Traceback" not in made.output
    assert folder_state(pacte.root) == before and registry_state(pacte.root, None) == registry


def test_a_sound_template_with_braces_in_its_tags_is_not_flagged(pacte_sqlite: Pacte) -> None:
    path = pacte_sqlite.root / "modeles/convention_ccas.docx"
    document = DocxDocument(str(path))
    document.add_paragraph("Objet {{ convention.objet }} {% if convention.montant %}({{ convention.montant|montant "
                           "}}){% endif %} {# note #}")
    document.save(str(path))
    assert pacte_sqlite("modeles", "verifier", "convention_ccas").exit_code == 0

