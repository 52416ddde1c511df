"""The import format of ARCHITECTURE §4: field types, checks and defaults, turning raw items into clean values."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pacte_docs.addresses import check_email
from pacte_docs.errors import AddressError, Invalid, Problem
from pacte_docs.formatting import LABELS
from pacte_docs.intake.readers import Item
from pacte_docs.kinds import (
    CODE_SYNONYMS,
    TEMPLATE_NAME,
    ConventionType,
    DecisionBilan,
    EtatFiche,
    NatureAxe,
    OperationRevision,
    PartenaireType,
    Renouvellement,
    as_code,
    values,
)
from pacte_docs.rules.aggregation import FIGURES

KEY_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
# Windows device names: a reference names files and folders, so these are refused.
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
DEPARTEMENT_CODE = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")
INSEE = re.compile(r"^([0-9]{5}|2[AB][0-9]{3})$")
LINE_BREAK = re.compile(r"[\r\n\u0085\u2028\u2029]")  # a carriage return alone breaks a mail header too
# invisible controls, and what no XML document may hold (surrogates, the non-characters U+FFFE, U+FFFF and
# U+FDD0–U+FDEF): a partner named with one of them would make its SEDA transfer unwritable
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")



# ---------------------------------------------------------------- converters

# What each converter accepts, as a header's note in the workbook says it (`workbook.note`): its rule, and the
# codes of a closed list (shown by their labels in a drop-down list).
RULES: dict[Callable[[Any], Any], tuple[str, tuple[str, ...]]] = {}
C = TypeVar("C", bound=Callable[[Any], Any])


def _ruled(convert: C, rule: str, choices: tuple[str, ...] = ()) -> C:
    RULES[convert] = (rule, choices)
    return convert


def text(limit: int = 2000, multiline: bool = True) -> Callable[[Any], str | None]:
    def convert(value: Any) -> str | None:
        if isinstance(value, bool) or isinstance(value, list | dict):
            raise Invalid("texte attendu", "écrivez une valeur simple")
        result = str(value).strip()
        found = CONTROL.search(result)
        if found:
            raise Invalid(f"caractère de contrôle invisible (U+{ord(found.group(0)):04X}), souvent collé depuis "
                          "Word ou Excel", "retapez ce texte ou collez-le sans mise en forme")
        if not multiline and LINE_BREAK.search(result):
            raise Invalid("retour à la ligne interdit dans ce champ", "écrivez la valeur sur une seule ligne")
        if len(result) > limit:
            raise Invalid(f"texte trop long ({len(result)} caractères, {limit} au plus)", "raccourcissez-le")
        return result or None
    return _ruled(convert, f"texte{'' if multiline else ' sur une ligne'}, {limit} caractères au plus")


def key(kind: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        result = str(value).strip().upper()  # « ccas-2024-001 » is CCAS-2024-001
        if not KEY_PATTERN.match(result):
            raise Invalid(f"« {result} » n'est pas un{'e' if kind == 'référence' else ''} {kind} valide",
                          "utilisez de 2 à 40 caractères parmi les majuscules sans accent, les chiffres et le "
                          "tiret, en commençant par une lettre ou un chiffre (par exemple CCAS-2024-001)")
        if result in RESERVED:
            raise Invalid(f"« {result} » est un nom réservé par Windows", "choisissez un autre nom")
        return result
    return _ruled(convert, "majuscules sans accent, chiffres et tirets, de 2 à 40 caractères (par exemple "
                           "CCAS-2024-001)")


def template_name(value: Any) -> str:
    result = str(value).strip().removesuffix(".docx")
    if not TEMPLATE_NAME.fullmatch(result):
        raise Invalid(f"« {value} » n'est pas un nom de modèle",
                      "donnez le nom d'un modèle du dossier modeles/ de l'espace, sans chemin ni extension "
                      "(par exemple convention_ccas) ; « pacte modeles lister » les montre")
    return result


def enum(choices: tuple[str, ...]) -> Callable[[Any], str]:
    """One of *choices*, written as its code (« france_travail »), as the tool prints it (« France Travail »,
    « Tacite », « à renouveler ») or as people say it (« Exprès », « Pôle emploi »)."""
    shown = ", ".join(f"{LABELS.get(c, c)} ({c})" if as_code(LABELS.get(c, c)) != c else LABELS.get(c, c)
                      for c in choices)

    def convert(value: Any) -> str:
        result = as_code(str(value))
        result = CODE_SYNONYMS.get(result, result)
        if result not in choices:
            close = difflib.get_close_matches(result, choices, n=1)
            hint = f"vouliez-vous dire « {LABELS.get(close[0], close[0])} » ? " if close else ""
            raise Invalid(f"« {value} » n'est pas une valeur permise", f"{hint}valeurs permises : {shown}")
        return result
    return _ruled(convert, "une valeur de la liste déroulante", choices)


def date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = str(value).strip()
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", raw) or None
    parts: tuple[int, int, int] | None = None
    if match:
        parts = (int(match[1]), int(match[2]), int(match[3]))
    else:
        french = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw)
        if french:
            parts = (int(french[3]), int(french[2]), int(french[1]))
    if parts is None:
        raise Invalid(f"« {raw} » n'est pas une date", "écrivez-la AAAA-MM-JJ (2024-06-01) ou JJ/MM/AAAA (01/06/2024)")
    try:
        result = dt.date(*parts)
    except ValueError:
        raise Invalid(f"« {raw} » n'existe pas au calendrier", "vérifiez le jour et le mois") from None
    if not 1980 <= result.year <= 2100:
        raise Invalid(f"« {raw} » est hors des années plausibles (1980 à 2100)", "vérifiez l'année")
    return result


def timestamp(value: Any) -> dt.datetime:
    """A moment of the journal, as the export writes it (ISO 8601 with its offset; UTC when none is given)."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise Invalid(f"« {value} » n'est pas un horodatage", "écrivez-le AAAA-MM-JJTHH:MM:SS+00:00, comme "
                          "l'export l'écrit") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def integer(low: int, high: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise Invalid("nombre entier attendu")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        raw = str(value).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        if not re.fullmatch(r"-?\d+", raw):
            raise Invalid(f"« {value} » n'est pas un nombre entier", f"écrivez un entier entre {low} et {high}")
        result = int(raw)
        if not low <= result <= high:
            raise Invalid(f"{result} est hors des bornes permises", f"écrivez un entier entre {low} et {high}")
        return result
    return _ruled(convert, f"nombre entier de {low} à {high}")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise Invalid("nombre attendu")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    raw = str(value).strip().replace("€", "").replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if re.fullmatch(r"-?\d{1,3}\.\d{3}", raw):  # « 1.250 »: a French thousand or an English decimal?
        whole, part = raw.split(".")
        raise Invalid(f"« {value} » peut se lire {whole}\u202f{part} ou {whole},{part}",
                      f"écrivez {whole}{part} ou {whole},{part.rstrip('0') or '0'}, sans point")
    if re.fullmatch(r"-?\d+(,\d+)?", raw):
        raw = raw.replace(",", ".")
    elif re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", raw):  # 1.234.567,89
        raw = raw.replace(".", "").replace(",", ".")
    elif not re.fullmatch(r"-?\d+(\.\d+)?", raw):
        raise Invalid(f"« {value} » n'est pas un nombre", "écrivez par exemple 4200000.00 ou 4 200 000,00")
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise Invalid(f"« {value} » n'est pas un nombre") from None


def amount(value: Any) -> Decimal:
    result = _decimal(value)
    if result < 0:
        raise Invalid(f"montant négatif ({result})", "écrivez un montant positif en euros")
    if result >= Decimal("1e12"):
        raise Invalid(f"montant invraisemblable ({result} €)", "vérifiez l'unité : le montant s'écrit en euros")
    if result != result.quantize(Decimal("0.01")):
        raise Invalid(f"« {value} » a plus de deux décimales", "arrondissez au centime")
    return result.quantize(Decimal("0.01"))


def rate(value: Any) -> Decimal:
    raw = str(value).strip()
    percent = raw.endswith("%")
    result = _decimal(raw.rstrip("%").strip() if percent else value)
    if percent:
        result = result / 100
    if not 0 <= result <= 1:
        raise Invalid(f"taux {raw} hors de l'intervalle 0 à 1", "écrivez 0.5 ou 50 % pour la moitié")
    return result.quantize(Decimal("0.0001"))


def siret(value: Any) -> str:
    raw = re.sub(r"[\s\u202f\xa0]", "", str(value))
    if not re.fullmatch(r"\d{14}", raw):
        raise Invalid(f"« {value} » n'a pas 14 chiffres", "recopiez le SIRET depuis l'annuaire des entreprises")
    total = 0
    for index, char in enumerate(reversed(raw)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    # La Poste's establishments follow another rule (sum of the digits divisible by 5).
    la_poste = raw.startswith("356000000") and sum(int(c) for c in raw) % 5 == 0
    if total % 10 and not la_poste:
        raise Invalid(f"SIRET {raw} invalide (clé de contrôle fausse)", "vérifiez les chiffres, une faute de frappe "
                      "est probable")
    return raw


def rna(value: Any) -> str:
    """An association's number in the Répertoire national des associations: W and nine digits."""
    result = re.sub(r"\s", "", str(value)).upper()
    if not re.fullmatch(r"W[0-9]{9}", result):
        raise Invalid(f"« {value} » n'est pas un numéro RNA", "écrivez W suivi de neuf chiffres (W912000123), tel "
                                                            "qu'il figure au récépissé de la préfecture")
    return result


def insee(value: Any) -> str:
    raw = str(value).strip().upper()
    if isinstance(value, int) or re.fullmatch(r"\d{4}", raw):
        raise Invalid(f"« {value} » : un code INSEE a 5 caractères", "écrivez-le entre guillemets, zéro initial "
                      "compris (par exemple \"01004\")")
    if not INSEE.match(raw):
        raise Invalid(f"« {value} » n'est pas un code INSEE", "5 chiffres, ou 2A/2B suivi de 3 chiffres pour la Corse")
    return raw


def email(value: Any) -> str:
    raw = str(value).strip()
    try:
        return check_email(raw)  # the same check as the one made before sending (no « .b@x.fr », « a..b@x.fr »)
    except AddressError as exc:
        raise Invalid(str(exc), "écrivez-la sous la forme prenom.nom@exemple.fr") from None


def departement_code(value: Any) -> str:
    raw = str(value).strip().upper()
    if isinstance(value, int) and value < 10:
        raw = f"0{value}"
    if not DEPARTEMENT_CODE.match(raw):
        raise Invalid(f"« {value} » n'est pas un code de département", "par exemple \"92\", \"2A\" ou \"974\"")
    return raw


def text_list(limit: int = 2000) -> Callable[[Any], list[str]]:
    item = text(limit)

    def convert(value: Any) -> list[str]:
        if not isinstance(value, list):
            value = [value]
        result = []
        for element in value:
            if isinstance(element, dict | list):
                raise Invalid("liste de textes attendue", "écrivez un texte par tiret")
            converted = item(element)
            if converted:
                result.append(converted)
        return result
    return _ruled(convert, f"un élément par ligne (Alt+Entrée dans Excel), {limit} caractères au plus chacun")


def code_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        value = re.split(r"[\s,;|]+", str(value))
    convert = key("code")
    result = [convert(v) for v in value if str(v).strip()]
    if len(set(result)) != len(result):
        raise Invalid("un même partenaire est cité deux fois", "retirez le doublon")
    return result


def commitments(value: Any) -> dict[str, list[str]]:
    """{partner code: [commitments]} for the co-signatories of a pacte."""
    if not isinstance(value, dict):
        raise Invalid("une liste d'engagements par code de partenaire est attendue",
                      "écrivez « CODE-PARTENAIRE: » puis ses engagements, un par tiret")
    convert_key, convert_list = key("code"), text_list()
    return {convert_key(code): convert_list(items) for code, items in value.items()}


for _convert, _rule in ((template_name, "nom d'un modèle du dossier modeles/, sans « .docx » (par exemple "
                                        "convention_ccas)"),
                       (date, "date : 15/03/2025, 2025-03-15 ou une date Excel"),
                       (timestamp, "horodatage AAAA-MM-JJTHH:MM:SS+00:00, tel que l'export l'écrit"),
                       (amount, "montant en euros, au centime près : 12 500,00 € ou 12500"),
                       (rate, "taux : 0,5 ou 50 %"),
                       (siret, "SIRET : 14 chiffres"),
                       (rna, "numéro RNA : W et neuf chiffres (W912000123)"),
                       (insee, "code INSEE de la commune : 5 caractères (92071, 2A004)"),
                       (email, "adresse électronique (prenom.nom@exemple.fr)"),
                       (departement_code, "code du département : 92, 2A, 974"),
                       (code_list, "codes de partenaires de la feuille « partenaires », séparés par des virgules "
                                   "ou un par ligne"),
                       (commitments, "engagements par code de partenaire")):
    _ruled(_convert, _rule)


# ---------------------------------------------------------------- schema

@dataclass(frozen=True)
class Field:
    convert: Callable[[Any], Any]
    required: bool = False
    default: Any = None
    children: dict[str, Field] = field(default_factory=dict)
    items: dict[str, Field] = field(default_factory=dict)  # for lists of objects


def obj(**children: Field) -> Field:
    return Field(lambda v: v, children=children)


PERSON = obj(civilite=Field(text(20, False)), nom=Field(text(200, False)), qualite=Field(text(200, False)))

SCHEMAS: dict[str, dict[str, Field]] = {
    "departement": {
        "code": Field(departement_code, required=True),
        "nom": Field(text(200, False), required=True),
        "direction": Field(text(300, False)),
        "adresse": Field(text(500)),
        "ville": Field(text(100, False)),
        "siret": Field(siret),  # the Département's own: idAttribuant of its published subsidies
        "president": PERSON,
        # a vice-président who signs for the Président, by an arrêté of delegation (CGCT, L. 3221-3)
        "signataire": PERSON,
        "delegation": obj(numero=Field(text(60, False)), date=Field(date)),
    },
    "partenaires": {
        "code": Field(key("code"), required=True),
        "type": Field(enum(values(PartenaireType)), required=True),
        "nom": Field(text(300, False), required=True),
        "commune": Field(text(200, False)),
        "code_insee": Field(insee),
        "siret": Field(siret),
        "rna": Field(rna),
        "adresse": Field(text(500)),
        "representant": PERSON,
        # the representative signs by delegation of an office (« Président du CCAS »), by an act (number, date)
        "delegation": obj(delegant=Field(text(200, False)), numero=Field(text(60, False)), date=Field(date)),
        "email": Field(email),
    },
    "conventions": {
        "reference": Field(key("référence"), required=True),
        "type": Field(enum(values(ConventionType)), required=True),
        "departement": Field(departement_code),
        "modele": Field(template_name),
        "partenaires": Field(code_list, required=True),
        "objet": Field(text(4000), required=True),
        "deliberation": obj(instance=Field(text(200, False)), numero=Field(text(50, False)), date=Field(date)),
        "deliberation_partenaire": obj(instance=Field(text(200, False)), numero=Field(text(50, False)),
                                       date=Field(date)),
        "date_signature": Field(date),
        "date_effet": Field(date, required=True),
        "duree_mois": Field(integer(1, 240), default=36),
        "renouvellement": Field(enum(values(Renouvellement)), required=True),
        "renouvellements_max": Field(integer(0, 20), default=1),
        "preavis_mois": Field(integer(0, 24), default=3),
        "responsable": obj(nom=Field(text(200, False)), email=Field(email, required=True)),
        "territoire": Field(text(300, False)),
        "montant": Field(amount),
        "taux_fse": Field(rate),
        "fse_accorde_le": Field(date),  # the date the FSE+ co-funding was granted: until then the act « sollicite »
        "versements": Field(text_list(300), default=[]),
        "imputation": Field(text(300, False)),
        "engagements_departement": Field(text_list(), default=[]),
        "engagements_partenaire": Field(text_list(), default=[]),
        "actions": Field(lambda v: v, default=[], items={
            "intitule": Field(text(500, False), required=True),
            "public": Field(text(300, False)),
            "indicateur": Field(text(300, False)),
            "cible": Field(text(100, False)),
        }),
        "objectifs": obj(
            entrees=Field(integer(0, 10_000_000)), dont_brsa=Field(integer(0, 10_000_000)),
            conseillers=Field(integer(0, 100_000)), travailleurs_sociaux=Field(integer(0, 100_000)),
            duree_accompagnement_mois=Field(integer(1, 120)),
        ),
        # The convention's life, as `pacte exporter` writes it: absent, the registry's is kept as it is.
        "denonciation": obj(date=Field(date), motif=Field(text(2000))),
        "renouvellements": Field(lambda v: v, items={
            "numero": Field(integer(1, 20), required=True), "date": Field(date, required=True),
            "deliberation": Field(text(50, False)),
        }),
        "avenants": Field(lambda v: v, items={
            "numero": Field(integer(1, 200), required=True), "objet": Field(text(4000), required=True),
            "date": Field(date), "periode": Field(integer(1, 21), required=True), "nouvelle_fin": Field(date),
            "deliberation": obj(numero=Field(text(60, False)), date=Field(date)),
            "modifications": Field(lambda v: v, default=[], items={
                "article": Field(text(20, False), required=True), "mode": Field(enum(("complete", "remplace")),
                                                                                 required=True),
                "texte": Field(text(10000), required=True),
            }),
        }),
        "journal": Field(lambda v: v, items={
            "quand": Field(timestamp, required=True), "nature": Field(text(30, False), required=True),
            "date": Field(date), "description": Field(text(10000), required=True),
            "document": Field(text(500, False)), "sha256": Field(text(64, False)),
        }),
    },
}


FICHE: dict[str, Field] = {
    "numero": Field(text(10, False), required=True),
    "intitule": Field(text(300, False), required=True),
    "contexte": Field(text(10000)),
    "objectifs": Field(text_list(), default=[]),
    "public": Field(text(2000)),
    "pilote": Field(text(300, False)),
    "partenaires": Field(code_list, default=[]),
    "modalites": Field(text(10000)),
    "calendrier": Field(text(2000)),
    "indicateurs": Field(text_list(), default=[]),
    "budget": Field(amount),
    "financeurs": Field(text_list(), default=[]),
    "referent": Field(text(300, False)),  # référent thématique: a function or an agent
}

SCHEMAS["pacte"] = {
    "reference": Field(key("référence"), required=True),
    "titre": Field(text(300, False), required=True),
    "departement": Field(departement_code),
    "periode": obj(debut=Field(integer(1990, 2100), required=True), fin=Field(integer(1990, 2100), required=True)),
    "adoption": obj(instance=Field(text(200, False)), numero=Field(text(60, False)), date=Field(date)),
    # approbation when the PDI/PTI has its bilans approved by the Assemblée; otherwise it takes note of them
    "bilan_decision": Field(enum(values(DecisionBilan)), default="prise_acte"),
    "cosignataires": Field(code_list, default=[]),
    "contexte": Field(text(20000)),
    "diagnostic": Field(text_list(), default=[]),
    "methode": Field(text(20000)),
    "gouvernance": Field(text_list(), default=[]),
    "engagements": Field(commitments, default={}),
    "axes": Field(lambda v: v, required=True, items={
        "numero": Field(integer(1, 99), required=True),
        "intitule": Field(text(300, False), required=True),
        "nature": Field(enum(values(NatureAxe)), required=True),
        "objectifs": Field(text_list(), default=[]),
        "referent": Field(text(300, False)),
        "fiches": Field(lambda v: v, default=[], items=FICHE),
    }),
}


# The PDI/PTI in a workbook: its axes, fiches-actions and commitments in sheets of their own, one row each, joined
# to the pacte of the workbook (`readers.attach_pacte`); a fiche names its axe by number. Each row is then checked
# as part of the pacte, by the same rules as the YAML.
PARTS: dict[str, dict[str, Field]] = {
    "axes": {name: spec for name, spec in SCHEMAS["pacte"]["axes"].items.items() if name != "fiches"},
    "fiches": {"axe": Field(integer(1, 99), required=True), **FICHE},
    "engagements": {"partenaire": Field(key("code"), required=True),
                    "engagement": Field(text(2000), required=True)},
}
IN_PARTS = ("axes", "engagements")  # the pacte's fields a workbook gives in sheets of their own

# A revision of the PDI/PTI (`pacte pdi-pti reviser`): the same axes and fiches-actions, each with what the revision
# does to it. For « modifier », a field left out keeps its value; for « clore », only the number and a motif.
OPERATION = Field(enum(values(OperationRevision)), required=True)
MOTIF = Field(text(2000))
REVISION: dict[str, dict[str, Field]] = {
    "axes": {"operation": OPERATION, **{name: Field(spec.convert, required=name == "numero")
                                        for name, spec in PARTS["axes"].items()}, "motif": MOTIF},
    "fiches": {"operation": OPERATION, "axe": Field(integer(1, 99)),
               **{name: Field(spec.convert, required=name == "numero") for name, spec in FICHE.items()},
               "motif": MOTIF},
}
SCHEMAS["suivi"] = {
    "pacte": Field(key("référence")),
    "fiche": Field(text(10, False)),
    "axe": Field(integer(1, 99)),
    "date": Field(date, required=True),
    "etat": Field(enum(values(EtatFiche)), required=True),
    "commentaire": Field(text(2000)),
    "referent": Field(text(300, False)),
}


def table_schema(section: str) -> dict[str, Field]:
    """The fields of *section* as the columns of a sheet (or a CSV file) give them."""
    if section in PARTS:
        return PARTS[section]
    if section == "pacte":
        return {name: spec for name, spec in SCHEMAS["pacte"].items() if name not in IN_PARTS}
    return SCHEMAS.get(section, {})


COUNT = Field(integer(0, 10_000_000))
SCHEMAS["realisations"] = {
    "annee": Field(integer(1990, 2100), required=True),
    "departement": Field(departement_code),
    "axe": Field(integer(1, 99)),
    "fiche": Field(text(10, False)),
    "convention": Field(key("référence")),
    **{name: Field(amount) if name.startswith("credits") else COUNT for name in FIGURES},
    "foyers_rsa": COUNT,
    "commentaire": Field(text(3000)),
}

# Fields that would describe a person: the bilan receives aggregated figures only.
PERSONAL_FIELDS = {"nom", "prenom", "prénom", "nom_naissance", "date_naissance", "date_de_naissance", "naissance",
                   "nir", "numero_securite_sociale", "securite_sociale", "secu", "adresse", "email", "courriel",
                   "telephone", "téléphone", "beneficiaire", "bénéficiaire", "allocataire", "numero_allocataire",
                   "matricule", "identifiant", "sexe", "age", "âge"}
NIR = re.compile(r"\b[12]\s?\d{2}\s?(0[1-9]|1[0-2]|[2-9]\d)\s?(\d{2}|2[AB])\s?\d{3}\s?\d{3}(\s?\d{2})?\b")
BIRTH_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/(19|20)\d{2}\b")


def personal_data(item: Item) -> list[Problem]:
    """Problems for every field or value of a figures record that looks like a person's data."""
    problems = []
    for name, value in item.data.items():
        if str(name).strip().lower() in PERSONAL_FIELDS:
            problems.append(Problem(item.source, item.place(name), item.label(name),
                                    "donnée personnelle refusée : le bilan ne reçoit que des chiffres agrégés",
                                    f"retirez la colonne « {name} » et toute donnée sur une personne"))
        elif isinstance(value, str) and (NIR.search(value) or BIRTH_DATE.search(value)):
            problems.append(Problem(item.source, item.place(name), item.label(name),
                                    "valeur qui ressemble à un numéro de sécurité sociale ou à une date de naissance",
                                    "le bilan ne reçoit que des chiffres agrégés : retirez cette donnée"))
    return problems


def clean(item: Item, problems: list[Problem]) -> dict[str, Any] | None:
    """Convert and check an item against its section's schema; None when anything is wrong."""
    if item.section == "realisations":
        personal = personal_data(item)
        if personal:
            problems.extend(personal)
            return None
    schema = SCHEMAS.get(item.section)
    if schema is None:
        problems.append(Problem(item.source, item.where, None,
                                f"la section « {item.section} » n'est pas encore prise en charge",
                                "retirez-la de ce fichier pour l'instant"))
        return None
    before = len(problems)
    result = _clean_mapping(item, item.data, schema, "", problems)
    return result if len(problems) == before else None


def clean_with(item: Item, schema: dict[str, Field], problems: list[Problem]) -> dict[str, Any]:
    """Convert and check an item against *schema* (a revision's rows, say); its problems are added to *problems*."""
    return _clean_mapping(item, item.data, schema, "", problems)


def _clean_mapping(item: Item, data: dict[str, Any], schema: dict[str, Field], prefix: str,
                   problems: list[Problem]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in data:
        if name not in schema:
            # In a table, a field is a column: only a column that exists is suggested (deliberation_numero).
            names = [f"{n}_{child}" for n, spec in schema.items() for child in spec.children] + \
                [n for n, spec in schema.items() if not spec.children] if item.table and not prefix else list(schema)
            close = _closest(name, names)
            fix = f"vouliez-vous dire « {prefix}{close[0]} » ?" if close else \
                ("colonnes permises : " if item.table and not prefix else "champs permis : ") + ", ".join(names)
            problems.append(Problem(item.source, item.place(prefix + name), item.label(prefix + name),
                                    "champ inconnu", fix))
    for name, spec in schema.items():
        path = prefix + name
        value = data.get(name)
        if spec.children:
            if value is None:
                value = {}
            if not isinstance(value, dict):
                problems.append(Problem(item.source, item.place(path), item.label(path),
                                        "des sous-champs sont attendus", "sous-champs : " + ", ".join(spec.children)))
                continue
            result[name] = _clean_mapping(item, value, spec.children, path + ".", problems)
            continue
        if value is None or (isinstance(value, str) and not value.strip()) or value == []:  # blank = absent
            if spec.required:
                fix = f"remplissez la feuille « {path} » du classeur (ou importez avec lui le fichier {path}.csv)" \
                    if item.table and item.section == "pacte" and path in IN_PARTS else "renseignez-le"
                problems.append(Problem(item.source, item.place(path) if path in item.places else item.where,
                                        item.label(path), "champ obligatoire absent", fix))
            result[name] = type(spec.default)(spec.default) if isinstance(spec.default, list | dict) else spec.default
            continue
        if spec.items:
            result[name] = _clean_objects(item, value, spec.items, path, problems)
            continue
        try:
            result[name] = spec.convert(value)
        except Invalid as exc:
            problems.append(Problem(item.source, item.place(path), item.label(path), exc.message, exc.fix))
            continue
        if spec.required and result[name] is None:
            problems.append(Problem(item.source, item.place(path), item.label(path), "champ obligatoire vide",
                                    "renseignez-le"))
    return result


_NUMBER_WORDS = {"n", "no", "num", "numero"}


def _closest(name: str, names: list[str]) -> list[str]:
    """The field *name* most likely means, among *names* only: by spelling (« date_efet » → date_effet), else by
    a word it begins (« n_de_delibe » → deliberation_numero: « delibe » begins « deliberation », « n » is a
    number)."""
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return close
    words = [w for w in name.split("_") if w]
    stems = [w for w in words if len(w) >= 4]
    found = [n for n in names if any(part.startswith(stem) for stem in stems for part in n.split("_"))]
    if not found:
        return []
    wanted = "numero" if _NUMBER_WORDS & set(words) else "date" if "date" in words else None
    found.sort(key=lambda n: (wanted is None or not n.endswith("_" + wanted), len(n)))
    return found[:1]


def _clean_objects(item: Item, value: Any, schema: dict[str, Field], path: str,
                   problems: list[Problem]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        problems.append(Problem(item.source, item.place(path), item.label(path), "liste attendue",
                                "faites précéder chaque élément d'un tiret « - »"))
        return []
    out = []
    for index, element in enumerate(value):
        if isinstance(element, str):
            element = {"intitule": element}
        if not isinstance(element, dict):
            problems.append(Problem(item.source, item.place(f"{path}.{index}"), item.label(path), "élément mal formé",
                                    "champs : " + ", ".join(schema)))
            continue
        out.append(_clean_mapping(item, element, schema, f"{path}.{index}.", problems))
    return out


def required_columns(section: str) -> set[str]:
    """The columns a table of *section* must have, as the header names them (responsable_email)."""
    columns = set()
    for name, spec in table_schema(section).items():
        if spec.required:
            columns.add(name)
        columns |= {f"{name}_{child}" for child, sub in spec.children.items() if sub.required}
    return columns
