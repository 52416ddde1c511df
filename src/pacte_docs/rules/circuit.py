"""The visa circuit of an act (pure): the author submits the draft, each step of the circuit gives its visa in
order — favourable, or unfavourable with a comment that sends the draft back —, then the act may be signed. A
visa holds for the version it was given on (the SHA-256 of the DOCX): a draft changed after a visa loses it.

A step names who gives the visa: a role of the staff (`lecture`, `redaction`, `juriste`, `administration`),
`directeur` (the director who follows the convention, its responsable) or one agent's e-mail address."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from pacte_docs.rules import roles

DIRECTEUR = "directeur"
STEPS = (*roles.ROLES, DIRECTEUR)  # and any agent's e-mail address
STATES = ("non_soumis", "en_visa", "renvoye", "a_resoumettre", "vise")


@dataclass(frozen=True)
class Event:
    """What the registry holds of the circuit: a submission or a visa, on which version."""

    nature: str  # soumission | visa
    tour: int  # the round: each submission starts one
    quand: dt.datetime
    par: str  # « Nom <courriel> »
    sha256: str  # the DOCX the step saw
    etape: int | None = None  # a visa: the index of its step in the circuit
    avis: str | None = None  # favorable | defavorable
    commentaire: str | None = None


@dataclass(frozen=True)
class Standing:
    """Where an act stands in its circuit."""

    etat: str  # one of STATES
    tour: int = 0
    prochaine: int | None = None  # the index of the step whose visa is awaited
    visas: tuple[Event, ...] = field(default_factory=tuple)  # the favourable visas of this round, in order
    renvoi: Event | None = None  # the unfavourable visa that sent the draft back

    @property
    def signable(self) -> bool:
        return self.etat == "vise"


def standing(circuit: Sequence[str], events: Sequence[Event], version: str | None) -> Standing:
    """Where an act with this *circuit* stands after *events*, its current version being *version* (the SHA-256
    of its current DOCX, None when it has none up to date): a draft changed since its submission goes back to
    be submitted again, losing the visas given on the earlier version."""
    if not circuit:
        return Standing("vise")
    submissions = [e for e in events if e.nature == "soumission"]
    if not submissions:
        return Standing("non_soumis")
    last = submissions[-1]
    round_ = [e for e in events if e.nature == "visa" and e.tour == last.tour]
    if last.sha256 != version:
        return Standing("a_resoumettre", last.tour)
    refused = next((e for e in round_ if e.avis == "defavorable"), None)
    if refused is not None:
        return Standing("renvoye", last.tour, renvoi=refused)
    given = tuple(e for e in round_ if e.avis == "favorable")
    if len(given) >= len(circuit):
        return Standing("vise", last.tour, visas=given)
    return Standing("en_visa", last.tour, prochaine=len(given), visas=given)


def may_give(step: str, email: str, role: str | None, responsable: str | None) -> bool:
    """Whether the agent *email* (of *role*; None: no staff account) may give the visa of *step*: the agent
    named, the convention's responsable for `directeur`, an agent whose role allows the one named."""
    if step == DIRECTEUR:
        return bool(responsable) and email.lower() == str(responsable).lower()
    if "@" in step:
        return email.lower() == step.lower()
    return role is not None and roles.allows(role, step)


def described(step: str) -> str:
    """A step as a sentence names it: « un agent du rôle « juriste » », « le directeur qui suit la convention »."""
    if step == DIRECTEUR:
        return "le directeur qui suit la convention"
    if "@" in step:
        return step
    return f"un agent du rôle « {step} »"


# who gives a step's visa, as a reader who does not know pacte.toml names them (the bordereau)
NAMES = {"juriste": "service juridique", "directeur": "directeur qui suit la convention",
         "administration": "administration", "redaction": "rédaction", "lecture": "agent"}


def named(step: str, article: bool = False) -> str:
    """« service juridique », « directeur qui suit la convention », an agent's address; with *article*, « du
    service juridique », « de l'administration », « de jules@departement.fr »."""
    name = NAMES.get(step, step)
    if not article:
        return name
    if step in NAMES:
        return {"administration": "de l'", "redaction": "de la ", "lecture": "d'un "}.get(step, "du ") + name
    return f"de {name}"


def of(step: str) -> str:
    """« de » and the step, as French writes it: « du directeur qui suit la convention », « d'un agent du rôle
    « juriste » », « de jules@departement.fr »."""
    if step == DIRECTEUR:
        return "du directeur qui suit la convention"
    if "@" in step:
        return f"de {step}"
    return f"d'un agent du rôle « {step} »"
