"""Pure rules tested by tables: period ends, decision deadlines, French formatting, designations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pacte_docs import context, dates, formatting

D = dt.date


@pytest.mark.parametrize(("effet", "mois", "fin"), [
    (D(2024, 6, 1), 36, D(2027, 5, 31)),     # ARCHITECTURE §5
    (D(2024, 2, 29), 36, D(2027, 2, 28)),    # 29 February, arrival month without it
    (D(2024, 2, 29), 48, D(2028, 2, 28)),    # arrival month has a 29th: eve of it
    (D(2024, 1, 31), 1, D(2024, 2, 29)),     # 31st, short arrival month in a leap year
    (D(2023, 1, 31), 1, D(2023, 2, 28)),
    (D(2024, 3, 31), 12, D(2025, 3, 30)),
    (D(2024, 5, 31), 36, D(2027, 5, 30)),
    (D(2024, 8, 31), 1, D(2024, 9, 30)),     # 31 → month of 30 days: its last day
    (D(2025, 3, 1), 36, D(2028, 2, 29)),
    (D(2024, 1, 1), 12, D(2024, 12, 31)),
    (D(2023, 12, 15), 12, D(2024, 12, 14)),
])
def test_fin_periode(effet: dt.date, mois: int, fin: dt.date) -> None:
    assert dates.fin_periode(effet, mois) == fin


@pytest.mark.parametrize(("fin", "preavis", "renouvellement", "limite"), [
    (D(2027, 5, 31), 3, "expresse", D(2027, 2, 28)),  # ARCHITECTURE §5, clamped to the month's end
    (D(2027, 5, 31), 0, "tacite", D(2027, 5, 31)),
    (D(2027, 5, 31), 1, "tacite", D(2027, 4, 30)),
    (D(2027, 5, 31), 6, "expresse", D(2026, 11, 30)),
    (D(2028, 5, 31), 3, "tacite", D(2028, 2, 29)),
    (D(2027, 5, 31), 3, "aucun", D(2027, 5, 31)),    # no renewal: the deadline is the end
    (D(2026, 12, 31), 3, "expresse", D(2026, 9, 30)),
])
def test_date_limite(fin: dt.date, preavis: int, renouvellement: str, limite: dt.date) -> None:
    assert dates.date_limite(fin, preavis, renouvellement) == limite


@pytest.mark.parametrize(("day", "operator"), [
    (D(2023, 12, 31), "Pôle emploi"), (D(2024, 1, 1), "France Travail"), (D(2016, 7, 1), "Pôle emploi"),
])
def test_operateur_emploi(day: dt.date, operator: str) -> None:
    assert dates.operateur_emploi(day) == operator


@pytest.mark.parametrize(("function", "value", "expected"), [
    (formatting.date_longue, D(2026, 12, 1), "1er décembre 2026"),
    (formatting.date_longue, D(2016, 10, 17), "17 octobre 2016"),
    (formatting.date_longue, D(2024, 8, 1), "1er août 2024"),
    (formatting.montant, Decimal("4200000"), "4\u202f200\u202f000,00\u00a0€"),
    (formatting.montant, Decimal("0.5"), "0,50\u00a0€"),
    (formatting.nombre, 2000, "2\u202f000"),
    (formatting.pourcentage, Decimal("0.5"), "50\u00a0%"),
    (formatting.pourcentage, Decimal("0.525"), "52,5\u00a0%"),
    (formatting.duree, 36, "trois ans"),
    (formatting.duree, 12, "un an"),
    (formatting.duree, 18, "dix-huit mois"),
    (formatting.fois, 1, "une fois"),
    (formatting.en_lettres, 2, "deux"),
])
def test_french_filters(function: object, value: object, expected: str) -> None:
    assert function(value) == expected  # type: ignore[operator]


@pytest.mark.parametrize(("nom", "designation"), [
    ("CCAS de Sceaux", "le CCAS de Sceaux"),
    ("Ville de Clichy", "la Ville de Clichy"),
    ("Association « Trait d'union »", "l'Association « Trait d'union »"),
    ("France Travail Essonne", "France Travail Essonne"),
    ("Département de l'Essonne", "le Département de l'Essonne"),
    ("Caisse d'allocations familiales", "la Caisse d'allocations familiales"),
])
def test_designation(nom: str, designation: str) -> None:
    assert context.designation(nom) == designation
