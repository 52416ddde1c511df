"""What a template sees: the documented context built from the registry for each document."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml
from num2words import num2words

from pacte_docs.formatting import (
    LABELS,
    date_longue,
    effectif,
    en_lettres,
    evolution,
    moment_long,
    montant,
    nombre,
    points,
    pourcentage,
    typographie,
)
from pacte_docs.kinds import ArticleChange
from pacte_docs.registry import queries
from pacte_docs.registry.models import (
    Axe,
    Convention,
    Departement,
    FicheAction,
    Pacte,
    PacteCosignataire,
    Partenaire,
    Renouvellement,
)
from pacte_docs.rules import aggregation, periods, pieces, subventions, visas
from pacte_docs.rules.circuit import named
from pacte_docs.rules.revisions import Version, as_objects, fiche_key, first_version

# Article and short name by the first word of a partner's name, for "entre le Département et …".
_FEMININE = {"ville", "commune", "préfecture", "prefecture", "région", "region", "caisse", "mission",
             "maison", "direction", "communauté", "communaute", "métropole", "metropole", "chambre",
             "commission"}
_ELIDED = {"association", "agence", "état", "etat", "établissement", "etablissement", "union", "office",
           "assemblée", "assemblee"}
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


_FEMININE_ELIDED = {"association", "agence", "union", "assemblée", "assemblee", "entreprise", "école", "ecole"}


def _feminine(article_phrase: str) -> bool:
    """Whether « représenté » agrees in the feminine: « la Ville de … », « l'Association … »."""
    if article_phrase.startswith("la "):
        return True
    first = article_phrase.removeprefix("l'").split(" ")[0].lower()
    return article_phrase.startswith("l'") and first in _FEMININE_ELIDED


def partenaire_context(p: Partenaire, on: dt.date) -> dict[str, Any]:
    nom = p.nom
    if p.type == "france_travail":
        # Documents dated before 1 January 2024 name the operator Pôle emploi (loi n° 2023-1196).
        operator = periods.operateur_emploi(on)
        nom = nom.replace("France Travail", operator) if operator == "Pôle emploi" else nom.replace(
            "Pôle emploi", operator)
    desig = designation(nom)
    appellation = (periods.operateur_emploi(on) if p.type == "france_travail"
                   else APPELLATION.get(p.type, "le partenaire"))
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
        # the body whose délibération authorises the partner's representative: « du conseil d'administration du
        # CCAS », named in the visas with a number and a date to fill in when the registry does not give them
        "deliberant": _deliberant(p.type, appellation),
        "represente": "représentée" if feminine else "représenté",
        "formule_appel": formule_appel(civilite, p.representant_qualite),
        "representation": representation("représentée" if feminine else "représenté", civilite,
                                         p.representant_nom, p.representant_qualite, p.type,
                                         delegation=_partner_delegation(p, periods.operateur_emploi(on))),
        "commune": p.commune,
        "code_insee": p.code_insee,
        "siret": p.siret,
        "qualification": None,
        "adresse": p.adresse,
        "email": p.email,
        "representant": {
            "civilite": civilite,
            "nom": p.representant_nom,
            "qualite": p.representant_qualite,
            "e": "e" if civilite.lower().startswith(("mme", "madame", "mlle")) else "",
            "nom_complet": full_name(civilite, p.representant_nom),
            # « Pour le Président du CCAS et par délégation, » above the delegate's office on a signature block
            "par_delegation": _pour_delegant(_partner_delegation(p, periods.operateur_emploi(on))),
            "delegation": str(_partner_delegation(p, periods.operateur_emploi(on)) or "") or None,
        },
    }


def _deliberant(type_: str, appellation: str) -> str:
    """The deliberating body of a partner of this type, as a visa names it (« du conseil municipal »)."""
    if type_ == "commune":
        return "du conseil municipal"
    if type_ == "region":
        return "de la commission permanente du conseil régional"
    return f"du conseil d'administration {_de(appellation)}"


@dataclass(frozen=True)
class Delegation:
    """Who signs for whom, and by which act: « agissant par délégation du Président du CCAS en vertu de
    l'arrêté n° 2025-12 du 3 mars 2025 »; an act the registry does not know is a blank to fill by hand."""

    delegant: str  # the office delegating, with its article: « le Président du CCAS »
    acte: str  # « arrêté », « décision »
    numero: str | None = None
    date: dt.date | None = None

    def __str__(self) -> str:
        numero = self.numero or BLANK
        date = date_longue(self.date) if self.date else BLANK
        return f"agissant par délégation {_de(self.delegant)} en vertu de l'{self.acte} n° {numero} du {date}" \
            if self.acte[0] in "aeiou" else \
            f"agissant par délégation {_de(self.delegant)} en vertu de la {self.acte} n° {numero} du {date}"


def _with_article(office: str) -> str:
    """« Président du CCAS » → « le Président du CCAS »; « Présidente … » → « la Présidente … »."""
    office = office.strip()
    if office.lower().startswith(("le ", "la ", "l'", "l’")):
        return office[:1].lower() + office[1:]
    first = office.split(" ")[0].lower()
    return ("la " if first in ("présidente", "vice-présidente", "directrice") else "le ") + office


def _partner_delegation(p: Partenaire, operateur: str = "France Travail") -> Delegation | None:
    """The delegation a partner's representative signs by: the one the registry records, else the one the office
    implies (a CCAS vice-président for the président, a France Travail director for the directeur général)."""
    if p.delegation_delegant or p.delegation_numero or p.delegation_date:
        default = {"ccas": "Président du CCAS", "cias": "Président du CIAS",
                   "france_travail": f"Directeur général {_de(designation(operateur))}"}.get(p.type,
                                                                                           "représentant légal")
        return Delegation(_with_article(p.delegation_delegant or default),
                          "décision" if p.type == "france_travail" else "arrêté", p.delegation_numero,
                          p.delegation_date)
    if not _by_delegation(p.type, p.representant_qualite):
        return None
    if p.type == "france_travail":
        return Delegation(f"le Directeur général {_de(designation(operateur))}", "décision")
    return Delegation("le Président du " + ("CIAS" if p.type == "cias" else "CCAS"), "arrêté")


def _pour_delegant(delegation: Delegation | None) -> str:
    return f"Pour {delegation.delegant} et par délégation," if delegation is not None else ""


BLANK = "……………………"  # a blank the signatories fill by hand


_TITLED = re.compile(r"(m\.|mme|mlle|madame|monsieur|mademoiselle)(\s|$)", re.IGNORECASE)


def _titled(civilite: str, nom: str) -> str:
    """« Mme » and the name, once: a name typed « Mme Durand » keeps its own civility (never « Mme Mme Durand »)."""
    nom = nom.strip()
    return nom if _TITLED.match(nom) else " ".join(filter(None, [civilite.strip(), nom]))


def full_name(civilite: str, nom: str | None) -> str:
    """« Mme Nadia Ferhat » under a signature; nothing (a line to sign and write on) when no one is named, never
    a lone « M. »."""
    return _titled(civilite, nom) if nom and nom.strip() else ""


def representation(represente: str, civilite: str, nom: str | None, qualite: str | None,
                   type_: str = "autre", habilite_a: str = "à cet effet",
                   delegation: Delegation | None = None) -> str:
    """« représentée par Mme Nadia Ben Amar, Vice-présidente du CCAS, agissant par délégation, dûment habilitée à
    cet effet »; by the office alone when the person is not named (« représenté par le Préfet de l'Essonne »); a
    blank to fill by hand where neither is known, never « représenté par , , ».
    A CCAS or CIAS is chaired by the maire: a vice-président signs by delegation (DOMAIN.md, « Since 2024 »)."""
    who, known = signatory(civilite, nom, qualite)
    e = "e" if _madame(civilite) else ""
    habilite = f"dûment habilité{e if known else '(e)'} {habilite_a}"
    function = qualite.strip() if qualite and qualite.strip() else None
    acting = str(delegation) if delegation is not None else (
        "agissant par délégation" if _by_delegation(type_, function) else None)
    parts = [f"{represente} par {who}", acting, habilite]
    return ", ".join(p for p in parts if p)


def _madame(civilite: str) -> bool:
    return civilite.strip().lower().rstrip(".") in ("mme", "madame", "mlle")


def signatory(civilite: str, nom: str | None, qualite: str | None) -> tuple[str, bool]:
    """Who signs, as an act names them, and whether their gender is known: « Mme Nadia Ferhat, Directrice
    territoriale des Hauts-de-Seine »; the office alone when no person is named (« le Préfet de l'Essonne »,
    « l'Adjointe au maire »); a blank to fill by hand, with the office if known, otherwise."""
    title = civilite.strip()
    function = qualite.strip() if qualite and qualite.strip() else None
    if nom and nom.strip():
        return ", ".join(filter(None, [_titled(title, nom), function])), bool(title)
    if function and title.lower().rstrip(".") in ("m", "monsieur", "mr", "mme", "madame", "mlle"):
        article = "l'" if _ELIDES_OFFICE.match(function) else ("la " if _madame(title) else "le ")
        return article + function, True
    return ", ".join(filter(None, [BLANK, function])), False


_ELIDES_OFFICE = re.compile(r"^[aeiouyhâàéèêëîïôöûüœAEIOUYHÂÀÉÈÊËÎÏÔÖÛÜŒ]")


def _by_delegation(type_: str, function: str | None) -> bool:
    """A CCAS or CIAS vice-président signs for its président (the maire); a France Travail director signs for its
    directeur général."""
    if not function:
        return False
    office = function.lower()
    if type_ in ("ccas", "cias"):
        return office.startswith("vice-président")
    if type_ == "france_travail":
        return not office.startswith(("directeur général", "directrice générale"))
    return False


# France Travail (Pôle emploi before 2024) is one legal person whatever its establishments: « l'institution
# publique mentionnée à l'article L. 5312-1 » (code du travail, L. 5311-2 and L. 5312-1).
OPERATEUR_QUALIFICATION = "institution nationale publique mentionnée à l'article L. 5312-1 du code du travail"


