"""Reading and writing the registry's partners, conventions and départements (domain functions on a Session)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, delete, false, func, insert, select, true, update
from sqlalchemy.orm import Session

from pacte_docs import files
from pacte_docs.errors import UnknownReferenceError
from pacte_docs.registry.models import (
    Avenant,
    Axe,
    Convention,
    ConventionPartenaire,
    Departement,
    Document,
    Echeance,
    Etape,
    Evenement,
    FicheAction,
    Pacte,
    PacteCosignataire,
    Partenaire,
    Realisation,
    Renouvellement,
    SuiviFiche,
)
from pacte_docs.rules import alerts, echeances, periods, revisions
from pacte_docs.rules.aggregation import FIGURES


def adopt_documents(session: Session, site: str) -> None:
    """Documents recorded before sites were told apart (migration 0008) belong to the first workspace that opens
    the registry. The check is a read: a registry without such documents is not written to."""
    if session.scalar(select(Document.id).where(Document.site.is_(None)).limit(1)) is not None:
        session.execute(update(Document).where(Document.site.is_(None)).values(site=site))


def departements(session: Session) -> list[Departement]:
    return list(session.scalars(select(Departement).order_by(Departement.code)))


def partenaires(session: Session) -> list[Partenaire]:
    return list(session.scalars(select(Partenaire).order_by(Partenaire.code)))


def partenaire(session: Session, code: str) -> Partenaire | None:
    return session.scalar(select(Partenaire).where(Partenaire.code == code))


def conventions(session: Session, type_: str | None = None) -> list[Convention]:
    query = select(Convention).order_by(Convention.reference)
    if type_:
        query = query.where(Convention.type == type_)
    return list(session.scalars(query))


def of_responsable(email: str) -> Any:
    """The condition « this director follows the convention »: their address, whatever its case in the registry."""
    return func.lower(Convention.responsable_email) == email.lower()


def convention(session: Session, reference: str) -> Convention:
    found = session.scalar(select(Convention).where(Convention.reference == reference))
    if found is None:
        known = session.scalars(select(Convention.reference).order_by(Convention.reference).limit(200)).all()
        import difflib

        close = difflib.get_close_matches(reference, known, n=3)
        hint = f" Références proches : {', '.join(close)}." if close else ""
        raise UnknownReferenceError(
            f"Convention « {reference} » inconnue du registre.{hint} "
            "La liste complète : « pacte conventions lister »."
        )
    return found


# The convention's own columns that the date rules read, under the same names in periods.Faits.
FAITS_COLUMNS = ("date_effet", "duree_mois", "renouvellement", "renouvellements_max", "preavis_mois",
                 "date_signature", "date_denonciation")


def faits_from(columns: Mapping[Any, Any], renouvellements: Iterable[dt.date],
               fins_avenants: Iterable[tuple[int, dt.date]]) -> periods.Faits:
    """The date rules' view of a convention, from its columns (an ORM object's or a plain query's), its express
    renewal decisions in order, and the (period, new end) its avenants set."""
    return periods.Faits(**{name: columns[name] for name in FAITS_COLUMNS}, renouvellements=tuple(renouvellements),
                         fins_avenants=tuple(fins_avenants))


def lives(connection: Any, among: Any) -> tuple[dict[int, list[dt.date]], dict[int, list[tuple[int, dt.date]]]]:
    """In bulk, for the conventions whose id meets *among* (a condition on a column): their express renewal
    decisions in order, and the (period, new end) their avenants set — what `faits_from` takes besides the
    columns. Plain rows: the ORM's loading machinery costs more than the queries."""
    renewals: dict[int, list[dt.date]] = {}
    for cid, date in connection.execute(select(Renouvellement.convention_id, Renouvellement.date)
                                        .where(among(Renouvellement.convention_id))
                                        .order_by(Renouvellement.convention_id, Renouvellement.numero)):
        renewals.setdefault(cid, []).append(date)
    moved: dict[int, list[tuple[int, dt.date]]] = {}
    for cid, periode, fin in connection.execute(select(Avenant.convention_id, Avenant.periode, Avenant.nouvelle_fin)
                                                .where(among(Avenant.convention_id), Avenant.nouvelle_fin.is_not(None))
                                                .order_by(Avenant.convention_id, Avenant.numero)):
        moved.setdefault(cid, []).append((periode, fin))
    return renewals, moved


