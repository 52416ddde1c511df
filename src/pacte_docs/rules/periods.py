"""Date rules of ARCHITECTURE §5: pure functions on plain dates (pendulum, Europe/Paris)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, replace

import pendulum

from pacte_docs.kinds import Statut, values

TIMEZONE = "Europe/Paris"
FRANCE_TRAVAIL_SINCE = dt.date(2024, 1, 1)  # loi n° 2023-1196 pour le plein emploi
RGPD_SINCE = dt.date(2018, 5, 25)  # règlement (UE) 2016/679, art. 99 : applicable à partir du 25 mai 2018
CONTRAT_ENGAGEMENT_SINCE = dt.date(2025, 1, 1)  # the contrat d'engagement replaces the CER and the PPAE


def today() -> dt.date:
    """Today's date in Europe/Paris."""
    return pendulum.today(TIMEZONE).date()


# The date rules below are pure and called for every convention of a listing, a board or the alerts: conventions
# share a handful of start dates (the 1st of a month), so their results are kept (functools.lru_cache).
@functools.lru_cache(maxsize=8192)
def add_months(day: dt.date, months: int) -> dt.date:
    """Same day number *months* later (or earlier), clamped to the arrival month's last day."""
    return pendulum.Date(day.year, day.month, day.day).add(months=months)


@functools.lru_cache(maxsize=8192)
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


@functools.lru_cache(maxsize=8192)
def date_limite(fin: dt.date, preavis_mois: int, renouvellement: str) -> dt.date:
    """Decision deadline: end of period minus the notice, clamped to the month's end."""
    if renouvellement == "aucun":
        return fin
    result = add_months(fin, -preavis_mois)
    return dt.date(result.year, result.month, result.day)


def operateur_emploi(day: dt.date) -> str:
    """The public employment operator's name on a document dated *day*."""
    return "France Travail" if day >= FRANCE_TRAVAIL_SINCE else "Pôle emploi"


# ---------------------------------------------------------------- the life of a convention

STATUTS = values(Statut)


@dataclass(frozen=True)
class Faits:
    """What the registry knows of a convention, as far as its dates are concerned."""

    date_effet: dt.date
    duree_mois: int
    renouvellement: str  # expresse | tacite | aucun
    renouvellements_max: int
    preavis_mois: int
    date_signature: dt.date | None = None
    renouvellements: tuple[dt.date, ...] = ()  # express renewal decisions, in order
    fins_avenants: tuple[tuple[int, dt.date], ...] = ()  # (period number, new end) moved by avenants
    date_denonciation: dt.date | None = None


@dataclass(frozen=True)
class Periode:
    numero: int
    debut: dt.date
    fin: dt.date
    date_limite: dt.date


@dataclass(frozen=True)
class Situation:
    statut: str
    periode: Periode  # the current period, or the last one once the convention has ended
    renouvellements_restants: int
    terminee: bool  # past the end of its last period
    renouvelee: bool = False  # the next period is already decided (express renewal recorded in advance)

    @property
    def fin_periode(self) -> dt.date:
        return self.periode.fin

    @property
    def date_limite(self) -> dt.date:
        return self.periode.date_limite


def _periode(faits: Faits, numero: int, debut: dt.date) -> Periode:
    fin = fin_periode(debut, faits.duree_mois)
    for number, moved in faits.fins_avenants:
        if number == numero:
            fin = moved
    return Periode(numero, debut, fin, date_limite(fin, faits.preavis_mois, faits.renouvellement))


def periodes(faits: Faits, on: dt.date) -> list[Periode]:
    """Every period the convention has had up to *on*: renewals recorded (expresse) or automatic (tacite)."""
    chain = [_periode(faits, 1, faits.date_effet)]
    while True:
        current = chain[-1]
        renewed = len(chain) - 1
        if faits.renouvellement == "expresse":
            if renewed >= len(faits.renouvellements) or renewed >= faits.renouvellements_max:
                break
        elif faits.renouvellement == "tacite":
            if on <= current.fin or renewed >= faits.renouvellements_max:
                break
            if faits.date_denonciation is not None and faits.date_denonciation <= current.fin:
                break
        else:
            break
        chain.append(_periode(faits, current.numero + 1, current.fin + dt.timedelta(days=1)))
    return chain


RENEWABLE = ("en_cours", "reconduite")  # the statuses that turn « à renouveler » at the first alert threshold


def renewal_horizon(on: dt.date, premier_seuil: int) -> dt.date:
    """The latest decision deadline that makes a renewable convention « à renouveler » on *on*: its first alert
    threshold, *premier_seuil* days before the deadline, is reached."""
    try:
        return on + dt.timedelta(days=premier_seuil)
    except OverflowError:
        return dt.date.max if premier_seuil > 0 else dt.date.min


def renewable(standing: Situation) -> bool:
    """Whether a convention in this standing (see `standing`) is « à renouveler » once its first alert threshold
    is reached: running, with a renewal left."""
    return standing.statut in RENEWABLE and standing.renouvellements_restants > 0


def standing(faits: Faits, on: dt.date) -> Situation:
    """The situation on *on* but for the first alert threshold: « en cours » or « reconduite » where `situation`
    may say « à renouveler » (`renewable`, `renewal_horizon`)."""
    chain = periodes(faits, on)
    current = chain[0]
    for period in reversed(chain):
        if period.debut <= on:
            current = period
            break
    remaining = 0 if faits.renouvellement == "aucun" else max(0, faits.renouvellements_max - (len(chain) - 1))
    ended = on > current.fin and current is chain[-1]
    if faits.date_signature is None:
        statut = "brouillon"
    elif faits.date_denonciation is not None and faits.date_denonciation <= on:
        statut = "denoncee"
    elif on < faits.date_effet:
        statut = "signee"
    elif ended:
        statut = "expiree"
    elif current.numero > 1:
        statut = "reconduite"
    else:
        statut = "en_cours"
    return Situation(statut, current, remaining, ended, renouvelee=current is not chain[-1])


@functools.lru_cache(maxsize=65536)  # `pacte serveur` asks again for every convention at each calendar
def situation(faits: Faits, on: dt.date, premier_seuil: int = 180) -> Situation:
    """Status and current period of a convention on date *on* (ARCHITECTURE §5); *premier_seuil*, its first alert
    threshold in days, makes a running convention with a renewal left « à renouveler »."""
    found = standing(faits, on)
    if renewable(found) and found.date_limite <= renewal_horizon(on, premier_seuil):
        return replace(found, statut="a_renouveler")
    return found