def parties(partners: list[Partenaire], on: dt.date) -> list[dict[str, Any]]:
    """The parties of an act dated *on*, as a lawyer lists them: each partner is one party, except France Travail,
    one legal person whose establishments (regional and territorial directions) form a single party with as many
    signatories. Each party has its ``signataires``."""
    contexts = [partenaire_context(p, on) for p in partners]
    establishments = [c for c in contexts if c["type"] == "france_travail"]
    result: list[dict[str, Any]] = []
    for c in contexts:
        if c["type"] != "france_travail":
            result.append(c | {"signataires": [c["representant"]]})
        elif c is establishments[0]:
            result.append(operateur_party(establishments, on))
    return result


def operateur_party(establishments: list[dict[str, Any]], on: dt.date) -> dict[str, Any]:
    """France Travail (or Pôle emploi) as one party acting through its *establishments*."""
    operateur = periods.operateur_emploi(on)
    where = [e["nom"] + (f" ({e['adresse']})" if e["adresse"] else "") for e in establishments
             if e["nom"] != operateur or e["adresse"]]
    named = [signatory(e["representant"]["civilite"], e["representant"]["nom"], e["representant"]["qualite"])
             for e in establishments]
    people = [who for who, _ in named]
    delegations = [e["representant"]["delegation"] for e in establishments if e["representant"]["delegation"]]
    known = all(gender_known for _, gender_known in named)
    e_ = ("e" if all(e["representant"]["e"] for e in establishments) else "") if known else "(e)"
    s = "s" if len(establishments) > 1 else ""
    representation = ", ".join(filter(None, [
        "représenté par " + ", et par ".join(people),
        (delegations[0] if len(establishments) == 1 else "agissant chacun par délégation du Directeur général "
         + _de(designation(operateur))) if delegations else None,
        f"dûment habilité{e_}{s} à cet effet"]))
    qualification = OPERATEUR_QUALIFICATION + (", pour " + " et ".join(where) if where else "")
    first = establishments[0]
    return first | {
        "code": "+".join(e["code"] for e in establishments),
        "nom": operateur,
        "designation": operateur,
        "a_designation": _a(operateur),
        "appellation": operateur,
        "de_appellation": _de(operateur),
        "represente": "représenté",
        "representation": representation,
        "qualification": qualification,
        "adresse": None,
        "siret": None,
        "etablissements": [e["nom"] for e in establishments],
        "signataires": [e["representant"] for e in establishments],
    }


