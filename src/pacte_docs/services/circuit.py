"""The visa circuit of a draft convention, as pacte.toml's [circuits] sets it (rules.circuit): submitted by its
author, given its visas in order, or sent back with a comment; signed only once every visa is given on the version
being signed (or with --force, recorded as such). Each step is in the journal and in the `visa` table, with the
SHA-256 of the version it concerns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pacte_docs.documents import context
from pacte_docs.documents.store import DocumentStore
from pacte_docs.errors import LifecycleError, PacteError
from pacte_docs.files import now
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Agent, Convention, Visa
from pacte_docs.rules import circuit
from pacte_docs.workspace import Workspace

AVIS = ("favorable", "defavorable")
COMMENT_LIMIT = 2000
ETATS = {"non_soumis": "non soumis au circuit de visas", "en_visa": "en cours de visa",
         "renvoye": "renvoyé par un avis défavorable", "a_resoumettre": "modifié depuis sa soumission : à soumettre "
         "de nouveau", "vise": "visé, prêt à être signé"}


def steps(ws: Workspace) -> list[str]:
    """The circuit of a convention, [] when pacte.toml sets none (the act is signed without visas)."""
    return list(ws.config.circuits.get("convention", []))


def version(session: Session, ws: Workspace, c: Convention) -> str | None:
    """The SHA-256 of the draft's current DOCX when it is up to date with its data; None when it has none, or its
    data changed since (the text a visa would be given on is not the one the registry holds)."""
    current = DocumentStore(session, ws).current(c.reference, "convention", "docx")
    if current is None or current.empreinte != context.fingerprint(context.convention_context(c)):
        return None
    return current.sha256


def events(session: Session, c: Convention) -> list[circuit.Event]:
    return [circuit.Event(v.nature, v.tour, v.quand, v.par, v.sha256, v.etape, v.avis, v.commentaire)
            for v in session.scalars(select(Visa).where(Visa.convention_id == c.id).order_by(Visa.id))]


def standing_of(session: Session, ws: Workspace, c: Convention) -> circuit.Standing:
    return circuit.standing(steps(ws), events(session, c), version(session, ws, c))


def summary(session: Session, ws: Workspace, c: Convention) -> dict[str, Any] | None:
    """Where the draft stands in its circuit, for `conventions afficher` and the pages; None without a circuit, or
    once the convention is signed (its visas stay in the journal)."""
    wanted = steps(ws)
    if not wanted or c.date_signature is not None:
        return None
    found = standing_of(session, ws, c)
    given = {e.etape: e for e in found.visas}
    return {
        "etat": found.etat, "libelle": ETATS[found.etat], "tour": found.tour,
        "etapes": [{"etape": step, "qui": circuit.described(step),
                    "visa": ({"par": given[i].par, "quand": given[i].quand} if i in given else None),
                    "attendue": found.prochaine == i}
                   for i, step in enumerate(wanted)],
        "renvoi": ({"par": found.renvoi.par, "quand": found.renvoi.quand, "commentaire": found.renvoi.commentaire}
                   if found.renvoi else None),
        "prochaine": wanted[found.prochaine] if found.prochaine is not None else None,
    }


def _draft(session: Session, ws: Workspace, reference: str) -> tuple[Convention, list[str]]:
    c = queries.convention(session, reference)
    wanted = steps(ws)
    if not wanted:
        raise LifecycleError("Aucun circuit de visas n'est défini pour les conventions : ajoutez à pacte.toml une "
                             'section [circuits], par exemple convention = ["juriste", "directeur"].')
    if c.date_signature is not None:
        raise LifecycleError(f"La convention {reference} est déjà signée : son circuit de visas est clos.")
    return c, wanted


def _named(session: Session, par: str) -> str:
    """« Nom <courriel> » for an agent's address (as the staff pages sign), the address itself otherwise."""
    if "<" in par:
        return par
    address = par.strip().lower()
    agent = session.scalar(select(Agent).where(Agent.email == address))
    return f"{agent.nom} <{agent.email}>" if agent else address


