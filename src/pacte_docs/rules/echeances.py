"""The directors' deadlines board (`pacte serveur`): which conventions await a decision, in which band of urgency.
Pure functions of a convention's situation and the day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from pacte_docs.formatting import LABELS, date_courte
from pacte_docs.rules import alerts, periods

# (code, title): the bands of the board, most urgent first; a convention is in the first whose bound it is under
BANDS: tuple[tuple[str, str], ...] = (
    ("depasse", "Date limite dépassée"),
    ("30", "Moins de 30 jours"),
    ("90", "De 30 à 89 jours"),
    ("180", "De 90 à 179 jours"),
    ("plus_tard", "180 jours et plus"),
)
_BOUNDS = ((0, "depasse"), (30, "30"), (90, "90"), (180, "180"))
NONE = "aucune"  # drafts, denounced, renewed in advance, ended: nothing to decide
LAST = BANDS[-1][0]  # the band of a deadline beyond every bound


def band(days_left: int) -> str:
    """The band of a decision deadline *days_left* days away (negative: past)."""
    return next((code for bound, code in _BOUNDS if days_left < bound), LAST)


def deadline_ranges(on: dt.date) -> list[tuple[str, dt.date | None, dt.date | None]]:
    """The bands on *on* as ranges of decision deadlines, most urgent first: (code, first deadline in the band,
    first deadline after it; None: no bound) — `band` of the days left, for a query that compares dates."""
    found: list[tuple[str, dt.date | None, dt.date | None]] = []
    start = None
    for bound, code in _BOUNDS:
        end = on + dt.timedelta(days=bound)
        found.append((code, start, end))
        start = end
    return [*found, (LAST, start, None)]


def awaits(situation: periods.Situation, renouvellement: str, on: dt.date) -> bool:
    """Whether a decision is awaited on the convention: signed, not denounced, not already renewed for its next
    period, and running — or expired unrenewed less than a year ago, as long as the alerts keep telling it.
    The first alert threshold plays no part: a standing (periods.standing) answers as its situation does."""
    if situation.statut in ("brouillon", "denoncee") or situation.renouvelee:
        return False
    if situation.terminee:
        return alerts.due_threshold(situation, renouvellement, on, [0]) == "expiree"
    return True


def awaiting(suivi: alerts.Suivi, on: dt.date) -> bool:
    """Whether a decision is awaited on the convention followed (`awaits`)."""
    return awaits(suivi.situation, suivi.renouvellement, on)


@dataclass(frozen=True)
class Line:
    suivi: alerts.Suivi
    bande: str  # a code of BANDS, or NONE
    jours: int  # days to the decision deadline (negative: past)
    seuil: int | str | None  # as the alerts say it: days, "depasse", "expiree"; None when nothing awaits

    @property
    def statut(self) -> str:
        """The status shown on the board, in French: « à renouveler » no longer once the clause ends the
        convention (past its deadline, not renewed) — then the day it ends."""
        situation = self.suivi.situation
        on = situation.date_limite - dt.timedelta(days=self.jours)
        if alerts.ends_by_clause(self.suivi, on):
            return f"prend fin le {date_courte(situation.periode.fin)}, non renouvelée"
        return LABELS.get(situation.statut, situation.statut)

    @property
    def action(self) -> str | None:
        """What to do, in plain French — written for the lines a page shows, not for a whole registry."""
        return None if self.seuil is None else alerts.action(self.suivi, self.seuil)


def lines(suivis: Iterable[alerts.Suivi], on: dt.date) -> list[Line]:
    """Every convention's line on the board, by decision deadline then reference; those awaiting nothing last."""
    found = []
    for suivi in suivis:
        days = (suivi.situation.date_limite - on).days
        if awaiting(suivi, on):
            code = "depasse" if suivi.situation.terminee else band(days)
            seuil: int | str = "expiree" if suivi.situation.terminee else ("depasse" if days < 0 else max(days, 0))
            found.append(Line(suivi, code, days, seuil))
        else:
            found.append(Line(suivi, NONE, days, None))
    return sorted(found, key=lambda line: (line.bande == NONE, line.suivi.situation.date_limite,
                                           line.suivi.reference))


def counts(board: Iterable[Line]) -> dict[str, int]:
    """How many lines in each band (every band present, NONE included)."""
    result = {code: 0 for code, _ in BANDS} | {NONE: 0}
    for line in board:
        result[line.bande] += 1
    return result


@dataclass(frozen=True)
class Etape:
    """A stretch of days over which the board shows a convention the same way: one period and its decision
    deadline, awaited or not, one status — but for « à renouveler », which the first alert threshold decides
    (*renouvelable*), and the band, which the days left do. Kept in the registry so that the pages count the
    bands and pick the lines they show in SQL, whatever the size of the registry."""

    du: dt.date  # first day, dt.date.min for the first stretch
    au: dt.date  # last day, dt.date.max for the last one
    periode: int
    date_limite: dt.date
    statut: str  # periods.standing's
    renouvelable: bool  # periods.renewable: « à renouveler » from periods.renewal_horizon on
    attente: bool  # awaits: in a band of the board, else NONE


_DAY = dt.timedelta(days=1)
_UNSEEN = dt.timedelta(days=alerts.EXPIREE_VISIBLE_DAYS + 1)  # an expired convention leaves the alerts


def etapes(faits: periods.Faits) -> list[Etape]:
    """The convention on the board from the first day to the last, in stretches that follow each other: the
    rules read on each day their answer may change (the effective date, each period's start and the day after
    its end, a year after the last one ends, the dénonciation)."""
    chain = periods.periodes(faits, dt.date.max)  # every period the convention may reach
    changes = {dt.date.min, faits.date_effet, *(period.debut for period in chain)}
    for after in (_DAY, _UNSEEN):
        if chain[-1].fin <= dt.date.max - after:
            changes.add(chain[-1].fin + after)
    if faits.date_denonciation is not None:
        changes.add(faits.date_denonciation)
    starts: list[dt.date] = []
    states: list[tuple[int, dt.date, str, bool, bool]] = []
    for day in sorted(changes):
        standing = periods.standing(faits, day)
        state = (standing.periode.numero, standing.date_limite, standing.statut, periods.renewable(standing),
                 awaits(standing, faits.renouvellement, day))
        if not states or state != states[-1]:
            starts.append(day)
            states.append(state)
    ends = [day - _DAY for day in starts[1:]] + [dt.date.max]
    return [Etape(du, au, *state) for du, au, state in zip(starts, ends, states, strict=True)]


def etape(stretches: Iterable[Etape], on: dt.date) -> Etape:
    """The stretch of *on*."""
    return next(e for e in stretches if e.du <= on <= e.au)
