"""The essential data of the subsidy conventions, published in an open format: the SCDL « subventions » schema,
version 2.1.1 (loi n° 2000-321 du 12 avril 2000, art. 10 ; décret n° 2017-779 du 5 mai 2017 ; arrêté du
17 novembre 2017). One row per beneficiary of each convention signed in the year that grants an association more
than 23 000 € a year (the threshold of décret n° 2001-495, art. 1, as rules.visas applies it to the acts).

A convention lacking what the schema requires is named, with the field to fill, before anything is written."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from pacte_docs import files
from pacte_docs.errors import Problem, ValidationError
from pacte_docs.registry import queries
from pacte_docs.registry.models import Convention
from pacte_docs.rules import periods, visas
from pacte_docs.workspace import Workspace

# The columns of the schema (../shared/reference/scdl-subventions/schema.json), in its order.
COLUMNS = ("nomAttribuant", "idAttribuant", "dateConvention", "referenceDecision", "nomBeneficiaire",
           "idBeneficiaire", "rnaBeneficiaire", "objet", "montant", "nature", "conditionsVersement",
           "datesPeriodeVersement", "idRAE", "notificationUE", "pourcentageSubvention", "dispositifAide")
OBJECT_LIMIT = 256


def published(c: Convention, annee: int) -> bool:
    """Whether convention *c* is published with the subsidies of *annee*: signed that year, granting an
    association more than the threshold a year."""
    association = any(p.type == "association" for p in c.partenaires)
    cases = visas.situations(france_travail=False, taux_fse=None, association=association, montant=c.montant,
                             duree_mois=c.duree_mois)
    return c.date_signature is not None and c.date_signature.year == annee and "subvention_association" in cases


def _amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def rows(ws: Workspace, annee: int) -> list[dict[str, str]]:
    """The rows of the year's file; ValidationError naming each convention and the field to fill."""
    found: list[dict[str, str]] = []
    problems: list[Problem] = []
    with ws.db.session() as session:
        for c in queries.conventions(session):
            if not published(c, annee):
                continue
            where = f"convention {c.reference}"
            dep = c.departement
            if not dep.siret:
                problems.append(Problem("registre", f"département {dep.code}", "siret",
                                        "le SIRET du Département (idAttribuant) manque",
                                        "renseignez-le : section « departement », champ siret (page « Département »)"))
            beneficiaries = [p for p in c.partenaires if p.type == "association"]
            if len(beneficiaries) > 1:
                problems.append(Problem("registre", where, "partenaires",
                                        "plusieurs associations bénéficiaires : la part de chacune n'est pas connue",
                                        "faites une convention par association bénéficiaire"))
                continue
            schedule = list(c.versements or [])
            start = c.date_effet
            end = periods.periodes(queries.faits(c), c.date_effet)[0].fin
            montant = c.montant if c.montant is not None else Decimal(0)
            for p in beneficiaries:
                found.append({
                    "nomAttribuant": dep.nom, "idAttribuant": dep.siret or "",
                    "dateConvention": c.date_signature.isoformat() if c.date_signature else "",
                    "referenceDecision": c.deliberation_numero or "",
                    "nomBeneficiaire": p.nom, "idBeneficiaire": p.siret or "", "rnaBeneficiaire": p.rna or "",
                    "objet": " ".join(c.objet.split())[:OBJECT_LIMIT], "montant": _amount(montant),
                    "nature": "aide en numéraire",
                    "conditionsVersement": "unique" if len(schedule) <= 1 else "échelonné",
                    "datesPeriodeVersement": f"{start.isoformat()}/{end.isoformat()}",
                    "idRAE": "", "notificationUE": "non", "pourcentageSubvention": "1.00", "dispositifAide": "",
                })
    if problems:
        raise ValidationError(problems)
    return found


def write_csv(ws: Workspace, annee: int, path: Path) -> tuple[Path, int]:
    """Write the year's SCDL file (UTF-8, comma-separated, ISO dates, amounts with a dot) at *path*, never on
    what pacte keeps, atomically; (path, rows)."""
    ws.check_output(path, "FICHIER")
    found = rows(ws, annee)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(found)
    files.write_atomic(path, buffer.getvalue().encode("utf-8"))
    return path, len(found)
