"""Acts a legal service signs as they are, read back from the PDF LibreOffice makes: a draft says PROJET on every
page; once signed, the convention's text is frozen (across a renewal, a change of data and a change of template);
each later decision is an act of its own — the renewal act, the registered letter of dénonciation."""

from __future__ import annotations

import copy
import hashlib
import re
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from docx import Document as DocxDocument
from pypdf import PdfReader

from tests.helpers import Pacte, docx_text, pdf_text, registry_state

REGISTRE: dict[str, Any] = {
    "departement": {"code": "93", "nom": "Département de la Seine-Saint-Denis", "ville": "Bobigny",
                    "adresse": "Hôtel du Département, 93006 Bobigny Cedex",
                    "president": {"civilite": "M.", "nom": "Stéphane Troussel",
                                  "qualite": "Président du Conseil départemental"}},
    "partenaires": [
        {"code": "CCAS-PANTIN", "type": "ccas", "nom": "CCAS de Pantin", "commune": "Pantin",
         "adresse": "84-88, avenue du Général-Leclerc, 93500 Pantin",
         "representant": {"civilite": "Mme", "nom": "Nadia Ben Amar", "qualite": "Vice-présidente du CCAS"}},
    ],
    "conventions": [
        {"reference": "CCAS-2025-301", "type": "ccas", "partenaires": ["CCAS-PANTIN"],
         "objet": "La présente convention organise l'accompagnement social des bénéficiaires du RSA par le CCAS.",
         "deliberation": {"instance": "Commission permanente", "numero": "CP-2025-05-118", "date": "2025-05-12"},
         "deliberation_partenaire": {"instance": "conseil d'administration du CCAS de Pantin", "numero": "2025-14",
                                     "date": "2025-06-03"},
         "date_effet": "2025-07-01", "renouvellement": "expresse", "renouvellements_max": 2,
         "responsable": {"nom": "Inès Carpentier", "email": "icarpentier@seinesaintdenis.example.fr"},
         "engagements_departement": [f"Engagement n° {i} du Département, décrit en une phrase assez longue pour que "
                                     "la convention tienne sur plusieurs pages." for i in range(1, 30)]},
        {"reference": "CCAS-2024-302", "type": "ccas", "partenaires": ["CCAS-PANTIN"],
         "objet": "La présente convention organise des permanences communes.",
         "date_signature": "2024-03-01", "date_effet": "2024-04-01", "renouvellement": "tacite",
         "responsable": {"email": "icarpentier@seinesaintdenis.example.fr"}},
    ],
}


