"""How the staff pages lay out the form of a partner or a draft convention: its fields grouped as a clerk reads
them, each with its French label, the widget its rule asks for and the workbook's note as its explanation.

The fields, their rules and their notes are the import workbook's (intake.workbook): a field typed here is checked
and recorded as the same cell of the same sheet would be (services.records.save_form). Only the presentation
lives here."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pacte_docs.intake import import_format, readers, workbook

GROUPS: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "partenaires": [
        ("Le partenaire", [("code", "Code"), ("type", "Type"), ("nom", "Nom")]),
        ("Commune", [("commune", "Commune"), ("code_insee", "Code INSEE")]),
        ("Coordonnées", [("adresse", "Adresse postale"), ("email", "Courriel"), ("siret", "SIRET"),
                         ("rna", "Numéro RNA (association)")]),
        ("Son représentant, qui signe", [("representant_civilite", "Civilité"), ("representant_nom", "Nom"),
                                        ("representant_qualite", "Qualité")]),
        ("Délégation de signature, s'il signe par délégation", [
            ("delegation_delegant", "Autorité qui délègue"), ("delegation_numero", "Numéro de l'acte de délégation"),
            ("delegation_date", "Date de l'acte de délégation")]),
    ],
    "departement": [
        ("Le Département", [("code", "Code du département"), ("nom", "Nom"), ("direction", "Direction"),
                            ("adresse", "Adresse postale"), ("ville", "Ville du « Fait à »"),
                            ("siret", "SIRET du Département")]),
        ("Le Président du Conseil départemental", [("president_civilite", "Civilité"), ("president_nom", "Nom"),
                                                   ("president_qualite", "Qualité")]),
        ("L'élu qui signe par délégation, s'il y en a un", [
            ("signataire_civilite", "Civilité"), ("signataire_nom", "Nom"), ("signataire_qualite", "Qualité"),
            ("delegation_numero", "Numéro de l'arrêté de délégation"),
            ("delegation_date", "Date de l'arrêté de délégation")]),
    ],
    "conventions": [
        ("La convention", [("reference", "Référence"), ("type", "Type"), ("partenaires", "Partenaires"),
                           ("objet", "Objet"), ("territoire", "Territoire")]),
        ("Délibération du Département qui l'approuve", [
            ("deliberation_instance", "Instance"), ("deliberation_numero", "Numéro"),
            ("deliberation_date", "Date")]),
        ("Délibération du partenaire", [
            ("deliberation_partenaire_instance", "Instance"), ("deliberation_partenaire_numero", "Numéro"),
            ("deliberation_partenaire_date", "Date")]),
        ("Durée et renouvellement", [
            ("date_effet", "Date d'effet"), ("duree_mois", "Durée d'une période (mois)"),
            ("renouvellement", "Renouvellement"), ("renouvellements_max", "Nombre de renouvellements au plus"),
            ("preavis_mois", "Préavis de dénonciation (mois)")]),
        ("Responsable du suivi", [("responsable_nom", "Nom"), ("responsable_email", "Courriel")]),
        ("Financement", [
            ("montant", "Montant (euros)"), ("versements", "Échéancier des versements"),
            ("imputation", "Imputation budgétaire"), ("taux_fse", "Taux de cofinancement FSE+"),
            ("fse_accorde_le", "FSE+ accordé le")]),
        ("Engagements et actions", [
            ("engagements_departement", "Engagements du Département"),
            ("engagements_partenaire", "Engagements du partenaire"), ("actions", "Actions")]),
        ("Objectifs (accompagnement avec France Travail)", [
            ("objectifs_entrees", "Entrées en accompagnement"), ("objectifs_dont_brsa", "Dont bénéficiaires du RSA"),
            ("objectifs_conseillers", "Conseillers"), ("objectifs_travailleurs_sociaux", "Travailleurs sociaux"),
            ("objectifs_duree_accompagnement_mois", "Durée de l'accompagnement (mois)")]),
        ("Présentation de l'acte", [("modele", "Modèle"), ("departement", "Département")]),
    ],
}

# the workbook's notes speak of cells and sheets; a form's field says the same in its own words
_FORM_WORDS = (("Un élément par ligne (Alt+Entrée dans Excel)", "Un élément par ligne"),
               ("Un élément par ligne (Alt+Entrée)", "Un élément par ligne"),
               ("de la feuille « partenaires »", "du registre"),
               (" ou une date Excel", ""),
               ("dans les autres feuilles", "dans les conventions"))
# what a widget already says (a list of values, a calendar) is not said again under it
_SHOWN_BY_WIDGET = {"select": re.compile(r"\s*Valeurs : [^.]*\."), "date": re.compile(r"\s*Date : [^.]*\.")}


@dataclass(frozen=True)
class Champ:
    nom: str
    libelle: str
    widget: str  # text, textarea, select, date, email
    aide: str
    requis: bool
    choix: tuple[tuple[str, str], ...] = ()


def help_text(section: str, column: str) -> str:
    """The workbook's note of the column, as a form's explanation (the « Obligatoire. » said by the label)."""
    text = workbook.note(section, column)
    for old, new in _FORM_WORDS:
        text = text.replace(old, new)
    return text.removeprefix("Obligatoire. ").removeprefix("Facultatif. ")


def _widget(section: str, column: str) -> str:
    spec = workbook._field(section, column)
    if spec is None:
        return "text"
    if workbook.choices(section, column):
        return "select"
    if spec.convert is import_format.date:
        return "date"
    if spec.convert is import_format.email:
        return "email"
    rule = import_format.RULES.get(spec.convert, ("", ()))[0]
    if spec.items or (column in readers.LISTS.get(section, set()) and column != "partenaires") or \
            rule.startswith("texte,"):
        return "textarea"
    return "text"


def fields(section: str, modeles: list[str] | None = None) -> list[tuple[str, list[Champ]]]:
    """The form of *section*: (legend, fields) per group; *modeles*, the templates a convention may name (a list
    to choose from rather than a name to type)."""
    out = []
    for legend, columns in GROUPS[section]:
        champs = []
        for column, libelle in columns:
            spec = workbook._field(section, column)
            widget = _widget(section, column)
            aide = help_text(section, column)
            if column == "modele" and modeles is not None:
                champs.append(Champ(column, libelle, "select", "Sans choix : le modèle de son type "
                                    "(CCAS ou France Travail).", False,
                                    tuple((name, name.replace("_", " ")) for name in modeles)))
                continue
            if widget in _SHOWN_BY_WIDGET:
                aide = _SHOWN_BY_WIDGET[widget].sub("", aide).strip()
            champs.append(Champ(column, libelle, widget, aide,
                                bool(spec and spec.required),
                                tuple((code, workbook.label(code)) for code in workbook.choices(section, column))))
        out.append((legend, champs))
    return out


# What the services say for the command line, said for the pages: the page that does the same job.
_PAGE_FOR_COMMAND = (
    (re.compile(r"\(liste : « pacte partenaires lister »\)"), "(liste : page « Partenaires »)"),
    (re.compile(r"« pacte partenaires lister »"), "la page « Partenaires »"),
    (re.compile(r"« pacte conventions lister[^»]*»"), "la page « Conventions »"),
    (re.compile(r"« pacte conventions generer [^»]*» le produira"), "le bouton « Générer les documents » de sa "
                                                                     "page le produira"),
    (re.compile(r"« pacte modeles verifier[^»]*»"), "la vérification de la page « Modèles »"),
    (re.compile(r"« pacte modeles lister »"), "la page « Modèles »"),
    (re.compile(r"« pacte agents retirer [^»]*»"), "retirez-le (page « Comptes »)"),
    (re.compile(r"« pacte agents lister »"), "la page « Comptes »"),
    (re.compile(r"« pacte importer[^»]*»"), "la page « Importer »"),
    (re.compile(r"\(?pacte conventions succeder \S+ --reference NOUVELLE-REFERENCE\)?"),
     "« Préparer la convention qui lui succède », sur sa page"),
    (re.compile(r"« pacte conventions generer [^»]*» en fait le projet"), "le bouton « Générer les documents » de "
                                                                           "sa page en fait le projet"),
    (re.compile(r" \(--nom \"Prénom Nom\"\)"), ""),
    # what a spreadsheet's cell needs and a form's field does not
    (re.compile(r"écrivez-le entre guillemets, zéro initial compris \(par exemple \"([^\"]+)\"\)"),
     r"zéro initial compris (par exemple \1)"),
    (re.compile(r"DOCX illisible \([^)]*\)"), "fichier DOCX illisible : enregistrez-le de nouveau au format .docx "
                                                "depuis Word ou LibreOffice"),
)


# A blank of an act, as the services place it in the workbook (documents.context.Blank), placed in the pages.
_BLANK_PLACE = re.compile(r"feuille « (departement|partenaires|conventions) », colonne « (\w+) »"
                          r"(?:, ligne (?:de la convention|du partenaire) ([A-Z0-9-]+))? \(YAML : [^)]*\)")
_WHERE = {"departement": "page « Le Département »", "partenaires": "fiche du partenaire {row}",
          "conventions": "brouillon de la convention {row}"}


def _placed(found: re.Match[str]) -> str:
    section, column, row = found.group(1), found.group(2), found.group(3) or ""
    label = next((f"{legend} › {libelle}" for legend, columns in GROUPS[section] for name, libelle in columns
                  if name == column), column)
    return f"{_WHERE[section].format(row=row).strip()}, champ « {label} »"


def for_pages(text: str) -> str:
    """A service's message as a page shows it: the pages that do what the command it cites does."""
    for pattern, replacement in _PAGE_FOR_COMMAND:
        text = pattern.sub(replacement, text)
    text = text.replace("complétez le classeur ou le fichier d'import puis réimportez-le :",
                        "complétez-les dans ces pages :")
    return _BLANK_PLACE.sub(_placed, text)