def faits(c: Convention) -> periods.Faits:
    """What the date rules need to know of a convention."""
    return faits_from({name: getattr(c, name) for name in FAITS_COLUMNS}, (r.date for r in c.renouvellements),
                      ((a.periode, a.nouvelle_fin) for a in c.avenants if a.nouvelle_fin))


def situation(c: Convention, on: dt.date, premier_seuil: int = 180) -> periods.Situation:
    """Where a convention is in its life on *on* (its first alert threshold makes it « à renouveler »)."""
    return periods.situation(faits(c), on, premier_seuil)


def refresh_echeances(session: Session, conventions: list[Convention]) -> None:
    """Recompute the alert windows and the board's stretches of conventions whose facts changed (import,
    signature, renewal, avenant, dénonciation); call after a flush, so that every convention has its id."""
    ids = [c.id for c in conventions]
    for start in range(0, len(ids), 500):
        session.execute(delete(Echeance).where(Echeance.convention_id.in_(ids[start:start + 500])))
        session.execute(delete(Etape).where(Etape.convention_id.in_(ids[start:start + 500])))
    windows: list[dict[str, Any]] = []
    stretches: list[dict[str, Any]] = []
    for c in conventions:
        facts = faits(c)
        windows.extend({"convention_id": c.id, "numero": numero, "date_limite": limite, "fin_visible": visible}
                       for numero, limite, visible in alerts.windows(facts))
        stretches.extend({"convention_id": c.id, "du": e.du, "au": e.au, "periode": e.periode,
                          "date_limite": e.date_limite, "statut": e.statut, "renouvelable": e.renouvelable,
                          "attente": e.attente} for e in echeances.etapes(facts))
    connection = session.connection()  # plain inserts: the ORM's bulk machinery costs more than the rows
    if windows:
        connection.execute(insert(Echeance), windows)
    if stretches:
        connection.execute(insert(Etape), stretches)


# ---------------------------------------------------------------- the directors' board, in SQL


def stretch_of(on: dt.date) -> Any:
    """The condition « this is its convention's stretch of *on* » on the board's stretches (Etape)."""
    return and_(Etape.du <= on, Etape.au >= on)


def band_on(on: dt.date) -> Any:
    """A stretch's band on *on*, as rules.echeances.band gives it from the days left (echeances.NONE when no
    decision awaits); the rules give the bands as ranges of deadlines, the query compares dates."""
    return case((Etape.attente == false(), echeances.NONE),
                *((Etape.date_limite < end, code) for code, _, end in echeances.deadline_ranges(on) if end),
                else_=echeances.LAST)


def in_band(on: dt.date, code: str) -> Any:
    """The condition « the stretch is in band *code* on *on* » (band_on), as a range of deadlines an index reads;
    echeances.NONE: no decision awaited; "": any band, a decision awaited."""
    if not code:
        return Etape.attente == true()
    if code == echeances.NONE:
        return Etape.attente == false()
    for band, start, end in echeances.deadline_ranges(on):
        if band == code:
            return and_(Etape.attente == true(), *([] if start is None else [Etape.date_limite >= start]),
                        *([] if end is None else [Etape.date_limite < end]))
    return false()


def by_reference(session: Session) -> Any:
    """Convention.reference to sort on in the order Python compares strings (code points): SQLite's own order;
    on PostgreSQL the "C" collation, whatever the database's (a linguistic one would skip the hyphens)."""
    return Convention.reference.collate("C") if session.get_bind().dialect.name == "postgresql" \
        else Convention.reference


def status_on(on: dt.date, premier_seuil: Mapping[str, int]) -> tuple[Any, bool]:
    """A stretch's status on *on*, as periods.situation gives it: « à renouveler » once a renewable one has
    reached the first alert threshold of its convention's type (*premier_seuil*, for every type in the
    registry); and whether the convention must be joined (types with thresholds of their own)."""
    if len(set(premier_seuil.values())) <= 1:  # one threshold for all: the stretch says it alone
        horizon: Any = periods.renewal_horizon(on, next(iter(premier_seuil.values()), 0))
        joined = False
    else:
        horizon = case({kind: periods.renewal_horizon(on, days) for kind, days in premier_seuil.items()},
                       value=Convention.type)
        joined = True
    return case((and_(Etape.renouvelable == true(), Etape.date_limite <= horizon), "a_renouveler"),
                else_=Etape.statut), joined


