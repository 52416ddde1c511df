"""The PDI/PTI's versions: a revision adds, amends or closes axes and fiches-actions of the content in force, and
each version keeps, for every axe and fiche, the rang of the version that added it and of those that amended it.
Pure functions over the import format's dicts (JSON-safe: amounts as text)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from pacte_docs.formatting import date_courte

FICHE_NUMBER = re.compile(r"^(\d{1,2})\.(\d{1,2})$")
AXE_CONTENT = ("intitule", "nature", "objectifs", "referent")
FICHE_CONTENT = ("intitule", "contexte", "objectifs", "public", "pilote", "partenaires", "modalites", "calendrier",
                 "indicateurs", "budget", "financeurs", "referent")
LIST_FIELDS = {"objectifs", "partenaires", "indicateurs", "financeurs"}


@dataclass
class Operation:
    """One row of a revision file: what it does (ajouter, modifier, clore) to an axe or a fiche, the fields it
    gives (*given*: those the file wrote, so that « modifier » changes only them), and where it was written."""

    objet: str  # "axe" | "fiche"
    operation: str
    values: dict[str, Any]
    given: set[str]
    where: Any = None  # the caller's locator, handed back with each problem


@dataclass
class Refus:
    where: Any
    champ: str
    message: str
    fix: str


@dataclass
class Version:
    """The content in force from *date*: rang 0 is the pacte as adopted."""

    rang: int
    instance: str | None
    numero: str | None
    date: dt.date | None
    objet: str | None
    axes: list[dict[str, Any]]
    changements: list[dict[str, Any]] = field(default_factory=list)


def json_safe(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value


def first_version(axes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The adopted content (the import format's axes, with their fiches), each axe and fiche marked as adopted."""
    return [{**json_safe({k: v for k, v in a.items() if k != "fiches"}), "ajout": 0, "modifie": [],
             "fiches": [{**json_safe(f), "ajout": 0, "modifie": []} for f in a["fiches"]]} for a in axes]


def in_force(versions: list[Version], on: dt.date) -> Version:
    """The version in force on *on*: the last one adopted by then (the pacte as adopted before any date)."""
    found = versions[0]
    for version in versions[1:]:
        if version.date is not None and version.date <= on:
            found = version
    return found


