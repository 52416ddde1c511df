"""Lifecycle commands through the CLI, on SQLite and PostgreSQL: sign, renew, avenant, denounce, journal."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from docx import Document as DocxDocument
from pypdf import PdfReader

from tests.helpers import DATA, Pacte, docx_text, pdf_text, registry_state, scanned_pdf


def _show(pacte: Pacte, reference: str, *options: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(pacte(*options, "conventions", "afficher", reference, "--format", "json").output)
    return shown


def test_sign_archives_the_signed_pdf_read_only(pacte: Pacte, tmp_path: Path) -> None:
    pacte("importer", str(DATA / "alertes.yaml"))
    signed = tmp_path / "scan.pdf"
    signed.write_bytes(scanned_pdf("scan de la convention signee"))
    result = pacte("--au", "2027-02-15", "conventions", "signer", "CCAS-2027-105", "--date", "2027-02-10",
        "--fichier", str(signed))
    assert "CCAS-2027-105 : signature enregistrée au 10 février 2027." in result.output
    archived = pacte.root / "archives/conventions/CCAS-2027-105/CCAS-2027-105-signee.pdf"
    assert archived.read_bytes() == signed.read_bytes()
    assert not archived.stat().st_mode & 0o222
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=pacte.root / "archives", capture_output=True,
                           text=True, check=False)
    assert check.returncode == 0 and "CCAS-2027-105-signee.pdf: OK" in check.stdout
    shown = _show(pacte, "CCAS-2027-105", "--au", "2027-02-11")
    assert shown["statut"] == "signee" and shown["date_signature"] == "2027-02-10"
    journal = shown["journal"]
    assert isinstance(journal, list)
    assert journal[-1]["nature"] == "signature"
    assert journal[-1]["document"] == "archives/conventions/CCAS-2027-105/CCAS-2027-105-signee.pdf"
    assert len(journal[-1]["sha256"]) == 64
    again = pacte("--au", "2027-02-15", "conventions", "signer", "CCAS-2027-105", "--date", "2027-02-12", ok=False)
    assert again.exit_code == 1 and "déjà signée (le 10 février 2027)" in again.output
    not_pdf = tmp_path / "scan.txt"
    not_pdf.write_text("pas un pdf")
    refused = pacte("conventions", "signer", "CCAS-2024-101", "--date", "2024-05-15", "--fichier", str(not_pdf),
                    ok=False)
    assert refused.exit_code == 1 and "n'est pas un PDF" in refused.output


def test_express_renewal_opens_the_next_period_with_its_own_act(pacte: Pacte) -> None:
    pacte("importer", str(DATA / "alertes.yaml"))
    pacte("conventions", "generer", "CCAS-2024-101", "--sans-pdf")
    signed_text = (pacte.root / "conventions/CCAS-2024-101/CCAS-2024-101.docx").read_bytes()
    result = pacte("--au", "2027-02-22", "conventions", "renouveler", "CCAS-2024-101", "--deliberation",
                   "CP-2027-02-041", "--sans-pdf")
    assert ("période 2 du 1er juin 2027 au 31 mai 2030 (date limite de décision : 28 février 2030)"
            in result.output)
    assert "conventions/CCAS-2024-101/CCAS-2024-101-renouvellement-1.docx (créé)" in result.output
    # The signed convention is not rewritten: the renewal is an act of its own.
    assert (pacte.root / "conventions/CCAS-2024-101/CCAS-2024-101.docx").read_bytes() == signed_text
    assert not (pacte.root / "archives/conventions/CCAS-2024-101").exists()
    assert "a été renouvelée" not in docx_text(pacte.root / "conventions/CCAS-2024-101/CCAS-2024-101.docx")
    act = docx_text(pacte.root / "conventions/CCAS-2024-101/CCAS-2024-101-renouvellement-1.docx")
    assert "RENOUVELLEMENT N° 1" in act and "de la convention n° CCAS-2024-101" in act
    assert ("Vu la délibération de la Commission permanente n° CP-2027-02-041 du 22 février 2027 décidant le "
            "renouvellement de la convention ;") in act
    assert ("est renouvelée de manière expresse pour une nouvelle période de trois ans, du 1er juin 2027 au "
            "31 mai 2030 inclus.") in act
    assert "Ce renouvellement est le dernier que prévoit la convention" in act
    # the Président signs it by the délibération that renews, not the one that approved the convention
    assert ("dûment habilité à signer le présent renouvellement par délibération de la Commission permanente "
            "n° CP-2027-02-041 du 22 février 2027,") in act
    shown = _show(pacte, "CCAS-2024-101", "--au", "2027-06-02")
    assert (shown["statut"], shown["periode"], shown["fin_periode"]) == ("reconduite", 2, "2030-05-31")
    natures = [e["nature"] for e in shown["journal"]]
    assert natures == ["import", "generation", "renouvellement", "generation"]
    assert [d["chemin"] for d in shown["documents"]] == [
        "conventions/CCAS-2024-101/CCAS-2024-101.docx",
        "conventions/CCAS-2024-101/CCAS-2024-101-renouvellement-1.docx"]
    refused = pacte("--au", "2027-03-21", "conventions", "renouveler", "CCAS-2024-101", ok=False)
    assert refused.exit_code == 1 and "le maximum prévu (1)" in refused.output
    tacit = pacte("conventions", "renouveler", "CCAS-2024-102", ok=False)
    assert "se reconduit d'elle-même" in tacit.output
    late = pacte("--au", "2026-03-01", "conventions", "renouveler", "FT-2023-104", ok=False)
    assert late.exit_code == 1 and "la convention a expiré" in late.output


def test_avenant_is_numbered_generated_and_moves_the_end(pacte: Pacte) -> None:
    pacte("importer", str(DATA / "alertes.yaml"))
    first = pacte("--au", "2026-01-15", "conventions", "avenant", "CCAS-2024-103", "--objet",
                  "Ajout d'une permanence « numérique » & d'un atelier.", "--date", "2026-01-15", "--sans-pdf",
                  "--deliberation", "CP-2025-12-207", "--date-deliberation", "2025-12-15")
    assert "avenant n° 1 enregistré" in first.output
    docx = pacte.root / "conventions/CCAS-2024-103/CCAS-2024-103-avenant-1.docx"
    text = docx_text(docx)
    assert "AVENANT N° 1" in text and "Ajout d'une permanence « numérique » & d'un atelier." in text
    # its own délibération, and the convention named in one line (its object clause is not spliced in)
    assert ("Vu la délibération de la Commission permanente n° CP-2025-12-207 du 15 décembre 2025 approuvant le "
            "présent avenant et autorisant le Président à le signer ;") in text
    assert ("dûment habilité à signer le présent avenant par délibération de la Commission permanente "
            "n° CP-2025-12-207 du 15 décembre 2025,") in text
    assert ("Vu la convention de partenariat pour l'accompagnement social et l'insertion des publics fragiles "
            "n° CCAS-2024-103 signée le 1er août 2024 ;") in text
    before = pacte("--au", "2026-01-10", "conventions", "avenant", "CCAS-2024-103", "--objet", "Autre.", "--date",
                   "2025-12-01", "--date-deliberation", "2025-12-15", "--sans-pdf", ok=False)
    assert before.exit_code == 1 and "ne peut précéder la délibération qui l'approuve" in before.output
    second = pacte("--au", "2026-02-01", "conventions", "avenant", "CCAS-2024-103", "--objet",
                   "Prolongation de six mois.", "--nouvelle-fin", "2028-02-29", "--sans-pdf")
    assert "avenant n° 2 enregistré" in second.output and "Fin de période portée au 29 février 2028." in second.output
    undated = " ".join(docx_text(pacte.root / "conventions/CCAS-2024-103/CCAS-2024-103-avenant-2.docx").split())
    assert "porté au 29 février 2028 inclus" in undated
    # not yet signed: it takes effect when signed, never on the convention's own date of effect
    assert "Le présent avenant prend effet à la date de sa signature par la dernière des parties." in undated
    shown = _show(pacte, "CCAS-2024-103", "--au", "2027-01-29")
    assert (shown["fin_periode"], shown["date_limite"]) == ("2028-02-29", "2027-11-29")
    assert [d["chemin"] for d in shown["documents"]] == [
        "conventions/CCAS-2024-103/CCAS-2024-103-avenant-1.docx",
        "conventions/CCAS-2024-103/CCAS-2024-103-avenant-2.docx"]
    assert "✓" in pacte("archives", "verifier").output


def test_avenant_gives_the_new_wording_of_each_article_it_changes(pacte: Pacte) -> None:
    """One line of object, then one article per change, in the order of the convention's articles, and the
    avenant's own articles numbered after them."""
    pacte("importer", str(DATA / "alertes.yaml"))
    before = registry_state(pacte.root, pacte.base)
    bad = pacte("conventions", "avenant", "CCAS-2024-103", "--objet", "Permanence.", "--complete-article",
                "quatre", "Texte.", "--sans-pdf", ok=False)
    assert bad.exit_code == 1 and "Numéro d'article « quatre » incompréhensible" in bad.output
    assert registry_state(pacte.root, pacte.base) == before
    # an article the signed text does not have is refused, with the articles it has
    missing = pacte("conventions", "avenant", "CCAS-2024-103", "--objet", "Permanence.", "--remplace-article",
                    "42", "Texte.", "--sans-pdf", ok=False)
    assert missing.exit_code == 1 and "La convention CCAS-2024-103 n'a pas d'article 42" in missing.output
    assert "4 « Actions conjointes » ; 5 « Dispositions financières »" in missing.output
    assert registry_state(pacte.root, pacte.base) == before
    # a draft is corrected and regenerated, never amended
    draft = pacte("conventions", "avenant", "CCAS-2027-105", "--objet", "Ajout.", "--complete-article", "4",
                  "Texte.", "--sans-pdf", ok=False)
    assert draft.exit_code == 1 and "CCAS-2027-105 n'est pas signée : un projet ne s'amende pas" in draft.output
    assert registry_state(pacte.root, pacte.base) == before
    pacte("--au", "2026-01-15", "conventions", "avenant", "CCAS-2024-103", "--objet",
          "Ajout d'une permanence numérique et nouvelle rédaction de l'article relatif au suivi.",
          "--remplace-article", "6", "Le comité de suivi se réunit deux fois par an.",
          "--complete-article", "4", "Le CCAS tient une permanence numérique le mardi matin.",
          "--date", "2026-01-15", "--sans-pdf")
    text = " ".join(docx_text(pacte.root / "conventions/CCAS-2024-103/CCAS-2024-103-avenant-1.docx").split())
    # the object typed is the exposé of the reasons; article 1 says what the avenant changes, and nothing else
    assert ("Exposé des motifs Ajout d'une permanence numérique et nouvelle rédaction de l'article relatif au "
            "suivi. Il est convenu ce qui suit :") in text  # a heading of its own, then the reasons
    document = DocxDocument(str(pacte.root / "conventions/CCAS-2024-103/CCAS-2024-103-avenant-1.docx"))
    heading = next(p for p in document.paragraphs if p.text == "Exposé des motifs")
    assert heading.runs[0].bold and heading.paragraph_format.keep_with_next
    assert ("Article 1 – Objet de l'avenant Le présent avenant a pour objet de compléter l'article 4 « Actions "
            "conjointes » de la convention et de modifier la rédaction de l'article 6 « Comité de suivi et bilan "
            "annuel » de la convention.") in text
    assert ("Article 2 – Modification de l'article 4 « Actions conjointes » L'article 4 « Actions conjointes » de "
            "la convention est complété par l'alinéa suivant : « Le CCAS tient une permanence numérique le mardi "
            "matin. »") in text
    assert ("Article 3 – Modification de l'article 6 « Comité de suivi et bilan annuel » L'article 6 « Comité de "
            "suivi et bilan annuel » de la convention est ainsi rédigé : « Le comité de suivi se réunit deux fois "
            "par an. »") in text
    assert "Article 4 – Durée" in text and "Article 5 – Autres stipulations" in text
    assert "Article 6 – Prise d'effet Le présent avenant prend effet le 15 janvier 2026." in text
    journal = _show(pacte, "CCAS-2024-103")["journal"]
    assert any("Article 4 complété. Article 6 réécrit." in e["description"] for e in journal)