# ---------------------------------------------------------------- upserts

def _assign(target: Any, values: dict[str, Any]) -> bool:
    """Set attributes that differ; True when anything changed."""
    changed = False
    for name, value in values.items():
        current = getattr(target, name)
        if isinstance(current, Decimal) and value is not None:
            same = current == Decimal(value)
        else:
            same = current == value
        if not same:
            setattr(target, name, value)
            changed = True
    return changed


def upsert_departement(session: Session, data: dict[str, Any]) -> tuple[Departement, str]:
    values = {
        "nom": data["nom"], "direction": data["direction"], "adresse": data["adresse"], "ville": data["ville"],
        "siret": data["siret"],
        "president_civilite": data["president"]["civilite"], "president_nom": data["president"]["nom"],
        "president_qualite": data["president"]["qualite"],
        "signataire_civilite": data["signataire"]["civilite"], "signataire_nom": data["signataire"]["nom"],
        "signataire_qualite": data["signataire"]["qualite"],
        "delegation_numero": data["delegation"]["numero"], "delegation_date": data["delegation"]["date"],
    }
    found = session.scalar(select(Departement).where(Departement.code == data["code"]))
    if found is None:
        found = Departement(code=data["code"], **values)
        session.add(found)
        return found, "cree"
    return found, "modifie" if _assign(found, values) else "inchange"


def upsert_partenaire(session: Session, data: dict[str, Any]) -> tuple[Partenaire, str]:
    values = {
        "type": data["type"], "nom": data["nom"], "commune": data["commune"], "code_insee": data["code_insee"],
        "siret": data["siret"], "rna": data["rna"], "adresse": data["adresse"], "email": data["email"],
        "representant_civilite": data["representant"]["civilite"],
        "representant_nom": data["representant"]["nom"],
        "representant_qualite": data["representant"]["qualite"],
        "delegation_delegant": data["delegation"]["delegant"], "delegation_numero": data["delegation"]["numero"],
        "delegation_date": data["delegation"]["date"],
    }
    found = session.scalar(select(Partenaire).where(Partenaire.code == data["code"]))
    if found is None:
        found = Partenaire(code=data["code"], **values)
        session.add(found)
        return found, "cree"
    return found, "modifie" if _assign(found, values) else "inchange"


def upsert_convention(session: Session, data: dict[str, Any], departement: Departement,
                      partners: list[Partenaire], found: Convention | None) -> tuple[Convention, str]:
    """Create or update a convention; *found* is the registry's convention of that reference, if any
    (the importer fetches them in bulk)."""
    values = {
        "departement_id": departement.id,
        "type": data["type"], "modele": data["modele"], "objet": data["objet"],
        "deliberation_instance": data["deliberation"]["instance"],
        "deliberation_numero": data["deliberation"]["numero"],
        "deliberation_date": data["deliberation"]["date"],
        "deliberation_partenaire_instance": data["deliberation_partenaire"]["instance"],
        "deliberation_partenaire_numero": data["deliberation_partenaire"]["numero"],
        "deliberation_partenaire_date": data["deliberation_partenaire"]["date"],
        "date_signature": data["date_signature"], "date_effet": data["date_effet"],
        "duree_mois": data["duree_mois"], "renouvellement": data["renouvellement"],
        "renouvellements_max": data["renouvellements_max"], "preavis_mois": data["preavis_mois"],
        "responsable_nom": data["responsable"]["nom"], "responsable_email": data["responsable"]["email"],
        "territoire": data["territoire"], "montant": data["montant"], "taux_fse": data["taux_fse"],
        "fse_accorde_le": data["fse_accorde_le"],
        "engagements_departement": data["engagements_departement"],
        "engagements_partenaire": data["engagements_partenaire"],
        "actions": data["actions"], "versements": data["versements"], "imputation": data["imputation"],
        "objectifs": {k: v for k, v in data["objectifs"].items() if v is not None},
    }
    if found is not None and values["date_signature"] is None:
        # A signature recorded by `pacte conventions signer` is not undone by a file that omits it.
        values["date_signature"] = found.date_signature
    status = "inchange"
    if found is None:
        found = Convention(reference=data["reference"], renouvellements=[], avenants=[], **values)  # no lazy load
        session.add(found)
        status = "cree"
    elif _assign(found, values):
        status = "modifie"
    wanted = [p.id for p in partners]
    if [link.partenaire_id for link in found.liens] != wanted:
        found.liens = [ConventionPartenaire(partenaire=p, rang=i) for i, p in enumerate(partners)]
        status = "modifie" if status == "inchange" else status
    if _apply_lifecycle(found, data) and status == "inchange":
        status = "modifie"
    return found, status


