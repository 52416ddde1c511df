"""French formatting of dates, amounts, numbers and percentages (Babel), used as Jinja filters."""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from num2words import num2words

LOCALE = "fr_FR"
Number = int | float | Decimal


@functools.lru_cache(maxsize=8192)  # alerts and documents repeat the same dates
def date_longue(day: dt.date | None) -> str:
    """1er décembre 2026, 17 octobre 2016."""
    if day is None:
        return ""
    text = format_date(day, "d MMMM y", locale=LOCALE)
    return "1er" + text[1:] if day.day == 1 else text


def date_courte(day: dt.date | None) -> str:
    """01/12/2026."""
    return "" if day is None else day.strftime("%d/%m/%Y")


def montant(value: Number | None) -> str:
    """4 200 000,00 € (French grouping and non-breaking spaces)."""
    if value is None:
        return ""
    return format_currency(Decimal(str(value)), "EUR", locale=LOCALE)


def nombre(value: Number | None) -> str:
    """2 000 ; 12,5."""
    if value is None:
        return ""
    return format_decimal(Decimal(str(value)), locale=LOCALE)


def pourcentage(value: Number | None) -> str:
    """0.5 → 50 % ; 0.525 → 52,5 %."""
    if value is None:
        return ""
    return format_percent(Decimal(str(value)), "#,##0.##\u00a0%", locale=LOCALE)


SMALL_COUNT = 5  # counts of people below this are not shown (statistical secrecy)


def effectif(value: int | None) -> str:
    """A count of people: 1 234 ; « < 5 » for a small count that could point at someone ; « — » if unknown."""
    if value is None:
        return "—"
    if 0 < value < SMALL_COUNT:
        return f"<\u00a0{SMALL_COUNT}"
    return nombre(value)


def evolution(value: Number | None) -> str:
    """0.045 → +4,5 % ; -0.021 → −2,1 % ; None → —."""
    if value is None:
        return "—"
    text = pourcentage(abs(Decimal(str(value))))
    return ("+" if value > 0 else "\u2212" if value < 0 else "") + text


def points(value: Number | None) -> str:
    """A change of a rate, in percentage points: 0.012 → +1,2 pt ; None → —."""
    if value is None:
        return "—"
    shown = nombre((abs(Decimal(str(value))) * 100).quantize(Decimal("0.1")))
    return ("+" if value > 0 else "\u2212" if value < 0 else "") + shown + "\u00a0pt"


def jours(n: int) -> str:
    """How far a deadline is: « aujourd'hui », « dans 1 034 jours », « dépassée de 3 jours »."""
    if n == 0:
        return "aujourd'hui"
    if n < 0:
        return f"dépassée de {nombre(-n)} jour{'s' if n < -1 else ''}"
    return f"dans {nombre(n)} jour{'s' if n > 1 else ''}"


def duree(mois: int) -> str:
    """36 → trois ans ; 18 → dix-huit mois."""
    words = {1: "un", 2: "deux", 3: "trois", 4: "quatre", 5: "cinq", 6: "six", 12: "douze",
             18: "dix-huit", 24: "vingt-quatre"}
    if mois % 12 == 0:
        years = mois // 12
        return f"{words.get(years, str(years))} an{'s' if years > 1 else ''}"
    return f"{words.get(mois, str(mois))} mois"


def fois(n: int) -> str:
    """1 → une fois ; 2 → deux fois."""
    words = {0: "aucune", 1: "une", 2: "deux", 3: "trois", 4: "quatre", 5: "cinq"}
    return f"{words.get(n, str(n))} fois"


def en_lettres(n: int, genre: str = "m") -> str:
    """2 → deux; 21 → vingt et un; 1 → un, or une with genre « f » (a count of a feminine noun: « une
    reconduction », « vingt et une »)."""
    word = str(num2words(int(n), lang="fr"))
    return word[:-2] + "une" if genre.lower().startswith("f") and word.endswith("un") else word


def montant_en_lettres(value: Number | None) -> str:
    """An amount in words, as an act writes it next to the figures: 96 000 → quatre-vingt-seize mille euros;
    1 000 000 → un million d'euros; 12,50 → douze euros et cinquante centimes."""
    if value is None:
        return ""
    cents = int((Decimal(str(value)) * 100).quantize(Decimal(1)))
    euros, rest = divmod(cents, 100)
    words = en_lettres(euros)
    unit = "euro" if euros in (0, 1) else "euros"
    text = f"{words} d'{unit}" if words.endswith(("million", "millions", "milliard", "milliards")) \
        else f"{words} {unit}"
    if rest:
        centimes = f"{en_lettres(rest)} centime{'s' if rest > 1 else ''}"
        text = f"{text} et {centimes}" if euros else centimes
    return text