def soumettre(ws: Workspace, reference: str, par: str | None = None) -> list[str]:
    """Submit the draft's current version to its circuit (a new round: earlier visas no longer count)."""
    with ws.db.session() as session:
        c, wanted = _draft(session, ws, reference)
        sha = version(session, ws, c)
        if sha is None:
            raise LifecycleError(f"Le projet {reference} n'a pas de document à jour de ses données : produisez-le "
                                 f"d'abord (pacte conventions generer {reference}), puis soumettez-le.")
        found = standing_of(session, ws, c)
        if found.etat == "en_visa" and not found.visas:
            raise LifecycleError(f"Le projet {reference} est déjà soumis ; il attend le visa "
                                 f"{circuit.of(wanted[found.prochaine or 0])}.")
        if found.etat == "vise":
            raise LifecycleError(f"Le projet {reference} a déjà tous ses visas : il peut être signé.")
        author = _named(session, par) if par else journal.AUTHOR.get() or "ligne de commande"
        tour = found.tour + 1
        session.add(Visa(convention_id=c.id, nature="soumission", tour=tour, par=author, quand=now(), sha256=sha))
        journal.record(session, c, "soumission",
                       f"Projet soumis au circuit de visas (tour {tour}) : {', '.join(wanted)}. Version SHA-256 "
                       f"{sha}.", sha256=sha)
        return [f"{reference} soumis au circuit de visas (tour {tour}) ; visa attendu "
                f"{circuit.of(wanted[0])}."]


def viser(ws: Workspace, reference: str, avis: str, commentaire: str | None, email: str) -> list[str]:
    """Give the visa awaited, as agent *email*: favourable, or unfavourable with a comment (the draft goes back
    to its author). Refused, with nothing recorded, when it is not that agent's step or the version changed."""
    if avis not in AVIS:
        raise PacteError(f"Avis « {avis} » inconnu : « favorable » ou « defavorable ».")
    text = " ".join((commentaire or "").split())
    if len(text) > COMMENT_LIMIT:
        raise PacteError(f"Commentaire trop long ({len(text)} caractères, {COMMENT_LIMIT} au plus).")
    if avis == "defavorable" and not text:
        raise PacteError("Un avis défavorable dit ce qu'il faut reprendre : donnez un commentaire "
                         "(--commentaire « … »).")
    address = email.strip().lower()
    with ws.db.session() as session:
        c, wanted = _draft(session, ws, reference)
        found = standing_of(session, ws, c)
        if found.etat != "en_visa" or found.prochaine is None:
            raise LifecycleError(f"Le projet {reference} n'attend pas de visa : il est {ETATS[found.etat]}"
                                 + (" (pacte conventions soumettre)." if found.etat in ("non_soumis", "renvoye",
                                                                                       "a_resoumettre") else "."))
        step = wanted[found.prochaine]
        agent = session.scalar(select(Agent).where(Agent.email == address, Agent.actif.is_(True)))
        if not circuit.may_give(step, address, agent.role if agent else None, c.responsable_email):
            raise LifecycleError(f"Le visa attendu pour {reference} est celui {circuit.of(step)} : "
                                 f"{address} ne peut pas le donner.")
        sha = version(session, ws, c)
        assert sha is not None  # « en_visa » holds for the version submitted only
        who = f"{agent.nom} <{agent.email}>" if agent else address
        session.add(Visa(convention_id=c.id, nature="visa", tour=found.tour, etape=found.prochaine, attendu=step,
                         avis=avis, commentaire=text or None, par=who, quand=now(), sha256=sha))
        said = "favorable" if avis == "favorable" else "défavorable"
        journal.record(session, c, "visa", f"Visa {said} de {who} ({circuit.described(step)}), tour {found.tour}"
                       + (f" : « {text} »" if text else "") + f". Version SHA-256 {sha}.", sha256=sha)
        if avis == "defavorable":
            return [f"{reference} : avis défavorable enregistré ; le projet retourne à son auteur avec ce "
                    f"commentaire : « {text} »."]
        following = found.prochaine + 1
        if following < len(wanted):
            return [f"{reference} : visa favorable enregistré ; visa attendu {circuit.of(wanted[following])}."]
        return [f"{reference} : visa favorable enregistré ; tous les visas sont donnés, la convention peut être "
                "signée."]