def renewal_record(r: Renouvellement) -> dict[str, Any]:
    """A renewal in the import format (export, and how an import decides whether it changed)."""
    return {"numero": r.numero, "date": r.date, "deliberation": r.deliberation_numero}


def avenant_record(a: Avenant) -> dict[str, Any]:
    """An avenant in the import format (export, and how an import decides whether it changed)."""
    return {"numero": a.numero, "objet": a.objet, "date": a.date, "periode": a.periode,
            "nouvelle_fin": a.nouvelle_fin,
            "deliberation": {"numero": a.deliberation_numero, "date": a.deliberation_date},
            "modifications": [dict(m) for m in a.modifications or []]}


def _apply_lifecycle(c: Convention, data: dict[str, Any]) -> bool:
    """The life the file gives the convention (an export's dénonciation, renewals, avenants); what the file does
    not give is left as the registry has it. True when anything changed."""
    changed = False
    denonciation = data.get("denonciation") or {}
    if denonciation.get("date") is not None:
        changed |= _assign(c, {"date_denonciation": denonciation["date"], "motif_denonciation": denonciation["motif"]})
    renewals = data.get("renouvellements")
    if renewals is not None and [renewal_record(r) for r in c.renouvellements] != renewals:
        c.renouvellements.clear()
        c.renouvellements.extend(Renouvellement(numero=r["numero"], date=r["date"],
                                                deliberation_numero=r["deliberation"]) for r in renewals)
        changed = True
    avenants = data.get("avenants")
    if avenants is not None:
        given = [a | {"modifications": [dict(m) for m in a["modifications"] or []]} for a in avenants]
        if [avenant_record(a) for a in c.avenants] != given:
            c.avenants.clear()
            c.avenants.extend(Avenant(numero=a["numero"], objet=a["objet"], date=a["date"], periode=a["periode"],
                                      nouvelle_fin=a["nouvelle_fin"], deliberation_numero=a["deliberation"]["numero"],
                                      deliberation_date=a["deliberation"]["date"],
                                      modifications=[dict(m) for m in a["modifications"] or []]) for a in avenants)
            changed = True
    return changed


def restore_journal(session: Session, c: Convention, entries: list[dict[str, Any]]) -> None:
    """A convention created by importing an export gets its journal back as it was, moments included."""
    session.add_all(Evenement(convention_id=c.id, quand=e["quand"], nature=e["nature"], date=e["date"],
                              description=e["description"], document=e["document"], document_sha256=e["sha256"])
                    for e in entries)


# ---------------------------------------------------------------- PDI/PTI

AXE_FIELDS = ("numero", "intitule", "nature", "objectifs", "referent")
FICHE_FIELDS = ("numero", "intitule", "contexte", "objectifs", "public", "pilote", "partenaires", "modalites",
                "calendrier", "indicateurs", "budget", "financeurs", "referent")
PACTE_FIELDS = ("titre", "bilan_decision", "contexte", "diagnostic", "methode", "gouvernance", "engagements")


def pactes(session: Session) -> list[Pacte]:
    return list(session.scalars(select(Pacte).order_by(Pacte.periode_debut, Pacte.reference)))


def pacte(session: Session, reference: str | None) -> Pacte:
    """The pacte with this reference; without one, the only pacte of the registry."""
    if reference is None:
        found = pactes(session)
        if len(found) == 1:
            return found[0]
        if not found:
            raise UnknownReferenceError("Aucun PDI/PTI dans le registre : importez d'abord un fichier YAML qui "
                                        "contient une section « pacte » (« pacte importer FICHIER »).")
        raise UnknownReferenceError("Le registre contient plusieurs PDI/PTI : indiquez sa référence ("
                                    + ", ".join(p.reference for p in found) + ").")
    result = session.scalar(select(Pacte).where(Pacte.reference == reference))
    if result is None:
        known = [p.reference for p in pactes(session)]
        raise UnknownReferenceError(f"PDI/PTI « {reference} » inconnu du registre. "
                                    + (f"Références connues : {', '.join(known)}." if known else
                                       "Aucun PDI/PTI n'a encore été importé."))
    return result