def apply(content: list[dict[str, Any]], operations: list[Operation], rang: int,
          known_partners: set[str], used_fiches: set[str], used_axes: set[int]
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Refus]]:
    """The content after *operations* (revision *rang*), what changed, and every refusal. *used_fiches* and
    *used_axes* are the numbers any version ever gave: a closed number is never given again."""
    axes = [{**a, "fiches": [dict(f) for f in a["fiches"]]} for a in content]
    by_axe = {a["numero"]: a for a in axes}
    changes: list[dict[str, Any]] = []
    refus: list[Refus] = []
    seen: dict[tuple[str, str], Any] = {}

    def refuse(op: Operation, champ: str, message: str, fix: str) -> None:
        refus.append(Refus(op.where, champ, message, fix))

    def fiche_of(number: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for axe in axes:
            for f in axe["fiches"]:
                if f["numero"] == number:
                    return axe, f
        return None

    # axes first (a fiche may be added to an axe the same revision adds), closings of axes last
    ordered = sorted(operations, key=lambda o: (o.objet == "axe" and o.operation == "clore", o.objet != "axe"))
    for op in ordered:
        values = op.values
        number = values["numero"]
        key = (op.objet, str(number))
        if key in seen:
            refuse(op, "numero", f"{'l’axe' if op.objet == 'axe' else 'la fiche'} {number} figure deux fois dans la "
                   "révision", "gardez une seule ligne par axe et par fiche")
            continue
        seen[key] = op
        if op.objet == "axe":
            _axe(op, axes, by_axe, changes, refuse, rang, used_axes)
        else:
            _fiche(op, by_axe, fiche_of, changes, refuse, rang, known_partners, used_fiches)
    axes.sort(key=lambda a: a["numero"])
    for axe in axes:
        axe["fiches"].sort(key=lambda f: fiche_key(f["numero"]))
    return axes, changes, refus


def fiche_key(number: str) -> tuple[int, ...]:
    """« 1.10 » after « 1.9 »: a number's parts as integers."""
    return tuple(int(part) if part.isdigit() else 0 for part in number.split("."))


def _axe(op: Operation, axes: list[dict[str, Any]], by_axe: dict[int, dict[str, Any]], changes: list[dict[str, Any]],
         refuse: Any, rang: int, used_axes: set[int]) -> None:
    values, number = op.values, op.values["numero"]
    current = by_axe.get(number)
    if op.operation == "ajouter":
        if current is not None or number in used_axes:
            refuse(op, "numero", f"l'axe {number} existe déjà" + ("" if current else " (clos par une révision)"),
                   "donnez à l'axe ajouté un numéro nouveau, ou utilisez l'opération « modifier »")
            return
        missing = [name for name in ("intitule", "nature") if not values.get(name)]
        if missing:
            refuse(op, missing[0], "champ obligatoire absent pour un axe ajouté", "renseignez l'intitulé et la nature")
            return
        axe = {"numero": number, **{name: json_safe(values.get(name) or ([] if name in LIST_FIELDS else None))
                                    for name in AXE_CONTENT}, "ajout": rang, "modifie": [], "fiches": []}
        axes.append(axe)
        by_axe[number] = axe
        changes.append({"operation": "ajouter", "objet": "axe", "numero": str(number), "intitule": axe["intitule"]})
        return
    if current is None:
        refuse(op, "numero", f"l'axe {number} n'est pas en vigueur" + (" : une révision l'a clos"
                                                                      if number in used_axes else ""),
               "axes en vigueur : " + ", ".join(str(n) for n in sorted(by_axe)))
        return
    if op.operation == "modifier":
        _amend(op, current, AXE_CONTENT, f"l'axe {number}", rang, changes, refuse)
        return
    axes.remove(current)
    del by_axe[number]
    for f in current["fiches"]:
        changes.append({"operation": "clore", "objet": "fiche", "numero": f["numero"], "intitule": f["intitule"],
                        "motif": f"axe {number} clos"})
    changes.append({"operation": "clore", "objet": "axe", "numero": str(number), "intitule": current["intitule"],
                    "motif": values.get("motif")})


def _fiche(op: Operation, by_axe: dict[int, dict[str, Any]], fiche_of: Any, changes: list[dict[str, Any]],
           refuse: Any, rang: int, known_partners: set[str], used_fiches: set[str]) -> None:
    values, number = op.values, op.values["numero"]
    match = FICHE_NUMBER.match(number)
    if not match:
        refuse(op, "numero", f"« {number} » n'est pas un numéro de fiche", "numérotez-la « axe.rang » (« 2.4 »)")
        return
    unknown = [c for c in values.get("partenaires") or [] if c not in known_partners]
    if unknown:
        refuse(op, "partenaires", "partenaire inconnu : " + ", ".join(unknown),
               "importez-le d'abord ou corrigez le code (« pacte partenaires lister »)")
        return
    found = fiche_of(number)
    axe_number = values.get("axe") or int(match.group(1))
    if op.operation == "ajouter":
        if found is not None or number in used_fiches:
            refuse(op, "numero", f"la fiche {number} existe déjà" + ("" if found else " (close par une révision)"),
                   "donnez à la fiche ajoutée un numéro nouveau, ou utilisez l'opération « modifier »")
            return
        if int(match.group(1)) != axe_number:
            refuse(op, "numero", f"la fiche {number} est numérotée hors de l'axe {axe_number}",
                   f"numérotez-la « {axe_number}.… »")
            return
        axe = by_axe.get(axe_number)
        if axe is None:
            refuse(op, "axe", f"l'axe {axe_number} n'est pas en vigueur",
                   "ajoutez l'axe dans la même révision, ou rattachez la fiche à un axe en vigueur : "
                   + ", ".join(str(n) for n in sorted(by_axe)))
            return
        if not values.get("intitule"):
            refuse(op, "intitule", "champ obligatoire absent pour une fiche ajoutée", "renseignez l'intitulé")
            return
        fiche = {"numero": number, **{name: json_safe(values.get(name) or ([] if name in LIST_FIELDS else None))
                                      for name in FICHE_CONTENT}, "ajout": rang, "modifie": []}
        axe["fiches"].append(fiche)
        changes.append({"operation": "ajouter", "objet": "fiche", "numero": number, "intitule": fiche["intitule"]})
        return
    if found is None:
        refuse(op, "numero", f"la fiche {number} n'est pas en vigueur" + (" : une révision l'a close"
                                                                         if number in used_fiches else ""),
               "« pacte pdi-pti generer » montre les fiches en vigueur")
        return
    axe, fiche = found
    if values.get("axe") is not None and values["axe"] != axe["numero"]:
        refuse(op, "axe", f"la fiche {number} appartient à l'axe {axe['numero']} : une fiche ne change pas d'axe",
               "closez-la et ajoutez une fiche sous l'autre axe")
        return
    if op.operation == "modifier":
        _amend(op, fiche, FICHE_CONTENT, f"la fiche {number}", rang, changes, refuse)
        return
    axe["fiches"].remove(fiche)
    changes.append({"operation": "clore", "objet": "fiche", "numero": number, "intitule": fiche["intitule"],
                    "motif": values.get("motif")})


def _amend(op: Operation, item: dict[str, Any], fields: tuple[str, ...], name: str, rang: int,
           changes: list[dict[str, Any]], refuse: Any) -> None:
    """« modifier »: the fields the row gives replace the item's; the item remembers the revision."""
    given = [field_name for field_name in fields if field_name in op.given]
    if not given:
        refuse(op, "operation", f"rien à modifier dans {name}", "donnez au moins un champ à changer")
        return
    for field_name in given:
        item[field_name] = json_safe(op.values[field_name])
    item["modifie"] = [*item["modifie"], rang]
    changes.append({"operation": "modifier", "objet": op.objet, "numero": str(item["numero"]),
                    "intitule": item["intitule"], "champs": given})


def used_numbers(versions: list[Version]) -> tuple[set[int], set[str]]:
    """Every axe and fiche number any version gave."""
    axes = {a["numero"] for v in versions for a in v.axes}
    fiches = {f["numero"] for v in versions for a in v.axes for f in a["fiches"]}
    return axes, fiches


def as_objects(content: list[dict[str, Any]]) -> list[SimpleNamespace]:
    """The content's axes and fiches as objects with the registry's attributes (the document's context reads them
    like Axe and FicheAction)."""
    def fiche(f: dict[str, Any]) -> SimpleNamespace:
        budget = f.get("budget")
        return SimpleNamespace(**{**f, "budget": Decimal(budget) if budget is not None else None})
    return [SimpleNamespace(**{**a, "fiches": [fiche(f) for f in a["fiches"]]}) for a in content]


def structure(versions: list[Version], year: int) -> tuple[set[int], set[str]]:
    """The axes and fiches in force at some time in *year*: figures may be given for any of them."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    axes: set[int] = set()
    fiches: set[str] = set()
    for index, version in enumerate(versions):
        begins = version.date if index else None
        following = versions[index + 1].date if index + 1 < len(versions) else None
        if (begins is not None and begins > end) or (following is not None and following <= start):
            continue
        axes |= {a["numero"] for a in version.axes}
        fiches |= {f["numero"] for a in version.axes for f in a["fiches"]}
    return axes, fiches


def target(text: str) -> str | None:
    """The key a state is recorded under: « 1.1 » or « fiche 1.1 » → « fiche:1.1 », « axe 2 » → « axe:2 »;
    None when *text* names neither."""
    raw = " ".join(str(text).strip().lower().replace(":", " ").split())
    if raw.startswith("fiche "):
        raw = raw.removeprefix("fiche ").strip()
    if FICHE_NUMBER.match(raw):
        return f"fiche:{raw}"
    match = re.fullmatch(r"axe ?(\d{1,2})", raw)
    return f"axe:{int(match.group(1))}" if match else None


def followed(versions: list[Version], cible: str, on: dt.date, adopted: dt.date | None,
             today: dt.date) -> tuple[str, str] | None:
    """Why the axe or fiche *cible* cannot be given a state on *on* (message, fix), or None: a state is observed
    (never after *today*), after the adoption, on an axe or fiche in force that day — a fiche a revision adds is
    followed from that revision, one it closes until the day before."""
    if adopted is not None and on < adopted:
        return (f"le {date_courte(on)} précède l'adoption du PDI/PTI le {date_courte(adopted)}",
                "datez l'état après l'adoption")
    if on > today:
        return f"le {date_courte(on)} est à venir", "un état se constate : datez-le d'aujourd'hui au plus tard"
    version = in_force(versions, on)
    kind, _, number = cible.partition(":")
    numbers = {str(a["numero"]) for a in version.axes} if kind == "axe" else \
        {f["numero"] for a in version.axes for f in a["fiches"]}
    if number in numbers:
        return None
    what = f"l'axe {number}" if kind == "axe" else f"la fiche-action {number}"
    ever = {str(a["numero"]) for v in versions for a in v.axes} if kind == "axe" else \
        {f["numero"] for v in versions for a in v.axes for f in a["fiches"]}
    if number not in ever:
        return (f"{what} n'existe pas dans le PDI/PTI",
                ("axes" if kind == "axe" else "fiches") + " en vigueur : " + ", ".join(sorted(numbers, key=fiche_key)))
    since = next((v for v in versions if v.date and number in (
        {str(a["numero"]) for a in v.axes} if kind == "axe" else {f["numero"] for a in v.axes for f in a["fiches"]})),
        None)
    if since is not None and since.rang > version.rang and since.date:
        return (f"{what} n'était pas encore en vigueur le {date_courte(on)} : la délibération n° "
                f"{since.numero} l'a ajoutée le {date_courte(since.date)}", "datez l'état après cette date")
    return (f"{what} n'est plus en vigueur le {date_courte(on)} : une révision l'a close",
            "un état se donne aux fiches en vigueur ; « pacte pdi-pti generer » les montre")
