"""The registry's kinds and statuses, defined once: import format, rules, CLI choices and documents use these.

They are `StrEnum`s, so that a value read from the database or a file compares equal to its member."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

# A template is named, never located: « convention_ccas » is modeles/convention_ccas.docx of the workspace; a path
# (« /ailleurs/modele », « ../x ») is not a name, so that nothing outside the workspace's modeles/ is ever used.
TEMPLATE_NAME = re.compile(r"\w[\w-]{0,99}")


class PartenaireType(StrEnum):
    COMMUNE = "commune"
    CCAS = "ccas"
    CIAS = "cias"
    FRANCE_TRAVAIL = "france_travail"
    CAF = "caf"
    PREFECTURE = "prefecture"
    REGION = "region"
    ASSOCIATION = "association"
    SIAE = "siae"
    AUTRE = "autre"


class ConventionType(StrEnum):
    CCAS = "ccas"
    FRANCE_TRAVAIL = "france_travail"
    AUTRE = "autre"

    @property
    def default_template(self) -> str:
        """The template a convention of this type is generated from when it names none."""
        return "convention_france_travail" if self is ConventionType.FRANCE_TRAVAIL else "convention_ccas"

    @property
    def label(self) -> str:
        """How the alerts name this kind of convention."""
        return {ConventionType.CCAS: "convention commune / CCAS",
                ConventionType.FRANCE_TRAVAIL: "accompagnement global France Travail",
                ConventionType.AUTRE: "convention de partenariat"}[self]


class Renouvellement(StrEnum):
    EXPRESSE = "expresse"
    TACITE = "tacite"
    AUCUN = "aucun"


class Statut(StrEnum):
    """A convention's status on a given day (ARCHITECTURE §5), in the order of its life."""

    BROUILLON = "brouillon"
    SIGNEE = "signee"
    EN_COURS = "en_cours"
    A_RENOUVELER = "a_renouveler"
    RECONDUITE = "reconduite"
    DENONCEE = "denoncee"
    EXPIREE = "expiree"


class NatureAxe(StrEnum):
    """An axis of the PDI/PTI is professional or social insertion: it drives the bilan's split."""

    PROFESSIONNELLE = "professionnelle"
    SOCIALE = "sociale"


class EtatFiche(StrEnum):
    """Where an axe or a fiche-action of the PDI/PTI stands, as its référent thématique reports it."""

    A_ENGAGER = "a_engager"
    EN_COURS = "en_cours"
    REALISEE = "realisee"
    AJUSTEE = "ajustee"
    SUSPENDUE = "suspendue"
    ABANDONNEE = "abandonnee"


class OperationRevision(StrEnum):
    """What a revision of the PDI/PTI does to an axe or a fiche-action."""

    AJOUTER = "ajouter"
    MODIFIER = "modifier"
    CLORE = "clore"


class DecisionBilan(StrEnum):
    """What the PDI/PTI provides for its annual bilan: the Assemblée approves it, or takes note of it."""

    APPROBATION = "approbation"
    PRISE_ACTE = "prise_acte"


class ArticleChange(StrEnum):
    """How an avenant changes an article of the convention: it adds a paragraph or gives a new wording."""

    COMPLETE = "complete"
    REMPLACE = "remplace"

    @property
    def formule(self) -> str:
        """What the avenant says: « L'article 4 de la convention est complété par l'alinéa suivant : … »."""
        return {"complete": "est complété par l'alinéa suivant", "remplace": "est ainsi rédigé"}[self.value]

    @property
    def participe(self) -> str:
        """What the journal says: « Article 4 complété. »."""
        return {"complete": "complété", "remplace": "réécrit"}[self.value]


def values(kind: type[StrEnum]) -> tuple[str, ...]:
    """The values of a kind, in their order: for choices and messages."""
    return tuple(member.value for member in kind)


def as_code(text: str) -> str:
    """A word as the registry's codes write it: « France Travail » → france_travail, « à renouveler » →
    a_renouveler, « Exprès » → expres (lower case, accents set aside, words joined by « _ »)."""
    folded = unicodedata.normalize("NFKD", text.strip().lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


# What people write for a code, beyond the code itself and the label the tool prints (both read by as_code).
CODE_SYNONYMS = {
    "expres": "expresse", "express": "expresse", "explicite": "expresse",
    "tacite_reconduction": "tacite", "reconduction_tacite": "tacite",
    "aucune": "aucun", "sans": "aucun", "sans_renouvellement": "aucun",
    "pole_emploi": "france_travail", "ft": "france_travail",
    "complete_par": "complete", "completer": "complete", "remplacer": "remplace", "remplace_par": "remplace",
    **{as_code(kind.label): kind.value for kind in ConventionType},
}
