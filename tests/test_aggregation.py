"""The bilan's figures: pure aggregation rules, checked by tables of cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pacte_docs.rules.aggregation import AxeDef, Chiffres, aggregate, conventions_in_year, evolution, ratio
from pacte_docs.rules.periods import Faits

D = dt.date
AXES = [
    AxeDef(1, "Orienter", "sociale", (("1.1", "Évaluer"), ("1.2", "Orienter"))),
    AxeDef(2, "Emploi", "professionnelle", (("2.1", "Binômes"), ("2.2", "Formation"), ("2.3", "Clauses"))),
    AxeDef(3, "Entreprises", "professionnelle", (("3.1", "Cellule emploi"),)),
]


def c(engages: str | None = None, consommes: str | None = None, personnes: int | None = None,
      entrees: int | None = None, brsa: int | None = None, emploi: int | None = None, formation: int | None = None,
      creation: int | None = None, actions: int | None = None) -> Chiffres:
    return Chiffres(actions, Decimal(engages) if engages else None, Decimal(consommes) if consommes else None,
                    personnes, entrees, brsa, emploi, formation, creation)


def test_an_axis_is_its_own_record_else_the_sum_of_its_fiches() -> None:
    records = {
        "fiche:1.1": c("100.10", "90", 10, 8, 6, 1, 1, 0, 1),
        "fiche:1.2": c("200.20", "150", 20, 15, 9, 2, 0, 1, 2),
        "axe:2": c("1000", "800", 100, 80, 50, 20, 10, 5, 7),
        "fiche:2.1": c("300", "300", 40, 30, 20, 10, 5, 0, 3),  # detail of axis 2: not added again
        "convention:FT-2023-001": c("5000", "4000", 500, 400, 300, 100, 50, 10, 1),  # shown apart, never added
    }
    bilan = aggregate(2024, AXES, records)
    one, two, three = bilan.axes
    assert (one.source, two.source, three.source) == ("fiches", "axe", "aucune")
    assert one.chiffres.credits_engages == Decimal("300.30") and one.chiffres.personnes_accompagnees == 30
    assert one.chiffres.actions_financees == 3 and one.chiffres.sorties_positives == 5
    assert two.chiffres.credits_engages == Decimal("1000")
    assert three.chiffres.vide
    assert bilan.total.credits_engages == Decimal("1300.30")
    assert bilan.total.personnes_accompagnees == 130 and bilan.total.entrees == 103 and bilan.total.dont_brsa == 65
    assert bilan.total.sorties_positives == 5 + 35
    assert bilan.conventions == [("FT-2023-001", records["convention:FT-2023-001"])]
    # Fiches of axes summed from their fiches, without figures: flagged; axis 2 reports as a whole.
    assert bilan.fiches_sans_chiffres == ["3.1"]


@pytest.mark.parametrize(("records", "pro", "sociale", "part_pro"), [
    ({"fiche:1.1": c("250"), "fiche:2.1": c("750")}, "750", "250", "0.750"),
    ({"axe:1": c("1"), "axe:2": c("1"), "axe:3": c("1")}, "2", "1", "0.667"),
    ({"fiche:1.2": c("99.99")}, "0", "99.99", "0.000"),
    ({}, "0", "0", None),
])
def test_professional_social_split_follows_the_axes_nature(records: dict[str, Chiffres], pro: str, sociale: str,
                                                           part_pro: str | None) -> None:
    split = aggregate(2024, AXES, records).repartition_engages
    assert split.professionnelle == Decimal(pro) and split.sociale == Decimal(sociale)
    assert split.part_professionnelle == (Decimal(part_pro) if part_pro else None)
    if part_pro:
        assert split.part_professionnelle is not None and split.part_sociale is not None
        assert split.part_professionnelle + split.part_sociale == pytest.approx(Decimal(1), abs=Decimal("0.001"))


@pytest.mark.parametrize(("figures", "sorties", "brsa", "consommation"), [
    (c("100", "52", personnes=100, entrees=80, brsa=68, emploi=30, formation=15, creation=7), "0.520", "0.850",
     "0.520"),
    (c("3", "2", personnes=3, entrees=3, brsa=1, emploi=1), "0.333", "0.333", "0.667"),
    (c(personnes=0, entrees=0, brsa=0, emploi=0), None, None, None),  # nothing to divide by
    (c(), None, None, None),
])
def test_rates(figures: Chiffres, sorties: str | None, brsa: str | None, consommation: str | None) -> None:
    expected = [Decimal(x) if x else None for x in (sorties, brsa, consommation)]
    assert [figures.taux_sorties_positives, figures.part_brsa, figures.taux_consommation] == expected


@pytest.mark.parametrize(("now", "before", "expected"), [
    (1045, 1000, "0.045"), (950, 1000, "-0.050"), (10, 0, None), (None, 10, None), (Decimal("1.5"), 1, "0.500"),
])
def test_evolution(now: int | Decimal | None, before: int | None, expected: str | None) -> None:
    assert evolution(now, before) == (Decimal(expected) if expected else None)


def test_evolution_against_last_year_only_when_it_exists() -> None:
    this_year = {"fiche:1.1": c("110", personnes=22), "axe:2": c("440", personnes=88)}
    last_year = {"fiche:1.1": c("100", personnes=20), "fiche:2.1": c("400", personnes=80)}
    bilan = aggregate(2025, AXES, this_year, last_year)
    assert bilan.precedent is not None and bilan.precedent.credits_engages == Decimal("500")
    assert bilan.evolution("credits_engages") == Decimal("0.100")
    assert bilan.evolution("personnes_accompagnees") == Decimal("0.100")
    assert bilan.axes[1].precedent is not None and bilan.axes[1].precedent.credits_engages == Decimal("400")
    assert aggregate(2025, AXES, this_year).evolution("credits_engages") is None
    assert aggregate(2025, AXES, this_year, {}).precedent is None


def test_ratio_rounds_to_a_tenth_of_a_percent() -> None:
    assert ratio(2, 3) == Decimal("0.667") and ratio(1, 8) == Decimal("0.125") and ratio(None, 3) is None


def faits(effet: D, *, mois: int = 36, renouvellement: str = "expresse", max_: int = 1, signature: D | None = None,
          renouvellements: tuple[D, ...] = (), denonciation: D | None = None, preavis: int = 3) -> Faits:
    return Faits(date_effet=effet, duree_mois=mois, renouvellement=renouvellement, renouvellements_max=max_,
                 preavis_mois=preavis, date_signature=signature, renouvellements=renouvellements,
                 date_denonciation=denonciation)


CONVENTIONS = [
    ("BROUILLON", faits(D(2024, 1, 1))),  # never signed: nowhere
    ("SIGNEE-2024", faits(D(2024, 6, 1), signature=D(2024, 5, 15))),
    ("ANCIENNE", faits(D(2021, 1, 1), signature=D(2020, 12, 1))),  # ends 2023-12-31: not in force in 2024
    ("FIN-2024", faits(D(2021, 7, 1), signature=D(2021, 6, 1))),  # ends 2024-06-30, not renewed
    ("RENOUVELEE", faits(D(2021, 3, 1), signature=D(2021, 2, 1), renouvellements=(D(2023, 12, 5),))),
    ("TACITE", faits(D(2023, 1, 1), mois=12, renouvellement="tacite", max_=3, signature=D(2022, 12, 1))),
    ("TACITE-FIN", faits(D(2023, 1, 1), mois=24, renouvellement="tacite", max_=2, signature=D(2022, 12, 1),
                         denonciation=D(2024, 9, 1))),
    ("TACITE-31-12", faits(D(2022, 1, 1), mois=36, renouvellement="tacite", max_=1, signature=D(2021, 12, 1))),
]


def test_conventions_in_force_signed_renewed_and_ending_in_the_year() -> None:
    year = conventions_in_year(CONVENTIONS, 2024)
    assert year.en_vigueur == ["FIN-2024", "RENOUVELEE", "SIGNEE-2024", "TACITE", "TACITE-31-12", "TACITE-FIN"]
    assert year.signees == ["SIGNEE-2024"]
    assert year.renouvelees == ["RENOUVELEE", "TACITE"]  # express renewal from 2024-03-01; tacit from 2024-01-01
    # TACITE-31-12 ends on 31 December 2024 but renews itself the next day: not ending.
    assert year.terminees == ["FIN-2024", "TACITE-FIN"]
    earlier = conventions_in_year(CONVENTIONS, 2023)
    assert "ANCIENNE" in earlier.terminees and "TACITE" not in earlier.renouvelees
