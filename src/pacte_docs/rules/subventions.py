"""A subsidy's payment schedule as the convention writes it (pure): « 50 % à la signature de la convention »,
« 30 000 € au 1er juillet 2026 », « le solde sur production du compte rendu financier ». A convention granting an
association more than 23 000 € a year states its payment terms (décret n° 2001-495, art. 1)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from pacte_docs.errors import Invalid
from pacte_docs.rules import periods

_SHARE = re.compile(r"(\d+(?:[.,]\d+)?)\s*%\s*(.*)", re.DOTALL)
_AMOUNT = re.compile(r"(\d[\d\s\u202f\u00a0.]*(?:,\d{1,2})?)\s*€\s*(.*)", re.DOTALL)
_SOLDE = re.compile(r"(?:le\s+)?solde\b[\s,:]*(.*)", re.IGNORECASE | re.DOTALL)
CENT = Decimal("0.01")
FIX = ("écrivez un versement par ligne, commençant par sa part ou son montant : « 50 % à la signature de la "
       "convention », « 30 000 € au 1er juillet 2026 », « le solde sur production du compte rendu financier »")


@dataclass(frozen=True)
class Versement:
    montant: Decimal
    part: Decimal  # share of the whole subsidy, 0 to 1
    quand: str  # when or on what it is paid: « à la signature de la convention »


def _number(raw: str) -> Decimal:
    cleaned = re.sub(r"[\s\u202f\u00a0]", "", raw)
    cleaned = cleaned.replace(".", "") if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", cleaned) else cleaned
    try:
        return Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        raise Invalid(f"« {raw} » n'est pas un nombre", FIX) from None


def when(line: str) -> str:
    """When, or on what, one line of a schedule is paid (« à la signature de la convention »), without its share
    or amount; the line itself when it gives neither."""
    text = " ".join(line.split())
    for pattern in (_SHARE, _AMOUNT, _SOLDE):
        found = pattern.fullmatch(text)
        if found:
            return found.group(found.lastindex or 0).strip().rstrip(" ;,.")
    return text


def echeancier(lines: list[str], total: Decimal | None) -> list[Versement]:
    """The payments of a subsidy of *total* euros described by *lines*; their amounts add up to the total (the
    last one, or « le solde », takes what rounding leaves)."""
    if not lines:
        return []
    if not total:
        raise Invalid("un échéancier de versement sans montant", "indiquez le montant de la convention (montant)")
    amounts: list[Decimal | None] = []
    whens: list[str] = []
    for index, line in enumerate(lines):
        text = " ".join(line.split())
        share, amount, solde = _SHARE.fullmatch(text), _AMOUNT.fullmatch(text), _SOLDE.fullmatch(text)
        if share:
            value: Decimal | None = (total * _number(share.group(1)) / 100).quantize(CENT, ROUND_HALF_UP)
            when = share.group(2)
        elif amount:
            value, when = _number(amount.group(1)).quantize(CENT, ROUND_HALF_UP), amount.group(2)
        elif solde and index == len(lines) - 1:
            value, when = None, solde.group(1)
        else:
            raise Invalid(f"versement n° {index + 1} sans part ni montant (« {text} »)", FIX)
        if not when.strip(" ,;:."):
            raise Invalid(f"versement n° {index + 1} sans échéance (« {text} »)",
                          "dites quand ou sur quelle pièce il est versé : « à la signature de la convention »")
        amounts.append(value)
        whens.append(when.strip().rstrip(" ;,."))
    known = sum((a for a in amounts if a is not None), Decimal(0))
    if amounts[-1] is None:
        rest = total - known
        amounts[-1] = rest
        if rest <= 0:
            raise Invalid(f"les versements avant le solde atteignent déjà {known} € sur {total} €", FIX)
    elif abs(known - total) > CENT * len(amounts):
        raise Invalid(f"les versements font {known} € pour une subvention de {total} €",
                      "corrigez les parts pour qu'elles fassent 100 %, ou terminez par « le solde … »")
    else:
        amounts[-1] = total - sum((a for a in amounts[:-1] if a is not None), Decimal(0))
    return [Versement(a, (a / total).quantize(Decimal("0.0001")), w)
            for a, w in zip((a for a in amounts if a is not None), whens, strict=True)]


@dataclass(frozen=True)
class Annuite:
    """One year of a multi-year subsidy: the part of the amount for that year of the convention, charged to the
    budget of the exercice in which the year begins; every year after the first is granted only subject to the
    vote of its credits by the Assemblée départementale (the budget is voted each year)."""

    rang: int
    debut: dt.date
    fin: dt.date
    exercice: int
    montant: Decimal
    sous_reserve: bool


def annuites(total: Decimal, date_effet: dt.date, duree_mois: int) -> list[Annuite]:
    """The yearly breakdown of *total* over a convention of *duree_mois* months from *date_effet*: one share per
    twelve months (a shorter last year in proportion to its months); the last share takes what rounding leaves."""
    if duree_mois <= 0:
        return []
    years: list[tuple[dt.date, dt.date, int]] = []
    start, done = date_effet, 0
    while done < duree_mois:
        months = min(12, duree_mois - done)
        years.append((start, periods.fin_periode(start, months), months))
        following = periods.add_months(date_effet, done + months)
        start, done = dt.date(following.year, following.month, following.day), done + months
    shares = [(total * months / duree_mois).quantize(CENT, ROUND_HALF_UP) for _, _, months in years]
    shares[-1] = total - sum(shares[:-1], Decimal(0))
    return [Annuite(rang, debut, fin, debut.year, share, rang > 1)
            for rang, ((debut, fin, _), share) in enumerate(zip(years, shares, strict=True), start=1)]
