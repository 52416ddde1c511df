"""Date rules of ARCHITECTURE §5: pure functions on plain dates (pendulum, Europe/Paris)."""

from __future__ import annotations

import datetime as dt

import pendulum

TIMEZONE = "Europe/Paris"
FRANCE_TRAVAIL_SINCE = dt.date(2024, 1, 1)  # loi n° 2023-1196 pour le plein emploi


def today() -> dt.date:
    """Today's date in Europe/Paris."""
    return pendulum.today(TIMEZONE).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day number *months* later (or earlier), clamped to the arrival month's last day."""
    return pendulum.Date(day.year, day.month, day.day).add(months=months)


def fin_periode(date_effet: dt.date, duree_mois: int) -> dt.date:
    """Last day of a period: the eve of the same day number duree_mois months later.

    When that day does not exist in the arrival month, the period ends on that month's last day
    (2024-06-01 + 36 → 2027-05-31; 2024-02-29 + 36 → 2027-02-28).
    """
    arrival_month = add_months(date_effet.replace(day=1), duree_mois)
    last_day = pendulum.Date(arrival_month.year, arrival_month.month, 1).end_of("month").day
    if date_effet.day > last_day:
        return dt.date(arrival_month.year, arrival_month.month, last_day)
    return dt.date(arrival_month.year, arrival_month.month, date_effet.day) - dt.timedelta(days=1)


def date_limite(fin: dt.date, preavis_mois: int, renouvellement: str) -> dt.date:
    """Decision deadline: end of period minus the notice, clamped to the month's end."""
    if renouvellement == "aucun":
        return fin
    result = add_months(fin, -preavis_mois)
    return dt.date(result.year, result.month, result.day)


def operateur_emploi(day: dt.date) -> str:
    """The public employment operator's name on a document dated *day*."""
    return "France Travail" if day >= FRANCE_TRAVAIL_SINCE else "Pôle emploi"