def signataires(parties_: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One signature line per signatory, « Pour … » on the first line of each party, and « Pour le Président du
    CCAS et par délégation, » above a delegate's office."""
    return [r | {"pour": f"Pour {p['designation']}," if i == 0 else "",
                 # « Pour le Président du CCAS et par délégation, » in the office's lines, not in the party's
                 "qualite": _office_lines(r.get("par_delegation") or "", r.get("qualite") or "")}
            for p in parties_ for i, r in enumerate(p["signataires"])]


def _office_lines(by_delegation: str, office: str) -> str | None:
    """The lines above a signatory's name (the template adds the final comma)."""
    lines = [line for line in (by_delegation, office.strip()) if line]
    return "\n".join(lines).removesuffix(",") or None


def formule_appel(civilite: str, qualite: str | None) -> str:
    """How a letter addresses a representative: « Madame la Vice-présidente », « Monsieur le Maire »; « Madame,
    Monsieur » when the person is unknown."""
    title = civilite.strip().lower().rstrip(".")
    madame = title in ("mme", "madame", "mlle")
    if not (madame or title in ("m", "monsieur", "mr")):
        return "Madame, Monsieur"
    appel = "Madame" if madame else "Monsieur"
    if not qualite:
        return appel
    # « Vice-présidente du CCAS » → « la Vice-présidente » ; « Directeur territorial de … » → « le Directeur
    # territorial »
    function = qualite.strip()
    for cut in (" du ", " de la ", " de l'", " de l’", " des ", " de ", " d'", " d’"):
        function = function.split(cut)[0]
    function = function[:1].upper() + function[1:]
    return f"{appel} {'la' if madame else 'le'} {function}"


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


def departement_delegation(d: Departement) -> Delegation | None:
    """The delegation by which a vice-président signs for the Président (CGCT, L. 3221-3), if the registry
    names a signatory."""
    if not (d.signataire_nom or d.signataire_qualite):
        return None
    return Delegation(_with_article(d.president_qualite or "Président du Conseil départemental"), "arrêté",
                      d.delegation_numero, d.delegation_date)


def departement_context(d: Departement) -> dict[str, Any]:
    civilite = d.president_civilite or ""
    delegation = departement_delegation(d)
    if delegation is None:
        signature = {"pour": "", "qualite": d.president_qualite or "Le Président du Conseil départemental",
                     "nom_complet": full_name(civilite, d.president_nom), "nom": d.president_nom}
        represented = representation("représenté", civilite, d.president_nom, d.president_qualite, habilite_a="")
    else:
        office = (d.signataire_qualite or "").strip()
        signature = {"pour": _pour_delegant(delegation) + "\n",
                     "qualite": (office[:1].upper() + office[1:]) if office else "Le Vice-président",
                     "nom_complet": full_name(d.signataire_civilite or "", d.signataire_nom),
                     "nom": d.signataire_nom}
        represented = representation("représenté", d.signataire_civilite or "", d.signataire_nom,
                                     d.signataire_qualite, habilite_a="", delegation=delegation)
    return {
        "code": d.code,
        "nom": d.nom,
        "designation": designation(d.nom),
        "de_designation": _de(designation(d.nom)),
        # « représenté par M. …, Président du Conseil départemental, dûment habilité » — the act says to what
        "representation": represented.rstrip(),
        # who signs the acts, as the signature block gives them: the Président, or for him a vice-président
        "signature": signature,
        "delegation": None if delegation is None else {
            "numero": d.delegation_numero, "date": d.delegation_date,
            "visa": f"l'arrêté n° {d.delegation_numero or BLANK} du "
                    f"{date_longue(d.delegation_date) if d.delegation_date else BLANK} portant délégation de "
                    f"fonction {_a(signatory(d.signataire_civilite or '', d.signataire_nom, d.signataire_qualite)[0])}"
                    if d.signataire_nom else
                    f"l'arrêté n° {d.delegation_numero or BLANK} du "
                    f"{date_longue(d.delegation_date) if d.delegation_date else BLANK} portant délégation de fonction"},
        "direction": d.direction,
        "adresse": d.adresse,
        "ville": d.ville,
        "president": {
            "civilite": civilite,
            "nom": d.president_nom,
            "qualite": d.president_qualite,
            "e": "e" if civilite.lower().startswith(("mme", "madame")) else "",
            "nom_complet": full_name(civilite, d.president_nom),
        },
    }


@dataclass(frozen=True)
class Blank:
    """A blank of an act (« …………………… ») and the place of the import that fills it: a sheet (or CSV file) and
    its column, the row of which record, and the same field in YAML."""

    what: str  # « la date de la délibération »
    section: str  # the sheet: departement, partenaires, conventions
    field: str  # nested with dots, as YAML writes it: deliberation.date
    row: str | None = None  # the record's key: a reference, a partner's code

    def __str__(self) -> str:
        column = self.field.replace(".", "_")
        row = f", ligne {'de la convention' if self.section == 'conventions' else 'du partenaire'} {self.row}" \
            if self.row else ""
        return (f"{self.what} : feuille « {self.section} », colonne « {column} »{row} (YAML : {self.section} › "
                f"{self.field.replace('.', ' › ')})")


def blanks(ctx: dict[str, Any]) -> list[Blank]:
    """What a convention's text leaves blank (« …………………… ») for lack of data, for the signatories to fill by
    hand: `generer` names them, and where to fill them in, so that a draft sent for signature is never
    incomplete without anyone knowing."""
    found = []
    departement = ctx.get("departement") or {}
    convention = ctx.get("convention") or {}
    signature = departement.get("signature") or {}
    if not signature.get("nom"):
        delegated = bool(signature.get("pour"))
        found.append(Blank("le nom du signataire du Département" if delegated else
                           "le nom du représentant du Département", "departement",
                           "signataire.nom" if delegated else "president.nom"))
    if not (convention.get("deliberation") or {}).get("date"):
        found.append(Blank("la date de la délibération", "conventions", "deliberation.date",
                           convention.get("reference")))
    for partner in ctx.get("partenaires") or []:
        if not (partner.get("representant") or {}).get("nom"):
            found.append(Blank(f"le représentant {_de(partner.get('designation') or partner.get('nom') or '')}",
                               "partenaires", "representant.nom", partner.get("code")))
    if not departement.get("ville"):
        found.append(Blank("la ville où l'acte est signé", "departement", "ville"))
    return found


@functools.lru_cache(maxsize=1)
def legal_texts() -> tuple[visas.Texte, ...]:
    """The dated table of legal texts the visas cite (donnees/textes.yaml)."""
    raw = yaml.safe_load((resources.files("pacte_docs") / "donnees" / "textes.yaml").read_text("utf-8"))
    return tuple(visas.Texte(cle=e["cle"], visa=" ".join(str(e["visa"]).split()), depuis=e.get("depuis"),
                             jusqu_au=e.get("jusqu_au"), types=tuple(e.get("types", ())), cas=tuple(e.get("cas", ())),
                             remplace=e.get("remplace"))
                 for e in raw)


@functools.lru_cache(maxsize=1)
def piece_kinds() -> tuple[pieces.Sorte, ...]:
    """The table of the documents partners owe (donnees/pieces.yaml)."""
    raw = yaml.safe_load((resources.files("pacte_docs") / "donnees" / "pieces.yaml").read_text("utf-8"))
    return tuple(pieces.Sorte(cle=e["cle"], libelle=" ".join(str(e["libelle"]).split()), court=e["court"],
                              cas=e["cas"], mois=int(e["mois"]), source=" ".join(str(e["source"]).split()),
                              fin_operation=bool(e.get("fin_operation", False)))
                 for e in raw)


# The contrat d'engagement républicain an association subscribes to when it asks for a subsidy (loi n° 2000-321,
# art. 10-1, created by loi n° 2021-1109, art. 12), in the model approved by décret n° 2021-1947 (JO of 1 January
# 2022): an act cites it from the day after.
ENGAGEMENT_REPUBLICAIN_SINCE = dt.date(2022, 1, 2)


def annuites(c: Convention) -> list[dict[str, Any]]:
    """The yearly breakdown of a subsidy as the act writes it (rules.subventions.annuites)."""
    if not c.montant:
        return []
    return [{"rang": a.rang, "ordinal": "première" if a.rang == 1 else num2words(a.rang, lang="fr", to="ordinal"),
             "debut": a.debut, "fin": a.fin, "exercice": a.exercice, "montant": a.montant,
             "sous_reserve": a.sous_reserve}
            for a in subventions.annuites(c.montant, c.date_effet, c.duree_mois)]


def owed_in_act(kinds: list[pieces.Sorte], fin: dt.date) -> list[dict[str, Any]]:
    """The documents an act lists, grouped by when they are due: [{delai, liste: [{cle, libelle, court}]}]."""
    groups: dict[str, list[dict[str, str]]] = {}
    for k in kinds:
        groups.setdefault(k.delai(fin), []).append({"cle": k.cle, "libelle": k.libelle, "court": k.court})
    return [{"delai": delai, "liste": liste} for delai, liste in groups.items()]


def grants_subsidy(c: Convention) -> bool:
    """Whether the convention grants an association a subsidy: its act is then a convention attributive de
    subvention (modeles/convention_subvention.docx unless it names another template)."""
    return bool(c.montant) and c.type != "france_travail" and any(p.type == "association" for p in c.partenaires)


def act_case(c: Convention, on: dt.date) -> visas.Cas:
    """What decides the visas of an act of convention *c* dated *on*."""
    return visas.Cas(on, c.type, visas.situations(
        france_travail=any(p.type == "france_travail" for p in c.partenaires), taux_fse=c.taux_fse,
        association=any(p.type == "association" for p in c.partenaires), montant=c.montant,
        duree_mois=c.duree_mois, delegation=departement_delegation(c.departement) is not None))


def unnamed_signatories(c: Convention, nature: str = "convention") -> list[str]:
    """The signatories of an act of convention *c* whose name the registry does not give: a decision carries the
    first name, name and quality of its signatory (code des relations entre le public et l'administration,
    L. 212-1), so the act stays a « PROJET » until they are known. The letter of dénonciation is signed by the
    Département alone; a convention, an avenant and a renewal by every party."""
    d = c.departement
    missing = []
    if departement_delegation(d) is not None:
        if not (d.signataire_nom or "").strip():
            missing.append("le nom du signataire du Département")
    elif not (d.president_nom or "").strip():
        missing.append("le nom du représentant du Département")
    if nature not in ("denonciation", "relance"):  # letters the Département alone signs
        missing += [f"le nom du représentant {_de(designation(p.nom))}" for p in c.partenaires
                    if not (p.representant_nom or "").strip()]
    return missing


def act_gaps(c: Convention, nature: str) -> list[str]:
    """What an act needs before it is signed and frozen: its signatories' names (`unnamed_signatories`), then,
    for the letter of dénonciation, the number and date of the délibération whose decision it notifies."""
    gaps = unnamed_signatories(c, nature)
    if nature == "denonciation" and not (c.denonciation_deliberation_numero and c.denonciation_deliberation_date):
        gaps.append("le numéro et la date de la délibération qui décide la dénonciation")
    return gaps


def convention_context(c: Convention, on: dt.date | None = None) -> dict[str, Any]:
    """The documented context of a convention document (see `pacte modeles verifier`), as of the act's date *on*
    (by default the convention's own: its signature, else its délibération, else its effect). It holds what the
    parties agreed, never a later decision: each decision is an act of its own."""
    document_date = on or c.date_signature or c.deliberation_date or c.date_effet
    fin = periods.fin_periode(c.date_effet, c.duree_mois)
    montant_fse = (c.montant * c.taux_fse).quantize(Decimal("0.01")) if c.montant and c.taux_fse else None
    partenaires = parties(list(c.partenaires), document_date)
    objectifs = {key: c.objectifs.get(key) for key in OBJECTIFS} | dict(c.objectifs)
    case = act_case(c, document_date)
    departement = departement_context(c.departement)
    delegated = [departement["delegation"]["visa"]] if departement["delegation"] else []
    shown: dict[str, Any] = typographie({
        "visas": [t.visa for t in visas.select(legal_texts(), case)] + delegated,
        "departement": departement,
        "partenaires": partenaires,
        "partenaire": partenaires[0],
        "signataires": signataires(partenaires),
        "operateur": periods.operateur_emploi(document_date),
        "avant_france_travail": document_date < periods.FRANCE_TRAVAIL_SINCE,
        # From 1 January 2025 the contrat d'engagement replaces the CER and the PPAE (loi n° 2023-1196).
        "contrat_engagement": document_date >= periods.CONTRAT_ENGAGEMENT_SINCE,
        "convention": {
            "reference": c.reference,
            "type": c.type,
            "objet": c.objet,
            "deliberation": {
                "instance": c.deliberation_instance,
                "numero": c.deliberation_numero,
                "date": c.deliberation_date,
            },
            # The partner's own délibération, when known: « du conseil d'administration du CCAS de Sceaux »
            "deliberation_partenaire": {
                "de_instance": (_de(designation(c.deliberation_partenaire_instance))
                                if c.deliberation_partenaire_instance else None),
                "numero": c.deliberation_partenaire_numero,
                "date": c.deliberation_partenaire_date,
            },
            "date_signature": c.date_signature,
            # « en un original électronique signé par chacune des parties », not « en N exemplaires originaux »
            "original_electronique": bool(c.signature_electronique),
            # an act cites a text from its date of application only (the RGPD from 25 May 2018)
            "rgpd": document_date >= periods.RGPD_SINCE,
            # « PROJET » on each page: not signed yet, or a signatory the act cannot name (CRPA, L. 212-1)
            "projet": c.date_signature is None or bool(unnamed_signatories(c)),
            "date_effet": c.date_effet,
            "fin_periode": fin,
            "date_limite": periods.date_limite(fin, c.preavis_mois, c.renouvellement),
            "duree_mois": c.duree_mois,
            "renouvellement": c.renouvellement,
            "renouvellements_max": c.renouvellements_max,
            "preavis_mois": c.preavis_mois,
            "responsable": {"nom": c.responsable_nom, "email": c.responsable_email},
            "territoire": c.territoire,
            "montant": c.montant,
            "taux_fse": c.taux_fse,
            "fse_accorde_le": c.fse_accorde_le,  # None: the co-funding is requested (« sollicité »), not granted
            "montant_fse": montant_fse,
            "montant_departement": (c.montant - montant_fse) if c.montant and montant_fse else c.montant,
            "engagements_departement": list(c.engagements_departement or []),
            "engagements_partenaire": list(c.engagements_partenaire or []),
            "actions": [{key: a.get(key) for key in ACTION_FIELDS} for a in c.actions or []],
            "versements": [{"montant": v.montant, "part": v.part, "quand": v.quand}
                           for v in (subventions.echeancier(list(c.versements or []), c.montant)
                                     if c.montant else [])],
            "imputation": c.imputation,
            "avec_association": "association" in {p.type for p in c.partenaires},
            "objectifs": objectifs,
            "exemplaires": 1 + len(partenaires),
            "intitule": INTITULES["subvention"] if grants_subsidy(c) else INTITULES.get(c.type, INTITULES["autre"]),
            "cofinancement_fse": "fse" in case.situations,
            "subvention_association": "subvention_association" in case.situations,
            "annuites": annuites(c),
            # what the partner owes in return, by when: the act lists what `pacte pieces` follows
            "pieces": owed_in_act(pieces.kinds(piece_kinds(), case.situations), fin),
            "engagement_republicain": "subvention" in case.situations
            and document_date >= ENGAGEMENT_REPUBLICAIN_SINCE,
        },
    })
    return shown


# The one line that names a convention in a later act (its object is a clause, not a title).
INTITULES = {
    "ccas": "convention de partenariat pour l'accompagnement social et l'insertion des publics fragiles",
    "france_travail": "convention de partenariat relative à l'accompagnement global des demandeurs d'emploi",
    "autre": "convention de partenariat",
    "subvention": "convention attributive de subvention pour des actions d'insertion",
}
OBJECTIFS = ("entrees", "dont_brsa", "conseillers", "travailleurs_sociaux", "duree_accompagnement_mois")
ACTION_FIELDS = ("intitule", "public", "indicateur", "cible")


def fingerprint(context: dict[str, Any]) -> str:
    """A stable hash of what a document shows, to skip documents whose data did not change."""
    canonical = json.dumps(context, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def avenant_context(c: Convention, numero: int, objet: str, date: dt.date | None,
                    nouvelle_fin: dt.date | None, deliberation: str | None = None,
                    date_deliberation: dt.date | None = None,
                    modifications: list[dict[str, str]] | None = None,
                    titles: dict[str, str] | None = None) -> dict[str, Any]:
    """The documented context of an avenant: the convention's, plus the avenant itself, its délibération and the
    new wording of each article it changes, named by its number and its title in the convention (*titles*:
    « L'article 4 « Actions conjointes » est complété par l'alinéa suivant : « … » »)."""
    result = convention_context(c)
    changes: list[dict[str, Any]] = [
        m | {"formule": ArticleChange(m["mode"]).formule,
             "titre": (titles or {}).get("1" if m["article"] == "1er" else m["article"])}
        for m in modifications or []]
    stipulates = bool(changes) or nouvelle_fin is not None
    result["avenant"] = typographie({
        "projet": date is None or bool(unnamed_signatories(c, "avenant")),
        "numero": numero, "objet": objet, "date": date, "nouvelle_fin": nouvelle_fin, "modifications": changes,
        # when the avenant changes articles or the term, its article 1 says what it changes, and nothing else;
        # the object typed by the user becomes the exposé of its reasons
        "expose": expose(objet) if stipulates else None,
        "article_1": changes_summary(changes, nouvelle_fin) if stipulates else objet,
        # the number of the avenant's own articles after those that change the convention's
        "article_duree": len(changes) + 2,
        "deliberation": {"instance": c.deliberation_instance or "Commission permanente", "numero": deliberation,
                         "date": date_deliberation},
    })
    return result


def expose(objet: str) -> str:
    """The exposé of an avenant's reasons, as the user typed them, whatever their form (a clause or a noun
    phrase), as a sentence under the template's heading « Exposé des motifs »: « Ajout d'une permanence
    numérique. »."""
    text = " ".join(objet.split()).rstrip(" ;")
    return f"{text[:1].upper()}{text[1:]}{'' if text.endswith(('.', '!', '?')) else '.'}"


def changes_summary(changes: list[dict[str, Any]], nouvelle_fin: dt.date | None) -> str:
    """Article 1 of an avenant: what it changes, and nothing else (« Le présent avenant a pour objet de
    compléter l'article 4 « Actions conjointes » de la convention et de porter son terme au … »)."""
    parts = []
    for m in changes:
        named = f"l'article {m['article']}" + (f" « {m['titre']} »" if m.get("titre") else "")
        verb = "compléter" if m["mode"] == "complete" else "modifier la rédaction de"
        parts.append(f"{verb} {named} de la convention")
    if nouvelle_fin is not None:
        parts.append(f"porter le terme de la convention au {date_longue(nouvelle_fin)}")
    joined = parts[0] if len(parts) == 1 else ", de ".join(parts[:-1]) + " et de " + parts[-1]
    return f"Le présent avenant a pour objet de {joined}."


def renouvellement_context(c: Convention, numero: int) -> dict[str, Any]:
    """The documented context of the act renewing a convention (express renewal *numero*), dated its decision."""
    recorded = next((r for r in c.renouvellements if r.numero == numero), None)
    if recorded is None:
        raise ValueError(f"{c.reference} has no renewal {numero}")
    chain = periods.periodes(queries.faits(c), c.date_effet)  # express periods depend on recorded decisions only
    period = chain[numero] if numero < len(chain) else chain[-1]
    result = convention_context(c, recorded.date)
    result["renouvellement"] = typographie({
        "projet": bool(unnamed_signatories(c, "renouvellement")),
        "numero": numero,
        "date": recorded.date,
        "deliberation": recorded.deliberation_numero,
        "debut": period.debut,
        "fin": period.fin,
        "duree_mois": c.duree_mois,
        "date_limite": period.date_limite,
        "restants": max(0, c.renouvellements_max - numero),
    })
    return result


def letter_context(c: Convention, day: dt.date) -> dict[str, Any]:
    """The context of a letter about convention *c* dated *day*: the convention's, its partners as addressees.
    A letter goes to an establishment's address, each of them named: the first receives it, the others a copy."""
    result = convention_context(c, day)
    establishments = typographie([partenaire_context(p, day) for p in c.partenaires])
    for establishment, partner in zip(establishments, c.partenaires, strict=True):
        # on an envelope, the street and the town on lines of their own
        if establishment["adresse"]:
            establishment["adresse"] = re.sub(r",\s*(?=\d{5}\s)", "\n", establishment["adresse"])
        if partner.delegation_delegant:  # the letter goes to the office that delegates, not to the delegate
            office = partner.delegation_delegant.strip()
            office = office[:1].upper() + office[1:]
            feminine = office.lower().startswith(("présidente", "directrice", "la "))
            establishment["representant"] = establishment["representant"] | {
                "civilite": "", "nom": None, "nom_complet": "", "qualite": office}
            establishment["formule_appel"] = formule_appel("Mme" if feminine else "M.", office)
    result["partenaire"], result["partenaires"] = establishments[0], establishments
    return result


def bordereau_context(c: Convention, day: dt.date, etapes: list[dict[str, Any]], circuit: list[str],
                      copie: dict[str, Any]) -> dict[str, Any]:
    """The documented context of the bordereau of a convention's signature, dated *day*: its visa *circuit* (the
    steps as pacte.toml names them), each step taken — {etape, par, quand (a timezone-aware datetime), avis,
    commentaire, version (SHA-256)} — and the signed copy ({fichier, sha256, verification, restant: the signatures
    still to be given})."""
    result = convention_context(c)
    result["bordereau"] = typographie({
        "date": day,
        "circuit": ", puis ".join(named(step) for step in circuit) if circuit else "aucun",
        "etapes": [{**e, "quand": moment_long(e["quand"]).removesuffix(" (heure de Paris)"),
                    "version": (e.get("version") or "")[:16]} for e in etapes],
        "copie": copie,
    })
    return result


def relance_context(c: Convention, numero: int, day: dt.date, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The documented context of reminder letter *numero* of a convention, dated *day*, for the documents *lines*
    its partner is late with ({piece, exercice, echeance, relances}): what the convention calls for, by when."""
    result = letter_context(c, day)
    result["relance"] = typographie({
        "projet": bool(act_gaps(c, "relance")),
        "numero": numero,
        "date": day,
        "pieces": [{"piece": line["piece"], "exercice": line["exercice"], "echeance": line["echeance"],
                    "deja_relancee": line["relances"] > 0} for line in lines],
        "subvention": grants_subsidy(c),
    })
    return result


def denonciation_context(c: Convention, articles: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The documented context of the registered letter that denounces a convention, dated its dénonciation;
    *articles*, the convention's articles (number, title) on its term and its dénonciation, which it cites."""
    if c.date_denonciation is None:
        raise ValueError(f"{c.reference} is not denounced")
    current = queries.situation(c, c.date_denonciation)
    result = letter_context(c, c.date_denonciation)
    result["denonciation"] = typographie({
        "projet": bool(act_gaps(c, "denonciation")),
        "date": c.date_denonciation,
        # the délibération whose decision the letter notifies: « n° ………… du ………… » until the registry has it
        "deliberation": {"instance": c.deliberation_instance or "Commission permanente",
                         "numero": c.denonciation_deliberation_numero, "date": c.denonciation_deliberation_date},
        # « aux articles 8 « Durée et renouvellement » et 10 « Dénonciation et résiliation » de la convention »
        "stipulations": _cited_articles(articles or []),
        "motif": c.motif_denonciation,
        "fin": current.periode.fin,
        "date_limite": current.date_limite,
        "dans_les_delais": c.date_denonciation <= current.date_limite,
    })
    return result


def _cited_articles(articles: list[tuple[str, str]]) -> str:
    if not articles:
        return "à ses stipulations relatives à sa durée et à sa dénonciation"
    named = [f"{'1er' if number == '1' else number} « {title} »" for number, title in articles]
    if len(named) == 1:
        return f"à son article {named[0]}"
    return f"à ses articles {', '.join(named[:-1])} et {named[-1]}"


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
        objectifs=dict.fromkeys(OBJECTIFS, 1), versements=["50 % à la signature", "le solde au bilan"],
        imputation="chapitre …, article …",
    )
    convention.departement = dep
    from pacte_docs.registry.models import ConventionPartenaire

    convention.liens = [ConventionPartenaire(partenaire=partner, rang=0)]
    return convention


def documented_context(kind: str) -> dict[str, Any]:
    """The context every template of *kind* may use, filled with sample values."""
    if kind == "pdi_pti":
        pacte, partners = sample_pacte()
        content = first_version(queries.pacte_record(pacte)["axes"])
        added = {**content[0]["fiches"][0], "numero": "1.2", "intitule": "Fiche ajoutée", "ajout": 1}
        content[0]["fiches"] = [{**content[0]["fiches"][0], "modifie": [1]}, added]
        revised = Version(1, "Assemblée départementale", "2025-01", dt.date(2025, 6, 30), "Objet.", content)
        return pacte_context(pacte, partners, pages={}, version=revised, revisions=[revised])
    if kind == "bilan_annuel":
        return sample_bilan_context()
    if kind == "point_etape":
        return sample_point_etape_context()
    if kind == "bilan_etape":
        return sample_bilan_etape_context()
    sample = sample_convention()
    if kind == "renouvellement":
        sample.renouvellements = [Renouvellement(numero=1, date=dt.date(2027, 3, 20), deliberation_numero="CP-2")]
        return renouvellement_context(sample, 1)
    if kind == "denonciation":
        sample.date_denonciation, sample.motif_denonciation = dt.date(2027, 1, 10), "Motif de la dénonciation."
        return denonciation_context(sample)
    if kind == "relance":
        return relance_context(sample, 2, dt.date(2027, 9, 1), [
            {"piece": "compte rendu financier", "exercice": 2026, "echeance": dt.date(2027, 6, 30), "relances": 1}])
    if kind == "bordereau":
        moment = dt.datetime(2027, 3, 2, 9, 30, tzinfo=dt.UTC)
        return bordereau_context(sample, dt.date(2027, 3, 2), [
            {"etape": "Soumission", "par": "Agent <agent@departement.fr>", "quand": moment, "avis": "",
             "commentaire": "", "version": "0" * 64}], ["juriste", "directeur"],
            {"fichier": "REF-signee.pdf", "sha256": "0" * 64, "verification": "1 signature valide, document intègre",
             "restant": "Pour le CCAS de … (Mme …)"})
    if kind == "avenant":
        return avenant_context(sample, 1, "Objet de l'avenant.", dt.date(2025, 1, 1), dt.date(2028, 5, 31),
                               modifications=[{"article": "4", "mode": "complete", "texte": "…"}])
    return convention_context(sample)


def leaf_paths(value: Any, prefix: str = "") -> list[str]:
    """'convention.deliberation.numero', … for every leaf of a context."""
    if isinstance(value, dict):
        paths: list[str] = []
        for name, child in value.items():
            paths.extend(leaf_paths(child, f"{prefix}{name}."))
        return paths
    return [prefix.rstrip(".")]


# ---------------------------------------------------------------- PDI/PTI

NATURE_LIBELLE = {"professionnelle": "Insertion professionnelle", "sociale": "Insertion sociale"}
CHAPITRES = {
    "preambule": "Préambule",
    "contexte": "Contexte et diagnostic",
    "methode": "Méthode d'élaboration",
    "gouvernance": "Gouvernance et suivi",
    "engagements": "Engagements des cosignataires",
    "budget": "Budget prévisionnel",
    "signatures": "Signatures",
}


def paragraphs(text: str | None) -> list[str]:
    """A text split at its blank lines, each paragraph on one line."""
    if not text:
        return []
    return [" ".join(block.split()) for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]


def _share(part: Decimal, total: Decimal) -> Decimal | None:
    return (part / total).quantize(Decimal("0.001")) if total else None  # 44,6 %


def axe_titre(numero: int, intitule: str) -> str:
    return f"Axe {numero} – {intitule}"


def fiche_titre(numero: str, intitule: str) -> str:
    return f"Fiche action n° {numero} – {intitule}"


def pacte_context(p: Pacte, partners: dict[str, Partenaire], pages: dict[str, int] | None = None,
                  version: Any = None, revisions: Sequence[Any] = ()) -> dict[str, Any]:
    """The documented context of the PDI/PTI document. *partners* resolves the codes of the fiches' partners;
    *pages* gives the page of each table-of-contents entry once the document has been laid out. *version* is the
    version of its axes and fiches to show (`rules.revisions.Version`; the registry's when None), *revisions*
    those adopted since the pacte, up to that version: the document names them and marks what each added."""
    on = p.adoption_date or dt.date(p.periode_debut, 1, 1)
    engagements = p.engagements or {}
    cosignataires = [partenaire_context(c, on) | {"engagements": list(engagements.get(c.code, []))}
                     for c in p.cosignataires]
    zero = Decimal("0.00")
    axes_in_force: list[Any] = as_objects(version.axes) if version is not None else list(p.axes)
    revised = {r.rang: revision_context(r, p.adoption_instance) for r in revisions}
    fiches_by_axe = [[_fiche(f, partners, on) | _marks(f, revised) for f in a.fiches] for a in axes_in_force]
    totals = [sum((f.budget or zero for f in a.fiches), zero) for a in axes_in_force]
    total = sum(totals, zero)
    split = {nature: sum((t for a, t in zip(axes_in_force, totals, strict=True) if a.nature == nature), zero)
             for nature in NATURE_LIBELLE}
    axes = [{
        "numero": a.numero, "intitule": a.intitule, "titre": axe_titre(a.numero, a.intitule),
        "nature": a.nature, "nature_libelle": NATURE_LIBELLE[a.nature], "objectifs": list(a.objectifs or []),
        "fiches": fiches, "nombre_fiches": len(fiches), "budget": axe_total, "part": _share(axe_total, total),
        "referent": a.referent,
    } | _marks(a, revised) for a, fiches, axe_total in zip(axes_in_force, fiches_by_axe, totals, strict=True)]
    budget = {
        "total": total,
        "professionnelle": split["professionnelle"], "part_professionnelle": _share(split["professionnelle"], total),
        "sociale": split["sociale"], "part_sociale": _share(split["sociale"], total),
        "nombre_fiches": sum(len(fiches) for fiches in fiches_by_axe),
    }
    dep = departement_context(p.departement)
    president = {"designation": "le Département", "pour": f"Pour {dep['designation']},",
                 "qualite": dep["president"]["qualite"] or "Le Président du Conseil départemental",
                 "nom": dep["president"]["nom_complet"]}
    # The State signs as the State (« Pour l'État, / Préfet de l'Essonne »), not as its préfecture.
    signers = [president] + [{"designation": c["designation"],
                              "pour": f"Pour {c['appellation'] if c['type'] == 'prefecture' else c['designation']},",
                              "qualite": c["representant"]["qualite"] or "",
                              "nom": c["representant"]["nom_complet"]} for c in cosignataires]
    sommaire = table_of_contents(axes_in_force)
    for entry in sommaire:
        entry["page"] = (pages or {}).get(entry["titre"], "")
    result: dict[str, Any] = typographie({
        "departement": dep,
        "operateur": periods.operateur_emploi(on),
        "pacte": {
            "reference": p.reference, "titre": p.titre,
            "periode": {"debut": p.periode_debut, "fin": p.periode_fin},
            "duree_ans": p.periode_fin - p.periode_debut + 1,
            "adoption": {"instance": p.adoption_instance, "numero": p.adoption_numero, "date": p.adoption_date,
                         "par": designation(p.adoption_instance or "Assemblée départementale")},
            "contexte": paragraphs(p.contexte), "diagnostic": list(p.diagnostic or []),
            "methode": paragraphs(p.methode), "gouvernance": list(p.gouvernance or []),
            "exemplaires": len(signers),
            "revisions": list(revised.values()),
            "en_vigueur_le": max((r.date for r in revisions if r.date), default=p.adoption_date),
            # whether a revision up to this version closed an axe or a fiche (the preamble then says so)
            "closes": any(c["operation"] == "clore" for r in revisions for c in r.changements),
        },
        "chapitres": dict(CHAPITRES),
        "cosignataires": cosignataires,
        "axes": axes,
        "budget": budget,
        "sommaire": sommaire,
        "signataires": [{"gauche": signers[i], "droite": signers[i + 1] if i + 1 < len(signers) else None}
                        for i in range(0, len(signers), 2)],
    })
    return result


def revision_context(r: Any, instance: str | None) -> dict[str, Any]:
    """A revision of the PDI/PTI as a document names it: « la délibération n° 2019-04-0032 du 24 juin 2019 »."""
    by = designation(r.instance or instance or "Assemblée départementale")
    return {"rang": r.rang, "numero": r.numero, "date": r.date, "instance": r.instance, "par": by, "objet": r.objet,
            "deliberation": f"la délibération n° {r.numero}" + (f" du {date_longue(r.date)}" if r.date else "")}


def _marks(item: Any, revised: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Which revision added an axe or a fiche, and which amended it (none for the pacte as adopted)."""
    return {"ajoutee_par": revised.get(getattr(item, "ajout", 0) or 0),
            "modifiee_par": [revised[r] for r in getattr(item, "modifie", None) or [] if r in revised]}


def _fiche(f: FicheAction, partners: dict[str, Partenaire], on: dt.date) -> dict[str, Any]:
    return {
        "numero": f.numero, "intitule": f.intitule, "titre": fiche_titre(f.numero, f.intitule),
        "contexte": f.contexte, "objectifs": list(f.objectifs or []), "public": f.public, "pilote": f.pilote,
        "partenaires": [partenaire_context(partners[c], on)["nom"] if c in partners else c
                        for c in f.partenaires or []],
        "modalites": f.modalites, "calendrier": f.calendrier, "indicateurs": list(f.indicateurs or []),
        "budget": f.budget, "financeurs": list(f.financeurs or []), "referent": f.referent,
    }


def table_of_contents(axes: Sequence[Any]) -> list[dict[str, Any]]:
    """The entries of the table of contents, in document order: chapters and axes (1), fiches (2).
    The titles are those of the document's headings (typography applied), so that their pages can be found."""
    entries: list[dict[str, Any]] = [{"niveau": 1, "titre": CHAPITRES[k]} for k in ("preambule", "contexte", "methode")]
    for a in axes:
        entries.append({"niveau": 1, "titre": axe_titre(a.numero, a.intitule), "axe": a.numero})
        entries.extend({"niveau": 2, "titre": fiche_titre(f.numero, f.intitule), "axe": a.numero, "fiche": f.numero}
                       for f in a.fiches)
    entries.extend({"niveau": 1, "titre": CHAPITRES[k]} for k in ("gouvernance", "engagements", "budget", "signatures"))
    return typographie(entries)  # type: ignore[no-any-return]


def sample_pacte() -> tuple[Pacte, dict[str, Partenaire]]:
    """A pacte with every field filled, used to document and check the PDI/PTI template's variables."""
    convention = sample_convention()
    partner = convention.partenaires[0]
    pacte = Pacte(reference="PACTE-2024-2027", titre="Titre du pacte", periode_debut=2024, periode_fin=2027,
                  adoption_instance="Assemblée départementale", adoption_date=dt.date(2023, 12, 11),
                  contexte="Contexte.", diagnostic=["Chiffre clé."], methode="Méthode.", gouvernance=["Comité."],
                  engagements={partner.code: ["Engagement."]})
    pacte.departement = convention.departement
    pacte.liens = [PacteCosignataire(partenaire=partner, rang=0)]
    fiche = FicheAction(numero="1.1", rang=0, intitule="Fiche", contexte="…", objectifs=["…"], public="…",
                        pilote="…", partenaires=[partner.code], modalites="…", calendrier="…", indicateurs=["…"],
                        budget=Decimal("1000.00"), financeurs=["Département"])
    pacte.axes = [Axe(numero=1, intitule="Axe", nature="professionnelle", objectifs=["…"], fiches=[fiche])]
    return pacte, {partner.code: partner}


# ---------------------------------------------------------------- annual bilan

TYPE_LIBELLE = {"ccas": "Commune / CCAS", "france_travail": "France Travail", "autre": "Autre partenariat"}


def figures_context(figures: Any) -> dict[str, Any] | None:
    """The figures of an aggregation.Chiffres, with its rates, for a template."""
    if figures is None:
        return None
    return {
        "actions_financees": figures.actions_financees, "credits_engages": figures.credits_engages,
        "credits_consommes": figures.credits_consommes, "personnes_accompagnees": figures.personnes_accompagnees,
        "entrees": figures.entrees, "dont_brsa": figures.dont_brsa, "sorties_emploi": figures.sorties_emploi,
        "sorties_formation": figures.sorties_formation, "creations_entreprise": figures.creations_entreprise,
        "sorties_positives": figures.sorties_positives, "taux_sorties_positives": figures.taux_sorties_positives,
        "part_brsa": figures.part_brsa, "taux_consommation": figures.taux_consommation,
    }


def synthese(annee: int, total: dict[str, Any], engages: Any) -> list[str]:
    """The synthesis of the year, one sentence per group of figures, each written only with the figures it has:
    a year with financial figures alone reads as well as a complete one (no « — », no empty brackets)."""
    sentences = []
    actions, engaged, spent = total["actions_financees"], total["credits_engages"], total["credits_consommes"]
    rate = total["taux_consommation"]
    consumed = (f"{montant(spent)} consommés" + (f" ({pourcentage(rate)})" if rate is not None else "")
                if spent is not None else None)
    if actions is not None:
        verb = "actions ont été financées" if actions != 1 else "action a été financée"
        sentence = f"En {annee}, {nombre(actions)} {verb} au titre du PDI/PTI"
        if engaged is not None:
            sentence += f", pour {montant(engaged)} de crédits engagés" + (f", dont {consumed}" if consumed else "")
        elif consumed:
            sentence += f", pour {montant(spent)} de crédits consommés"
        sentences.append(sentence + ".")
    elif engaged is not None:
        sentences.append(f"En {annee}, les crédits engagés au titre du PDI/PTI s'élèvent à {montant(engaged)}"
                         + (f", dont {consumed}" if consumed else "") + ".")
    elif spent is not None:
        sentences.append(f"En {annee}, les crédits consommés au titre du PDI/PTI s'élèvent à {montant(spent)}.")
    people, entries, share = total["personnes_accompagnees"], total["entrees"], total["part_brsa"]
    parts = []
    if people is not None:
        parts.append(f"{effectif(people)} personnes ont été accompagnées")
    if entries is not None:
        parts.append(f"{effectif(entries)} {'sont entrées' if people is not None else 'personnes sont entrées'} "
                     "dans une action" + (f", dont {pourcentage(share)} de bénéficiaires du RSA"
                                          if share is not None else ""))
    if parts:
        sentences.append(" et ".join(parts) + ".")
    outcomes = total["sorties_positives"]
    if outcomes is not None:
        rate = total["taux_sorties_positives"]
        sentences.append(f"{effectif(outcomes)} sorties positives ont été enregistrées (emploi, formation, création "
                         "d'entreprise)" + (f", soit {pourcentage(rate)} des personnes accompagnées"
                                            if rate is not None else "") + ".")
    if engages.professionnelle is not None and engages.sociale is not None and engages.total:
        professional, social = montant(engages.professionnelle), montant(engages.sociale)
        sentences.append(
            f"Les crédits engagés se répartissent entre l'insertion professionnelle, {professional} "
            f"({pourcentage(engages.part_professionnelle)}), et l'insertion sociale, {social} "
            f"({pourcentage(engages.part_sociale)}).")
    return [sentence[0].upper() + sentence[1:] for sentence in sentences]


# The key figures of the bilan: label, figure, how it is written, how its change is written.
CHIFFRES_CLES = (
    ("Actions financées", "actions_financees", nombre, evolution),
    ("Crédits engagés", "credits_engages", montant, evolution),
    ("Crédits consommés", "credits_consommes", montant, evolution),
    ("Personnes accompagnées", "personnes_accompagnees", effectif, evolution),
    ("Entrées", "entrees", effectif, evolution),
    ("dont bénéficiaires du RSA", "dont_brsa", effectif, evolution),
    ("Sorties positives (emploi, formation, création)", "sorties_positives", effectif, evolution),
    ("Taux de sorties positives", "taux_sorties_positives", pourcentage, points),
    ("Part des bénéficiaires du RSA dans les entrées", "part_brsa", pourcentage, points),
    ("Taux de consommation des crédits", "taux_consommation", pourcentage, points),
)


def chiffres_cles(total: dict[str, Any], previous: dict[str, Any] | None,
                  changes: dict[str, Any]) -> list[dict[str, str]]:
    """The rows of the key figures that have a figure this year or last year; an unknown one reads « — »."""
    rows = []
    for label, name, write, change in CHIFFRES_CLES:
        now, before = total[name], previous[name] if previous else None
        if now is None and before is None:
            continue
        rows.append({"libelle": label, "precedent": write(before) if before is not None else "—",
                     "annee": write(now) if now is not None else "—",
                     "evolution": change(changes[name]) if changes.get(name) is not None else "—"})
    return rows


def contexte_rsa(annee: int, departement: Departement, foyers: int | None, before: int | None) -> str | None:
    """« Fin 2019, 26 450 foyers percevaient le RSA dans le département de l'Essonne, soit +4,5 % en un an. »;
    None without the year's figure."""
    if foyers is None:
        return None
    where = designation(departement.nom)
    where = where[0].lower() + where[1:]
    sentence = f"Fin {annee}, {nombre(foyers)} foyers percevaient le revenu de solidarité active dans {where}"
    change = aggregation.evolution(foyers, before)
    if change is not None:
        sentence += f", soit {evolution(change)} en un an ({nombre(before)} fin {annee - 1})"
    return sentence + "."


def evolution_par_axe(axes: list[Any]) -> list[dict[str, str]]:
    """Each axis against the previous year: credits committed and entries, as written in the bilan's table; []
    when no axis has last year's figures."""
    rows = []
    for a in axes:
        if a.precedent is None:
            continue
        row = {"titre": axe_titre(a.numero, a.intitule)}
        for name, write in (("credits_engages", montant), ("entrees", effectif)):
            now, before = getattr(a.chiffres, name), getattr(a.precedent, name)
            change = aggregation.evolution(now, before)
            row |= {f"{name}_avant": write(before) if before is not None else "—",
                    name: write(now) if now is not None else "—",
                    f"{name}_evolution": evolution(change) if change is not None else "—"}
        rows.append(row)
    return rows


def _split_context(split: Any) -> dict[str, Any]:
    return {"professionnelle": split.professionnelle, "sociale": split.sociale, "total": split.total,
            "part_professionnelle": split.part_professionnelle, "part_sociale": split.part_sociale}


def convention_row(c: Convention, annee: int) -> dict[str, Any]:
    """A convention as the bilan lists it: reference, partners, type and the dates of its current period."""
    chain = periods.periodes(queries.faits(c), dt.date(annee, 12, 31))
    current = next((p for p in reversed(chain) if p.debut <= dt.date(annee, 12, 31)), chain[0])
    renewal = next((p.debut for p in chain[1:] if p.debut.year == annee), None)
    return {
        "reference": c.reference, "type": c.type,
        # the operator's name of the year the bilan covers (Pôle emploi until 2023)
        "type_libelle": (periods.operateur_emploi(dt.date(annee, 12, 31)) if c.type == "france_travail"
                         else TYPE_LIBELLE.get(c.type, c.type)),
        "partenaires": ", ".join(partenaire_context(p, current.debut)["nom"] for p in c.partenaires),
        "date_signature": c.date_signature, "debut": current.debut, "fin": current.fin,
        "renouvellement": renewal,
    }


def bilan_context(annee: int, departement: Departement, pacte: Pacte, bilan: Any, conventions: Any,
                  rows: dict[str, dict[str, Any]], graphiques: dict[str, Any], *, seance: dt.date | None = None,
                  deliberation: str | None = None, commentaires: dict[str, str] | None = None,
                  foyers_rsa: tuple[int | None, int | None] = (None, None),
                  pieces: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The documented context of the annual bilan. *bilan* is an aggregation.Bilan, *conventions* an
    aggregation.ConventionsAnnee, *rows* the convention_row of every convention it names, *graphiques* the
    charts as rendering.Image (the evolution chart is None without last year's figures); *pieces*, per partner,
    the documents owed for the year: {partenaire, dues, recues, en_retard}."""
    total = figures_context(bilan.total)
    assert total is not None
    evolution = {name: bilan.evolution(name) for name in ("actions_financees", "credits_engages",
                                                          "credits_consommes", "personnes_accompagnees", "entrees",
                                                          "dont_brsa", "sorties_positives")}
    previous = figures_context(bilan.precedent)
    for name in ("taux_sorties_positives", "part_brsa", "taux_consommation"):  # changes of rates, in points
        now, before = total[name], previous[name] if previous else None
        evolution[name] = None if now is None or before is None else now - before
    annexes = sorted(set(conventions.signees) | set(conventions.renouvelees))
    by_number = {a.numero: a for a in pacte.axes}
    result: dict[str, Any] = typographie({
        "departement": departement_context(departement),
        "annee": annee,
        "annee_precedente": annee - 1,
        "pacte": {"reference": pacte.reference, "titre": pacte.titre,
                  "periode": {"debut": pacte.periode_debut, "fin": pacte.periode_fin},
                  "adoption": {"de_instance": _de(designation(pacte.adoption_instance or "Assemblée départementale")),
                               "numero": pacte.adoption_numero, "date": pacte.adoption_date},
                  # the PDI/PTI provides that its bilans are approved (« APPROUVE ») or taken note of (« PREND ACTE »)
                  "bilan_approuve": pacte.bilan_decision == "approbation"},
        # the Assemblée's session (None: a draft, « Projet »), the number of the délibération taking note of it
        "seance": seance,
        "deliberation": deliberation,
        "sommaire": [],  # filled in once the bilan is laid out: {niveau, titre, page}
        "total": total,
        "precedent": previous,
        "evolution": evolution,
        "synthese": synthese(annee, total, bilan.repartition_engages),
        "chiffres_cles": chiffres_cles(total, previous, evolution),
        "evolution_axes": evolution_par_axe(bilan.axes),
        "contexte": contexte_rsa(annee, departement, *foyers_rsa),
        "perspectives": paragraphs((commentaires or {}).get("departement")),
        "avec_conventions": any(getattr(conventions, name) for name in ("en_vigueur", "signees", "renouvelees",
                                                                           "terminees")),
        "repartition": {"engages": _split_context(bilan.repartition_engages),
                        "consommes": _split_context(bilan.repartition_consommes)},
        "axes": [{
            "numero": a.numero, "intitule": a.intitule, "titre": axe_titre(a.numero, a.intitule),
            "nature_libelle": NATURE_LIBELLE.get(a.nature, a.nature), "source": a.source,
            "chiffres": figures_context(a.chiffres),
            "fiches": [{"numero": f.numero, "intitule": f.intitule, "chiffres": figures_context(f.chiffres)}
                       for f in a.fiches],
            "sans_chiffres": [f.numero for f in a.fiches if f.chiffres is None and a.source != "axe"],
            "commentaire": (commentaires or {}).get(f"axe:{a.numero}"),
            "commentaires_fiches": [{"numero": f.numero, "commentaire": (commentaires or {})[f"fiche:{f.numero}"]}
                                    for f in a.fiches if f"fiche:{f.numero}" in (commentaires or {})],
        } for a in bilan.axes if a.numero in by_number],
        "fiches_sans_chiffres": bilan.fiches_sans_chiffres,
        "conventions": {name: [rows[ref] for ref in getattr(conventions, name)]
                        for name in ("en_vigueur", "signees", "renouvelees", "terminees")},
        "conventions_chiffres": [rows.get(ref, {"reference": ref, "partenaires": ""}) | {"chiffres": figures_context(f)}
                                 for ref, f in bilan.conventions],
        "annexes": [rows[ref] | {"motif": ("signée" if ref in conventions.signees else "renouvelée")}
                    for ref in annexes],
        "graphiques": graphiques,
        "pieces_partenaires": pieces or [],
    })
    return result


def sample_bilan_context() -> dict[str, Any]:
    """The bilan's context for a sample pacte, with figures for two years."""
    from pacte_docs.documents.rendering import Image

    pacte, _ = sample_pacte()
    convention = sample_convention()
    figures = aggregation.Chiffres(1, Decimal("10.00"), Decimal("8.00"), 10, 8, 5, 3, 2, 1)
    axes = [aggregation.AxeDef(a.numero, a.intitule, a.nature, tuple((f.numero, f.intitule) for f in a.fiches))
            for a in pacte.axes]
    records = {"fiche:1.1": figures, f"convention:{convention.reference}": figures}
    bilan = aggregation.aggregate(2025, axes, records, records)
    events = aggregation.ConventionsAnnee([convention.reference], [convention.reference], [], [])
    image = Image(b"", 10)
    sample = bilan_context(2025, pacte.departement, pacte, bilan, events,
                           {convention.reference: convention_row(convention, 2025)},
                           {"repartition": image, "evolution": image, "credits": image, "entrees_sorties": image},
                           seance=dt.date(2026, 3, 30), deliberation="2026-03-0101",
                           pieces=[{"partenaire": "Association Exemple", "dues": 3, "recues": 2, "en_retard": 1}])
    sample["sommaire"] = [{"niveau": 1, "titre": "…", "page": 2}]
    return sample


# ---------------------------------------------------------------- the comité de pilotage's point d'étape

ETAT_ORDER = ("a_engager", "en_cours", "ajustee", "suspendue", "realisee", "abandonnee")


def latest_referent(rows: Sequence[Any]) -> str | None:
    return next((r.referent for r in reversed(rows) if r.referent), None)


def fiche_standing(f: dict[str, Any], rows: Sequence[Any], revised: dict[int, dict[str, Any]],
                   default_referent: str | None = None) -> dict[str, Any]:
    """Where a fiche stands after its states *rows* (oldest first): its référent (the latest one a state named, else
    the fiche's, else *default_referent*), its latest state, since when and its comment, the revision that added it,
    and its whole history. The point d'étape, the bilan d'étape and the pages show these."""
    last = rows[-1] if rows else None
    added = revised.get(f.get("ajout") or 0)
    return {"numero": f["numero"], "intitule": f["intitule"],
            "referent": latest_referent(rows) or f.get("referent") or default_referent,
            "etat": LABELS.get(last.etat, last.etat) if last else "non renseigné",
            "code_etat": last.etat if last else None,
            "depuis": last.date if last else None, "commentaire": last.commentaire if last else None,
            "ajoutee_par": added["deliberation"] if added else None,
            "historique": [{"date": r.date, "etat": LABELS.get(r.etat, r.etat), "commentaire": r.commentaire}
                           for r in rows]}


def figures_line(c: aggregation.Chiffres | None) -> str | None:
    """« 18 entrées ; 11 sorties positives ; 120 000,00 € engagés »: a fiche's figures in one line (small counts
    hidden, as everywhere)."""
    if c is None or c.vide:
        return None
    parts = []
    for value, one, many in ((c.personnes_accompagnees, "personne accompagnée", "personnes accompagnées"),
                             (c.entrees, "entrée", "entrées"), (c.sorties_positives, "sortie positive",
                                                                "sorties positives")):
        if value is not None:
            parts.append(f"{effectif(value)} {one if value < 2 else many}")
    if c.credits_engages is not None:
        parts.append(f"{montant(c.credits_engages)} engagés")
    return " ; ".join(parts) or None


def point_etape_context(p: Pacte, version: Version, revisions: Sequence[Version], states: dict[str, list[Any]],
                        figures: dict[str, aggregation.Chiffres], on: dt.date, since: dt.date,
                        since_point: bool) -> dict[str, Any]:
    """The documented context of the point d'étape: per axe, each fiche in force on *on* with its référent, its
    latest state and comment, the year's figures known so far; what changed after *since* (the previous point
    d'étape when *since_point*, else the adoption)."""
    revised = {r.rang: revision_context(r, p.adoption_instance) for r in revisions}
    label: dict[str | None, str] = {c: LABELS.get(c, c) for c in ETAT_ORDER}
    axes: list[dict[str, Any]] = []
    counts: dict[str | None, list[str]] = {c: [] for c in (*ETAT_ORDER, None)}
    titles: dict[str, str] = {}
    for a in version.axes:
        axe_referent = latest_referent(states.get(f"axe:{a['numero']}", [])) or a.get("referent")
        fiches = []
        for f in a["fiches"]:
            titles[f"fiche:{f['numero']}"] = f["intitule"]
            row = fiche_standing(f, states.get(f"fiche:{f['numero']}", []), revised)
            counts[row["code_etat"]].append(f["numero"])
            fiches.append(row | {"chiffres": figures_line(figures.get(f"fiche:{f['numero']}"))})
        added = revised.get(a.get("ajout") or 0)
        axes.append({"numero": a["numero"], "intitule": a["intitule"], "titre": axe_titre(a["numero"], a["intitule"]),
                     "referent": axe_referent, "fiches": fiches,
                     "ajoutee_par": added["deliberation"] if added else None})
    total = sum(len(v) for v in counts.values())
    etats, summary = states_summary(counts)
    changes: list[str] = []
    for r in revisions:
        if r.date is not None and since < r.date <= on:
            what = " ; ".join(revision_summary(r.changements))
            changes.append(f"Révision adoptée par {revised[r.rang]['deliberation']} : {what}.")
    for cible, rows in sorted(states.items(), key=lambda kv: (not kv[0].startswith("axe:"),
                                                               fiche_key(kv[0].partition(":")[2]))):
        for index, row in enumerate(rows):
            if since < row.date <= on:
                before = rows[index - 1] if index else None
                name = f"Axe {cible.partition(':')[2]}" if cible.startswith("axe:") else \
                    f"Fiche {cible.partition(':')[2]}" + (f" ({titles[cible]})" if cible in titles else "")
                changes.append(f"{name} : {label.get(row.etat, row.etat)} le {date_longue(row.date)}"
                               + (f" (auparavant : {label.get(before.etat, before.etat)})" if before else "")
                               + (f" — {row.commentaire.rstrip('.')}" if row.commentaire else "") + ".")
    result: dict[str, Any] = typographie({
        "departement": departement_context(p.departement),
        "pacte": {"reference": p.reference, "titre": p.titre,
                  "periode": {"debut": p.periode_debut, "fin": p.periode_fin},
                  "adoption": {"numero": p.adoption_numero, "date": p.adoption_date}},
        "date": on, "annee": on.year - 1,  # the figures shown: the last year closed on that day
        "depuis": since, "depuis_court": (f"le point d'étape du {date_longue(since)}" if since_point
                                          else f"l'adoption du {date_longue(since)}"),
        "depuis_texte": (f"Depuis le point d'étape du {date_longue(since)}" if since_point
                         else f"Premier point d'étape depuis l'adoption du programme le {date_longue(since)}"),
        "synthese": f"{fiches_count(total)} en vigueur au {date_longue(on)} : {summary}.",
        "etats": etats, "changements": changes, "axes": axes,
        "revisions": [revised[r.rang]["deliberation"] for r in revisions if r.date is None or r.date <= on],
    })
    return result


FIELD_NAMES = {"intitule": "intitulé", "contexte": "contexte", "objectifs": "objectifs", "public": "public cible",
               "pilote": "pilote", "partenaires": "partenaires", "modalites": "modalités de mise en œuvre",
               "calendrier": "calendrier", "indicateurs": "indicateurs", "budget": "budget prévisionnel",
               "financeurs": "financeurs", "referent": "référent thématique", "nature": "nature"}
VERBS = {"ajouter": ("ajoutée", "ajouté"), "modifier": ("modifiée", "modifié"), "clore": ("close", "clos")}


def revision_summary(changements: list[dict[str, Any]]) -> list[str]:
    """« fiches 2.3, 4.1 et 5.2 ajoutées », « fiche 2.1 modifiée », « axe 6 clos »: what a revision did."""
    parts = []
    for operation, (feminine, masculine) in VERBS.items():
        for kind in ("axe", "fiche"):
            numbers = [c["numero"] for c in changements if c["operation"] == operation and c["objet"] == kind]
            if not numbers:
                continue
            many = len(numbers) > 1
            joined = ", ".join(numbers[:-1]) + " et " + numbers[-1] if many else numbers[0]
            verb = feminine if kind == "fiche" else masculine
            verb += "s" if many and not verb.endswith("s") else ""
            parts.append(f"{kind}{'s' if many else ''} {joined} {verb}")
    return parts


def ordinal(n: int) -> str:
    """1 → « première », 4 → « quatrième »."""
    return str(num2words(n, lang="fr", to="ordinal"))


def fiches_count(n: int) -> str:
    """« 1 fiche-action », « 14 fiches-actions »."""
    return f"{n} fiche-action" if n == 1 else f"{n} fiches-actions"


def states_summary(counts: dict[str | None, list[str]]) -> tuple[list[dict[str, Any]], str]:
    """The rows of the states' table (each state with its count and fiches) and the sentence « 11 en cours,
    2 ajustées, 1 réalisée »."""
    label = {c: LABELS.get(c, c) for c in ETAT_ORDER}
    rows, words = [], []
    for c in (*ETAT_ORDER, None):
        n = len(counts.get(c, []))
        if not n:
            continue
        name = label[c] if c else "non renseigné"
        rows.append({"etat": name, "nombre": n, "fiches": counts[c]})
        words.append(f"{n} {name if n == 1 else plural(name)}")
    return rows, ", ".join(words)


def plural(state: str) -> str:
    """« en cours » stays; « réalisée » → « réalisées », « à engager » stays."""
    return state if state in ("en cours", "à engager") else state + "s"


def sample_point_etape_context() -> dict[str, Any]:
    pacte, _ = sample_pacte()
    version = Version(0, "Assemblée départementale", "2023-1", dt.date(2023, 12, 11), None,
                      first_version(queries.pacte_record(pacte)["axes"]))

    class Row:
        date, etat, commentaire, referent = dt.date(2024, 6, 1), "en_cours", "Commentaire.", "Référent."
    return point_etape_context(pacte, version, [], {"fiche:1.1": [Row()]}, {}, dt.date(2024, 6, 30),
                               dt.date(2023, 12, 11), False)


# ---------------------------------------------------------------- the mid-course bilan d'étape

def bilan_etape_context(pacte: Pacte, annee: int, bilans: Sequence[Any], version: Version,
                        revisions: Sequence[Version], states: dict[str, list[Any]], *, seance: dt.date | None = None,
                        deliberation: str | None = None) -> dict[str, Any]:
    """The documented context of the bilan d'étape: the programme since its adoption up to 31 December *annee* —
    figures year by year and cumulated (*bilans*, an aggregation.Bilan per year, oldest first), where each fiche in
    force (*version*) stands (*states*, up to that day), the revisions adopted and what they brought."""
    end = dt.date(annee, 12, 31)
    revised = {r.rang: revision_context(r, pacte.adoption_instance) for r in revisions}
    cumul = sum((b.total for b in bilans), aggregation.Chiffres())
    annees = [{"annee": b.annee, **_etape_figures(b.total)} for b in bilans]
    by_axe: dict[int, aggregation.Chiffres] = {}
    by_fiche: dict[str, aggregation.Chiffres] = {}
    for b in bilans:
        for a in b.axes:
            by_axe[a.numero] = by_axe.get(a.numero, aggregation.Chiffres()) + a.chiffres
            for f in a.fiches:
                if f.chiffres is not None:
                    by_fiche[f.numero] = by_fiche.get(f.numero, aggregation.Chiffres()) + f.chiffres
    counts: dict[str | None, list[str]] = {c: [] for c in (*ETAT_ORDER, None)}
    axes = []
    for a in version.axes:
        fiches = []
        for f in a["fiches"]:
            row = fiche_standing(f, [r for r in states.get(f"fiche:{f['numero']}", []) if r.date <= end], revised)
            counts[row["code_etat"]].append(f["numero"])
            fiches.append(row | {"chiffres": figures_line(by_fiche.get(f["numero"]))})
        figures = by_axe.get(a["numero"], aggregation.Chiffres())
        axes.append({"numero": a["numero"], "titre": axe_titre(a["numero"], a["intitule"]), "fiches": fiches,
                     "avec_chiffres": not figures.vide, "resume": figures_line(figures), **_etape_figures(figures)})
    total = sum(len(v) for v in counts.values())
    etats, summary = states_summary(counts)
    closed = [c for r in revisions for c in r.changements if c["operation"] == "clore" and c["objet"] == "fiche"]
    first = bilans[0].annee if bilans else annee
    start = max(pacte.periode_debut, pacte.adoption_date.year if pacte.adoption_date else pacte.periode_debut)
    gaps = [str(y) for y in range(start, first)]
    missing_years = " et ".join([", ".join(gaps[:-1]), gaps[-1]] if len(gaps) > 1 else gaps)
    result: dict[str, Any] = typographie({
        "departement": departement_context(pacte.departement),
        "annee": annee,
        "pacte": {"reference": pacte.reference, "titre": pacte.titre,
                  "periode": {"debut": pacte.periode_debut, "fin": pacte.periode_fin},
                  "adoption": {"de_instance": _de(designation(pacte.adoption_instance or "Assemblée départementale")),
                               "numero": pacte.adoption_numero, "date": pacte.adoption_date},
                  "bilan_approuve": pacte.bilan_decision == "approbation"},
        "seance": seance, "deliberation": deliberation, "sommaire": [],
        "synthese": (f"Adopté le {date_longue(pacte.adoption_date)}, le programme " if pacte.adoption_date
                     else "Le programme ") + f"{pacte.periode_debut}-{pacte.periode_fin} est parvenu au 31 décembre "
                    f"{annee} à sa {ordinal(annee - pacte.periode_debut + 1)} année sur "
                    f"{en_lettres(pacte.periode_fin - pacte.periode_debut + 1, 'f')}. Ce bilan d'étape rend compte des "
                    f"réalisations {'de ' + str(first) + ' à ' + str(annee) if first < annee else 'de ' + str(annee)}"
                    ", année par année et cumulées, de l'avancement de chaque fiche-action et des révisions adoptées "
                    "depuis son adoption." + (" Aucun chiffre de réalisation n'a encore été importé." if cumul.vide
                                              else f" Aucun chiffre n'a été importé pour {missing_years}."
                                              if missing_years else ""),
        "periode_cumul": f"{first}-{annee}" if first < annee else str(annee),
        "annees": annees, "cumul": _etape_figures(cumul),
        "fiches_synthese": f"Au 31 décembre {annee}, {fiches_count(total)} en vigueur : {summary}."
                           + (f" Depuis l'adoption, {fiches_count(len(closed))} "
                              + ("ont été closes" if len(closed) > 1 else "a été close") + " par une révision."
                              if closed else ""),
        "etats": etats, "axes": axes,
        "revisions": [{**revised[r.rang], "resume": " ; ".join(revision_summary(r.changements)),
                       "changements": [{"libelle": f"{'Axe' if c['objet'] == 'axe' else 'Fiche'} {c['numero']} – "
                                                   f"{c['intitule']}",
                                        "operation": VERBS[c["operation"]][0 if c["objet"] == "fiche" else 1],
                                        "motif": c.get("motif") or (", ".join(FIELD_NAMES.get(f, f) for f in
                                                                              c.get("champs", [])) or None)}
                                       for c in r.changements]}
                      for r in revisions],
    })
    return result


def _etape_figures(c: aggregation.Chiffres) -> dict[str, Any]:
    return {"entrees": effectif(c.entrees), "dont_brsa": effectif(c.dont_brsa),
            "sorties_positives": effectif(c.sorties_positives),
            "personnes": effectif(c.personnes_accompagnees),
            "credits_engages": _euros(c.credits_engages), "credits_consommes": _euros(c.credits_consommes)}


def _euros(value: Decimal | None) -> str:
    """« 11 027 000 € »: an amount to the euro, in a table of figures; « — » when unknown."""
    return "—" if value is None else f"{nombre(value.quantize(Decimal('1')))}\u00a0€"


def sample_bilan_etape_context() -> dict[str, Any]:
    pacte, _ = sample_pacte()
    content = first_version(queries.pacte_record(pacte)["axes"])
    content[0]["fiches"].append({**content[0]["fiches"][0], "numero": "1.2", "intitule": "Fiche ajoutée", "ajout": 1})
    revised = Version(1, "Assemblée départementale", "2025-01", dt.date(2025, 6, 30), "Objet.", content,
                      [{"operation": "ajouter", "objet": "fiche", "numero": "1.2", "intitule": "Fiche ajoutée"},
                       {"operation": "clore", "objet": "fiche", "numero": "1.3", "intitule": "Fiche close",
                        "motif": "Motif."}])
    figures = aggregation.Chiffres(1, Decimal("10.00"), Decimal("8.00"), 10, 8, 5, 3, 2, 1)
    axes = [aggregation.AxeDef(1, "Axe", "professionnelle", (("1.1", "Fiche"), ("1.2", "Fiche ajoutée")))]
    bilans = [aggregation.aggregate(year, axes, {"fiche:1.1": figures}) for year in (2024, 2025)]

    class Row:
        date, etat, commentaire, referent = dt.date(2025, 6, 1), "en_cours", "Commentaire.", "Référent."
    sample = bilan_etape_context(pacte, 2025, bilans, revised, [revised], {"fiche:1.1": [Row()]},
                                 seance=dt.date(2026, 3, 30), deliberation="2026-03-0101")
    sample["sommaire"] = [{"niveau": 1, "titre": "…", "page": 2}]
    return sample