def test_tacit_denunciation_after_the_deadline_needs_force(pacte: Pacte) -> None:
    pacte("importer", str(DATA / "alertes.yaml"))
    before = registry_state(pacte.root, pacte.base)
    late = pacte("--au", "2027-03-01", "conventions", "denoncer", "CCAS-2024-102", "--date", "2027-03-01", ok=False)
    assert late.exit_code == 1
    assert ("Trop tard pour dénoncer CCAS-2024-102 : le préavis de 3 mois imposait de le faire au plus tard le "
            "28 février 2027. La convention sera reconduite le 1er juin 2027.") in late.output
    assert registry_state(pacte.root, pacte.base) == before
    forced = pacte("--au", "2027-03-01", "conventions", "denoncer", "CCAS-2024-102", "--date", "2027-03-01",
                   "--motif", "Fin du dispositif", "--force", "--sans-pdf")
    assert "la convention prend fin le 31 mai 2027" in forced.output
    letter = docx_text(pacte.root / "conventions/CCAS-2024-102/CCAS-2024-102-denonciation.docx")
    assert "LETTRE RECOMMANDÉE AVEC DEMANDE D'AVIS DE RÉCEPTION" in letter
    assert "Objet : dénonciation de la convention n° CCAS-2024-102" in letter
    assert "Cette décision est motivée par le motif suivant : Fin du dispositif" in letter
    assert ("Intervenant après le 28 février 2027, date que fixait le préavis de trois mois prévu par la convention, "
            "cette dénonciation a été convenue d'un commun accord entre les parties : la convention prend fin au "
            "terme de la période en cours, le 31 mai 2027, et ne sera pas reconduite.") in letter
    shown = _show(pacte, "CCAS-2024-102", "--au", "2027-06-15")
    assert shown["statut"] == "denoncee" and shown["periode"] == 1
    denounced = [e for e in shown["journal"] if e["nature"] == "denonciation"]
    assert len(denounced) == 1 and "hors délai, avec --force" in denounced[0]["description"]
    in_time = pacte("--au", "2027-01-15", "conventions", "denoncer", "CCAS-2024-101", "--date", "2027-01-15",
                    "--sans-pdf")
    assert "dénonciation enregistrée au 15 janvier 2027" in in_time.output
    letter = docx_text(pacte.root / "conventions/CCAS-2024-101/CCAS-2024-101-denonciation.docx")
    assert ("Notifiée avant le 28 février 2027, dans le respect du préavis de trois mois prévu par la convention, "
            "cette dénonciation met fin à la convention au terme de la période en cours, le 31 mai 2027 ; elle ne "
            "sera pas reconduite.") in letter
    assert "Madame, Monsieur," in letter  # the CCAS's representative is not known
    statuses = {r["reference"]: r["statut"] for r in json.loads(
        pacte("--au", "2027-01-29", "conventions", "lister", "--format", "json").output)}
    # CCAS-2024-102 is denounced as of 1 March 2027 (a date still to come on 29 January)
    assert statuses == {"CCAS-2024-101": "denoncee", "CCAS-2024-102": "a_renouveler", "CCAS-2024-103": "a_renouveler",
                        "CCAS-2027-105": "brouillon", "FT-2023-104": "expiree"}
    only = json.loads(pacte("--au", "2027-01-29", "conventions", "lister", "--statut", "expiree", "--format",
                            "json").output)
    assert [r["reference"] for r in only] == ["FT-2023-104"]