_ELIDES = re.compile(r"^[aeiouyhâàéèêëîïôöûüœAEIOUYHÂÀÉÈÊËÎÏÔÖÛÜŒ]")


def de(value: Any) -> str:
    """« de » before a word, elided before a vowel or a mute h: de Marc, d'Hélène, d'une reconduction."""
    text = "" if value is None else str(value)
    return f"d'{text}" if _ELIDES.match(text) else f"de {text}"


_BEFORE = re.compile(r"[ \t]+([:;?!»])")
_AFTER = re.compile(r"«[ \t]+")


@functools.lru_cache(maxsize=8192)
def _typographie_text(text: str) -> str:
    """One text, typeset once: the same words (the département, the law's references) fill every act of a batch."""
    if "«" not in text and not _BEFORE.search(text):
        return text
    return _AFTER.sub("«\u00a0", _BEFORE.sub("\u00a0\\1", text))


def typographie(value: Any) -> Any:
    """Non-breaking spaces before « : ; ? ! » and after « in every text of a context (recursively)."""
    if type(value) is str:
        return _typographie_text(value)
    if isinstance(value, str):
        return _AFTER.sub("«\u00a0", _BEFORE.sub("\u00a0\\1", value))
    if isinstance(value, dict):
        return {key: typographie(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typographie(item) for item in value]
    return value


# A CSV cell beginning with one of these is read as a formula by Excel and LibreOffice (« =HYPERLINK(…) » sends
# whoever opens the file to an address; OWASP, CSV injection). A number (« -12,5 ») is left as it is.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?\d+([.,]\d+)?")


def spreadsheet_safe(text: str) -> str:
    """*text* as a spreadsheet shows it as text: an apostrophe before a leading =, +, -, @, tab or carriage
    return — and before a leading apostrophe, so that the reader of a CSV file pacte wrote, which takes one off
    again (`from_spreadsheet`), gives back any text exactly."""
    if (text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text)) or text.startswith("'"):
        return "'" + text
    return text


def from_spreadsheet(text: str) -> str:
    """The text `spreadsheet_safe` protected, as it was."""
    rest = text[1:]
    if text.startswith("'") and (rest.startswith("'") or rest.startswith(_FORMULA_START)
                                 and not _NUMBER.fullmatch(rest)):
        return rest
    return text


def heure_locale(moment: str | dt.datetime | None) -> str:
    """A moment the registry keeps in UTC, as read in France: « 06/12/2026 à 12 h 05 » (Europe/Paris, no-break
    spaces around the h)."""
    import zoneinfo

    if moment is None or moment == "":
        return ""
    value = dt.datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:  # SQLite gives it back without its zone, which is UTC
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
    return f"{local:%d/%m/%Y} à {local.hour}\u00a0h\u00a0{local:%M}"


def moment_long(moment: str | dt.datetime) -> str:
    """A moment as an act writes it, in France's time: « 6 décembre 2026 à 17 h 46 (heure de Paris) »."""
    import zoneinfo

    value = dt.datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:  # SQLite gives it back without its zone, which is UTC
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
    return f"{date_longue(local.date())} à {local.hour}\u00a0h\u00a0{local:%M} (heure de Paris)"


FILTERS = {
    "date_longue": date_longue,
    "heure_locale": heure_locale,
    "date_courte": date_courte,
    "montant": montant,
    "nombre": nombre,
    "pourcentage": pourcentage,
    "effectif": effectif,
    "evolution": evolution,
    "points": points,
    "duree": duree,
    "fois": fois,
    "en_lettres": en_lettres,
    "montant_en_lettres": montant_en_lettres,
    "de": de,
}


# What a person reads in place of the registry's codes (tables and `afficher`; JSON and CSV keep the codes).
LABELS = {
    "approbation": "approbation", "prise_acte": "prise d'acte",
    "brouillon": "brouillon", "signee": "signée", "en_cours": "en cours", "a_renouveler": "à renouveler",
    "reconduite": "reconduite", "denoncee": "dénoncée", "expiree": "expirée", "depasse": "dépassé",
    "ccas": "CCAS", "cias": "CIAS", "france_travail": "France Travail", "commune": "commune", "caf": "CAF",
    "prefecture": "préfecture", "region": "Région", "association": "association", "siae": "SIAE", "autre": "autre",
    "expresse": "expresse", "tacite": "tacite", "aucun": "aucun",
    "a_engager": "à engager", "realisee": "réalisée", "ajustee": "ajustée", "suspendue": "suspendue",
    "abandonnee": "abandonnée", "ajouter": "ajouter", "modifier": "modifier", "clore": "clore",
}
