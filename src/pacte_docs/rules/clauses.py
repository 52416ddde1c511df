"""What a convention's own clauses say about its life, and what the tool therefore allows: one table, cited by
the acts (the package's templates give these sentences word for word; a test holds them to it) and by the
rules that `pacte conventions renouveler` and `pacte alertes` apply."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pacte_docs.formatting import date_longue
from pacte_docs.rules import periods

# The sentences of article « Durée et renouvellement » that the lifecycle depends on, as the templates write them
# (Jinja variables as in the templates).
CLAUSES = {
    "renouvellement_expresse": ("La décision de renouvellement doit intervenir au plus tard le "
                                "{{ convention.date_limite|date_longue }}. À défaut, la convention prend fin à son "
                                "terme."),
}


def said(name: str, **values: str) -> str:
    """A clause as an act gives it, its variables filled: « … au plus tard le 30 septembre 2018. À défaut … »."""
    text = CLAUSES[name]
    for variable, value in values.items():
        text = text.replace("{{ " + variable + " }}", value)
    return text


@dataclass(frozen=True)
class Refus:
    """A decision the convention's clause no longer allows: why, and what to do instead."""

    raison: str
    suite: str

    def __str__(self) -> str:
        return f"{self.raison} {self.suite}"


def late_renewal(reference: str, period: periods.Periode, decision: dt.date) -> Refus | None:
    """An express renewal decided after the period's decision deadline: the clause says the convention then ends
    at its term (`CLAUSES["renouvellement_expresse"]`); None when the decision is in time."""
    if decision <= period.date_limite:
        return None
    clause = said("renouvellement_expresse", **{"convention.date_limite|date_longue":
                                                date_longue(period.date_limite)})
    return Refus(
        f"La décision du {date_longue(decision)} est postérieure à la date limite que fixe la convention "
        f"{reference} : « {clause} » La convention prend donc fin le {date_longue(period.fin)}.",
        f"Pour poursuivre le partenariat, préparez une nouvelle convention : pacte conventions succeder {reference} "
        "--reference NOUVELLE-REFERENCE (elle reprend les parties et les clauses en brouillon).")
