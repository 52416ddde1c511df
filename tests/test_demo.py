"""`pacte demo`: the whole job from the bundled data, as a new user runs it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest
import xmlschema
import yaml
from lxml import etree
from pypdf import PdfReader

from pacte_docs.documents.conformity import conformite
from tests.helpers import docx_text, pdf_text, scdl_rows


@pytest.mark.libreoffice
def test_demo_builds_every_convention_in_docx_and_pdf(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([sys.executable, "-m", "pacte_docs", "--au", "2026-11-22", "demo", str(root)],
                            capture_output=True, text=True, env=env, check=False, timeout=600)
    assert result.returncode == 0, result.stderr
    for statut in ("brouillon", "signee", "en_cours", "a_renouveler", "reconduite", "denoncee", "expiree"):
        assert f"    {statut} " in result.stdout, statut  # a convention at every stage of its life
    assert "CCAS-2024-001 : signature" not in result.stdout
    assert "Faire délibérer le renouvellement avant le 30 novembre 2026" in " ".join(result.stdout.split())
    assert "avenant n° 1 enregistré" in result.stdout
    assert (root / "conventions/CCAS-2024-002/CCAS-2024-002-avenant-1.pdf").is_file()
    assert (root / "echeances.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    # the 2019 figures are imported once the 2019 revision has brought the fiches they count
    assert "2 départements, 14 partenaires, 12 conventions, 1 PDI/PTI et 11 lignes de réalisations importés" \
        in result.stdout
    references = sorted(p.name for p in (root / "conventions").iterdir())
    assert references == ["ASSO-2023-011", "ASSO-2024-007", "CCAS-2024-001", "CCAS-2024-002", "CCAS-2024-003",
                          "CCAS-2025-004", "CCAS-2027-005", "CIAS-2022-010", "FT-2023-001", "FT-2025-002",
                          "FT-2027-006", "PE-2016-001"]
    for reference in references:
        assert f"conventions/{reference}/{reference}.pdf" in result.stdout
        assert len(PdfReader(root / "conventions" / reference / f"{reference}.pdf").pages) >= 3
    sceaux = pdf_text(root / "conventions/CCAS-2024-001/CCAS-2024-001.pdf")
    assert "entre le Département des Hauts-de-Seine et le CCAS de Sceaux" in sceaux
    assert "quartier des Blagis" in sceaux and "Fait à Nanterre, le 15 mai 2024" in sceaux
    ft = docx_text(root / "conventions/FT-2023-001/FT-2023-001.docx")
    assert "Pôle emploi Île-de-France" in ft and "4 200 000,00 €" in ft and "2 100 000,00 €" in ft
    essonne = docx_text(root / "conventions/FT-2025-002/FT-2025-002.docx")
    assert "entre le Département de l'Essonne et France Travail" in essonne
    check = subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(root), "archives", "verifier"],
                           capture_output=True, text=True, check=False)
    # 12 conventions + 1 avenant + 1 renewal act + 1 dénonciation letter + the PDI/PTI + the bilan, in DOCX and
    # PDF; the draft signed during the demo archived (DOCX and PDF)
    # and the compte rendu financier received, the reminder letter in DOCX and PDF (pacte pieces); the PDI/PTI as
    # adopted in 2016, two points d'étape and the bilan d'étape 2019, in DOCX and PDF
    assert check.returncode == 0 and "47 fichier(s) vérifié(s)" in check.stdout, check.stdout
    # Every signed act's last page holds the end of its last article with « Fait à » and the signatures (the
    # renewal act of PE-2016-001 is one that LibreOffice alone lays out with its last heading stranded).
    for act in sorted((root / "conventions").glob("*/*.pdf")):
        if "denonciation" in act.name or "relance" in act.name:  # letters: signed by the Département alone
            continue
        last = " ".join(PdfReader(act).pages[-1].extract_text().replace("\u2019", "'").split())
        assert "Fait à" in last and "Article" in last.split("Fait à")[0], act.name
    # Each later decision is an act of its own; the signed 2016 text is not rewritten.
    renewal = " ".join(pdf_text(root / "conventions/PE-2016-001/PE-2016-001-renouvellement-1.pdf").split())
    assert "RENOUVELLEMENT N° 1" in renewal and "du 1er janvier 2019 au 31 décembre 2020 inclus" in renewal
    assert "a été renouvelée" not in pdf_text(root / "conventions/PE-2016-001/PE-2016-001.pdf")
    letter = " ".join(pdf_text(root / "conventions/ASSO-2023-011/ASSO-2023-011-denonciation.pdf").split())
    assert "LETTRE RECOMMANDÉE" in letter and "Objet : dénonciation de la convention n° ASSO-2023-011" in letter
    assert "PE-2016-001-renouvellement-1.docx et conventions/PE-2016-001/PE-2016-001-renouvellement-1.pdf" \
        in result.stdout
    again = subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(root), "bilan", "compiler", "2019"],
                           capture_output=True, text=True, check=False, env=env)
    assert again.returncode == 0 and "(inchangé, " in again.stdout, again.stdout + again.stderr
    assert "mises à jour pour l'annexe 1" not in again.stdout  # a frozen signed text is not « produced again »
    compiled = root / "archives/bilans/2019/bilan-2019.pdf"
    assert "Bilan 2019 pour l'Assemblée : archives/bilans/2019/bilan-2019.pdf" in result.stdout
    bilan_text = " ".join(pdf_text(compiled).split())
    assert "BILAN ANNUEL 2019" in bilan_text and "Évolution" in bilan_text
    assert f"2 / {len(PdfReader(compiled).pages)}" in bilan_text
    assert f" / {len(PdfReader(compiled).pages)}" not in PdfReader(compiled).pages[0].extract_text()  # cover
    # Every PDF the demo makes declares its language, shows its title and is tagged, the compiled bilan included.
    for made in sorted(root.glob("**/*.pdf")):
        if "archives/" in made.as_posix() and "bilans" not in made.as_posix() and "pdi-pti" not in made.as_posix():
            continue  # older versions kept in the archives
        found = conformite(made)
        assert found.langue == "fr-FR" and found.titre and found.affiche_titre, made
        assert found.balise, made
        assert found.pdfa == "2B", made  # archivable without asking (--sans-pdfa opts out)
    report = subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(root), "archives", "verifier",
                             "--conformite"], capture_output=True, text=True, check=False, env=env)
    assert report.returncode == 0 and "Conformité des PDF" in report.stdout
    # the 17 acts, PDI/PTI and bilan, and the reminder letter of the documents owed; the PDI/PTI as adopted in
    # 2016, the two points d'étape and the bilan d'étape
    assert report.stdout.count("fr-FR") == 22 and "non accessible" not in report.stdout
    assert "sans PDF/A-2b" not in report.stdout and "Les 22 PDF en vigueur sont en PDF/A-2b" in report.stdout
    # The demo's ended conventions go to the Archives as a SEDA 2.3 package valid against the official schemas.
    config = root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[archivage]", "[archivage-exemple]")
                      + '\n[archivage]\nservice_archives = "FRAD091"\nservice_versant = "FRDEP091-DIE"\n'
                        'regle = "APP0010"\nduree = "P10Y"\nsort_final = "conserver"\n', encoding="utf-8")
    package = root / "versement.zip"
    transfer = subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(root), "--au", "2026-11-22",
                               "archives", "verser", "--terminees", "--sortie", str(package)],
                              capture_output=True, text=True, check=False, env=env)
    assert transfer.returncode == 0, transfer.stderr
    assert "Conventions versées : ASSO-2023-011, FT-2023-001, PE-2016-001" in transfer.stdout
    archive = zipfile.ZipFile(package)
    manifest = etree.fromstring(archive.read("manifest.xml"))
    folder = resources.files("pacte_docs") / "seda"
    xmlschema.XMLSchema(str(folder / "seda-2.3-main.xsd"), locations=[
        ("http://www.w3.org/XML/1998/namespace", str(folder / "xml.xsd")),
        ("http://www.w3.org/1999/xlink", str(folder / "xlink.xsd"))]).validate(manifest)
    seda = {"s": "fr:gouv:culture:archivesdefrance:seda:v2.3"}
    for binary in manifest.iterfind(".//s:BinaryDataObject", namespaces=seda):
        content = archive.read(binary.findtext("s:Uri", namespaces=seda))
        assert binary.findtext("s:MessageDigest", namespaces=seda) == hashlib.sha512(content).hexdigest()
    folder = root / "archives/pdi-pti/PACTE-2016-2020"
    assert "PDI/PTI PACTE-2016-2020 (texte adopté le 17 octobre 2016) : archives/pdi-pti/PACTE-2016-2020/" \
           "PACTE-2016-2020-2016-10-17.docx et archives/pdi-pti/PACTE-2016-2020/PACTE-2016-2020-2016-10-17.pdf" \
           in result.stdout
    assert "PDI/PTI PACTE-2016-2020 (version consolidée par la délibération n° 2019-04-0019 du 25 mars 2019) : " \
           "archives/pdi-pti/PACTE-2016-2020/PACTE-2016-2020.docx" in result.stdout
    text = " ".join(pdf_text(folder / "PACTE-2016-2020-2016-10-17.pdf").split())
    revised = " ".join(pdf_text(folder / "PACTE-2016-2020.pdf").split())
    assert "Pacte solidarité Essonne : du social vers l'emploi" in text
    assert "Adopté par l'Assemblée départementale le 17 octobre 2016" in text
    numbers = {f.split(" ")[0] for f in text.split("Fiche action n° ")[1:]}
    assert len(numbers) == 10  # the fiches adopted in 2016; the 2019 revision brings the seed's four new actions
    assert {f.split(" ")[0] for f in revised.split("Fiche action n° ")[1:]} - numbers == {"2.3", "4.1", "4.3", "5.2"}
    assert "Révisé par l'Assemblée départementale le 25 mars 2019" in revised
    assert "Point d'étape du comité de pilotage du 10 décembre 2019" in result.stdout
    assert "Bilan d'étape 2019 : archives/bilans/2019/bilan-etape-2019.pdf" in result.stdout
    etape = " ".join(pdf_text(root / "archives/bilans/2019/bilan-etape-2019.pdf").split())
    assert "Au 31 décembre 2019, 14 fiches-actions en vigueur : 12 en cours, 2 ajustées." in etape
    # Nothing later than its date: the 2016 documents know neither 2019 nor France Travail nor the merged commune
    # of Évry-Courcouronnes (2019); nobody is named whom no source names for that date (a title alone, and a
    # line to sign on).
    signed_2016 = " ".join(pdf_text(root / "conventions/PE-2016-001/PE-2016-001.pdf").split())
    for early in (signed_2016, text):
        assert "2019" not in early and "France Travail" not in early and "Courcouronnes" not in early
        assert "52 %" not in early
    assert "représenté par le Directeur territorial de l'Essonne, agissant par délégation" in signed_2016
    assert "représenté par le Président du Conseil départemental, dûment habilité" in signed_2016
    assert " M. " not in signed_2016.split("Fait à")[1]  # no lone civility under a signature
    signatures = text.split("Fait à Évry, le 17 octobre 2016")[1]
    assert "Pour l'État," in signatures and "Préfecture" not in signatures  # the State signs, not its préfecture
    assert " M. " not in signatures and " Mme " not in signatures and " , " not in signatures
    again = subprocess.run([sys.executable, "-m", "pacte_docs", "--au", "2026-11-22", "demo", str(root)],
                           capture_output=True, text=True, env=env, check=False, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "Vie des conventions rejouée" not in again.stdout  # replayed once only
    assert "signee        CCAS-2027-005" in again.stdout
    _the_demo_s_subsidies_are_published_once_its_siret_is_known(root, env)


def _the_demo_s_subsidies_are_published_once_its_siret_is_known(root: Path, env: dict[str, str]) -> None:
    """ASSO-2024-007 (180 000 € over three years, signed in 2024) in the SCDL « subventions » 2.1.1 file. No source
    of the demo gives the Essonne's SIRET: the export asks for it; entered as a clerk would (the registry exported,
    completed, imported again), the file validates against the schema with frictionless."""
    def pacte(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(root), "--au", "2026-11-22",
                               *args], capture_output=True, text=True, check=False, env=env)

    out = root.parent / "subventions-2024.csv"
    refused = pacte("exporter", "--subventions", "2024", str(out))
    said = " ".join(refused.stderr.split()) + " ".join(refused.stdout.split())
    assert refused.returncode == 1 and "le SIRET du Département (idAttribuant) manque" in said and not out.exists()
    registry = root.parent / "registre.yaml"
    assert pacte("exporter", str(registry)).returncode == 0
    data = yaml.safe_load(registry.read_text(encoding="utf-8"))
    for departement in data["departements"]:
        if departement["code"] == "91":
            departement["siret"] = "22910001700016"  # the test's own value, for the schema's pattern
    for partner in data["partenaires"]:
        if partner["code"] == "ASSO-TRAIT-UNION":
            partner |= {"siret": "44306184100047", "rna": "W913001234"}
    registry.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    imported = pacte("importer", str(registry))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    published = pacte("exporter", "--subventions", "2024", str(out))
    assert published.returncode == 0 and "1 subvention publiée (SCDL subventions 2.1.1)" in published.stdout
    row = scdl_rows(out)[0]
    assert (row["idAttribuant"], row["idBeneficiaire"], row["montant"]) == ("22910001700016", "44306184100047",
                                                                            "180000.00")
