"""The PDI/PTI followed fiche by fiche: each axe or fiche-action has a référent thématique and, date after date, a
state (à engager, en cours, réalisée, ajustée, suspendue, abandonnée) with a short comment. `pacte pdi-pti suivi`
records one; the workbook's sheet « suivi » many (`pacte importer`); the pages and the point d'étape read them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pacte_docs.documents import context
from pacte_docs.errors import Invalid, PacteError
from pacte_docs.intake import import_format
from pacte_docs.kinds import EtatFiche, values
from pacte_docs.registry import queries
from pacte_docs.registry.models import Pacte, SuiviFiche
from pacte_docs.rules import periods, revisions
from pacte_docs.workspace import Workspace, holding

ETAT = import_format.enum(values(EtatFiche))
COMMENT = import_format.text(2000)
REFERENT = import_format.text(300, False)


@dataclass
class SuiviReport:
    reference: str
    cible: str
    date: dt.date
    etat: str
    status: str  # cree | modifie | inchange


@holding("registre")
def record(ws: Workspace, reference: str | None, fiche: str, etat: str, *, on: dt.date | None = None,
           commentaire: str | None = None, referent: str | None = None, par: str = "ligne de commande",
           today: dt.date | None = None) -> SuiviReport:
    """`pacte pdi-pti suivi REF FICHE --etat ETAT`: the state of a fiche (or an axe) on a date, checked first."""
    cible = revisions.target(fiche)
    if cible is None:
        raise PacteError(f"« {fiche} » ne désigne ni une fiche-action (« 1.1 ») ni un axe (« axe 2 »). Rien n'a été "
                         "enregistré.")
    try:
        state = ETAT(etat)
        comment = COMMENT(commentaire) if commentaire is not None else None
        who = REFERENT(referent) if referent is not None else None
    except Invalid as exc:
        raise PacteError(f"{exc.message} ; {exc.fix}. Rien n'a été enregistré.") from None
    today = today or periods.today()
    on = on or today
    with ws.db.session() as session:
        pacte = queries.pacte(session, reference)
        refused = revisions.followed(queries.pacte_versions(pacte), cible, on, pacte.adoption_date, today)
        if refused:
            raise PacteError(f"{refused[0][0].upper()}{refused[0][1:]} ; {refused[1]}. Rien n'a été enregistré.")
        status = queries.upsert_suivi(session, pacte, cible, on, state, comment, who, par)
        return SuiviReport(pacte.reference, cible, on, state, status)


def label(cible: str) -> str:
    kind, _, number = cible.partition(":")
    return f"axe {number}" if kind == "axe" else f"fiche {number}"


def history(session: Session, pacte: Pacte, until: dt.date | None = None) -> dict[str, list[SuiviFiche]]:
    """Each axe's and fiche's states up to *until*, oldest first."""
    query = select(SuiviFiche).where(SuiviFiche.pacte_id == pacte.id)
    if until is not None:
        query = query.where(SuiviFiche.date <= until)
    rows: dict[str, list[SuiviFiche]] = {}
    for row in session.scalars(query.order_by(SuiviFiche.date, SuiviFiche.id)):
        rows.setdefault(row.cible, []).append(row)
    return rows


def board(session: Session, pacte: Pacte, known: list[revisions.Version],
          on: dt.date | None = None) -> list[dict[str, Any]]:
    """The fiches in force on *on* (today when None) among the pacte's versions *known*, axe by axe, each with its
    référent and its latest state: what the staff and directors' pages show next to the PDI/PTI."""
    on = on or periods.today()
    version = revisions.in_force(known, on)
    states = history(session, pacte, on)
    revised = {v.rang: context.revision_context(v, pacte.adoption_instance) for v in known if v.rang > 0}
    result = []
    for axe in version.axes:
        axe_referent = context.latest_referent(states.get(f"axe:{axe['numero']}", [])) or axe.get("referent")
        fiches = [context.fiche_standing(f, states.get(f"fiche:{f['numero']}", []), revised, axe_referent)
                  for f in axe["fiches"]]
        result.append({"numero": axe["numero"], "intitule": axe["intitule"], "referent": axe_referent,
                       "fiches": fiches})
    return result
