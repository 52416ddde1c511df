"""`pacte importer`: read, validate everything, then apply all or nothing."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pacte_docs.errors import Invalid, Problem, ValidationError
from pacte_docs.formatting import date_courte, montant, nombre
from pacte_docs.intake import import_format, readers
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Convention, ConventionPartenaire, Departement, Pacte, Partenaire
from pacte_docs.rules import fse, periods, revisions, subventions, visas
from pacte_docs.rules.aggregation import FIGURES

SECTION_LABELS = {"departement": "départements", "partenaires": "partenaires", "conventions": "conventions",
                  "pacte": "PDI/PTI", "realisations": "réalisations annuelles", "suivi": "états des fiches-actions"}
KEYS = {"departement": "code", "partenaires": "code", "conventions": "reference", "pacte": "reference"}
FICHE_NUMBER = re.compile(r"^(\d{1,2})\.(\d{1,2})$")


@dataclass
class ImportReport:
    simulation: bool
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, section: str, status: str) -> None:
        self.counts.setdefault(section, Counter())[status] += 1

    @property
    def changed(self) -> bool:
        return any(c["cree"] or c["modifie"] for c in self.counts.values())

    def summary(self) -> list[str]:
        """One line per section, as the user reads it: « Conventions : 2 créées, 1 inchangée »."""
        lines = []
        for section, label in SECTION_LABELS.items():
            counts = self.counts.get(section)
            if counts:
                feminine = "e" if section in ("conventions", "realisations") else ""
                words = {"cree": "créé", "modifie": "modifié", "inchange": "inchangé"}
                parts = [f"{counts[s]} {words[s]}{feminine}{'s' if counts[s] > 1 else ''}"
                         for s in ("cree", "modifie", "inchange") if counts[s]]
                lines.append(f"{label} : " + ", ".join(parts))
        return lines


@dataclass
class _Clean:
    item: readers.Item
    values: dict[str, Any]


# What the acts say of a partner: once one of its conventions is signed, a change is a juriste's to make.
IN_ACTS = ("type", "nom", "commune", "code_insee", "siret", "adresse", "representant_civilite", "representant_nom",
           "representant_qualite", "delegation_delegant", "delegation_numero", "delegation_date")


def import_files(session: Session, paths: list[Path], *, simulation: bool = False,
                 default_departement: str | None = None, signed_allowed: bool = True,
                 via: str | None = None) -> ImportReport:
    """Validate every file, then apply them in the caller's transaction; raise ValidationError on any problem.
    *via* says in the journal where the records came from when it is not a file the user chose (« depuis
    l'espace agents »)."""
    problems: list[Problem] = []
    cleaned: dict[str, list[_Clean]] = {"departement": [], "partenaires": [], "conventions": [], "pacte": [],
                                        "realisations": [], "suivi": []}
    # Codes of partners present in the files, even invalid ones: their own problem is reported once.
    partner_codes: set[str] = set()
    readings = [readers.read(path) for path in paths]
    # the rows of the life tables join their conventions (XLSX sheets, CSV files of an export)
    # and those of the PDI/PTI's sheets (axes, fiches-actions, engagements) their pacte
    joined = {id(item) for item in readers.attach_pacte(
        readers.attach_life([i for r in readings for i in r.items], problems), problems)}
    for reading in readings:
        problems.extend(reading.problems)
        for item in (i for i in reading.items if id(i) in joined):
            if item.section == "partenaires" and item.data.get("code"):
                partner_codes.add(str(item.data["code"]).strip().upper())
            values = import_format.clean(item, problems)
            if values is not None:
                cleaned[item.section].append(_Clean(item, values))
    _check_duplicates(cleaned, problems)
    departement_of = _resolve_departements(session, cleaned, problems, default_departement)
    known_partners = set(session.scalars(select(Partenaire.code))) | partner_codes
    partner_types = {code: kind for code, kind in session.execute(select(Partenaire.code, Partenaire.type))} | {
        e.values["code"]: e.values["type"] for e in cleaned["partenaires"]}
    for entry in cleaned["conventions"]:
        _check_partners(entry, "partenaires", entry.values["partenaires"], known_partners, problems)
        values = entry.values
        if values["date_signature"] and values["deliberation"]["date"] and \
                values["date_signature"] < values["deliberation"]["date"]:
            problems.append(Problem(entry.item.source, entry.item.place("date_signature"), "date_signature",
                                    "la signature précède la délibération qui l'autorise",
                                    "vérifiez les deux dates"))
        if values["renouvellement"] != "aucun" and values["preavis_mois"] >= values["duree_mois"]:
            problems.append(Problem(entry.item.source, entry.item.place("preavis_mois"), "preavis_mois",
                                    f"un préavis de {values['preavis_mois']} mois pour une période de "
                                    f"{values['duree_mois']} mois tomberait avant son début",
                                    "donnez un préavis plus court que la période (3 mois par défaut)"))
        partner_date = values["deliberation_partenaire"]["date"]
        if values["date_signature"] and partner_date and values["date_signature"] < partner_date:
            problems.append(Problem(entry.item.source, entry.item.place("date_signature"), "date_signature",
                                    "la signature précède la délibération du partenaire qui l'autorise",
                                    "vérifiez les deux dates (date_signature, deliberation_partenaire.date)"))
        _check_fse(entry, problems)
        _check_subsidy(entry, [partner_types.get(code) for code in values["partenaires"]], problems)
        try:
            subventions.echeancier(values["versements"], values["montant"])
        except Invalid as exc:
            problems.append(Problem(entry.item.source, entry.item.place("versements"), "versements", exc.message,
                                    exc.fix))
        if values["objectifs"].get("dont_brsa") and values["objectifs"].get("entrees") is not None and \
                values["objectifs"]["dont_brsa"] > values["objectifs"]["entrees"]:
            problems.append(Problem(entry.item.source, entry.item.place("objectifs.dont_brsa"), "objectifs.dont_brsa",
                                    "plus de bénéficiaires du RSA que d'entrées", "vérifiez les deux objectifs"))
    for entry in cleaned["pacte"]:
        _check_pacte(entry, known_partners, problems)
        _check_revised(session, entry, problems)
    _check_realisations(session, cleaned, departement_of, problems)
    followed = _check_suivi(session, cleaned, problems)
    if problems:
        raise ValidationError(problems)

    report = ImportReport(simulation)
    departements: dict[str, Departement] = {}
    for entry in cleaned["departement"]:
        dep, status = queries.upsert_departement(session, entry.values)
        departements[dep.code] = dep
        report.add("departement", status)
    partners: dict[str, Partenaire] = {}
    refused_partners: list[Problem] = []
    for entry in cleaned["partenaires"]:
        known = queries.partenaire(session, entry.values["code"]) if not signed_allowed else None
        said = {f: getattr(known, f) for f in IN_ACTS} if known is not None else {}
        partner, status = queries.upsert_partenaire(session, entry.values)
        partners[partner.code] = partner
        report.add("partenaires", status)
        if said and any(said[f] != getattr(partner, f) for f in IN_ACTS) and session.scalar(
                select(Convention.reference).join(ConventionPartenaire,
                                                  ConventionPartenaire.convention_id == Convention.id)
                .where(ConventionPartenaire.partenaire_id == partner.id, Convention.date_signature.is_not(None))
                .limit(1)) is not None:
            # its name, its signatory and their delegation are in the text of a signed act: a juriste's to change
            refused_partners.append(Problem(entry.item.source, entry.item.where, None,
                                            f"le partenaire {partner.code} est partie à une convention signée : ce que "
                                            "ses actes disent de lui relève du rôle « juriste »",
                                            "demandez ce changement à un juriste"))
    if refused_partners:
        raise ValidationError(refused_partners)
    session.flush()
    # Conventions in bulk: existing ones fetched at once, one flush for all, then their journal entries.
    wanted = [p for e in cleaned["conventions"] for p in e.values["partenaires"] if p not in partners]
    for start in range(0, len(wanted), 500):
        for partner in session.scalars(select(Partenaire).where(Partenaire.code.in_(wanted[start:start + 500]))):
            partners[partner.code] = partner
    references = [e.values["reference"] for e in cleaned["conventions"]]
    existing: dict[str, Convention] = {}
    for start in range(0, len(references), 500):
        existing.update((c.reference, c) for c in session.scalars(
            select(Convention).where(Convention.reference.in_(references[start:start + 500]))))
    for code in {departement_of[id(e)] for e in cleaned["conventions"]} - set(departements):
        departements[code] = session.scalars(select(Departement).where(Departement.code == code)).one()
    changed: list[tuple[Convention, str, str]] = []
    with session.no_autoflush:
        refused: list[Problem] = []
        for entry in cleaned["conventions"]:
            before = existing.get(entry.values["reference"])
            signed_before = before.date_signature if before is not None else None
            convention, status = queries.upsert_convention(
                session, entry.values, departements[departement_of[id(entry)]],
                [partners[c] for c in entry.values["partenaires"]], before)
            if not signed_allowed and status != "inchange" and (signed_before or convention.date_signature):
                # a signature, and what a signed text says, are a juriste's to record (staff pages' roles)
                refused.append(Problem(entry.item.source, entry.item.where, "date_signature",
                                       f"la convention {convention.reference} est ou serait signée : sa signature et "
                                       "ses changements relèvent du rôle « juriste »",
                                       "retirez date_signature et les conventions signées du fichier, ou demandez "
                                       "l'import à un juriste"))
            report.add("conventions", status)
            if status != "inchange":
                changed.append((convention, status, entry.item.source))
        if refused:
            raise ValidationError(refused)
    session.flush()
    queries.refresh_echeances(session, [c for c, _, _ in changed])
    restored = {e.values["reference"]: e.values["journal"] for e in cleaned["conventions"] if e.values["journal"]}
    for convention, status, source in changed:
        if status == "cree" and convention.reference in restored:  # an export's journal, as it was
            queries.restore_journal(session, convention, restored[convention.reference])
            continue
        origin = via or f"par l'import de {source}"
        journal.record(session, convention, "import", f"{'Créée' if status == 'cree' else 'Modifiée'} {origin}.")
    for entry in cleaned["pacte"]:
        code = departement_of[id(entry)]
        if code not in departements:
            departements[code] = session.scalars(select(Departement).where(Departement.code == code)).one()
        wanted = entry.values["cosignataires"]
        cosignataires = {p.code: p for p in session.scalars(select(Partenaire).where(Partenaire.code.in_(wanted)))}
        _, status = queries.upsert_pacte(session, entry.values, departements[code],
                                          [cosignataires[c] for c in entry.values["cosignataires"]])
        report.add("pacte", status)
    session.flush()
    for entry in cleaned["realisations"]:
        code = departement_of[id(entry)]
        if code not in departements:
            departements[code] = session.scalars(select(Departement).where(Departement.code == code)).one()
        _, status = queries.upsert_realisation(session, entry.values, departements[code])
        report.add("realisations", status)
    for entry, pacte, cible in followed:
        values = entry.values
        report.add("suivi", queries.upsert_suivi(session, pacte, cible, values["date"], values["etat"],
                                                 values["commentaire"], values["referent"],
                                                 via or f"import de {entry.item.source}"))
    session.flush()
    return report


def _check_suivi(session: Session, cleaned: dict[str, list[_Clean]], problems: list[Problem]
                 ) -> list[tuple[_Clean, Pacte, str]]:
    """Each state names a pacte of the registry (or the only one), one fiche or one axe in force on its date."""
    if not cleaned["suivi"]:
        return []
    pactes = {p.reference: p for p in queries.pactes(session)}
    today = periods.today()
    result = []
    seen: set[tuple[str, str, Any]] = set()
    known: dict[str, list[revisions.Version]] = {}  # each pacte's versions, read once for all its rows
    for entry in cleaned["suivi"]:
        values, item = entry.values, entry.item

        def problem(path: str, message: str, fix: str, item: readers.Item = item) -> None:
            problems.append(Problem(item.source, item.place(path), item.label(path), message, fix))

        reference = values["pacte"] or (next(iter(pactes)) if len(pactes) == 1 else None)
        if reference not in pactes:
            problem("pacte", f"PDI/PTI « {values['pacte']} » inconnu du registre" if values["pacte"] else
                    "le registre tient plusieurs PDI/PTI", "indiquez sa référence : " + ", ".join(pactes)
                    if pactes else "importez d'abord le PDI/PTI")
            continue
        if (values["fiche"] is None) == (values["axe"] is None):
            problem("fiche", "chaque état porte sur une fiche-action ou sur un axe, et un seul",
                    "remplissez une seule des colonnes fiche et axe")
            continue
        cible = revisions.target(values["fiche"]) if values["fiche"] else f"axe:{values['axe']}"
        if cible is None:
            problem("fiche", f"« {values['fiche']} » n'est pas un numéro de fiche", "écrivez-le « 1.1 »")
            continue
        pacte = pactes[reference]
        if reference not in known:
            known[reference] = queries.pacte_versions(pacte)
        versions = known[reference]
        refused = revisions.followed(versions, cible, values["date"], pacte.adoption_date, today)
        if refused:
            problem("fiche" if values["fiche"] else "axe", *refused)
            continue
        if (reference, cible, values["date"]) in seen:
            problem("date", "deux états de la même fiche (ou du même axe) le même jour",
                    "gardez une ligne par fiche et par date")
            continue
        seen.add((reference, cible, values["date"]))
        result.append((entry, pactes[reference], cible))
    return result


def _check_realisations(session: Session, cleaned: dict[str, list[_Clean]], departement_of: dict[int, str],
                        problems: list[Problem]) -> None:
    """One target per record, known axes, fiches and conventions, no duplicate, coherent counts."""
    if not cleaned["realisations"]:
        return  # no need to read every pacte and convention reference of the registry
    structure: dict[tuple[str, int], tuple[set[int], set[str]]] = {}  # (département, year) → axes, fiches
    for pacte in queries.pactes(session):  # a revised pacte: the axes and fiches in force at some time in the year
        known = queries.pacte_versions(pacte)
        for year in range(pacte.periode_debut, pacte.periode_fin + 1):
            structure[(pacte.departement.code, year)] = revisions.structure(known, year)
    for entry in cleaned["pacte"]:  # a pacte in the same import replaces the registry's
        values = entry.values
        code = departement_of.get(id(entry))
        for year in range(values["periode"]["debut"], values["periode"]["fin"] + 1):
            structure[(str(code), year)] = ({a["numero"] for a in values["axes"]},
                                            {f["numero"] for a in values["axes"] for f in a["fiches"]})
    conventions = set(session.scalars(select(Convention.reference))) | {
        e.values["reference"] for e in cleaned["conventions"]}
    seen: dict[tuple[str, int, str], readers.Item] = {}
    for entry in cleaned["realisations"]:
        values, item = entry.values, entry.item

        def problem(path: str, message: str, fix: str, item: readers.Item = item) -> None:
            problems.append(Problem(item.source, item.place(path), path, message, fix))

        key = queries.target(values)
        if key is None:
            problem("axe", "chaque ligne de réalisations porte sur un axe, une fiche-action ou une convention, "
                           "et un seul", "remplissez une seule des colonnes axe, fiche et convention")
            continue
        if key == queries.DEPARTEMENT:
            figures = [name for name in FIGURES if values[name] is not None]
            if figures or (values["foyers_rsa"] is None and values["commentaire"] is None):
                problem(figures[0] if figures else "axe",
                        "chaque ligne de réalisations porte sur un axe, une fiche-action ou une convention, et un "
                        "seul ; une ligne sans axe, fiche ni convention décrit le département : seulement foyers_rsa "
                        "(foyers bénéficiaires du RSA en fin d'année) et commentaire (difficultés et perspectives)",
                        "indiquez l'axe, la fiche ou la convention de ces chiffres")
                continue
        elif values["foyers_rsa"] is not None:
            problem("foyers_rsa", "le nombre de foyers bénéficiaires du RSA est celui du département",
                    "mettez-le sur une ligne sans axe, fiche ni convention")
        code = departement_of.get(id(entry))
        if code is None:
            continue
        year = values["annee"]
        axes, fiches = structure.get((code, year), (None, None))
        if values["convention"] is not None and values["convention"] not in conventions:
            problem("convention", f"convention « {values['convention']} » inconnue",
                    "importez-la d'abord ou corrigez la référence (« pacte conventions lister »)")
        elif values["convention"] is None and axes is None and key != queries.DEPARTEMENT:
            problem("annee", f"aucun PDI/PTI du département {code} ne couvre l'année {year}",
                    "importez le PDI/PTI de la période ou corrigez l'année")
        elif values["axe"] is not None and axes is not None and values["axe"] not in axes:
            problem("axe", f"l'axe {values['axe']} n'existe pas dans le PDI/PTI de {year}",
                    "axes existants : " + ", ".join(map(str, sorted(axes))))
        elif values["fiche"] is not None and fiches is not None and values["fiche"] not in fiches:
            problem("fiche", f"la fiche-action {values['fiche']} n'existe pas dans le PDI/PTI de {year}",
                    "vérifiez son numéro, par exemple « 1.2 »")
        if (code, year, key) in seen:
            other = seen[(code, year, key)]
            where = other.where if other.source == item.source else f"{other.source}, {other.where}"
            problem(key.split(":")[0], f"réalisations {year} déjà données pour {key.replace(':', ' ')} ({where})",
                    "gardez une seule ligne par année et par axe, fiche ou convention")
        seen.setdefault((code, year, key), item)
        if None not in (values["dont_brsa"], values["entrees"]) and values["dont_brsa"] > values["entrees"]:
            problem("dont_brsa", "plus de bénéficiaires du RSA que d'entrées", "vérifiez les deux nombres")
        people = values["personnes_accompagnees"]
        for name in ("entrees", "sorties_emploi", "sorties_formation", "creations_entreprise"):
            if people is not None and values[name] is not None and values[name] > people:
                problem(name, f"{name.replace('_', ' ')} ({values[name]}) dépasse le nombre de personnes "
                              f"accompagnées ({people})", "vérifiez les deux nombres")


def _check_fse(entry: _Clean, problems: list[Problem]) -> None:
    """The FSE+ as the convention names and asks for it: its programming period, its eligibility dates."""
    values = entry.values
    try:
        for name in ("objet", "engagements_departement", "engagements_partenaire"):
            texts = [values[name]] if isinstance(values[name], str) else values[name] or []
            for text in texts:
                where = name
                fse.check_text(text)
        if values["fse_accorde_le"] and not values["taux_fse"]:
            where = "fse_accorde_le"
            raise Invalid("un FSE+ accordé sans taux de cofinancement",
                          "donnez taux_fse (par exemple 50 %), ou retirez fse_accorde_le")
        if values["taux_fse"] and values["date_effet"]:
            where = "duree_mois"
            fse.check_period(values["date_effet"], periods.fin_periode(values["date_effet"], values["duree_mois"]))
    except Invalid as exc:
        problems.append(Problem(entry.item.source, entry.item.place(where), where, exc.message, exc.fix))


def _check_subsidy(entry: _Clean, types: list[str | None], problems: list[Problem]) -> None:
    """A subsidy to an association is granted by a délibération: never renewed tacitly; above the threshold of
    décret n° 2001-495 its convention states the payment schedule (loi n° 2000-321, art. 10: « les modalités de
    versement »), which nobody outside the parties may fix later."""
    values = entry.values
    cases = visas.situations(france_travail=False, taux_fse=None, association="association" in types,
                             montant=values["montant"], duree_mois=values["duree_mois"])
    if "subvention" in cases and values["renouvellement"] == "tacite":
        problems.append(Problem(entry.item.source, entry.item.place("renouvellement"), "renouvellement",
                                "une subvention à une association ne se reconduit pas tacitement : chaque période "
                                "est attribuée par une délibération",
                                "écrivez « expresse » (renouvellement décidé par délibération avant le terme) ou "
                                "« aucun »"))
    if "subvention" in cases and values["versements"] and values["duree_mois"] > 12 and values["date_effet"]:
        try:
            first = subventions.echeancier(values["versements"], values["montant"])[0].montant
        except Invalid:
            first = None  # the schedule's own problem is reported by the caller
        share = subventions.annuites(values["montant"], values["date_effet"], values["duree_mois"])[0].montant
        if first is not None and first > share:
            problems.append(Problem(entry.item.source, entry.item.place("versements"), "versements",
                                    f"le premier versement ({montant(first)}) dépasse la part de la première année "
                                    f"({montant(share)}) : les années suivantes ne sont dues que sous réserve du "
                                    "vote des crédits",
                                    f"versez au plus la part de l'année avant le vote des crédits de la suivante, "
                                    f"par exemple « {nombre(share)} € à la signature de la convention »"))
    if "subvention_association" in cases and not values["versements"]:
        problems.append(Problem(entry.item.source, entry.item.place("versements"), "versements",
                                f"une subvention de plus de {nombre(visas.SUBVENTION_THRESHOLD)}\u00a0€ par an à une "
                                "association sans échéancier de versement : la convention doit le fixer elle-même "
                                "(loi n° 2000-321, art. 10)", subventions.FIX))


def _check_partners(entry: _Clean, field_name: str, codes: list[str], known: set[str],
                    problems: list[Problem]) -> None:
    for code in codes:
        if code not in known:
            problems.append(Problem(entry.item.source, entry.item.place(field_name), field_name,
                                    f"partenaire « {code} » inconnu",
                                    "ajoutez-le à la section partenaires ou corrigez le code "
                                    "(liste : « pacte partenaires lister »)"))


def _check_revised(session: Session, entry: _Clean, problems: list[Problem]) -> None:
    """A revised pacte's axes and fiches change by revision only (`pacte pdi-pti reviser`), never by an import that
    would rewrite what a délibération adopted; a file that gives them as they are (an export) or as first adopted
    (the pacte's own file, imported again) passes, and leaves them as they are."""
    found = session.scalar(select(Pacte).where(Pacte.reference == entry.values["reference"]))
    if found is None or not found.revisions:
        return
    known = (queries.pacte_record(found)["axes"], queries.version_axes(queries.pacte_versions(found)[0]))
    if entry.values["axes"] not in known:
        last = found.revisions[-1]
        problems.append(Problem(entry.item.source, entry.item.place("axes"), "axes",
                                f"le PDI/PTI {found.reference} a été révisé (délibération n° {last.numero} du "
                                f"{date_courte(last.date) if last.date else '?'}) : ses axes et fiches-actions ne "
                                "changent plus par un import",
                                "enregistrez le changement par une révision (« pacte pdi-pti reviser ») ; "
                                "l'import garde les axes et fiches tels que le registre les tient"))


def _check_pacte(entry: _Clean, known_partners: set[str], problems: list[Problem]) -> None:
    """Coherent period and adoption date, unique axis and fiche numbers, fiches under their axis, known partners."""
    values, item = entry.values, entry.item

    def problem(path: str, message: str, fix: str) -> None:
        problems.append(Problem(item.source, item.place(path), path, message, fix))

    debut, fin = values["periode"]["debut"], values["periode"]["fin"]
    if debut is not None and fin is not None:
        if fin < debut:
            problem("periode.fin", f"la période finit ({fin}) avant de commencer ({debut})",
                    "vérifiez les deux années")
        elif fin - debut > 10:
            problem("periode.fin", f"une période de {fin - debut + 1} ans est inhabituelle pour un PDI/PTI",
                    "un PDI/PTI couvre en général de 3 à 6 ans : vérifiez les années")
        adoption = values["adoption"]["date"]
        if adoption is not None and not debut - 1 <= adoption.year <= fin:
            problem("adoption.date", f"l'adoption ({adoption.isoformat()}) tombe hors de la période {debut}-{fin}",
                    "le document est adopté l'année qui précède sa période ou pendant celle-ci")
    _check_partners(entry, "cosignataires", values["cosignataires"], known_partners, problems)
    if len(set(values["cosignataires"])) != len(values["cosignataires"]):
        problem("cosignataires", "un cosignataire figure deux fois", "gardez chaque code une seule fois")
    for code in values["engagements"]:
        if code not in values["cosignataires"]:
            problem(f"engagements.{code}", f"« {code} » a des engagements mais n'est pas cosignataire",
                    "ajoutez-le aux cosignataires ou corrigez le code")
    axes_seen: dict[int, int] = {}
    fiches_seen: dict[str, str] = {}
    for a, axe in enumerate(values["axes"]):
        number = axe["numero"]
        if number in axes_seen:
            problem(f"axes.{a}.numero", f"l'axe n° {number} figure deux fois (aussi à l'élément "
                    f"{axes_seen[number] + 1})", "numérotez les axes 1, 2, 3…")
        axes_seen.setdefault(number, a)
        for f, fiche in enumerate(axe["fiches"]):
            path = f"axes.{a}.fiches.{f}"
            match = FICHE_NUMBER.match(fiche["numero"])
            if match is None or int(match.group(1)) != number:
                problem(f"{path}.numero", f"fiche « {fiche['numero']} » mal numérotée sous l'axe {number}",
                        f"numérotez les fiches de l'axe {number} « {number}.1 », « {number}.2 »…")
            elif fiche["numero"] in fiches_seen:
                problem(f"{path}.numero", f"la fiche {fiche['numero']} figure deux fois",
                        "donnez à chaque fiche un numéro unique")
            fiches_seen.setdefault(fiche["numero"], path)
            _check_partners(entry, f"{path}.partenaires", fiche["partenaires"], known_partners, problems)


def _check_duplicates(cleaned: dict[str, list[_Clean]], problems: list[Problem]) -> None:
    keys = KEYS
    for section, entries in cleaned.items():
        if section not in keys:
            continue  # figures have a composite key, checked with their targets
        first: dict[str, readers.Item] = {}
        for entry in entries:
            value = entry.values[keys[section]]
            if value in first:
                other = first[value]
                where = other.where if other.source == entry.item.source else f"{other.source}, {other.where}"
                problems.append(Problem(entry.item.source, entry.item.where, keys[section],
                                        f"« {value} » figure déjà ({where})", "gardez une seule fiche par clé"))
            else:
                first[value] = entry.item


def _resolve_departements(session: Session, cleaned: dict[str, list[_Clean]], problems: list[Problem],
                          default: str | None) -> dict[int, str]:
    """The département of each convention or pacte: its own field, else its file's, else the registry's default."""
    known = set(session.scalars(select(Departement.code)))
    in_files = {e.values["code"] for e in cleaned["departement"]}
    per_file: dict[str, set[str]] = {}
    for e in cleaned["departement"]:
        per_file.setdefault(e.item.source, set()).add(e.values["code"])
    by_file = {source: next(iter(codes)) for source, codes in per_file.items() if len(codes) == 1}
    fallback = default
    if fallback is None and len(known | in_files) == 1:
        fallback = next(iter(known | in_files))
    result: dict[int, str] = {}
    for entry in cleaned["conventions"] + cleaned["pacte"] + cleaned["realisations"]:
        code = entry.values.get("departement") or by_file.get(entry.item.source) or fallback
        if code is None:
            problems.append(Problem(entry.item.source, entry.item.where, "departement",
                                    "impossible de savoir à quel département rattacher "
                                    + {"pacte": "le PDI/PTI", "realisations": "ces réalisations"}.get(
                                        entry.item.section, "la convention"),
                                    "enregistrez le département de l'espace (pacte init --departement CODE --nom "
                                    "\"Département de …\"), ou ajoutez une section « departement » au fichier"))
        elif code not in known and code not in in_files:
            problems.append(Problem(entry.item.source, entry.item.place("departement"), "departement",
                                    f"département « {code} » inconnu du registre",
                                    f"enregistrez-le : pacte init --departement {code} --nom \"Département de …\", "
                                    "ou importez sa section « departement »"))
        else:
            result[id(entry)] = code
    return result
