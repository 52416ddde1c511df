"""The documents a partner owes the Département in return (pure): which kinds a convention's case calls for
(donnees/pieces.yaml), for which financial years (exercices: calendar years), and by when — as the act writes it.
A subsidy's compte rendu financier is due within six months after the end of the exercice (loi n° 2000-321,
art. 10); an FSE+ bilan d'exécution, for the last exercice, within six months after the end of the operation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from babel.dates import format_date

from pacte_docs.formatting import LOCALE, date_longue, en_lettres
from pacte_docs.rules import periods


@dataclass(frozen=True)
class Sorte:
    """A kind of document owed, as the table describes it."""

    cle: str
    libelle: str  # as the act lists it: « le compte rendu financier, qui atteste … »
    court: str  # as lists and alerts name it: « compte rendu financier »
    cas: str  # a case of rules.visas.CASES: subvention, fse
    mois: int  # due on the last day of the mois-th month after the end of each exercice
    source: str
    fin_operation: bool = False  # for the last exercice, counted from the end of the convention

    def echeance(self, exercice: int, fin: dt.date) -> dt.date:
        """When the document for *exercice* is due, for a convention ending on *fin*."""
        if self.fin_operation and exercice >= fin.year:
            return periods.add_months(fin, self.mois)
        last_month = periods.add_months(dt.date(exercice + 1, 1, 1), self.mois)
        return last_month - dt.timedelta(days=1)

    def delai(self, fin: dt.date) -> str:
        """The due date as the act states it: « dans les six mois suivant la fin de chaque exercice, soit au plus
        tard le 30 juin de l'année suivante ; pour le dernier exercice, au plus tard le 29 février 2028 »."""
        first = self.echeance(fin.year - 1, fin)
        text = (f"dans les {en_lettres(self.mois)} mois suivant la fin de chaque exercice (année civile) couvert par "
                f"la convention, soit au plus tard le {_day_month(first)} de l'année suivante")
        if self.fin_operation:
            text += (f" ; pour le dernier exercice, dans les {en_lettres(self.mois)} mois suivant la fin de la "
                     f"convention, soit au plus tard le {date_longue(self.echeance(fin.year, fin))}")
        return text


def _day_month(day: dt.date) -> str:
    text = format_date(day, "d MMMM", locale=LOCALE)
    return "1er" + text[1:] if day.day == 1 else text


@dataclass(frozen=True)
class Due:
    """One document owed: its kind, the exercice it is for, its due date."""

    sorte: Sorte
    exercice: int
    echeance: dt.date


def kinds(table: Iterable[Sorte], situations: Iterable[str]) -> list[Sorte]:
    """The kinds of documents a convention in these cases owes, in the table's order."""
    held = set(situations)
    return [s for s in table if s.cas in held]


def dues(owed: Sequence[Sorte], debut: dt.date, fin: dt.date, last_exercice: int | None = None) -> list[Due]:
    """Every document owed for a convention running from *debut* to *fin*: one per kind and exercice it covers
    (up to *last_exercice* when given), by exercice then in the table's order."""
    last = fin.year if last_exercice is None else min(fin.year, last_exercice)
    return [Due(s, year, s.echeance(year, fin)) for year in range(debut.year, last + 1) for s in owed]


def late(due: Due, received: bool, on: dt.date) -> int | None:
    """How many days late a document is on *on* (None: received, or not due yet)."""
    if received or on <= due.echeance:
        return None
    return (on - due.echeance).days
