"""Pure rules tested by tables: period ends, decision deadlines, French formatting, designations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pacte_docs import formatting
from pacte_docs.documents import context
from pacte_docs.errors import Invalid
from pacte_docs.rules import alerts, periods, subventions

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
    assert periods.fin_periode(effet, mois) == fin


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
    assert periods.date_limite(fin, preavis, renouvellement) == limite


@pytest.mark.parametrize(("day", "operator"), [
    (D(2023, 12, 31), "Pôle emploi"), (D(2024, 1, 1), "France Travail"), (D(2016, 7, 1), "Pôle emploi"),
])
def test_operateur_emploi(day: dt.date, operator: str) -> None:
    assert periods.operateur_emploi(day) == operator


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
    (formatting.en_lettres, 1, "un"),
    (formatting.de, "Marc Olivier", "de Marc Olivier"),
    (formatting.de, "Hélène Garnier", "d'Hélène Garnier"),
    (formatting.de, "une", "d'une"),
    (formatting.de, "deux", "de deux"),
])
def test_french_filters(function: object, value: object, expected: str) -> None:
    assert function(value) == expected  # type: ignore[operator]


@pytest.mark.parametrize(("n", "genre", "expected"), [(1, "f", "une"), (1, "m", "un"), (3, "f", "trois")])
def test_counts_of_a_feminine_noun(n: int, genre: str, expected: str) -> None:
    assert formatting.en_lettres(n, genre) == expected


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


# ---------------------------------------------------------------- the life of a convention

def faits(**changes: object) -> periods.Faits:
    base: dict[str, object] = {"date_effet": D(2024, 6, 1), "duree_mois": 36, "renouvellement": "expresse",
                               "renouvellements_max": 1, "preavis_mois": 3, "date_signature": D(2024, 5, 15)}
    base.update(changes)
    return periods.Faits(**base)  # type: ignore[arg-type]


# (case, facts, on, expected status, expected period number, its start, its end, its decision deadline)
LIFE = [
    ("brouillon", faits(date_signature=None), D(2025, 1, 1), "brouillon", 1, D(2024, 6, 1), D(2027, 5, 31),
     D(2027, 2, 28)),
    ("signée, pas encore en vigueur", faits(), D(2024, 5, 20), "signee", 1, D(2024, 6, 1), D(2027, 5, 31),
     D(2027, 2, 28)),
    ("en cours", faits(), D(2025, 1, 1), "en_cours", 1, D(2024, 6, 1), D(2027, 5, 31), D(2027, 2, 28)),
    ("premier seuil atteint", faits(), D(2026, 9, 1), "a_renouveler", 1, D(2024, 6, 1), D(2027, 5, 31),
     D(2027, 2, 28)),
    ("180 jours pile", faits(), D(2026, 9, 1), "a_renouveler", 1, D(2024, 6, 1), D(2027, 5, 31), D(2027, 2, 28)),
    ("181 jours avant", faits(), D(2026, 8, 31), "en_cours", 1, D(2024, 6, 1), D(2027, 5, 31), D(2027, 2, 28)),
    ("dernier jour", faits(), D(2027, 5, 31), "a_renouveler", 1, D(2024, 6, 1), D(2027, 5, 31), D(2027, 2, 28)),
    ("expresse non renouvelée", faits(), D(2027, 6, 1), "expiree", 1, D(2024, 6, 1), D(2027, 5, 31),
     D(2027, 2, 28)),
    ("expresse renouvelée", faits(renouvellements=(D(2027, 3, 20),)), D(2027, 6, 1), "reconduite", 2,
     D(2027, 6, 1), D(2030, 5, 31), D(2030, 2, 28)),
    ("renouvelée, décidée mais période 1 en cours", faits(renouvellements=(D(2027, 3, 20),)), D(2027, 4, 1),
     "en_cours", 1, D(2024, 6, 1), D(2027, 5, 31), D(2027, 2, 28)),
    ("renouvellements épuisés : pas d'alerte de renouvellement", faits(renouvellements=(D(2027, 3, 20),)),
     D(2030, 1, 1), "reconduite", 2, D(2027, 6, 1), D(2030, 5, 31), D(2030, 2, 28)),
    ("expresse : renouvellement au-delà du maximum ignoré",
     faits(renouvellements=(D(2027, 3, 20), D(2030, 3, 1))), D(2030, 6, 1), "expiree", 2, D(2027, 6, 1),
     D(2030, 5, 31), D(2030, 2, 28)),
    ("tacite reconduite", faits(renouvellement="tacite", renouvellements_max=2), D(2027, 6, 1), "reconduite", 2,
     D(2027, 6, 1), D(2030, 5, 31), D(2030, 2, 28)),
    ("tacite, deux reconductions", faits(renouvellement="tacite", renouvellements_max=2), D(2030, 6, 1),
     "reconduite", 3, D(2030, 6, 1), D(2033, 5, 31), D(2033, 2, 28)),
    ("tacite, maximum atteint", faits(renouvellement="tacite", renouvellements_max=2), D(2033, 6, 1), "expiree", 3,
     D(2030, 6, 1), D(2033, 5, 31), D(2033, 2, 28)),
    ("tacite dénoncée à temps", faits(renouvellement="tacite", date_denonciation=D(2027, 2, 28)), D(2027, 6, 1),
     "denoncee", 1, D(2024, 6, 1), D(2027, 5, 31), D(2027, 2, 28)),
    ("tacite dénoncée, avant la fin", faits(renouvellement="tacite", date_denonciation=D(2027, 1, 10)),
     D(2027, 3, 1), "denoncee", 1, D(2024, 6, 1), D(2027, 5, 31), D(2027, 2, 28)),
    ("aucun renouvellement", faits(renouvellement="aucun"), D(2027, 4, 1), "en_cours", 1, D(2024, 6, 1),
     D(2027, 5, 31), D(2027, 5, 31)),
    ("aucun : fin", faits(renouvellement="aucun"), D(2027, 6, 1), "expiree", 1, D(2024, 6, 1), D(2027, 5, 31),
     D(2027, 5, 31)),
    ("avenant qui prolonge la période 1", faits(fins_avenants=((1, D(2027, 12, 31)),)), D(2027, 6, 15),
     "a_renouveler", 1, D(2024, 6, 1), D(2027, 12, 31), D(2027, 9, 30)),
    ("avenant, puis renouvellement", faits(fins_avenants=((1, D(2027, 12, 31)),), renouvellements=(D(2027, 9, 1),)),
     D(2028, 1, 1), "reconduite", 2, D(2028, 1, 1), D(2030, 12, 31), D(2030, 9, 30)),
    ("29 février, 12 mois, préavis 1 mois", faits(date_effet=D(2024, 2, 29), duree_mois=12, preavis_mois=1),
     D(2024, 6, 1), "en_cours", 1, D(2024, 2, 29), D(2025, 2, 28), D(2025, 1, 28)),
    ("31 janvier, 48 mois, préavis 6 mois", faits(date_effet=D(2024, 1, 31), duree_mois=48, preavis_mois=6),
     D(2024, 6, 1), "en_cours", 1, D(2024, 1, 31), D(2028, 1, 30), D(2027, 7, 30)),
    ("tacite 12 mois, préavis 0", faits(date_effet=D(2024, 3, 31), duree_mois=12, renouvellement="tacite",
                                        renouvellements_max=3, preavis_mois=0),
     D(2025, 4, 2), "reconduite", 2, D(2025, 3, 31), D(2026, 3, 30), D(2026, 3, 30)),
]


@pytest.mark.parametrize(("case", "facts", "on", "statut", "numero", "debut", "fin", "limite"), LIFE,
                         ids=[c[0] for c in LIFE])
def test_situation(case: str, facts: periods.Faits, on: dt.date, statut: str, numero: int, debut: dt.date,
                   fin: dt.date, limite: dt.date) -> None:
    result = periods.situation(facts, on)
    assert (result.statut, result.periode.numero, result.periode.debut, result.periode.fin,
            result.periode.date_limite) == (statut, numero, debut, fin, limite), case


def _suivi(facts: periods.Faits, on: dt.date, type_: str = "ccas") -> alerts.Suivi:
    return alerts.Suivi(1, "CCAS-2024-001", type_, ("CCAS-SCEAUX",), ("CCAS de Sceaux",), "a@b.fr", "A B",
                        facts.renouvellement, facts.preavis_mois, periods.situation(facts, on))


SEUILS = [180, 90, 30, 0]
# (case, facts, on, expected threshold) — deadline 2027-02-28 for the default facts
DUE = [
    ("trop tôt", faits(), D(2026, 8, 31), None),
    ("180 jours", faits(), D(2026, 9, 1), 180),
    ("entre 180 et 90", faits(), D(2026, 10, 15), 180),
    ("90 jours", faits(), D(2026, 11, 30), 90),
    ("le plus urgent des seuils atteints", faits(), D(2027, 1, 29), 30),
    ("le jour même", faits(), D(2027, 2, 28), 0),
    ("dépassée", faits(), D(2027, 3, 1), "depasse"),
    ("dépassée jusqu'à la fin", faits(), D(2027, 5, 31), "depasse"),
    ("expirée sans renouvellement", faits(), D(2027, 6, 1), "expiree"),
    ("expirée depuis plus d'un an", faits(), D(2028, 6, 1), None),
    ("renouvelée : plus d'alerte", faits(renouvellements=(D(2027, 3, 20),)), D(2027, 6, 1), None),
    ("renouvelée d'avance : plus d'alerte avant la nouvelle période", faits(renouvellements=(D(2026, 9, 10),)),
     D(2026, 11, 30), None),
    ("renouvelée après la date limite : plus d'« dépassée »", faits(renouvellements=(D(2027, 3, 20),)),
     D(2027, 4, 1), None),
    ("brouillon", faits(date_signature=None), D(2027, 1, 29), None),
    ("dénoncée", faits(renouvellement="tacite", date_denonciation=D(2027, 1, 2)), D(2027, 1, 29), None),
    ("tacite dépassée", faits(renouvellement="tacite", renouvellements_max=2), D(2027, 3, 1), "depasse"),
    ("tacite terminée : pas d'« expirée »", faits(renouvellement="tacite", renouvellements_max=0),
     D(2027, 6, 1), None),
    ("aucun : date limite = fin", faits(renouvellement="aucun"), D(2027, 5, 1), 30),
]


@pytest.mark.parametrize(("case", "facts", "on", "seuil"), DUE, ids=[c[0] for c in DUE])
def test_due_threshold(case: str, facts: periods.Faits, on: dt.date, seuil: object) -> None:
    assert alerts.due_threshold(periods.situation(facts, on), facts.renouvellement, on, SEUILS) == seuil, case


def test_select_orders_by_urgency_and_uses_thresholds_per_type() -> None:
    on = D(2026, 8, 1)  # 211 days before the deadline of the default facts
    suivis = [_suivi(faits(), on, "ccas"), _suivi(faits(), on, "france_travail")]
    found = alerts.select(suivis, on, SEUILS, {"france_travail": [270, 90]})
    assert [(a.type, a.seuil, a.jours_restants) for a in found] == [("france_travail", 270, 211)]
    assert found[0].action == ("Faire délibérer le renouvellement avant le 28 février 2027 "
                               "(fin de période le 31 mai 2027).")
    assert found[0].as_json()["date_limite"] == "2027-02-28"


@pytest.mark.parametrize(("facts", "on", "fragment"), [
    (faits(renouvellement="tacite", renouvellements_max=2), D(2027, 1, 1), "laisser reconduire, ou dénoncer"),
    (faits(renouvellement="tacite", renouvellements_max=2), D(2027, 3, 1), "reconduction tacite le 1er juin 2027"),
    (faits(), D(2027, 3, 1), "Date limite dépassée (28 février 2027) : la convention prévoit qu'à défaut de "
                             "décision à cette date, elle prend fin à son terme, le 31 mai 2027. Pour poursuivre, "
                             "préparer une nouvelle convention qui lui succède."),
    (faits(renouvellement="aucun"), D(2027, 5, 1), "sans renouvellement possible"),
    (faits(), D(2027, 6, 1), "Convention expirée le 31 mai 2027"),
])
def test_action_says_what_to_do_by_when(facts: periods.Faits, on: dt.date, fragment: str) -> None:
    [found] = alerts.select([_suivi(facts, on)], on, SEUILS)
    assert fragment in found.action


def test_the_board_says_an_express_convention_past_its_deadline_ends_and_the_fse_period() -> None:
    """Past the decision deadline of an express convention, its clause ends it: the board's status is no longer
    « à renouveler » but the day it ends; before the deadline, and for a tacit one, the status stays."""
    from pacte_docs.rules import echeances, fse

    late = D(2027, 3, 1)  # the default facts: deadline 28 February 2027, end 31 May 2027
    [line] = [x for x in echeances.lines([_suivi(faits(), late)], late)]
    assert line.statut == "prend fin le 31/05/2027, non renouvelée" and line.seuil == "depasse"
    assert "pacte " not in (line.action or "")
    early = D(2027, 1, 15)
    assert echeances.lines([_suivi(faits(), early)], early)[0].statut == "à renouveler"
    tacit = faits(renouvellement="tacite", renouvellements_max=2)
    assert echeances.lines([_suivi(tacit, late)], late)[0].statut == "à renouveler"
    # the FSE+ 2021-2027: its years in a text, its eligibility dates for a convention that asks for it
    fse.check_text("dans le cadre de la programmation FSE+ 2021-2027")
    with pytest.raises(Invalid, match="la programmation du FSE\\+ est 2021-2027"):
        fse.check_text("dans le cadre du programme FSE + 2027–2029")
    fse.check_period(D(2027, 1, 1), D(2029, 12, 31))
    fse.check_period(D(2016, 1, 1), D(2018, 12, 31))  # the 2014-2020 FSE: not this rule's to judge
    with pytest.raises(Invalid, match="31 décembre 2029"):
        fse.check_period(D(2028, 1, 1), D(2030, 12, 31))


def test_a_payment_schedule_adds_up_to_the_subsidy() -> None:
    """Shares, amounts and « le solde » give amounts that add up to the subsidy to the cent."""
    payments = subventions.echeancier(["50 % à la signature de la convention", "30 000 € au 1er juillet 2026",
                                       "le solde sur production du compte rendu financier"], Decimal("96000"))
    assert [(p.montant, p.part, p.quand) for p in payments] == [
        (Decimal("48000.00"), Decimal("0.5000"), "à la signature de la convention"),
        (Decimal("30000.00"), Decimal("0.3125"), "au 1er juillet 2026"),
        (Decimal("18000.00"), Decimal("0.1875"), "sur production du compte rendu financier")]
    thirds = subventions.echeancier(["33,33 % en janvier", "33,33 % en mai", "33,34 % en septembre"], Decimal("100"))
    assert sum(p.montant for p in thirds) == Decimal("100")


@pytest.mark.parametrize(("lines", "total", "message"), [
    (["50 % à la signature", "40 % au bilan"], Decimal("1000"), "les versements font 900.00 € pour une subvention"),
    (["à la signature"], Decimal("1000"), "versement n° 1 sans part ni montant"),
    (["le solde au bilan", "50 % à la signature"], Decimal("1000"), "versement n° 1 sans part ni montant"),
    (["100 %"], Decimal("1000"), "versement n° 1 sans échéance"),
    (["1 200 € à la signature", "le solde au bilan"], Decimal("1000"), "atteignent déjà 1200.00 €"),
    (["100 % à la signature"], None, "un échéancier de versement sans montant"),
])
def test_a_wrong_payment_schedule_says_what_is_wrong(lines: list[str], total: Decimal | None, message: str) -> None:
    with pytest.raises(Invalid) as raised:
        subventions.echeancier(lines, total)
    assert message in raised.value.message and raised.value.fix


def test_a_last_heading_is_found_and_made_to_start_a_page() -> None:
    """The fix-up for LibreOffice's stranded headings: the last heading of a DOCX gets a page break before it,
    in the order the schema requires, and nothing else changes."""
    import io
    import zipfile

    from docx import Document as DocxDocument

    from pacte_docs.documents import signature_page

    document = DocxDocument()
    document.add_heading("Article 1 – Objet", level=2)
    document.add_paragraph("Texte.")
    last = document.add_heading("Article 2 – Prise d'effet", level=2)
    last.paragraph_format.keep_with_next = True
    document.add_paragraph("Fait à Nanterre.")
    out = io.BytesIO()
    document.save(out)
    assert signature_page.last_heading(out.getvalue()) == "Article 2 – Prise d'effet"
    fixed = DocxDocument(io.BytesIO(signature_page.break_before_last_heading(out.getvalue())))
    assert [p.paragraph_format.page_break_before for p in fixed.paragraphs] == [None, None, True, None]
    xml = zipfile.ZipFile(io.BytesIO(signature_page.break_before_last_heading(out.getvalue()))).read(
        "word/document.xml").decode()
    assert xml.index("<w:keepNext/>") < xml.index("<w:pageBreakBefore/>")