@pytest.fixture
def actes(pacte_sqlite: Pacte, tmp_path: Path) -> Pacte:
    path = tmp_path / "registre.yaml"
    path.write_text(yaml.safe_dump(REGISTRE, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    return pacte_sqlite


def _pages(pdf: Path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(pdf).pages]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.libreoffice
def test_a_draft_says_projet_on_every_page_and_the_signed_text_is_frozen(actes: Pacte) -> None:
    folder = actes.root / "conventions/CCAS-2025-301"
    actes("conventions", "generer", "CCAS-2025-301", "--sans-pdfa")  # a plain PDF, to see it kept as signed
    draft = _pages(folder / "CCAS-2025-301.pdf")
    assert len(draft) >= 2
    assert all("PROJET" in page for page in draft), "PROJET manque sur une page du brouillon"
    assert "Fait à Bobigny, le ……" in pdf_text(folder / "CCAS-2025-301.pdf")

    signed = actes("conventions", "signer", "CCAS-2025-301", "--date", "2025-06-02")
    assert "régénéré" in signed.output
    text = pdf_text(folder / "CCAS-2025-301.pdf")
    assert "PROJET" not in text and "Fait à Bobigny, le 2 juin 2025" in text
    frozen = {name: _sha(folder / name) for name in ("CCAS-2025-301.docx", "CCAS-2025-301.pdf")}

    # A renewal is its own act; the signed convention does not change.
    renewed = actes("--au", "2028-03-15", "conventions", "renouveler", "CCAS-2025-301", "--date", "2028-03-10",
                    "--deliberation", "CP-2028-03-044")
    assert "CCAS-2025-301-renouvellement-1.docx (créé, PDF créé)" in renewed.output
    act = pdf_text(folder / "CCAS-2025-301-renouvellement-1.pdf")
    assert "RENOUVELLEMENT N° 1" in act
    assert "CP-2028-03-044 du 10 mars 2028" in act
    assert "du 1er juillet 2028 au 30 juin 2031 inclus" in " ".join(act.split())
    assert "renouvelée une fois de la même manière" in " ".join(act.split())
    assert "PROJET" not in act

    # A change of template, then of data: the signed text stays, byte for byte, and the command says so.
    template = actes.root / "modeles/convention_ccas.docx"
    document = DocxDocument(str(template))
    document.add_paragraph("Clause nouvelle du modèle.")
    document.save(str(template))
    again = actes("conventions", "generer", "CCAS-2025-301", "--pdfa")
    assert "(texte signé, inchangé, PDF texte signé, inchangé)" in again.output
    assert "le PDF du texte signé est gardé tel quel ; il n'est pas refait en PDF/A" in again.output
    assert {name: _sha(folder / name) for name in frozen} == frozen
    assert "Clause nouvelle" not in pdf_text(folder / "CCAS-2025-301.pdf")
    assert "a été renouvelée" not in pdf_text(folder / "CCAS-2025-301.pdf")
    shown = actes("conventions", "afficher", "CCAS-2025-301")
    assert "CCAS-2025-301-renouvellement-1.pdf" in shown.output
    assert "✓" in actes("archives", "verifier").output


@pytest.mark.libreoffice
def test_the_denonciation_is_a_registered_letter_to_the_partner(actes: Pacte) -> None:
    """The letter notifies a decision: it cites the délibération that took it (a draft with « n° ………… » until the
    registry has it, completed by the same command) and the convention's articles that allow it."""
    draft = actes("conventions", "denoncer", "CCAS-2024-302", "--date", "2026-11-20", "--motif",
                  "Reprise des permanences par la Maison des solidarités.", "--sans-pdf")
    assert "l'acte reste marqué « PROJET » tant qu'il lui manque le numéro et la date de la délibération qui " \
           "décide la dénonciation ; pour le compléter : pacte conventions denoncer CCAS-2024-302 --date 2026-11-20 " \
           "--deliberation NUMERO --date-deliberation AAAA-MM-JJ" in " ".join(draft.output.split())
    blank = " ".join(docx_text(actes.root / "conventions/CCAS-2024-302/CCAS-2024-302-denonciation.docx").split())
    assert "PROJET" in blank and "prise par délibération de la Commission permanente n° ………… du …………," in blank
    late = actes("conventions", "denoncer", "CCAS-2024-302", "--date", "2026-11-20", "--deliberation", "CP-1",
                 "--date-deliberation", "2026-11-21", ok=False)
    assert late.exit_code == 1 and "postérieure à la dénonciation" in late.output
    result = actes("conventions", "denoncer", "CCAS-2024-302", "--date", "2026-11-20",
                   "--deliberation", "CP-2026-11-087", "--date-deliberation", "2026-11-16")
    assert "CCAS-2024-302-denonciation.docx (régénéré, PDF créé)" in result.output
    pdf = actes.root / "conventions/CCAS-2024-302/CCAS-2024-302-denonciation.pdf"
    text = " ".join(pdf_text(pdf).split())
    assert "Bobigny, le 20 novembre 2026" in text
    assert "LETTRE RECOMMANDÉE AVEC DEMANDE D'AVIS DE RÉCEPTION" in text
    assert "Mme Nadia Ben Amar Vice-présidente du CCAS CCAS de Pantin" in text
    assert "Objet : dénonciation de la convention n° CCAS-2024-302" in text
    assert "Madame la Vice-présidente," in text
    assert ("décision du Département de la Seine-Saint-Denis, prise par délibération de la Commission permanente "
            "n° CP-2026-11-087 du 16 novembre 2026, de dénoncer la convention n° CCAS-2024-302 conclue avec le CCAS "
            "de Pantin, conformément à ses articles 8 « Durée et renouvellement » et 10 « Dénonciation et "
            "résiliation »") in text
    assert ("Notifiée avant le 31 décembre 2026, dans le respect du préavis de trois mois prévu par la convention, "
            "cette dénonciation met fin à la convention au terme de la période en cours, le 31 mars 2027") in text
    assert "Reprise des permanences par la Maison des solidarités." in text
    assert "Stéphane Troussel" in text
    assert len(PdfReader(pdf).pages) == 1
    docx = docx_text(pdf.with_suffix(".docx"))
    assert "PROJET" not in docx


VISAS = {
    "departement": REGISTRE["departement"],
    "partenaires": [
        {"code": "ASSO-RELAIS", "type": "association", "nom": "Association Le Relais 93",
         "representant": {"civilite": "M.", "nom": "Karim Haddad", "qualite": "Président de l'association"}},
        {"code": "FT-93", "type": "france_travail", "nom": "France Travail Seine-Saint-Denis"},
    ],
    "conventions": [
        {"reference": "ASSO-2025-401", "type": "autre", "partenaires": ["ASSO-RELAIS"],
         "objet": "Subvention à l'action de remobilisation.", "date_signature": "2025-03-03",
         "date_effet": "2025-04-01", "renouvellement": "aucun", "montant": "96000",
         "versements": ["32 000 € à la signature de la convention", "32 000 € au 1er avril 2026",
                        "le solde au 1er avril 2027"],
         "responsable": {"email": "icarpentier@seinesaintdenis.example.fr"}},
        {"reference": "ASSO-2025-402", "type": "autre", "partenaires": ["ASSO-RELAIS"],
         "objet": "Subvention à l'atelier de quartier.", "date_signature": "2025-03-03",
         "date_effet": "2025-04-01", "renouvellement": "aucun", "montant": "30000",
         "responsable": {"email": "icarpentier@seinesaintdenis.example.fr"}},
        {"reference": "FT-2025-403", "type": "france_travail", "partenaires": ["FT-93"],
         "objet": "Accompagnement global.", "date_signature": "2025-01-20", "date_effet": "2025-02-01",
         "renouvellement": "expresse", "montant": "1200000", "taux_fse": "0.4",
         "responsable": {"email": "icarpentier@seinesaintdenis.example.fr"}},
        {"reference": "FT-2023-404", "type": "france_travail", "partenaires": ["FT-93"],
         "objet": "Accompagnement global.", "date_signature": "2023-01-20", "date_effet": "2023-02-01",
         "renouvellement": "expresse", "responsable": {"email": "icarpentier@seinesaintdenis.example.fr"}},
    ],
}


def test_visas_follow_the_act_s_date_and_case(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """From the dated table of legal texts: the subsidy law above 23 000 € a year to an association, the FSE+
    regulations and the EU mention for a co-funded convention, the 2023 law from 2024 on — and not otherwise."""
    path = tmp_path / "visas.yaml"
    path.write_text(yaml.safe_dump(VISAS, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    pacte_sqlite("conventions", "generer", "--toutes", "--sans-pdf")

    def text(reference: str) -> str:
        return " ".join(docx_text(pacte_sqlite.root / f"conventions/{reference}/{reference}.docx").split())

    big, small, ft_2025, ft_2023 = (text(r) for r in ("ASSO-2025-401", "ASSO-2025-402", "FT-2025-403",
                                                         "FT-2023-404"))
    subsidy_law = ("Vu la loi n° 2000-321 du 12 avril 2000 relative aux droits des citoyens dans leurs relations "
                   "avec les administrations, notamment ses articles 10 et 10-1 ;")
    decree = "Vu le décret n° 2001-495 du 6 juin 2001 pris pour l'application de l'article 10"
    republican = "Vu le décret n° 2021-1947 du 31 décembre 2021 pris pour l'application de l'article 10-1"
    report = ("le compte rendu financier, qui atteste de la conformité des dépenses effectuées à l'objet de la "
              "subvention")
    assert subsidy_law in big and decree in big and report in big  # 96 000 € over three years: 32 000 € a year
    # 10 000 € a year: no convention required by the decree, but the law's compte rendu financier and the
    # contrat d'engagement républicain hold for every subsidy to an association
    assert decree not in small and subsidy_law in small and republican in small and report in small
    assert republican in big and "2021-1947" not in ft_2025
    for regulation in ("Vu le règlement (UE) 2021/1060 du Parlement européen et du Conseil du 24 juin 2021",
                       "Vu le règlement (UE) 2021/1057 du Parlement européen et du Conseil du 24 juin 2021"):
        assert regulation in ft_2025 and regulation not in ft_2023
    assert "« Cofinancé par l'Union européenne »" in ft_2025 and "Cofinancé" not in ft_2023
    assert "Vu la loi n° 2023-1196 du 18 décembre 2023" in ft_2025 and "2023-1196" not in ft_2023
    assert "Vu le protocole national du 1er avril 2014" in ft_2025 and "protocole national" not in big
    # the contrat d'engagement replaces the CER and the PPAE from 2025 on
    assert "inscrits dans le contrat d'engagement qu'elle conclut avec son référent" in ft_2025
    assert "CER" not in ft_2025 and "PPAE" not in ft_2025
    assert "projet personnalisé d'accès à l'emploi (PPAE)" in ft_2023 and "(CER)" in ft_2023
    for act in (big, small, ft_2025, ft_2023):
        assert "Vu le code de l'action sociale et des familles, notamment ses articles L. 262-1 et suivants, " \
               "L. 263-1 et L. 263-2 ;" in act
    # not renewable: no dénonciation clause
    assert "Résiliation" in big and "dénoncer" not in big
    # an unknown representative leaves a blank to fill by hand, never « représenté par , , »
    assert ("pour France Travail Seine-Saint-Denis, représenté par ……………………, dûment habilité(e) à cet effet,"
            in ft_2025)
    assert " , ," not in ft_2025 and "par ," not in ft_2025


def test_verifier_reports_a_missing_visa(pacte_sqlite: Pacte) -> None:
    path = pacte_sqlite.root / "modeles/convention_ccas.docx"
    document = DocxDocument(str(path))
    visa = next(p for p in document.paragraphs if p.text.startswith("Vu {{ v }}"))
    visa._p.getparent().remove(visa._p)
    document.save(str(path))
    result = pacte_sqlite("modeles", "verifier", "convention_ccas", ok=False)
    assert "visa manquant dans un acte du 1er juin 2023 : « Vu le code général des collectivités territoriales »" \
        in result.output
    assert "Vu la loi n° 2000-321" in result.output  # the association's case is checked too


def test_parties_and_numbers_agree_as_a_lawyer_writes_them(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """« l'Association … représentée par », « à l'initiative du Département » (a function, not an agent),
    « dans la limite d'une reconduction », the RGPD cited from 25 May 2018, the FSE+ requested."""
    data = {
        "departement": REGISTRE["departement"],
        "partenaires": VISAS["partenaires"],
        "conventions": [{"reference": "ASSO-2025-405", "type": "autre", "partenaires": ["ASSO-RELAIS"],
                         "objet": "Ateliers de remobilisation.", "date_signature": "2025-03-03",
                         "date_effet": "2025-04-01", "renouvellement": "tacite", "renouvellements_max": 1,
                         "responsable": {"nom": "Hélène Garnier", "email": "hgarnier@seinesaintdenis.example.fr"}}],
    }
    path = tmp_path / "parties.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    pacte_sqlite("conventions", "generer", "ASSO-2025-405", "--sans-pdf")
    text = " ".join(docx_text(pacte_sqlite.root / "conventions/ASSO-2025-405/ASSO-2025-405.docx").split())
    assert "L'Association Le Relais 93, représentée par M. Karim Haddad" in text
    assert "ci-après dénommée « l'association »" in text
    # a function, never an agent, in a clause: the agent changes, the convention stays
    assert "à l'initiative du Département." in text and "Hélène Garnier" not in text
    assert "dans la limite d'une reconduction," in text
    # two parties: the letter goes « à l'autre partie », not « aux autres parties »
    assert "adressée à l'autre partie en respectant un préavis" in text and "aux autres parties" not in text
    # a text is cited from its date of application only: the RGPD from 25 May 2018
    assert "le règlement (UE) 2016/679 du 27 avril 2016 (RGPD) et la loi n° 78-17" in text
    data["conventions"][0] |= {"reference": "ASSO-2017-406", "date_signature": "2017-03-03",
                               "date_effet": "2017-04-01", "taux_fse": "0.5", "montant": "40000",
                               "renouvellement": "expresse"}  # a subsidy is never renewed tacitly
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    pacte_sqlite("conventions", "generer", "ASSO-2017-406", "--sans-pdf")
    text = " ".join(docx_text(pacte_sqlite.root / "conventions/ASSO-2017-406/ASSO-2017-406.docx").split())
    assert "RGPD" not in text and "Les parties s'engagent à respecter la loi n° 78-17 du 6 janvier 1978" in text
    # the FSE+ co-funding is requested, not granted, in the act
    assert ("Un cofinancement de cette subvention par le Fonds social européen plus (FSE+) est sollicité, à "
            "hauteur de 50 %") in text and "est cofinancée" not in text
    # 2017: before the contrat d'engagement républicain (décret n° 2021-1947, in force on 2 January 2022)
    assert "engagement républicain" not in text and "10-1" not in text


def test_the_fse_share_is_requested_until_the_registry_says_it_is_granted(pacte_sqlite: Pacte,
                                                                         tmp_path: Path) -> None:
    """The France Travail budget table counted the FSE+ share as acquired while the text said « sollicité »: until
    `fse_accorde_le` is recorded, the share is « sollicitée » and the Département's part depends on it."""
    path = tmp_path / "visas.yaml"
    path.write_text(yaml.safe_dump(VISAS, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    pacte_sqlite("conventions", "generer", "FT-2025-403", "--sans-pdf")
    docx = pacte_sqlite.root / "conventions/FT-2025-403/FT-2025-403.docx"
    requested = " ".join(docx_text(docx).split())
    assert "Part FSE+ sollicitée" in requested
    assert "Part restant à la charge du Département, si le FSE+ est accordé" in requested
    assert "est sollicité dans le cadre de l'appel à projets correspondant ; tant qu'il n'est pas accordé" \
        in requested and "a été accordé" not in requested
    granted = copy.deepcopy(VISAS)
    granted["conventions"][2]["fse_accorde_le"] = "2025-05-12"
    path.write_text(yaml.safe_dump(granted, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    assert "FSE+ accordé le" in pacte_sqlite("conventions", "afficher", "FT-2025-403").output
    pacte_sqlite("conventions", "generer", "FT-2025-403", "--sans-pdf")
    text = " ".join(docx_text(docx).split())
    assert "Le cofinancement du Fonds social européen plus (FSE+) a été accordé le 12 mai 2025." in text
    assert "sollicité" not in text and "si le FSE+ est accordé" not in text


def test_a_ccas_vice_presidente_signs_by_delegation(actes: Pacte, tmp_path: Path) -> None:
    """« agissant par délégation » said nothing of the délégant or of the act: the act of delegation is now named,
    or left as a blank to fill by hand, and the signature block says for whom the vice-présidente signs."""
    actes("conventions", "generer", "CCAS-2025-301", "--sans-pdf")
    text = " ".join(docx_text(actes.root / "conventions/CCAS-2025-301/CCAS-2025-301.docx").split())
    assert ("Le CCAS de Pantin, 84-88, avenue du Général-Leclerc, 93500 Pantin, représenté par Mme Nadia Ben Amar, "
            "Vice-présidente du CCAS, agissant par délégation du Président du CCAS en vertu de l'arrêté n° "
            "…………………… du ……………………, dûment habilitée à cet effet,") in text
    assert "Pour le CCAS de Pantin, Pour le Président du CCAS et par délégation, Vice-présidente du CCAS," in text
    data = copy.deepcopy(REGISTRE)
    data["partenaires"][0]["delegation"] = {"delegant": "Présidente du CCAS", "numero": "2025-ARR-031",
                                            "date": "2025-01-06"}
    path = tmp_path / "delegation.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    actes("importer", str(path))
    actes("conventions", "generer", "CCAS-2025-301", "--sans-pdf")
    text = " ".join(docx_text(actes.root / "conventions/CCAS-2025-301/CCAS-2025-301.docx").split())
    assert ("représenté par Mme Nadia Ben Amar, Vice-présidente du CCAS, agissant par délégation de la Présidente "
            "du CCAS en vertu de l'arrêté n° 2025-ARR-031 du 6 janvier 2025, dûment habilitée à cet effet,") in text
    assert "Pour la Présidente du CCAS et par délégation, Vice-présidente du CCAS, M. Stéphane Troussel Mme Nadia " \
        "Ben Amar" in text
    # the partner's own délibération, when known, instead of the generic « décision de l'organe délibérant »
    assert ("Vu la délibération du conseil d'administration du CCAS de Pantin n° 2025-14 du 3 juin 2025 autorisant "
            "son représentant à signer la présente convention ;") in text
    assert "organe délibérant" not in text
    assert "PROJET — " in text  # a draft, in its header


def test_partial_data_leaves_blanks_to_fill_never_stray_punctuation(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """A département and a partner known by their names alone: blanks to fill by hand, no « situé …, », no
    « représenté par  , , », no lone comma in the signature block."""
    data = {"departement": {"code": "23", "nom": "Département de la Creuse"},
            "partenaires": [{"code": "CCAS-GUERET", "type": "ccas", "nom": "CCAS de Guéret"}],
            "conventions": [{"reference": "CCAS-2026-001", "type": "ccas", "partenaires": ["CCAS-GUERET"],
                             "objet": "Accueil commun des bénéficiaires du RSA.", "date_signature": "2026-03-02",
                             "date_effet": "2026-04-01", "renouvellement": "tacite",
                             "responsable": {"email": "insertion@creuse.example.fr"}}]}
    path = tmp_path / "partiel.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    pacte_sqlite("conventions", "generer", "CCAS-2026-001", "--sans-pdf")
    document = DocxDocument(str(pacte_sqlite.root / "conventions/CCAS-2026-001/CCAS-2026-001.docx"))
    text = " ".join(docx_text(pacte_sqlite.root / "conventions/CCAS-2026-001/CCAS-2026-001.docx").split())
    assert ("Le Département de la Creuse, représenté par ……………………, dûment habilité(e) à signer la présente "
            "convention par délibération") in text
    assert "Le CCAS de Guéret, représenté par ……………………, dûment habilité(e) à cet effet," in text
    assert "situé" not in text and ", ," not in text and "par ," not in text
    signatures = [p.text.strip() for cell in document.tables[-1].rows[0].cells for p in cell.paragraphs]
    assert "," not in signatures and "Pour le CCAS de Guéret," in signatures


FRANCE_TRAVAIL = {
    "departement": REGISTRE["departement"],
    "partenaires": [
        {"code": "FT-IDF", "type": "france_travail", "nom": "France Travail Île-de-France",
         "adresse": "3, rue Galilée, 93160 Noisy-le-Grand",
         "representant": {"civilite": "M.", "nom": "Olivier Darnaud", "qualite": "Directeur régional d'Île-de-France"}},
        {"code": "FT-93", "type": "france_travail", "nom": "France Travail Seine-Saint-Denis",
         "adresse": "1, place de la Libération, 93000 Bobigny",
         "representant": {"civilite": "Mme", "nom": "Claire Aubert",
                          "qualite": "Directrice territoriale de la Seine-Saint-Denis"}},
    ],
    "conventions": [
        {"reference": "FT-2025-410", "type": "france_travail", "partenaires": ["FT-IDF", "FT-93"],
         "objet": "Accompagnement global des demandeurs d'emploi rencontrant des freins sociaux.",
         "deliberation": {"instance": "Commission permanente", "numero": "CP-2025-01-007", "date": "2025-01-13"},
         "date_signature": "2025-01-27", "date_effet": "2025-02-01", "renouvellement": "aucun",
         "montant": "1800000", "taux_fse": "0.5",
         "versements": ["40 % à la signature de la convention", "le solde sur production du bilan final"],
         "imputation": "chapitre 017, article 6568",
         "responsable": {"email": "icarpentier@seinesaintdenis.example.fr"}},
    ],
}


@pytest.mark.libreoffice
def test_france_travail_is_one_party_with_as_many_signatories_as_establishments(pacte_sqlite: Pacte,
                                                                                  tmp_path: Path) -> None:
    """Two establishments of France Travail, one legal person: one party, one « ci-après dénommé », its directors
    acting by delegation, and a signature line for each under one « Pour France Travail, »."""
    path = tmp_path / "ft.yaml"
    path.write_text(yaml.safe_dump(FRANCE_TRAVAIL, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    pacte_sqlite("conventions", "generer", "FT-2025-410")
    pdf = pacte_sqlite.root / "conventions/FT-2025-410/FT-2025-410.pdf"
    text = " ".join(re.sub(r"-\n\s*", "-", pdf_text(pdf)).split())  # « Seine-|Saint-Denis » at a line end
    assert ("France Travail, institution nationale publique mentionnée à l'article L. 5312-1 du code du travail, "
            "pour France Travail Île-de-France (3, rue Galilée, 93160 Noisy-le-Grand) et France Travail "
            "Seine-Saint-Denis (1, place de la Libération, 93000 Bobigny), représenté par M. Olivier Darnaud, "
            "Directeur régional d'Île-de-France, et par Mme Claire Aubert, Directrice territoriale de la "
            "Seine-Saint-Denis, agissant chacun par délégation du Directeur général de France Travail, dûment "
            "habilités à cet effet, ci-après dénommé "
            "« France Travail », d'autre part,") in text
    assert text.count("ci-après dénommé « France Travail »") == 1 and text.count("Pour France Travail,") == 1
    assert "en deux exemplaires originaux" in text  # one per party
    signature_page = _pages(pdf)[-1]
    for line in ("Pour France Travail,", "Directeur régional d'Île-de-France,", "M. Olivier Darnaud",
                 "Directrice territoriale de la Seine-Saint-Denis,", "Mme Claire Aubert"):
        assert line in signature_page.replace("\u2019", "'").replace("\u00a0", " ")
    # 2025, co-funded: the 2023 law, the FSE+ regulations and the EU mention
    assert "Vu la loi n° 2023-1196" in text and "Vu le règlement (UE) 2021/1060" in text
    assert "« Cofinancé par l'Union européenne »" in text
    # the payment schedule and the budget line, when known
    assert "Les versements s'effectuent comme suit :" in text
    assert "720 000,00 € (40 %) à la signature de la convention ;" in text
    assert "1 080 000,00 € (60 %) sur production du bilan final." in text
    assert "La dépense est imputée au budget du Département : chapitre 017, article 6568." in text


def test_typesetting_as_a_french_printer_does_it(actes: Pacte) -> None:
    """Typographic apostrophes, « 1er » in superscript, references that never break at their hyphens and
    non-breaking spaces before « : » — in the template's text and in the data typed by the user alike."""
    actes("conventions", "generer", "CCAS-2025-301", "--sans-pdf")
    document = DocxDocument(str(actes.root / "conventions/CCAS-2025-301/CCAS-2025-301.docx"))
    raw = "\n".join(p.text for p in document.paragraphs)
    assert "'" not in raw and "l’accompagnement social" in raw and "d’une part" in raw
    assert "CP\u20112025\u201105\u2011118" in raw and "CP-2025" not in raw
    assert "ENTRE LES SOUSSIGNÉS\u00a0:" in raw
    assert re.search(r"\b(M\.|Mme) [A-Z]", raw) is None  # a civility never ends a line: « M.\u00a0Karim »
    superscripts = [run.text for p in document.paragraphs for run in p.runs if run.font.superscript]
    ordinals = [i for i, p in enumerate(document.paragraphs) if "1er " in p.text or "1er\u00a0" in p.text]
    assert ordinals and superscripts and set(superscripts) <= {"er", "re"}
    for i in ordinals:
        runs = document.paragraphs[i].runs
        assert any(run.text.endswith("1") and nxt.font.superscript and nxt.text == "er"
                   for run, nxt in zip(runs, runs[1:], strict=False))


@pytest.mark.libreoffice
def test_the_signature_page_holds_the_end_of_the_last_article(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """Whatever the length of the convention, the signature block never stands alone on its page: « Fait à … »
    keeps the last article (heading and text) with it, and the signature table is never split."""
    base: dict[str, Any] = REGISTRE["conventions"][0]
    lengths = range(2, 30, 2)  # some lengths left the signature block alone on its page before
    data = dict(REGISTRE, conventions=[
        base | {"reference": f"CCAS-2025-{n:03d}", "engagements_departement": base["engagements_departement"][:n]}
        for n in lengths])
    path = tmp_path / "longueurs.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    pacte_sqlite("conventions", "generer", "--toutes")
    page_counts = set()
    for n in lengths:
        pages = _pages(pacte_sqlite.root / f"conventions/CCAS-2025-{n:03d}/CCAS-2025-{n:03d}.pdf")
        page_counts.add(len(pages))
        last = " ".join(pages[-1].replace("\u2019", "'").split())
        assert "Fait à" in last and "Pour le CCAS de Pantin," in last and "Mme Nadia Ben Amar" in last, n
        before = last.split("Fait à")[0]
        assert "Article 12 – Règlement des litiges" in before and "En cas de difficulté" in before, n
    assert len(page_counts) > 1  # the lengths do move the signature block across pages


@pytest.mark.libreoffice
def test_a_subsidy_to_an_association_reads_as_a_subsidy_agreement(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """96 000 € over three years to an association: a convention attributive de subvention (no CCAS), the payment
    schedule with its amounts, the budget line, the documents owed, an evaluation without renewal for a
    convention that is not renewable; a draft left without its schedule by an older registry is noted."""
    data: Any = copy.deepcopy(VISAS)
    asso = next(c for c in data["conventions"] if c["reference"] == "ASSO-2025-401")
    asso["versements"] = ["32 000 € à la signature de la convention", "30 000 € au 1er juillet 2026",
                          "le solde sur production du compte rendu financier de l'année 2027"]
    asso["imputation"] = "chapitre 017, article 6574"
    path = tmp_path / "asso.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    result = pacte_sqlite("conventions", "generer", "ASSO-2025-401", "ASSO-2025-402")
    assert "ASSO-2025-401 : subvention" not in result.output  # it has its schedule
    text = " ".join(re.sub(r"-\n\s*", "-", pdf_text(
        pacte_sqlite.root / "conventions/ASSO-2025-401/ASSO-2025-401.pdf")).split()).replace("1 er", "1er")
    assert "CONVENTION ATTRIBUTIVE DE SUBVENTION pour des actions d'insertion, sur plusieurs exercices" in text
    assert "CCAS" not in text and "centres communaux" not in text
    assert ("Le Département attribue à l'Association Le Relais 93 une subvention de 96 000,00 € (quatre-vingt-seize "
            "mille euros) pour la durée de la convention, répartie comme suit :") in text
    assert "La subvention est versée selon l'échéancier suivant :" in text
    assert "32 000,00 € (33,33 %) à la signature de la convention ;" in text
    assert "30 000,00 € (31,25 %) au 1er juillet 2026 ;" in text
    assert "34 000,00 € (35,42 %) sur production du compte rendu financier de l'année 2027." in text
    assert "La dépense est imputée au budget du Département : chapitre 017, article 6574." in text
    assert "échéancier arrêté par le comité de suivi" not in text
    assert "Six mois avant le terme de la convention, les parties procèdent à l'évaluation du projet." in text
    assert "La présente convention n'est pas renouvelable." in text and "dénoncer" not in text
    # a draft an older registry holds without its schedule (the import now refuses it): noted at generation
    original: Any = VISAS
    data["conventions"] = [c | {"reference": "ASSO-2025-499"} for c in original["conventions"]
                           if c["reference"] == "ASSO-2025-401"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    with sqlite3.connect(pacte_sqlite.root / "pacte.db") as db:
        db.execute("UPDATE convention SET versements = '[]', date_signature = NULL WHERE reference = 'ASSO-2025-499'")
    noted = pacte_sqlite("conventions", "generer", "ASSO-2025-499", "--sans-pdf")
    assert ("ASSO-2025-499 : subvention de plus de 23 000 € par an à une association sans échéancier de "
            "versement") in " ".join(noted.output.split())


def test_a_payment_schedule_that_does_not_add_up_is_refused_at_import(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """Named file, field and fix; exit 1; the registry as before."""
    data: Any = copy.deepcopy(VISAS)
    data["conventions"][0]["versements"] = ["50 % à la signature", "40 % au bilan"]
    path = tmp_path / "faux.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = registry_state(pacte_sqlite.root, pacte_sqlite.base)
    result = pacte_sqlite("importer", str(path), ok=False)
    assert registry_state(pacte_sqlite.root, pacte_sqlite.base) == before
    flat = " ".join(result.output.split())
    assert result.exit_code == 1 and "faux.yaml" in flat and "champ « versements »" in flat
    assert "les versements font 86400.00 € pour une subvention de 96000.00 €" in flat
    assert "Traceback" not in result.output


def test_a_vice_president_signs_for_the_president_by_arrete(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """The Département's signatory by delegation: named with the délégant and the arrêté in the preamble, the
    code's article that allows the delegation and the arrêté in the visas, « Pour le Président du Conseil
    départemental et par délégation, » in the signature block."""
    data = copy.deepcopy(REGISTRE)
    data["departement"]["signataire"] = {"civilite": "Mme", "nom": "Magalie Thibault",
                                         "qualite": "Vice-présidente chargée de l'insertion"}
    data["departement"]["delegation"] = {"numero": "2025-041", "date": "2025-04-02"}
    path = tmp_path / "registre.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    pacte_sqlite("conventions", "generer", "CCAS-2025-301", "--sans-pdf")
    text = " ".join(docx_text(pacte_sqlite.root / "conventions/CCAS-2025-301/CCAS-2025-301.docx").split())
    assert ("représenté par Mme Magalie Thibault, Vice-présidente chargée de l'insertion, agissant par délégation du "
            "Président du Conseil départemental en vertu de l'arrêté n° 2025-041 du 2 avril 2025, dûment habilitée "
            "à signer la présente convention") in text
    assert "Vu le code général des collectivités territoriales, notamment son article L. 3221-3 ;" in text
    assert "Vu le code général des collectivités territoriales ;" not in text
    assert ("Vu l'arrêté n° 2025-041 du 2 avril 2025 portant délégation de fonction à Mme Magalie Thibault, "
            "Vice-présidente chargée de l'insertion ;") in text
    # the offices side by side, then the names side by side (a row each: the names stay on one line)
    assert ("Pour le Département, Pour le Président du Conseil départemental et par délégation, Vice-présidente "
            "chargée de l'insertion, Pour le CCAS de Pantin,") in text
    assert "Vice-présidente du CCAS, Mme Magalie Thibault Mme Nadia Ben Amar" in text
    assert "Stéphane Troussel" not in text


def test_a_signed_convention_that_cannot_name_its_signatory_stays_a_draft(pacte_sqlite: Pacte,
                                                                          tmp_path: Path) -> None:
    """« Maire de Clichy, » alone under a signed convention: a decision names its signatory (CRPA, L. 212-1).
    Signed but without the name, the text stays « PROJET », is not frozen, and generer says which name is missing;
    once the name is given, the signed text is made and kept."""
    data = copy.deepcopy(REGISTRE)
    del data["partenaires"][0]["representant"]["nom"]
    path = tmp_path / "registre.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    made = pacte_sqlite("conventions", "generer", "CCAS-2024-302", "--sans-pdf")
    assert ("CCAS-2024-302 : signée, mais le texte reste marqué « PROJET » tant qu'il lui manque le nom du "
            "représentant du CCAS de Pantin") in " ".join(made.output.split())
    document = pacte_sqlite.root / "conventions/CCAS-2024-302/CCAS-2024-302.docx"
    assert "PROJET — " in docx_text(document)
    data["partenaires"][0]["representant"]["nom"] = "Nadia Ben Amar"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    pacte_sqlite("conventions", "generer", "CCAS-2024-302", "--sans-pdf")
    text = docx_text(document)
    assert "PROJET" not in text and "Mme Nadia Ben Amar" in text



def test_the_deciding_bodies_are_named_with_blanks_for_their_numbers_and_dates(pacte_sqlite: Pacte,
                                                                               tmp_path: Path) -> None:
    """« Vu la décision de l'organe délibérant du CCAS » named no body, number or date; a draft left « … du …… »
    without « n° ». Each deciding body is now named, with « n° …… du …… » to fill in where the registry has
    nothing, in the convention, its avenant (the partner's approval, which the convention requires) and its
    renewal act."""
    data = copy.deepcopy(REGISTRE)
    del data["conventions"][0]["deliberation_partenaire"]
    data["conventions"][0]["deliberation"] = {"instance": "Commission permanente"}
    path = tmp_path / "registre.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    pacte_sqlite("conventions", "generer", "CCAS-2025-301", "--sans-pdf")
    text = " ".join(docx_text(pacte_sqlite.root / "conventions/CCAS-2025-301/CCAS-2025-301.docx").split())
    blank = "……………………"
    assert (f"Vu la délibération de la Commission permanente n° {blank} du {blank} approuvant la présente "
            "convention") in text
    assert f"à signer la présente convention par délibération de la Commission permanente n° {blank} du {blank}," \
        in text
    assert (f"Vu la délibération du conseil d'administration du CCAS n° {blank} du {blank} autorisant son "
            "représentant à signer la présente convention ;") in text
    assert "organe délibérant" not in text
    pacte_sqlite("conventions", "signer", "CCAS-2024-302", "--date", "2024-03-01")
    pacte_sqlite("--au", "2026-01-15", "conventions", "avenant", "CCAS-2024-302", "--objet", "Permanences.",
                 "--complete-article", "4", "Une permanence est ajoutée le jeudi.", "--sans-pdf")
    avenant = " ".join(docx_text(pacte_sqlite.root / "conventions/CCAS-2024-302/CCAS-2024-302-avenant-1.docx")
                       .split())
    assert (f"Vu la délibération de la Commission permanente n° {blank} du {blank} approuvant le présent avenant et "
            "autorisant le Président à le signer ;") in avenant
    assert (f"Vu la délibération du conseil d'administration du CCAS n° {blank} du {blank} approuvant le présent "
            "avenant ;") in avenant
    pacte_sqlite("conventions", "signer", "CCAS-2025-301", "--date", "2025-06-02")
    pacte_sqlite("--au", "2028-03-15", "conventions", "renouveler", "CCAS-2025-301", "--date", "2028-03-10",
                 "--sans-pdf")
    renewal = " ".join(docx_text(pacte_sqlite.root / "conventions/CCAS-2025-301/CCAS-2025-301-renouvellement-1.docx")
                       .split())
    assert f"Vu la délibération de la Commission permanente n° {blank} du 10 mars 2028 décidant" in renewal
    assert (f"Vu la délibération du conseil d'administration du CCAS n° {blank} du {blank} approuvant ce "
            "renouvellement ;") in renewal
    assert "La convention n° CCAS-2025-301 est renouvelée" in renewal


def test_the_letter_goes_to_the_office_that_delegates_and_a_successor_says_what_it_leaves(
        pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """The dénonciation was addressed to the vice-présidente, who signs only by delegation: it now goes to the
    Présidente of the CCAS, the street and the town on lines of their own. A successor drafted from a convention
    with avenants says that their wordings are not in its data."""
    data = copy.deepcopy(REGISTRE)
    data["partenaires"][0]["delegation"] = {"delegant": "Présidente du CCAS", "numero": "2025-ARR-031",
                                            "date": "2025-01-06"}
    path = tmp_path / "registre.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte_sqlite("importer", str(path))
    pacte_sqlite("conventions", "signer", "CCAS-2025-301", "--date", "2025-06-02")
    pacte_sqlite("--au", "2026-01-15", "conventions", "avenant", "CCAS-2025-301", "--objet", "Permanences.",
                 "--complete-article", "4", "Une permanence est ajoutée le jeudi.", "--sans-pdf")
    pacte_sqlite("--au", "2027-01-15", "conventions", "denoncer", "CCAS-2025-301", "--date", "2027-01-15",
                 "--motif", "Reprise de l'accompagnement par le Département.", "--sans-pdf")
    letter = docx_text(pacte_sqlite.root / "conventions/CCAS-2025-301/CCAS-2025-301-denonciation.docx")
    assert "Présidente du CCAS\nCCAS de Pantin\n84-88, avenue du Général-Leclerc\n93500 Pantin" in letter
    assert "Madame la Présidente," in letter and "Nadia Ben Amar" not in letter.split("Objet")[0]
    successor = pacte_sqlite("--au", "2027-01-15", "conventions", "succeder", "CCAS-2025-301", "--reference",
                             "CCAS-2028-301")
    assert ("Attention : les avenants de CCAS-2025-301 ne sont pas repris, leurs nouvelles rédactions n'étant pas "
            "dans ses données (avenant n° 1 : article 4 complété)") in " ".join(successor.output.split())


@pytest.mark.libreoffice
def test_the_signatories_names_sit_on_one_line_whatever_wraps_above(actes: Pacte) -> None:
    """The partner's block (« Pour le Président du CCAS et par délégation, Vice-présidente du CCAS, ») takes more
    lines than the Département's: the names are still side by side, on the same line, as signed on paper."""
    actes("conventions", "generer", "CCAS-2025-301")
    pdf = actes.root / "conventions/CCAS-2025-301/CCAS-2025-301.pdf"
    last = subprocess.run(["pdftotext", "-layout", "-f", str(len(PdfReader(pdf).pages)), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "par délégation" in last
    assert any("Stéphane Troussel" in line and "Nadia Ben Amar" in line for line in last.splitlines()), last