def pacte_record(p: Pacte) -> dict[str, Any]:
    """A pacte in the import format (also how an import decides whether anything changed)."""
    return {
        "reference": p.reference, "departement": p.departement.code, "titre": p.titre,
        "periode": {"debut": p.periode_debut, "fin": p.periode_fin},
        "adoption": {"instance": p.adoption_instance, "numero": p.adoption_numero, "date": p.adoption_date},
        "bilan_decision": p.bilan_decision,
        "cosignataires": [c.code for c in p.cosignataires],
        "contexte": p.contexte, "diagnostic": list(p.diagnostic or []), "methode": p.methode,
        "gouvernance": list(p.gouvernance or []), "engagements": {k: list(v) for k, v in (p.engagements or {}).items()},
        "axes": [
            {**{name: getattr(a, name) for name in AXE_FIELDS},
             "fiches": [{name: getattr(f, name) for name in FICHE_FIELDS} for f in a.fiches]}
            for a in p.axes
        ],
    }


def pacte_versions(pacte: Pacte) -> list[revisions.Version]:
    """The pacte's versions, oldest first: as adopted (rang 0), then each revision. A pacte never revised has one,
    read from its axes and fiches."""
    if not pacte.revisions:
        return [revisions.Version(0, pacte.adoption_instance, pacte.adoption_numero, pacte.adoption_date, None,
                                  revisions.first_version(pacte_record(pacte)["axes"]))]
    return [revisions.Version(r.rang, r.instance, r.numero, r.date, r.objet, r.contenu, r.changements)
            for r in pacte.revisions]


def upsert_suivi(session: Session, pacte: Pacte, cible: str, on: dt.date, etat: str, commentaire: str | None,
           referent: str | None, par: str) -> str:
    """Record the state of *cible* on *on*: one per day, a second the same day corrects the first."""
    found = session.scalar(select(SuiviFiche).where(SuiviFiche.pacte_id == pacte.id, SuiviFiche.cible == cible,
                                                    SuiviFiche.date == on))
    if found is not None:
        if (found.etat, found.commentaire, found.referent) == (etat, commentaire, referent):
            return "inchange"
        found.etat, found.commentaire, found.referent, found.par = etat, commentaire, referent, par
        found.enregistre_le = files.now()
        return "modifie"
    session.add(SuiviFiche(pacte_id=pacte.id, cible=cible, date=on, etat=etat, commentaire=commentaire,
                           referent=referent, par=par, enregistre_le=files.now()))
    return "cree"


def version_axes(version: revisions.Version) -> list[dict[str, Any]]:
    """A version's axes and fiches in the import format (as `pacte_record` gives the registry's)."""
    return [{**{name: getattr(a, name, None) for name in AXE_FIELDS},
             "fiches": [{name: getattr(f, name, None) for name in FICHE_FIELDS} for f in a.fiches]}
            for a in revisions.as_objects(version.axes)]


def suivi_rows(session: Session) -> list[SuiviFiche]:
    return list(session.scalars(select(SuiviFiche).join(Pacte, Pacte.id == SuiviFiche.pacte_id)
                                .order_by(Pacte.reference, SuiviFiche.cible, SuiviFiche.date, SuiviFiche.id)))


def suivi_record(row: SuiviFiche) -> dict[str, Any]:
    """A fiche's (or an axe's) state in the import format: the workbook's sheet « suivi »."""
    kind, _, number = row.cible.partition(":")
    pacte = row.pacte_reference
    return {"pacte": pacte, "fiche": number if kind == "fiche" else None,
            "axe": int(number) if kind == "axe" else None, "date": row.date, "etat": row.etat,
            "commentaire": row.commentaire, "referent": row.referent}


