"""What a convention's own clauses say about its life, and what the tool therefore allows: one table, cited by
the acts (the package's templates give these sentences word for word; a test holds them to it) and by the
rules that `pacte conventions renouveler` and `pacte alertes` apply."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

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


# An amount as an act writes it: « 60 000,00 € », « 60 000 euros », « 1 500 € ».
AMOUNT = re.compile(r"\d{1,3}(?:[\s\u202f\u00a0]\d{3})*(?:,\d{2})?\s?(?:€|euros?\b)")


def _amounts(text: str) -> dict[str, str]:
    """Each amount of *text*, by a key that reads « 60 000,00 € » and « 60000 euros » alike, as written."""
    return {re.sub(r"[\s\u202f\u00a0]", "", m.group(0)).replace("euros", "€").replace("euro", "€")
            .removesuffix(",00€").removesuffix("€") + "€": " ".join(m.group(0).split())
            for m in AMOUNT.finditer(text)}


def _amount_key(value: Decimal) -> str:
    cents = value.quantize(Decimal("0.01"))
    return f"{int(cents)}€" if cents == cents.to_integral_value() else f"{cents}".replace(".", ",") + "€"


def stale_amounts(changes: list[tuple[str, str]], articles: dict[str, tuple[str, str]],
                  montant: Decimal | None = None) -> list[str]:
    """The articles an avenant leaves unchanged that still state an amount its changes rewrite: for each change
    (article, new wording) whose new wording gives amounts, the amounts it replaces — those of the changed
    article's old wording, and the convention's *montant* — that another, unchanged article repeats. « L'article
    5 « Dispositions financières » donne encore 60 000 € ». *articles*: number → (title, text) of the signed
    text."""
    changed = {"1" if number == "1er" else number for number, _ in changes}
    found = []
    for number, wording in changes:
        key = "1" if number == "1er" else number
        new = _amounts(wording)
        if not new or key not in articles:
            continue
        replaced = set(_amounts(articles[key][1])) | ({_amount_key(montant)} if montant else set())
        dropped = replaced - set(new)
        for other, (title, text) in articles.items():
            if other in changed:
                continue
            written = _amounts(text)
            still = [written[k] for k in sorted(dropped & set(written))]
            if still:
                found.append(f"l'article {other} « {title} » donne encore {', '.join(still)}, que la nouvelle "
                             f"rédaction de l'article {number} remplace")
    return found



def dropped_schedule(changes: list[tuple[str, str, str]], articles: dict[str, tuple[str, str]],
                     versements: list[str]) -> list[str]:
    """The articles an avenant rewrites with a new amount while their old wording gave the payment schedule,
    which the new wording no longer gives: the subsidy would be paid by no schedule. *changes*: (mode, article,
    new wording); *articles*: number → (title, text) of the signed text; *versements*: the schedule's lines."""
    def plain(text: str) -> str:
        return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").replace("’", "'").split()).lower()

    from pacte_docs.rules.subventions import when

    found = []
    for mode, number, wording in changes:
        key = "1" if number == "1er" else number
        if mode != "remplace" or key not in articles or not _amounts(wording):
            continue
        title, old = articles[key]
        # a payment is known by when it is paid (« à la signature de la convention »), as the act writes it
        given = [line for line in versements if plain(when(line)) in plain(old)]
        if given and not any(plain(when(line)) in plain(wording) for line in given):
            shown = ", ".join(f"« {line} »" for line in given)
            found.append(f"la nouvelle rédaction de l'article {number} « {title} » change le montant mais ne donne "
                         f"plus l'échéancier de versement qu'il stipulait ({shown})")
    return found
