"""The bilan's figures, computed from the yearly records: pure functions, no database, no files.

Rules (README, « Le bilan annuel »):
- an axis's figures are its own record when there is one, else the sum of its fiches' records;
- the overall figures are the sum of the axes (records about conventions are shown apart, never added, since
  the actions they finance are already counted under the axes);
- the professional/social split follows the nature of each axis;
- rates: positive exits (employment, training, business creation) over people accompanied; BRSA over entries;
  credits spent over credits committed; evolution: (this year − last year) / last year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from pacte_docs.rules import periods

COUNTS = ("actions_financees", "personnes_accompagnees", "entrees", "dont_brsa", "sorties_emploi",
          "sorties_formation", "creations_entreprise")
AMOUNTS = ("credits_engages", "credits_consommes")
# Every figure of a yearly row, in the order of the import format and of the bilan's tables.
FIGURES = ("actions_financees", "credits_engages", "credits_consommes", "personnes_accompagnees", "entrees",
           "dont_brsa", "sorties_emploi", "sorties_formation", "creations_entreprise")


@dataclass(frozen=True)
class Chiffres:
    """Figures of one target for one year; None where nothing was reported."""

    actions_financees: int | None = None
    credits_engages: Decimal | None = None
    credits_consommes: Decimal | None = None
    personnes_accompagnees: int | None = None
    entrees: int | None = None
    dont_brsa: int | None = None
    sorties_emploi: int | None = None
    sorties_formation: int | None = None
    creations_entreprise: int | None = None

    def __add__(self, other: Chiffres) -> Chiffres:
        def add(a: Any, b: Any) -> Any:
            return b if a is None else a if b is None else a + b

        return Chiffres(**{f.name: add(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)})

    @property
    def vide(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    @property
    def sorties_positives(self) -> int | None:
        parts = [self.sorties_emploi, self.sorties_formation, self.creations_entreprise]
        return None if all(p is None for p in parts) else sum(p or 0 for p in parts)

    @property
    def taux_sorties_positives(self) -> Decimal | None:
        return ratio(self.sorties_positives, self.personnes_accompagnees)

    @property
    def part_brsa(self) -> Decimal | None:
        return ratio(self.dont_brsa, self.entrees)

    @property
    def taux_consommation(self) -> Decimal | None:
        return ratio(self.credits_consommes, self.credits_engages)


def ratio(part: int | Decimal | None, whole: int | Decimal | None) -> Decimal | None:
    """part / whole to 0.1 % (0.523), None when either is unknown or whole is zero."""
    if part is None or not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.001"))


def evolution(current: int | Decimal | None, previous: int | Decimal | None) -> Decimal | None:
    """Relative change, None when there is nothing to compare with."""
    if current is None or not previous:
        return None
    return ((Decimal(current) - Decimal(previous)) / Decimal(previous)).quantize(Decimal("0.001"))


@dataclass(frozen=True)
class AxeDef:
    numero: int
    intitule: str
    nature: str  # professionnelle | sociale
    fiches: tuple[tuple[str, str], ...]  # (numero, intitule)


@dataclass
class FicheBilan:
    numero: str
    intitule: str
    chiffres: Chiffres | None  # None: no figures this year


@dataclass
class AxeBilan:
    numero: int
    intitule: str
    nature: str
    chiffres: Chiffres
    source: str  # "axe" (its own record), "fiches" (sum of its fiches) or "aucune"
    fiches: list[FicheBilan]
    precedent: Chiffres | None = None


@dataclass
class Repartition:
    professionnelle: Decimal
    sociale: Decimal

    @property
    def total(self) -> Decimal:
        return self.professionnelle + self.sociale

    @property
    def part_professionnelle(self) -> Decimal | None:
        return ratio(self.professionnelle, self.total)

    @property
    def part_sociale(self) -> Decimal | None:
        return ratio(self.sociale, self.total)


@dataclass
class Bilan:
    annee: int
    axes: list[AxeBilan]
    total: Chiffres
    precedent: Chiffres | None  # last year's total, when figures exist for it
    repartition_engages: Repartition
    repartition_consommes: Repartition
    fiches_sans_chiffres: list[str]
    conventions: list[tuple[str, Chiffres]] = field(default_factory=list)

    def evolution(self, name: str) -> Decimal | None:
        if self.precedent is None:
            return None
        return evolution(_value(self.total, name), _value(self.precedent, name))


def _value(figures: Chiffres, name: str) -> int | Decimal | None:
    value: int | Decimal | None = getattr(figures, name)
    return value


def axis_figures(axe: AxeDef, records: dict[str, Chiffres]) -> tuple[Chiffres, str, list[FicheBilan]]:
    fiches = [FicheBilan(numero, intitule, records.get(f"fiche:{numero}")) for numero, intitule in axe.fiches]
    own = records.get(f"axe:{axe.numero}")
    if own is not None:
        return own, "axe", fiches
    given = [f.chiffres for f in fiches if f.chiffres is not None]
    if not given:
        return Chiffres(), "aucune", fiches
    total = given[0]
    for figures in given[1:]:
        total = total + figures
    return total, "fiches", fiches


def aggregate(annee: int, axes: list[AxeDef], records: dict[str, Chiffres],
              previous: dict[str, Chiffres] | None = None) -> Bilan:
    """The bilan of *annee* from its records keyed "axe:1", "fiche:1.1", "convention:REF"."""
    result: list[AxeBilan] = []
    for axe in axes:
        figures, source, fiches = axis_figures(axe, records)
        before = axis_figures(axe, previous)[0] if previous else None
        result.append(AxeBilan(axe.numero, axe.intitule, axe.nature, figures, source, fiches,
                               None if before is None or before.vide else before))
    total = sum((a.chiffres for a in result), Chiffres())
    precedent = None
    if previous:
        last = sum((axis_figures(axe, previous)[0] for axe in axes), Chiffres())
        precedent = None if last.vide else last
    zero = Decimal("0.00")

    def split(name: str) -> Repartition:
        parts = {nature: sum((getattr(a.chiffres, name) or zero for a in result if a.nature == nature), zero)
                 for nature in ("professionnelle", "sociale")}
        return Repartition(parts["professionnelle"], parts["sociale"])

    return Bilan(
        annee=annee, axes=result, total=total, precedent=precedent,
        repartition_engages=split("credits_engages"), repartition_consommes=split("credits_consommes"),
        fiches_sans_chiffres=[f.numero for a in result if a.source != "axe" for f in a.fiches if f.chiffres is None],
        conventions=sorted((key.split(":", 1)[1], figures) for key, figures in records.items()
                           if key.startswith("convention:")),
    )


@dataclass
class ConventionsAnnee:
    """References of the conventions in force, signed, renewed and ending during a year."""

    en_vigueur: list[str] = field(default_factory=list)
    signees: list[str] = field(default_factory=list)
    renouvelees: list[str] = field(default_factory=list)
    terminees: list[str] = field(default_factory=list)


def conventions_in_year(conventions: list[tuple[str, periods.Faits]], annee: int) -> ConventionsAnnee:
    """What happened to each convention during *annee*, from its recorded facts only."""
    first, last = dt.date(annee, 1, 1), dt.date(annee, 12, 31)
    result = ConventionsAnnee()
    for reference, faits in sorted(conventions):
        if faits.date_signature is None:
            continue  # a draft is in force nowhere
        chain = periods.periodes(faits, last)
        if faits.date_denonciation is not None and faits.date_denonciation < first and chain[-1].fin < first:
            continue
        if any(p.debut <= last and p.fin >= first for p in chain):
            result.en_vigueur.append(reference)
        if first <= faits.date_signature <= last:
            result.signees.append(reference)
        if any(first <= p.debut <= last for p in chain[1:]):
            result.renouvelees.append(reference)
        if first <= chain[-1].fin <= last and not _continues(faits, chain):
            result.terminees.append(reference)
    return result


def _continues(faits: periods.Faits, chain: list[periods.Periode]) -> bool:
    """Whether the last known period will be followed by another one (a tacit convention not denounced)."""
    if faits.renouvellement != "tacite" or faits.date_denonciation is not None:
        return False
    return len(chain) - 1 < faits.renouvellements_max
