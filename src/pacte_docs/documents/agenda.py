"""`pacte alertes --ics`: every deadline as an iCalendar event with reminders (Thunderbird, Outlook)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from icalendar import Alarm, Calendar, Event, vDuration, vText

from pacte_docs import files
from pacte_docs.formatting import date_longue
from pacte_docs.rules import alerts

PRODID = "-//pacte_docs//Echeances des conventions//FR"


class _Text(vText):
    """A TEXT value escaped as RFC 5545 (3.3.11) says: icalendar 7 reads a literal « \\N » in a name as an escaped
    newline and writes it as one."""

    def to_ical(self) -> bytes:
        text = str(self).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n").encode("utf-8")


def events(data: bytes) -> int:
    """The number of events of a calendar, read as a calendar (a name holding « BEGIN:VEVENT » is no event)."""
    return len(Calendar.from_ical(data).walk("VEVENT"))


def _alarm(days: int, text: str) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _Text(text))
    # All-day events start at midnight: a reminder at 9:00 on the day, *days* before.
    alarm.add("trigger", dt.timedelta(days=-days, hours=9))
    return alarm


def _all_day(uid: str, stamp: dt.datetime, summary: str, day: dt.date, description: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", _Text(summary))
    event.add("dtstart", day)
    event.add("dtend", day + dt.timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    event.add("categories", ["Conventions"])
    event.add("description", _Text(description))
    return event


def calendar(suivis: Sequence[alerts.Suivi], seuils_for: Mapping[str, Sequence[int]], default: Sequence[int],
             domain: str = "pacte-docs", name: str = "Échéances des conventions d'insertion",
             refresh_hours: int | None = None, pieces: Sequence[Any] = ()) -> bytes:
    """One event for each decision deadline and each end of period of the conventions still running, and one for
    each convention's next due date of the documents its partner owes (*pieces*: services.pieces.Line, those not
    received and not yet due — a late one is in the alerts and the pages). A calendar served for subscription
    says how often to fetch it again (*refresh_hours*)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _Text(name))
    if refresh_hours is not None:
        every = dt.timedelta(hours=refresh_hours)
        cal.add("refresh-interval", every, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(every))
    stamp = files.now()
    for suivi in sorted(suivis, key=lambda s: s.reference):
        situation = suivi.situation
        if situation.statut in ("brouillon", "denoncee") or situation.terminee:
            continue
        period = situation.periode
        partners = ", ".join(suivi.partenaires_noms)
        seuils = seuils_for.get(suivi.type, default)
        deadline = _all_day(f"{suivi.reference}-p{period.numero}-limite@{domain}", stamp,
                            f"Date limite de décision — {suivi.reference} ({partners})", period.date_limite,
                            alerts.action(suivi, min(seuils)) + f"\nResponsable : {suivi.responsable}")
        for days in seuils:
            when = "aujourd'hui" if days == 0 else f"dans {days} jours"
            deadline.add_component(_alarm(days, f"{suivi.reference} : date limite de décision {when} "
                                                f"({date_longue(period.date_limite)})"))
        cal.add_component(deadline)
        end = _all_day(f"{suivi.reference}-p{period.numero}-fin@{domain}", stamp,
                       f"Fin de période — {suivi.reference} ({partners})", period.fin,
                       f"Dernier jour de la période {period.numero} de la convention {suivi.reference}.")
        end.add_component(_alarm(0, f"{suivi.reference} : dernier jour de la période"))
        cal.add_component(end)
    awaited: dict[tuple[str, dt.date], list[Any]] = {}
    for line in pieces:
        if line.recue_le is None and line.retard is None:
            awaited.setdefault((line.reference, line.echeance), []).append(line)
    for (reference, day), lines in sorted(awaited.items(), key=lambda item: (item[0][1], item[0][0])):
        named = " ; ".join(f"{line.piece} {line.exercice}" for line in lines)
        event = _all_day(f"{reference}-pieces-{day.isoformat()}@{domain}", stamp,
                         f"Pièces attendues — {reference} ({lines[0].partenaire})", day,
                         f"Dues au plus tard ce jour par {lines[0].partenaire} (convention {reference}) : {named}. "
                         "Si elles ne sont pas reçues : les réclamer par une lettre de relance."
                         + (f"\nResponsable : {lines[0].responsable}" if lines[0].responsable else ""))
        event.add_component(_alarm(0, f"{reference} : pièces attendues aujourd'hui ({named})"))
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data