def check_signable(session: Session, ws: Workspace, c: Convention, force: bool) -> str | None:
    """Before a signature: refused unless every visa of the circuit is given on the version signed; with *force*,
    accepted, and the journal's line says so (returned)."""
    if not steps(ws):
        return None
    found = standing_of(session, ws, c)
    if found.signable:
        return None
    if force:
        return f"Signée avec --force, sans tous ses visas (circuit : {ETATS[found.etat]})."
    raise LifecycleError(f"Le projet {c.reference} ne peut pas être signé : il est {ETATS[found.etat]}"
                         + (f", visa attendu {circuit.of(steps(ws)[found.prochaine])}"
                            if found.prochaine is not None else "")
                         + ". Rien n'a été enregistré ; --force la signe quand même, en l'inscrivant au journal.")


def _person(par: str, c: Convention) -> str:
    """« Léa Martin » for « Léa Martin <lea.martin@…> »; the director by name when the address is the responsable's."""
    if "<" in par:
        return par.split("<")[0].strip()
    if c.responsable_nom and par.strip().lower() == str(c.responsable_email).lower():
        return c.responsable_nom
    return par


def _round(n: int) -> str:
    return "1er tour" if n == 1 else f"{n}e tour"


def bordereau(session: Session, ws: Workspace, c: Convention) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The steps of a signed convention's circuit — every round's submissions and visas, the Département's
    signature and, from the signed copy, each other party's —, in time order, and the signed copy, for its
    bordereau (modeles/bordereau.docx)."""
    rows = list(session.scalars(select(Visa).where(Visa.convention_id == c.id).order_by(Visa.id)))
    taken: list[dict[str, Any]] = []
    departement = None
    for v in rows:
        if v.nature == "soumission":
            what, avis = f"Soumission au circuit ({_round(v.tour)})", ""
        elif v.nature == "visa":
            what = f"Visa {circuit.named(v.attendu or '', article=True)}"
            avis = "favorable" if v.avis == "favorable" else "défavorable"
        else:
            what, avis, departement = "Signature électronique du Département", "", v.par
        taken.append({"etape": what, "par": _person(v.par, c), "quand": v.quand, "avis": avis,
                      "commentaire": v.commentaire or "", "version": v.sha256})
    documents = DocumentStore(session, ws)
    signed = [d for d in documents.documents(c.id) if d.nature == "signe"]
    copy: dict[str, Any] = {"fichier": "", "sha256": "", "verification": "", "restant": ""}
    if signed:
        last = signed[-1]
        found = last.verification or {}
        others = [s for s in found.get("signatures") or [] if not departement
                  or not str(s.get("signataire", "")).startswith(departement)]
        for s in others:
            moment = s.get("horodatage") or s.get("date")
            taken.append({"etape": "Signature électronique du partenaire", "par": s.get("signataire", ""),
                          "quand": dt.datetime.fromisoformat(moment) if moment else last.cree_le, "avis": "",
                          "commentaire": "signature horodatée" if s.get("horodatage") else
                          "heure déclarée par le signataire, sans horodatage", "version": last.sha256})
        count = len(found.get("signatures") or [])
        plural = "s" if count > 1 else ""
        copy = {"fichier": last.chemin.rsplit("/", 1)[-1], "sha256": last.sha256,
                "verification": (f"{count} signature{plural} valide{plural}, document intègre"
                                 if found.get("verdict") == "valide" else str(found.get("verdict", ""))),
                "restant": "" if others else "; ".join(
                    f"{str(s.get('pour') or '').rstrip(',')} ({s.get('nom_complet')})"
                    for s in context.convention_context(c)["signataires"] if s.get("pour"))}
    taken.sort(key=lambda e: e["quand"] if e["quand"].tzinfo else e["quand"].replace(tzinfo=dt.UTC))
    return taken, copy
