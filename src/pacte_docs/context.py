"""What a template sees: the documented context built from the registry for each document."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

from pacte_docs import dates, registry
from pacte_docs.formatting import typographie
from pacte_docs.models import Convention, Departement, Partenaire

# Article and short name by the first word of a partner's name, for "entre le Département et …".
_FEMININE = {"ville", "commune", "préfecture", "prefecture", "région", "region", "caisse", "mission",
             "maison", "direction", "communauté", "communaute", "métropole", "metropole", "chambre"}
_ELIDED = {"association", "agence", "état", "etat", "établissement", "etablissement", "union", "office"}
_NO_ARTICLE = {"france", "pôle", "pole"}

APPELLATION = {
    "commune": "la commune",
    "ccas": "le CCAS",
    "cias": "le CIAS",
    "caf": "la CAF",
    "prefecture": "l'État",
    "region": "la Région",
    "association": "l'association",
    "siae": "la structure",
    "autre": "le partenaire",
}


def designation(nom: str) -> str:
    """'CCAS de Sceaux' → 'le CCAS de Sceaux'; 'Ville de Clichy' → 'la Ville de Clichy'."""
    first = nom.split(" ")[0].split("'")[0].lower()
    if first in _NO_ARTICLE or first in {"le", "la", "les", "l"}:
        return nom
    if first in _ELIDED:
        return "l'" + nom
    return ("la " if first in _FEMININE else "le ") + nom


def _feminine(article_phrase: str) -> bool:
    return article_phrase.startswith("la ")


def partenaire_context(p: Partenaire, on: dt.date) -> dict[str, Any]:
    nom = p.nom
    if p.type == "france_travail":
        # Documents dated before 1 January 2024 name the operator Pôle emploi (loi n° 2023-1196).
        operator = dates.operateur_emploi(on)
        nom = nom.replace("France Travail", operator) if operator == "Pôle emploi" else nom.replace(
            "Pôle emploi", operator)
    desig = designation(nom)
    appellation = dates.operateur_emploi(on) if p.type == "france_travail" else APPELLATION.get(p.type, "le partenaire")
    feminine = _feminine(desig) if p.type != "france_travail" else False
    civilite = p.representant_civilite or ""
    return {
        "code": p.code,
        "type": p.type,
        "nom": nom,
        "designation": desig,
        "appellation": appellation,
        "de_appellation": _de(appellation),
        "a_designation": _a(desig),
        "represente": "représentée" if feminine else "représenté",
        "commune": p.commune,
        "code_insee": p.code_insee,
        "siret": p.siret,
        "adresse": p.adresse,
        "email": p.email,
        "representant": {
            "civilite": civilite,
            "nom": p.representant_nom,
            "qualite": p.representant_qualite,
            "e": "e" if civilite.lower().startswith(("mme", "madame", "mlle")) else "",
        },
    }


def _de(phrase: str) -> str:
    """'le CCAS' → 'du CCAS'; 'la commune' → 'de la commune'; "l'État" → "de l'État"."""
    if phrase.startswith("le "):
        return "du " + phrase[3:]
    return "de " + phrase


def _a(phrase: str) -> str:
    """'le CCAS de Sceaux' → 'au CCAS de Sceaux'; 'la Ville' → 'à la Ville'."""
    if phrase.startswith("le "):
        return "au " + phrase[3:]
    return "à " + phrase


def departement_context(d: Departement) -> dict[str, Any]:
    civilite = d.president_civilite or ""
    return {
        "code": d.code,
        "nom": d.nom,
        "designation": designation(d.nom),
        "direction": d.direction,
        "adresse": d.adresse,
        "ville": d.ville,
        "president": {
            "civilite": civilite,
            "nom": d.president_nom,
            "qualite": d.president_qualite,
            "e": "e" if civilite.lower().startswith(("mme", "madame")) else "",
        },
    }


def convention_context(c: Convention) -> dict[str, Any]:
    """The documented context of a convention document (see `pacte modeles verifier`)."""
    document_date = c.date_signature or c.deliberation_date or c.date_effet
    fin = dates.fin_periode(c.date_effet, c.duree_mois)
    montant_fse = (c.montant * c.taux_fse).quantize(Decimal("0.01")) if c.montant and c.taux_fse else None
    partenaires = [partenaire_context(p, document_date) for p in c.partenaires]
    objectifs = {key: c.objectifs.get(key) for key in OBJECTIFS} | dict(c.objectifs)
    shown: dict[str, Any] = typographie({
        "departement": departement_context(c.departement),
        "partenaires": partenaires,
        "partenaire": partenaires[0],
        "operateur": dates.operateur_emploi(document_date),
        "avant_france_travail": document_date < dates.FRANCE_TRAVAIL_SINCE,
        "convention": {
            "reference": c.reference,
            "type": c.type,
            "objet": c.objet,
            "deliberation": {
                "instance": c.deliberation_instance,
                "numero": c.deliberation_numero,
                "date": c.deliberation_date,
            },
            "date_signature": c.date_signature,
            "date_effet": c.date_effet,
            "fin_periode": fin,
            "date_limite": dates.date_limite(fin, c.preavis_mois, c.renouvellement),
            "duree_mois": c.duree_mois,
            "renouvellement": c.renouvellement,
            "renouvellements_max": c.renouvellements_max,
            "preavis_mois": c.preavis_mois,
            "responsable": {"nom": c.responsable_nom, "email": c.responsable_email},
            "territoire": c.territoire,
            "montant": c.montant,
            "taux_fse": c.taux_fse,
            "montant_fse": montant_fse,
            "montant_departement": (c.montant - montant_fse) if c.montant and montant_fse else c.montant,
            "engagements_departement": list(c.engagements_departement or []),
            "engagements_partenaire": list(c.engagements_partenaire or []),
            "actions": [{key: a.get(key) for key in ACTION_FIELDS} for a in c.actions or []],
            "objectifs": objectifs,
            "exemplaires": 1 + len(partenaires),
            "renouvellements": _renouvellements(c),
        },
    })
    return shown


OBJECTIFS = ("entrees", "dont_brsa", "conseillers", "travailleurs_sociaux", "duree_accompagnement_mois")
ACTION_FIELDS = ("intitule", "public", "indicateur", "cible")


def fingerprint(context: dict[str, Any]) -> str:
    """A stable hash of what a document shows, to skip documents whose data did not change."""
    canonical = json.dumps(context, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _renouvellements(c: Convention) -> list[dict[str, Any]]:
    """Recorded express renewals with the period each opened (recorded data only, never today's date)."""
    if c.renouvellement != "expresse" or not c.renouvellements:
        return []
    chain = dates.periodes(registry.faits(c), c.date_effet)  # express periods depend on recorded decisions only
    return [{"numero": r.numero, "date": r.date, "deliberation": r.deliberation_numero,
             "debut": period.debut, "fin": period.fin}
            for r, period in zip(c.renouvellements, chain[1:], strict=False)]


def avenant_context(c: Convention, numero: int, objet: str, date: dt.date | None,
                    nouvelle_fin: dt.date | None) -> dict[str, Any]:
    """The documented context of an avenant: the convention's, plus the avenant itself."""
    result = convention_context(c)
    result["avenant"] = {"numero": numero, "objet": objet, "date": date, "nouvelle_fin": nouvelle_fin}
    return result


def sample_convention() -> Convention:
    """A convention with every field filled, used to document and check the templates' variables."""
    dep = Departement(code="92", nom="Département des Hauts-de-Seine", direction="Direction de l'insertion",
                      adresse="2-16, boulevard Soufflot, 92015 Nanterre Cedex", ville="Nanterre",
                      president_civilite="M.", president_nom="Prénom Nom",
                      president_qualite="Président du Conseil départemental")
    partner = Partenaire(code="CCAS-EXEMPLE", type="ccas", nom="CCAS d'Exemple", commune="Exemple",
                         code_insee="92000", siret="26920071000011", adresse="1, place de la Mairie",
                         representant_civilite="Mme", representant_nom="Prénom Nom",
                         representant_qualite="Vice-présidente du CCAS", email="ccas@exemple.fr")
    convention = Convention(
        reference="CCAS-2024-001", type="ccas", modele=None, objet="Objet de la convention.",
        deliberation_instance="Commission permanente", deliberation_numero="CP-1",
        deliberation_date=dt.date(2024, 4, 22), date_signature=dt.date(2024, 5, 15),
        date_effet=dt.date(2024, 6, 1), duree_mois=36, renouvellement="expresse", renouvellements_max=1,
        preavis_mois=3, responsable_nom="Prénom Nom", responsable_email="agent@exemple.fr", territoire="Exemple",
        montant=Decimal("1000.00"), taux_fse=Decimal("0.5"), engagements_departement=["…"],
        engagements_partenaire=["…"], actions=[dict.fromkeys(ACTION_FIELDS, "…")],
        objectifs=dict.fromkeys(OBJECTIFS, 1),
    )
    convention.departement = dep
    from pacte_docs.models import ConventionPartenaire

    convention.liens = [ConventionPartenaire(partenaire=partner, rang=0)]
    return convention


def documented_context(kind: str) -> dict[str, Any]:
    """The context every template of *kind* may use, filled with sample values."""
    sample = sample_convention()
    if kind == "avenant":
        return avenant_context(sample, 1, "Objet de l'avenant.", dt.date(2025, 1, 1), dt.date(2028, 5, 31))
    return convention_context(sample)


def leaf_paths(value: Any, prefix: str = "") -> list[str]:
    """'convention.deliberation.numero', … for every leaf of a context."""
    if isinstance(value, dict):
        paths: list[str] = []
        for name, child in value.items():
            paths.extend(leaf_paths(child, f"{prefix}{name}."))
        return paths
    return [prefix.rstrip(".")]