def upsert_pacte(session: Session, data: dict[str, Any], departement: Departement,
                 cosignataires: list[Partenaire]) -> tuple[Pacte, str]:
    """Create or replace a pacte with its axes and fiches; unchanged when the file says what the registry holds."""
    found = session.scalar(select(Pacte).where(Pacte.reference == data["reference"]))
    wanted = {name: data[name] for name in ("reference", "titre", "periode", "adoption", "bilan_decision",
                                             "cosignataires", "contexte", "diagnostic", "methode", "gouvernance",
                                             "engagements", "axes")}
    wanted["departement"] = departement.code
    revised = found is not None and bool(found.revisions)
    if found is not None and revised:  # its axes and fiches change by revision only (the importer checked the file)
        wanted["axes"] = pacte_record(found)["axes"]
    if found is not None and pacte_record(found) == wanted:
        return found, "inchange"
    status = "modifie"
    if found is None:
        found = Pacte(reference=data["reference"])
        session.add(found)
        status = "cree"
    else:
        if not revised:
            found.axes.clear()  # deleted before the new ones are inserted: (pacte, numero) stays unique
        found.liens.clear()
        session.flush()
    found.departement_id = departement.id
    found.departement = departement
    for name in PACTE_FIELDS:
        setattr(found, name, data[name])
    found.periode_debut, found.periode_fin = data["periode"]["debut"], data["periode"]["fin"]
    found.adoption_instance, found.adoption_date = data["adoption"]["instance"], data["adoption"]["date"]
    found.adoption_numero = data["adoption"]["numero"]
    found.liens = [PacteCosignataire(partenaire=p, rang=i) for i, p in enumerate(cosignataires)]
    if revised:
        return found, status
    found.axes = [
        Axe(**{name: axe[name] for name in AXE_FIELDS},
            fiches=[FicheAction(rang=i, **{name: fiche[name] for name in FICHE_FIELDS})
                    for i, fiche in enumerate(axe["fiches"])])
        for axe in data["axes"]
    ]
    return found, status


# ---------------------------------------------------------------- yearly figures

DEPARTEMENT = "departement"  # the key of the département's own line: its context and « difficultés et perspectives »


def target(values: dict[str, Any]) -> str | None:
    """The key of what a figures record is about: "axe:1", "fiche:1.1", "convention:REF", or "departement" when
    none is given; None when more than one is."""
    given = [(name, values[name]) for name in ("axe", "fiche", "convention") if values.get(name) is not None]
    if not given:
        return DEPARTEMENT
    return f"{given[0][0]}:{given[0][1]}" if len(given) == 1 else None


def realisations(session: Session, departement: Departement | None = None,
                 annees: tuple[int, ...] | None = None) -> list[Realisation]:
    query = select(Realisation).order_by(Realisation.annee, Realisation.cible)
    if departement is not None:
        query = query.where(Realisation.departement_id == departement.id)
    if annees is not None:
        query = query.where(Realisation.annee.in_(annees))
    return list(session.scalars(query))


def realisation_record(r: Realisation) -> dict[str, Any]:
    return {"annee": r.annee, "departement": r.departement.code, "axe": r.axe, "fiche": r.fiche,
            "convention": r.convention.reference if r.convention else None,
            **{name: getattr(r, name) for name in FIGURES}, "foyers_rsa": r.foyers_rsa,
            "commentaire": r.commentaire}


def upsert_realisation(session: Session, data: dict[str, Any], departement: Departement) -> tuple[Realisation, str]:
    cible = target(data)
    if cible is None:
        raise ValueError("a figures record names one axis, fiche or convention")  # the importer checked it
    convention_id = None
    if data.get("convention") is not None:
        convention_id = session.scalars(select(Convention.id).where(Convention.reference == data["convention"])).one()
    values = {"axe": data.get("axe"), "fiche": data.get("fiche"), "convention_id": convention_id,
              **{name: data[name] for name in FIGURES}, "foyers_rsa": data.get("foyers_rsa"),
              "commentaire": data.get("commentaire")}
    found = session.scalar(select(Realisation).where(
        Realisation.departement_id == departement.id, Realisation.annee == data["annee"], Realisation.cible == cible))
    if found is None:
        found = Realisation(departement_id=departement.id, annee=data["annee"], cible=cible, **values)
        session.add(found)
        return found, "cree"
    return found, "modifie" if _assign(found, values) else "inchange"
