"""Which legal texts an act cites in its visas: those in force on its date that apply to its case (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

SUBVENTION_THRESHOLD = Decimal(23000)  # décret n° 2001-495, art. 1: annual amount above which a convention is due
CASES = ("france_travail", "fse", "subvention", "subvention_association", "delegation")


@dataclass(frozen=True)
class Texte:
    """A legal text of the table: what the visa says, from when, for which acts."""

    cle: str
    visa: str
    depuis: dt.date | None = None
    jusqu_au: dt.date | None = None
    types: tuple[str, ...] = ()  # convention types; empty: all
    cas: tuple[str, ...] = ()  # every case listed must hold
    remplace: str | None = None  # the key of a text this one cites more precisely, in its place


@dataclass(frozen=True)
class Cas:
    """What decides the visas of an act."""

    date: dt.date
    type: str
    situations: frozenset[str] = field(default_factory=frozenset)  # among CASES


def annual_amount(montant: Decimal | None, duree_mois: int) -> Decimal | None:
    """The yearly amount of a subsidy given for the whole duration of a convention."""
    if montant is None or duree_mois <= 0:
        return None
    return montant * 12 / duree_mois


def situations(*, france_travail: bool, taux_fse: Decimal | None, association: bool, montant: Decimal | None,
               duree_mois: int, delegation: bool = False) -> frozenset[str]:
    """The cases of CASES that hold for a convention (*delegation*: a vice-président signs for the Président)."""
    found = set()
    if delegation:
        found.add("delegation")
    if france_travail:
        found.add("france_travail")
    if taux_fse:
        found.add("fse")
    if association and montant:
        found.add("subvention")
    yearly = annual_amount(montant, duree_mois)
    if association and yearly is not None and yearly > SUBVENTION_THRESHOLD:
        found.add("subvention_association")
    return frozenset(found)


def select(textes: Iterable[Texte], cas: Cas) -> list[Texte]:
    """The texts an act of *cas* cites, in the table's order; a text cited more precisely by another
    (`Texte.remplace`) gives way to it, at its place."""
    chosen = [t for t in textes
              if (t.depuis is None or cas.date >= t.depuis) and (t.jusqu_au is None or cas.date <= t.jusqu_au)
              and (not t.types or cas.type in t.types) and set(t.cas) <= cas.situations]
    precise = {t.remplace: t for t in chosen if t.remplace}
    return [precise.get(t.cle, t) for t in chosen if not t.remplace or t.remplace not in {c.cle for c in chosen}]
