"""One check for every e-mail address and header text the tool writes (email-validator, no DNS lookup): an
address the import accepts is one the SMTP layer can send to, and a name never carries a line break into a
header."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from pacte_docs.errors import AddressError

_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029\x00-\x1f\x7f]")


def check_email(raw: str) -> str:
    """The address, normalised (domain in lower case), or AddressError saying what is wrong with it."""
    text = str(raw).strip()
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise AddressError(f"« {text} » n'est pas une adresse électronique valable ({_french(str(exc))})") from None
    return str(checked.normalized).lower()


def check_header_text(value: str | None, what: str = "ce texte") -> str | None:
    """A name or subject fit for a message header: no line break nor control character."""
    if value is None:
        return None
    if _BREAKS.search(value):
        raise AddressError(f"{what} contient un retour à la ligne ou un caractère de contrôle (« {value!r} »)")
    return value


def _french(reason: str) -> str:
    """email-validator's reasons, in French (a reason it adds later reads « adresse mal formée »)."""
    known = {
        "two periods in a row": "deux points qui se suivent",
        "start with a period": "un point au début",
        "end with a period": "un point à la fin",
        "period immediately before the @-sign": "un point juste avant l'arobase @",
        "must have an @-sign": "il manque l'arobase @",
        "nothing before the @-sign": "rien avant l'arobase @",
        "should have a period": "le domaine n'a pas de point",
        "special-use or reserved name": "domaine réservé, qui ne reçoit pas de courrier",
        "not allowed": "caractère non permis",
        "invalid characters: ','": "une virgule : donnez une seule adresse",
        "invalid characters": "caractère non permis",
        "more than one @": "plusieurs arobases @ : donnez une seule adresse",
        "something after the @-sign": "rien après l'arobase @",
        "internationalized characters": "lettre accentuée ou caractère non latin, non pris en charge",
        "is too long": "adresse trop longue",
        "after the @-sign is not valid": "domaine mal formé",
        "cannot end with": "terminaison non permise",
        "empty": "adresse vide",
    }
    lowered = reason.lower()
    for needle, french in known.items():
        if needle.lower() in lowered:
            return french
    return "adresse mal formée"
