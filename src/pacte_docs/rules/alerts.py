"""Which alerts are due (ARCHITECTURE §6): pure functions of a convention's situation and today's date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pacte_docs.formatting import date_longue
from pacte_docs.rules import periods

# An expired convention stays in the alerts for a year, long enough for everyone to have been told.
EXPIREE_VISIBLE_DAYS = 365


@dataclass(frozen=True)
class Suivi:
    """What alert selection needs to know of a convention."""

    convention_id: int
    reference: str
    type: str
    partenaires: tuple[str, ...]
    partenaires_noms: tuple[str, ...]
    responsable: str
    responsable_nom: str | None
    renouvellement: str
    preavis_mois: int
    situation: periods.Situation


@dataclass(frozen=True)
class Alerte:
    convention_id: int
    reference: str
    type: str
    partenaires: tuple[str, ...]
    partenaires_noms: tuple[str, ...]
    responsable: str
    responsable_nom: str | None
    periode: int
    fin_periode: dt.date
    date_limite: dt.date
    jours_restants: int
    seuil: int | str  # days, or "depasse", or "expiree"
    action: str
    succession: bool = False  # the clause ends it unrenewed: a new convention may succeed it (ends_by_clause)

    @property
    def cle_seuil(self) -> str:
        return str(self.seuil)

    def as_json(self) -> dict[str, object]:
        return {
            "reference": self.reference, "type": self.type, "partenaires": list(self.partenaires),
            "responsable": self.responsable, "fin_periode": self.fin_periode.isoformat(),
            "date_limite": self.date_limite.isoformat(), "jours_restants": self.jours_restants,
            "seuil": self.seuil, "action": self.action, "periode": self.periode,
        }


def windows(faits: periods.Faits) -> list[tuple[int, dt.date, dt.date]]:
    """(period, decision deadline, last day an alert may be due) for each period that can carry an alert:
    a draft has none; a tacit convention every period it may reach; an express or non-renewable one its last
    recorded period (the earlier ones were renewed), visible a year after its end when it may expire
    unrenewed. Kept in the registry so that alerts are selected in SQL (a superset: due_threshold decides)."""
    if faits.date_signature is None:
        return []
    if faits.renouvellement == "tacite":
        return [(p.numero, p.date_limite, p.fin) for p in periods.periodes(faits, dt.date.max)]
    chain = periods.periodes(faits, faits.date_effet)  # express periods depend on recorded decisions only
    last = chain[-1]
    may_expire = faits.renouvellement == "expresse" and len(chain) - 1 < faits.renouvellements_max
    visible = last.fin + dt.timedelta(days=EXPIREE_VISIBLE_DAYS) if may_expire else last.fin
    return [(last.numero, last.date_limite, visible)]


def due_threshold(situation: periods.Situation, renouvellement: str, on: dt.date,
                  seuils: Sequence[int]) -> int | str | None:
    """The most urgent threshold reached on *on*, or None when nothing is due."""
    if situation.statut in ("brouillon", "denoncee") or situation.renouvelee:
        return None  # nothing to decide: a draft, a denounced convention, or one already renewed
    period = situation.periode
    if situation.terminee:
        unrenewed = renouvellement == "expresse" and situation.renouvellements_restants > 0
        if unrenewed and (on - period.fin).days <= EXPIREE_VISIBLE_DAYS:
            return "expiree"
        return None
    days = (period.date_limite - on).days
    if days < 0:
        return "depasse"
    reached = [s for s in seuils if days <= s]
    return min(reached) if reached else None


def action(suivi: Suivi, seuil: int | str) -> str:
    """What the director must do, and by when, in plain French."""
    period = suivi.situation.periode
    limite, fin = date_longue(period.date_limite), date_longue(period.fin)
    last = suivi.situation.renouvellements_restants == 0
    if seuil == "expiree":
        return (f"Convention expirée le {fin} sans renouvellement : conclure une nouvelle convention si le "
                "partenariat se poursuit.")
    if suivi.renouvellement == "aucun" or last:
        if seuil == "depasse":
            return f"La convention prend fin le {fin} sans renouvellement possible : préparer la suite."
        return f"Fin le {fin} sans renouvellement possible : décider avant le {limite} d'une nouvelle convention."
    if suivi.renouvellement == "tacite":
        if seuil == "depasse":
            return (f"Délai de dénonciation dépassé ({limite}) : reconduction tacite le "
                    f"{date_longue(period.fin + dt.timedelta(days=1))}.")
        return (f"Décider avant le {limite} : laisser reconduire, ou dénoncer par lettre recommandée "
                f"(préavis de {suivi.preavis_mois} mois).")
    if seuil == "depasse":  # the clause (rules.clauses): without a decision by the deadline, the convention ends
        return (f"Date limite dépassée ({limite}) : la convention prévoit qu'à défaut de décision à cette date, elle "
                f"prend fin à son terme, le {fin}. Pour poursuivre, préparer une nouvelle convention qui lui "
                "succède.")
    return f"Faire délibérer le renouvellement avant le {limite} (fin de période le {fin})."


def ends_by_clause(suivi: Suivi, on: dt.date) -> bool:
    """An express convention past its decision deadline, not renewed: its clause (rules.clauses) makes it end at
    its term — it is no longer « à renouveler »; a new convention may succeed it."""
    situation = suivi.situation
    return (suivi.renouvellement == "expresse" and situation.statut == "a_renouveler"
            and situation.periode.date_limite < on)


def select(suivis: Iterable[Suivi], on: dt.date, seuils: Sequence[int],
           seuils_par_type: Mapping[str, Sequence[int]] | None = None) -> list[Alerte]:
    """Per convention, its most urgent due alert, most urgent conventions first."""
    found = []
    for suivi in suivis:
        thresholds = (seuils_par_type or {}).get(suivi.type, seuils)
        seuil = due_threshold(suivi.situation, suivi.renouvellement, on, thresholds)
        if seuil is None:
            continue
        period = suivi.situation.periode
        found.append(Alerte(
            convention_id=suivi.convention_id, reference=suivi.reference, type=suivi.type,
            partenaires=suivi.partenaires, partenaires_noms=suivi.partenaires_noms, responsable=suivi.responsable,
            responsable_nom=suivi.responsable_nom, periode=period.numero, fin_periode=period.fin,
            date_limite=period.date_limite, jours_restants=(period.date_limite - on).days, seuil=seuil,
            action=action(suivi, seuil), succession=ends_by_clause(suivi, on),
        ))
    return sorted(found, key=lambda a: (a.jours_restants, a.reference))
