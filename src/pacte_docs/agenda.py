"""`pacte alertes --ics`: every deadline as an iCalendar event with reminders (Thunderbird, Outlook)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from icalendar import Alarm, Calendar, Event

from pacte_docs import alerts, archives
from pacte_docs.formatting import date_longue

PRODID = "-//pacte_docs//Echeances des conventions//FR"


def _alarm(days: int, text: str) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)
    # All-day events start at midnight: a reminder at 9:00 on the day, *days* before.
    alarm.add("trigger", dt.timedelta(days=-days, hours=9))
    return alarm


def calendar(suivis: Sequence[alerts.Suivi], seuils_for: Mapping[str, Sequence[int]], default: Sequence[int],
             domain: str = "pacte-docs") -> bytes:
    """One event for each decision deadline and each end of period of the conventions still running."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "Échéances des conventions d'insertion")
    stamp = archives.now()
    for suivi in sorted(suivis, key=lambda s: s.reference):
        situation = suivi.situation
        if situation.statut in ("brouillon", "denoncee") or situation.terminee:
            continue
        period = situation.periode
        partners = ", ".join(suivi.partenaires_noms)
        seuils = seuils_for.get(suivi.type, default)
        deadline = Event()
        deadline.add("uid", f"{suivi.reference}-p{period.numero}-limite@{domain}")
        deadline.add("dtstamp", stamp)
        deadline.add("summary", f"Date limite de décision — {suivi.reference} ({partners})")
        deadline.add("dtstart", period.date_limite)
        deadline.add("dtend", period.date_limite + dt.timedelta(days=1))
        deadline.add("transp", "TRANSPARENT")
        deadline.add("categories", ["Conventions"])
        deadline.add("description", alerts.action(suivi, min(seuils)) + f"\nResponsable : {suivi.responsable}")
        for days in seuils:
            when = "aujourd'hui" if days == 0 else f"dans {days} jours"
            deadline.add_component(_alarm(days, f"{suivi.reference} : date limite de décision {when} "
                                                f"({date_longue(period.date_limite)})"))
        cal.add_component(deadline)
        end = Event()
        end.add("uid", f"{suivi.reference}-p{period.numero}-fin@{domain}")
        end.add("dtstamp", stamp)
        end.add("summary", f"Fin de période — {suivi.reference} ({partners})")
        end.add("dtstart", period.fin)
        end.add("dtend", period.fin + dt.timedelta(days=1))
        end.add("transp", "TRANSPARENT")
        end.add("description", f"Dernier jour de la période {period.numero} de la convention {suivi.reference}.")
        end.add_component(_alarm(0, f"{suivi.reference} : dernier jour de la période"))
        cal.add_component(end)
    data: bytes = cal.to_ical()
    return data
