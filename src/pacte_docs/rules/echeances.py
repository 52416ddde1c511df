"""The directors' deadlines board (`pacte serveur`): which conventions await a decision, in which band of urgency.
Pure functions of a convention's situation and the day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from pacte_docs.rules import alerts

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


def band(days_left: int) -> str:
    """The band of a decision deadline *days_left* days away (negative: past)."""
    return next((code for bound, code in _BOUNDS if days_left < bound), "plus_tard")


def awaiting(suivi: alerts.Suivi, on: dt.date) -> bool:
    """Whether a decision is awaited on the convention: signed, not denounced, not already renewed for its next
    period, and running — or expired unrenewed less than a year ago, as long as the alerts keep telling it."""
    situation = suivi.situation
    if situation.statut in ("brouillon", "denoncee") or situation.renouvelee:
        return False
    if situation.terminee:
        return alerts.due_threshold(situation, suivi.renouvellement, on, [0]) == "expiree"
    return True


@dataclass(frozen=True)
class Line:
    suivi: alerts.Suivi
    bande: str  # a code of BANDS, or NONE
    jours: int  # days to the decision deadline (negative: past)
    seuil: int | str | None  # as the alerts say it: days, "depasse", "expiree"; None when nothing awaits

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