@pytest.mark.libreoffice
def test_signed_copy_and_archived_versions_are_never_rewritten(pacte: Pacte, tmp_path: Path) -> None:
    """Regenerating after the signature, twice, with changed data: the signed text stays the current document,
    byte for byte, and says so; the signed copy keeps its bytes and stays read-only; the draft archived at the
    signature too."""
    pacte("importer", str(DATA / "alertes.yaml"))
    pacte("conventions", "generer", "CCAS-2027-105")
    scan = tmp_path / "scan.pdf"  # a scan of the paper copy: as many pages as the generated PDF
    pages = len(PdfReader(pacte.root / "conventions/CCAS-2027-105/CCAS-2027-105.pdf").pages)
    scan.write_bytes(scanned_pdf("EXEMPLAIRE SIGNE CCAS-2027-105", pages=pages))
    pacte("--au", "2027-02-15", "conventions", "signer", "CCAS-2027-105", "--date", "2027-02-10",
        "--fichier", str(scan))
    signed = pacte.root / "archives/conventions/CCAS-2027-105/CCAS-2027-105-signee.pdf"
    source = (DATA / "alertes.yaml").read_text(encoding="utf-8")
    archived: dict[str, str] = {}
    for round_ in (1, 2):
        changed = tmp_path / f"modifie-{round_}.yaml"
        changed.write_text(source.replace("date_signature: 2027-02-10", "").replace(
            "reference: CCAS-2027-105", f"reference: CCAS-2027-105\n    territoire: Secteur {round_}", 1),
            encoding="utf-8")
        pacte("importer", str(changed))
        current = {p.name: p.read_bytes() for p in (pacte.root / "conventions/CCAS-2027-105").iterdir()}
        result = pacte("conventions", "generer", "CCAS-2027-105")
        assert "(texte signé, inchangé, PDF texte signé, inchangé)" in result.output, result.output
        assert "le texte signé reste celui du document enregistré" in result.output
        assert {p.name: p.read_bytes() for p in (pacte.root / "conventions/CCAS-2027-105").iterdir()} == current
        now = {p.relative_to(pacte.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
               for p in (pacte.root / "archives/conventions").rglob("*") if p.is_file()}
        assert archived.items() <= now.items(), "un fichier archivé a changé ou disparu"
        assert "archives/conventions/CCAS-2027-105/CCAS-2027-105-v1.pdf" in now  # the draft, before signing
        archived = now
        for name in now:
            assert not (pacte.root / name).stat().st_mode & 0o222, f"{name} n'est pas en lecture seule"
    assert signed.read_bytes() == scan.read_bytes()
    assert "EXEMPLAIRE SIGNE CCAS-2027-105" in pdf_text(signed)
    check = pacte("archives", "verifier")
    assert check.exit_code == 0 and "aucun fichier inconnu" in check.output, check.output


def _named(tmp_path: Path) -> Path:
    """The alerts' registry with CCAS-IVRY's representative named: its acts can be final, and frozen."""
    path = tmp_path / "nomme.yaml"
    path.write_text((DATA / "alertes.yaml").read_text(encoding="utf-8").replace(
        "{code: CCAS-IVRY, type: ccas, nom: CCAS d'Ivry-sur-Seine}",
        "{code: CCAS-IVRY, type: ccas, nom: CCAS d'Ivry-sur-Seine, representant: {civilite: Mme, nom: Nadia Ferhat, "
        "qualite: Vice-présidente du CCAS}}"), encoding="utf-8")
    return path


def test_an_act_a_failed_run_left_unmade_is_made_by_generer(pacte: Pacte, tmp_path: Path) -> None:
    """The renewal is recorded before its act is produced: if producing it fails (here its template is missing),
    « conventions generer » makes it once the cause is fixed; an act already made is never rewritten."""
    pacte("importer", str(_named(tmp_path)))
    (pacte.root / "modeles/renouvellement.docx").unlink()
    failed = pacte("--au", "2027-02-20", "conventions", "renouveler", "CCAS-2024-101", "--sans-pdf", ok=False)
    assert failed.exit_code == 1 and "Modèle « renouvellement » introuvable" in failed.output
    assert "CCAS-2024-101 : renouvellement enregistré ; période 2" in failed.output
    assert "« pacte conventions generer CCAS-2024-101 » le produira" in failed.output
    assert _show(pacte, "CCAS-2024-101", "--au", "2027-06-02")["periode"] == 2  # the decision is recorded
    assert "créé    modeles/renouvellement.docx" in pacte("init", str(pacte.root)).output
    made = pacte("conventions", "generer", "CCAS-2024-101", "--sans-pdf")
    assert "conventions/CCAS-2024-101/CCAS-2024-101-renouvellement-1.docx (créé)" in made.output
    act = pacte.root / "conventions/CCAS-2024-101/CCAS-2024-101-renouvellement-1.docx"
    first = act.read_bytes()
    template = pacte.root / "modeles/renouvellement.docx"
    document = DocxDocument(str(template))
    document.add_paragraph("Clause ajoutée au modèle après coup.")
    document.save(str(template))
    again = pacte("conventions", "generer", "CCAS-2024-101", "--sans-pdf")
    assert "CCAS-2024-101-renouvellement-1.docx (texte signé, inchangé)" in again.output
    assert act.read_bytes() == first


def test_a_renewal_after_the_deadline_the_clause_sets_is_refused_and_a_successor_drafted(pacte: Pacte) -> None:
    """CCAS-2024-101's article says the renewal is decided « au plus tard le 28 février 2027. À défaut, la
    convention prend fin à son terme »: a délibération of 20 March 2027 was accepted « décidant le
    renouvellement ». It is now refused with the clause and the way forward — a successor convention, drafted
    from the old one — or recorded with --force, the journal saying the clause was set aside."""
    pacte("importer", str(DATA / "alertes.yaml"))
    pacte("conventions", "generer", "CCAS-2024-101", "--sans-pdf")
    text = docx_text(pacte.root / "conventions/CCAS-2024-101/CCAS-2024-101.docx")
    assert "La décision de renouvellement doit intervenir au plus tard le 28 février 2027. À défaut, la " \
           "convention prend fin à son terme." in text
    before = _show(pacte, "CCAS-2024-101")
    late = pacte("--au", "2027-03-20", "conventions", "renouveler", "CCAS-2024-101", "--deliberation",
                 "CP-2027-03-041", "--sans-pdf", ok=False)
    assert late.exit_code == 1
    assert ("La décision du 20 mars 2027 est postérieure à la date limite que fixe la convention CCAS-2024-101 : "
            "« La décision de renouvellement doit intervenir au plus tard le 28 février 2027. À défaut, la "
            "convention prend fin à son terme. » La convention prend donc fin le 31 mai 2027.") in late.output
    assert "pacte conventions succeder CCAS-2024-101 --reference NOUVELLE-REFERENCE" in late.output
    assert "Rien n'a été enregistré" in late.output and _show(pacte, "CCAS-2024-101") == before
    # the alert past the deadline says the same
    alert = json.loads(pacte("--au", "2027-03-20", "alertes", "--format", "json").output)
    action = next(a["action"] for a in alert if a["reference"] == "CCAS-2024-101")
    assert "à défaut de décision à cette date, elle prend fin à son terme, le 31 mai 2027" in action
    assert "d'urgence" not in action and "préparer une nouvelle convention qui lui succède" in action
    assert "pacte " not in action  # the director reads it in an e-mail or on the board: no command line
    table = pacte("--au", "2027-03-20", "alertes").output
    assert "pacte conventions succeder CCAS-2024-101 --reference NOUVELLE-REFERENCE" in " ".join(table.split())
    # the successor: same parties and clauses, a draft starting the day after
    made = pacte("--au", "2027-03-20", "conventions", "succeder", "CCAS-2024-101", "--reference", "ccas-2027-201")
    assert "CCAS-2027-201 : brouillon créé pour succéder à CCAS-2024-101, prise d'effet le 1er juin 2027" in \
        made.output
    old, new = _show(pacte, "CCAS-2024-101"), _show(pacte, "CCAS-2027-201", "--au", "2027-03-20")
    assert new["statut"] == "brouillon" and new["date_effet"] == "2027-06-01" and new["date_signature"] is None
    assert (new["partenaires"], new["objet"], new["duree_mois"], new["renouvellement"]) == (
        old["partenaires"], old["objet"], old["duree_mois"], old["renouvellement"])
    assert new["deliberation"]["numero"] is None and new["deliberation"]["date"] is None
    assert "succéder à la convention CCAS-2024-101" in new["journal"][-1]["description"]
    assert old["journal"][-1]["nature"] == "succession" and "CCAS-2027-201" in old["journal"][-1]["description"]
    taken = pacte("conventions", "succeder", "CCAS-2024-101", "--reference", "CCAS-2027-201", ok=False)
    assert taken.exit_code == 1 and "existe déjà" in taken.output
    # --force: recorded, the journal says the clause was set aside
    forced = pacte("--au", "2027-03-20", "conventions", "renouveler", "CCAS-2024-101", "--deliberation",
                   "CP-2027-03-041", "--sans-pdf", "--force")
    assert "renouvellement enregistré" in forced.output
    entry = next(e for e in _show(pacte, "CCAS-2024-101")["journal"] if e["nature"] == "renouvellement")
    assert "Clause de renouvellement écartée (--force) : la décision est postérieure à la date limite du " \
           "28 février 2027 que fixe la convention." in entry["description"]


@pytest.mark.parametrize("name", ["convention_ccas", "convention_france_travail"])
def test_the_templates_give_the_clause_the_rules_apply(name: str) -> None:
    """The sentence the renewal rule cites is the one the package's conventions write, word for word."""
    from pacte_docs.rules.clauses import CLAUSES
    from pacte_docs.workspace import package_templates

    document = DocxDocument(io.BytesIO(package_templates()[name]))
    text = "\n".join(p.text for p in document.paragraphs)
    assert CLAUSES["renouvellement_expresse"] in text


@pytest.mark.libreoffice
def test_the_tools_own_draft_is_no_signed_copy(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """`signer --fichier` accepted the unsigned PDF pacte had made (same SHA-256 as the recorded draft, « PROJET »
    on each page) as a « signature manuscrite numérisée »."""
    pacte_sqlite("importer", str(DATA / "alertes.yaml"))
    pacte_sqlite("conventions", "generer", "CCAS-2027-105")
    draft = pacte_sqlite.root / "conventions/CCAS-2027-105/CCAS-2027-105.pdf"
    assert all("PROJET" in page for page in pdf_text(draft).split("\f") if page.strip())
    copy = tmp_path / "CCAS-2027-105-signee.pdf"
    copy.write_bytes(draft.read_bytes())
    refused = pacte_sqlite("--au", "2027-02-15", "conventions", "signer", "CCAS-2027-105", "--date", "2027-02-10",
        "--fichier", str(copy),
                           ok=False)
    assert refused.exit_code == 1 and "ne prouve pas la signature" in refused.output
    assert "octet pour octet, le PDF que pacte a produit (conventions/CCAS-2027-105/CCAS-2027-105.pdf)" in \
        refused.output
    assert "chaque page porte la mention « PROJET » et la copie ne porte aucune signature" in refused.output
    assert _show(pacte_sqlite, "CCAS-2027-105")["date_signature"] is None
    forced = pacte_sqlite("--au", "2027-02-15", "conventions", "signer", "CCAS-2027-105", "--date", "2027-02-10",
        "--fichier", str(copy),
                          "--force")
    assert "Copie signée : refusée — enregistrée avec --force" in forced.output


def test_an_avenant_that_leaves_the_old_amount_in_another_article_is_reported(pacte: Pacte, tmp_path: Path) -> None:
    """An avenant rewrote « Engagements du Département » with a new amount while « Dispositions financières »
    still gave the old one: the act contradicted itself. It is now reported before anything is recorded."""
    registry = (DATA / "alertes.yaml").read_text(encoding="utf-8").replace(
        "  - reference: CCAS-2024-103", "  - reference: CCAS-2024-103\n    montant: \"60000.00\"", 1)
    path = tmp_path / "registre.yaml"
    path.write_text(registry, encoding="utf-8")
    pacte("importer", str(path))
    before = registry_state(pacte.root, pacte.base)
    stale = pacte("--au", "2026-01-15", "conventions", "avenant", "CCAS-2024-103", "--objet", "Participation revue.",
                  "--remplace-article", "2", "Le Département verse au CCAS une participation de 66 000,00 €.",
                  "--sans-pdf", ok=False)
    assert stale.exit_code == 1
    assert ("l'article 5 « Dispositions financières » donne encore 60 000,00 €, que la nouvelle rédaction de "
            "l'article 2 remplace") in " ".join(stale.output.replace("\u2019", "'").split())
    assert registry_state(pacte.root, pacte.base) == before
    both = pacte("--au", "2026-01-15", "conventions", "avenant", "CCAS-2024-103", "--objet", "Participation revue.",
                 "--remplace-article", "2", "Le Département verse au CCAS une participation de 66 000,00 €.",
                 "--remplace-article", "5", "La participation du Département est de 66 000,00 €.", "--sans-pdf")
    assert "avenant n° 1 enregistré" in both.output


def test_an_avenant_that_changes_the_amount_and_drops_the_schedule_is_reported(pacte: Pacte,
                                                                              tmp_path: Path) -> None:
    """An avenant rewrote « Dispositions financières » with a new amount in one sentence: the payment schedule
    the article stipulated was gone, the subsidy paid by no schedule. Reported before anything is recorded; a new
    wording that gives the schedule again is accepted."""
    registry = (DATA / "alertes.yaml").read_text(encoding="utf-8").replace(
        "  - reference: CCAS-2024-103", "  - reference: CCAS-2024-103\n    montant: \"60000.00\"\n    versements: "
        "[\"50 % à la signature de la convention\", \"le solde sur production du bilan annuel\"]", 1)
    path = tmp_path / "registre.yaml"
    path.write_text(registry, encoding="utf-8")
    pacte("importer", str(path))
    before = registry_state(pacte.root, pacte.base)
    dropped = pacte("--au", "2026-01-15", "conventions", "avenant", "CCAS-2024-103", "--objet", "Participation revue.",
                    "--remplace-article", "5", "La participation du Département est de 66 000,00 €.", "--sans-pdf",
                    ok=False)
    said = " ".join(dropped.output.replace("\u2019", "'").split())
    assert dropped.exit_code == 1 and registry_state(pacte.root, pacte.base) == before
    assert ("la nouvelle rédaction de l'article 5 « Dispositions financières » change le montant mais ne donne plus "
            "l'échéancier de versement qu'il stipulait (« 50 % à la signature de la convention », « le solde sur "
            "production du bilan annuel »)") in said
    restated = pacte("--au", "2026-01-15", "conventions", "avenant", "CCAS-2024-103", "--objet", "Participation revue.",
                     "--remplace-article", "5", "La participation du Département est de 66 000,00 €, versée : 50 % à "
                     "la signature de la convention ; le solde sur production du bilan annuel.", "--sans-pdf")
    assert "avenant n° 1 enregistré" in restated.output


def test_an_act_that_cannot_name_a_signatory_stays_a_draft_until_it_can(pacte: Pacte, tmp_path: Path) -> None:
    """An avenant signed « Vice-président du CCAS, » with no name was produced, and frozen, as final: it now says
    « PROJET », generer names what is missing, and once the name is imported the act is made again, final."""
    pacte("importer", str(DATA / "alertes.yaml"))  # CCAS-IVRY has no named representative
    made = pacte("--au", "2026-01-15", "conventions", "avenant", "CCAS-2024-103", "--objet", "Permanences.",
                 "--complete-article", "4", "Une permanence est ajoutée le jeudi.", "--date", "2026-01-15",
                 "--sans-pdf")
    act = pacte.root / "conventions/CCAS-2024-103/CCAS-2024-103-avenant-1.docx"
    assert "PROJET — " in docx_text(act)
    notes = " ".join(pacte("conventions", "generer", "CCAS-2024-103", "--sans-pdf").output.split())
    assert ("CCAS-2024-103-avenant-1 : l'acte reste marqué « PROJET » tant qu'il lui manque le nom du "
            "représentant du CCAS d'Ivry-sur-Seine") in notes.replace("\u2019", "'")
    assert "avenant n° 1 enregistré" in made.output
    pacte("importer", str(_named(tmp_path)))
    pacte("conventions", "generer", "CCAS-2024-103", "--sans-pdf")
    text = docx_text(act)
    assert "PROJET" not in text and "Mme Nadia Ferhat" in text
