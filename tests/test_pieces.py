"""What partners owe in return (issue 28, item 2): the documents each convention calls for and their due dates,
listed, received (archived and hashed), late in the alerts, the calendar and the pages, reminded by a letter."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pypdf import PdfWriter

from tests.helpers import (
    Mailbox,
    Pacte,
    body,
    create_link,
    docx_text,
    folder_state,
    normalise,
    registry_state,
    start_server,
)
from tests.test_subventions import REGISTRY

ON = "2026-12-06"  # the 2025 documents were due on 30 June 2026


def _registry(pacte: Pacte, tmp_path: Path) -> None:
    path = tmp_path / "subventions.yaml"
    path.write_text(yaml.safe_dump(REGISTRY, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pacte("importer", str(path))


def _pdf(tmp_path: Path, name: str = "crf-2025.pdf") -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return path


def _late(pacte: Pacte) -> list[dict[str, Any]]:
    return list(json.loads(pacte("--au", ON, "pieces", "lister", "--en-retard", "--format", "json").output))


def test_a_late_compte_rendu_financier_is_listed_then_cleared_by_its_receipt(pacte: Pacte, tmp_path: Path) -> None:
    """Due six months after each exercice; late once past; listed by `pieces lister --en-retard` and by
    `alertes`; `pieces recevoir` clears it, the file kept read-only, hashed, checked by `archives verifier`."""
    _registry(pacte, tmp_path)
    late = {(r["reference"], r["piece"], r["exercice"]): r for r in _late(pacte)}
    crf = late[("ASSO-2025-042", "compte_rendu_financier", 2025)]
    assert crf["echeance"] == "2026-06-30" and crf["retard_jours"] == 159 and crf["recue_le"] is None
    assert {key[1] for key in late if key[0] == "ASSO-2025-042"} == {"compte_rendu_financier", "comptes_annuels",
                                                                       "rapport_activite"}
    # the 2026 documents are not due yet; the CCAS convention calls for none (a public body, no FSE+)
    assert not any(key[2] == 2026 for key in late) and not any(key[0] == "CCAS-2025-001" for key in late)
    before_due = json.loads(pacte("--au", "2026-06-30", "pieces", "lister", "--en-retard", "--format",
                                  "json").output)
    assert before_due == []
    alerts = " ".join(pacte("--au", ON, "alertes").output.split())
    assert "Pièces en retard au 6 décembre 2026" in alerts and "compte rendu financier" in alerts
    assert "en retard de 159 jours" in alerts

    received = pacte("--au", ON, "pieces", "recevoir", "ASSO-2025-042", "compte_rendu_financier", "--exercice",
                     "2025", "--fichier", str(_pdf(tmp_path)), "--date", "2026-11-02")
    archived = "archives/conventions/ASSO-2025-042/pieces/ASSO-2025-042-compte_rendu_financier-2025.pdf"
    assert f"archivée dans {archived}" in received.output and "reçue le 02/11/2026" in received.output
    assert not any(r["piece"] == "compte_rendu_financier" and r["reference"] == "ASSO-2025-042"
                   for r in _late(pacte))
    everything = json.loads(pacte("--au", ON, "pieces", "lister", "ASSO-2025-042", "--format", "json").output)
    row = next(r for r in everything if r["piece"] == "compte_rendu_financier" and r["exercice"] == 2025)
    assert (row["recue_le"], row["document"], row["etat"]) == ("2026-11-02", archived, "reçue le 02/11/2026")
    assert (pacte.root / archived).read_bytes() == _pdf(tmp_path).read_bytes()
    assert not (pacte.root / archived).stat().st_mode & 0o222  # read-only
    sums = (pacte.root / "archives/SHA256SUMS").read_text(encoding="utf-8")
    assert "conventions/ASSO-2025-042/pieces/ASSO-2025-042-compte_rendu_financier-2025.pdf" in sums
    assert pacte("archives", "verifier").exit_code == 0
    shown = json.loads(pacte("--au", ON, "conventions", "afficher", "ASSO-2025-042", "--format", "json").output)
    assert any(e["nature"] == "piece" and "compte rendu financier de l'exercice 2025" in e["description"]
               for e in shown["journal"])
    # a changed byte in the archived file is found
    (pacte.root / archived).chmod(0o644)
    (pacte.root / archived).write_bytes(_pdf(tmp_path).read_bytes() + b"%")
    broken = pacte("archives", "verifier", ok=False)
    assert broken.exit_code == 1 and "ASSO-2025-042-compte_rendu_financier-2025.pdf" in broken.output


@pytest.mark.lent  # six refusals, each with the registry and the folders compared
def test_receiving_refuses_what_the_convention_does_not_call_for_and_loses_nothing(pacte_sqlite: Pacte,
                                                                                   tmp_path: Path) -> None:
    pacte = pacte_sqlite
    _registry(pacte, tmp_path)
    good = _pdf(tmp_path)
    fake = tmp_path / "faux.pdf"
    fake.write_bytes(b"ceci n'est pas un PDF")
    image = tmp_path / "scan.png"
    image.write_bytes(b"\x89PNG\r\n")
    before = (registry_state(pacte.root, pacte.base), folder_state(pacte.root))
    cases = [
        (("ASSO-2025-042", "rapport", "--exercice", "2025", "--fichier", str(good)),
         "« rapport » n'est pas une pièce de la convention ASSO-2025-042 : pièces attendues : "
         "compte_rendu_financier, comptes_annuels, rapport_activite."),
        (("ASSO-2025-042", "compte_rendu_financier", "--exercice", "2024", "--fichier", str(good)),
         "n'appelle pas la pièce « compte rendu financier » pour l'exercice 2024 : exercices couverts à ce jour : "
         "de 2025 à 2026."),
        (("CCAS-2025-001", "compte_rendu_financier", "--exercice", "2025", "--fichier", str(good)),
         "La convention CCAS-2025-001 n'appelle aucune pièce"),
        (("ASSO-2025-042", "compte_rendu_financier", "--exercice", "2025", "--fichier", str(fake)),
         "faux.pdf n'est pas un PDF"),
        (("ASSO-2025-042", "compte_rendu_financier", "--exercice", "2025", "--fichier", str(image)),
         "scan.png : format non reconnu"),
        (("ASSO-2025-042", "compte_rendu_financier", "--exercice", "2025", "--fichier", str(good), "--date",
          "2027-01-01"), "La date de réception"),
    ]
    for args, said in cases:
        result = pacte("--au", ON, "pieces", "recevoir", *args, ok=False)
        flat = " ".join(result.output.split())
        assert result.exit_code == 1 and said in flat and "Traceback" not in result.output, flat
        assert (registry_state(pacte.root, pacte.base), folder_state(pacte.root)) == before
    pacte("--au", ON, "pieces", "recevoir", "ASSO-2025-042", "compte_rendu_financier", "--exercice", "2025",
          "--fichier", str(good))
    again = pacte("--au", ON, "pieces", "recevoir", "ASSO-2025-042", "compte_rendu_financier", "--exercice", "2025",
                  "--fichier", str(good), ok=False)
    assert again.exit_code == 1 and "est déjà enregistrée" in again.output and "rien n'a été changé" in again.output


def test_a_late_document_reaches_its_director_once_and_is_in_the_calendar(pacte: Pacte, tmp_path: Path,
                                                                          smtp: tuple[Mailbox, int]) -> None:
    box, _ = smtp
    _registry(pacte, tmp_path)
    ics = tmp_path / "echeances.ics"
    pacte("--au", ON, "alertes", "--envoyer", "--ics", str(ics))
    mails = box.by_recipient()["agent@seinesaintdenis.example.fr"]
    assert len(mails) == 1
    assert "6 pièces en retard" in str(mails[0]["Subject"])
    text = " ".join(body(mails[0], "plain").split())
    assert "6 pièces dues par les partenaires n'ont pas été reçues à leur échéance" in text
    assert ("ASSO-2025-042 — Association Tremplin 93 Pièce : compte rendu financier de l'exercice 2025 Échéance : "
            "30 juin 2026 (159 jours de retard)") in text
    assert "compte rendu financier" in body(mails[0], "html")
    # the next run sends nothing again; the next day neither (each document late is said once)
    second = pacte("--au", ON, "alertes", "--envoyer")
    third = pacte("--au", "2026-12-07", "alertes", "--envoyer")
    assert len(box.messages) == 1 and "Aucune nouvelle alerte à envoyer" in third.output
    assert "6 alerte(s) déjà envoyée(s)" in second.output
    calendar = " ".join(ics.read_bytes().decode("utf-8").replace("\r\n ", "").split())
    # the next due date of each convention's documents, one event for them all (those late are in the alerts)
    assert "SUMMARY:Pièces attendues — ASSO-2025-042 (Association Tremplin 93)" in calendar
    assert ("Dues au plus tard ce jour par Association Tremplin 93 (convention ASSO-2025-042) : compte rendu "
            "financier 2026 \\; copie certifiée du budget et des comptes 2026 \\; rapport d'activité 2026.") in calendar
    assert "DTSTART;VALUE=DATE:20270630" in calendar and "DTSTART;VALUE=DATE:20260630" not in calendar


@pytest.mark.libreoffice
def test_the_reminder_letter_names_what_is_late_and_goes_once_a_month(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    pacte = pacte_sqlite
    _registry(pacte, tmp_path)
    pacte("--au", ON, "pieces", "recevoir", "ASSO-2025-042", "compte_rendu_financier", "--exercice", "2025",
          "--fichier", str(_pdf(tmp_path)))
    made = pacte("--au", ON, "pieces", "relancer", "ASSO-2025-042")
    assert ("ASSO-2025-042 : lettre de relance n° 1 — copie certifiée du budget et des comptes 2025 ; rapport "
            "d'activité 2025") in made.output
    letter = pacte.root / "conventions/ASSO-2025-042/ASSO-2025-042-relance-1.docx"
    assert letter.with_suffix(".pdf").is_file()
    text = " ".join(docx_text(letter).split())
    assert "Objet : pièces attendues au titre de la convention n° ASSO-2025-042" in text
    assert ("– copie certifiée du budget et des comptes de l'exercice 2025, dont l'échéance était le 30 juin 2026 ;"
            in text)
    assert "À défaut, une mise en demeure vous sera adressée." in text
    assert "– rapport d'activité de l'exercice 2025, dont l'échéance était le 30 juin 2026." in text
    assert "compte rendu financier" not in text.split("je n'ai pas reçu")[1]  # received: not claimed
    assert "les versements à venir de la subvention ne pourront intervenir qu'après leur réception" in text
    assert "Relance n° 1, convention n° ASSO-2025-042" in text
    # within a month, nothing is reminded again; a month later, the second letter says it was asked already
    assert "Aucune pièce en retard à relancer" in pacte("--au", "2026-12-20", "pieces", "relancer",
                                                        "ASSO-2025-042").output
    second = pacte("--au", "2027-01-06", "pieces", "relancer", "ASSO-2025-042", "--sans-pdf")
    assert "lettre de relance n° 2" in second.output
    text = " ".join(docx_text(pacte.root / "conventions/ASSO-2025-042/ASSO-2025-042-relance-2.docx").split())
    assert "(relance n° 2)" in text and "(déjà demandé)" in text
    # the first letter, sent, is kept as it was
    assert (pacte.root / "conventions/ASSO-2025-042/ASSO-2025-042-relance-1.docx").is_file()


@pytest.mark.lent  # a server of its own, a sign-in
def test_late_documents_are_on_the_director_s_page_and_received_from_the_staff_s(pacte: Pacte, tmp_path: Path) -> None:
    """The director reads what is late on their page; a clerk records the file from the convention's page (no
    terminal), and the document leaves the list."""
    from tests.test_agents import JURISTE, Browser

    pacte("importer", str(Path(__file__).parent / "donnees" / "registre.yaml"))
    email, nom, role, password = JURISTE
    pacte("agents", "creer", email, "--nom", nom, "--role", role, input=password + "\n")
    config = pacte.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n[agents]\ncookie_securise = false\n", encoding="utf-8")
    _, token, _ = create_link(pacte, "--responsable", "agent.test@seinesaintdenis.example.fr")
    server = start_server(pacte.root, pacte.base, au=ON)
    try:
        status, _, raw = server.get(f"/acces/{token}")
        assert status == 200 and f'href="/acces/{token}/pieces"' in raw.decode("utf-8")  # from the board
        status, _, raw = server.get(f"/acces/{token}/pieces")
        text = " ".join(normalise(html.unescape(raw.decode("utf-8"))).split())
        assert status == 200 and "En retard" in text
        assert ">ASSO-2025-001</a>" in text and "compte rendu financier 2025" in text
        clerk = Browser(server)
        assert clerk.sign_in(email, password)[0] == 303
        status, _, page = clerk.request("GET", "/agents/alertes")
        assert status == 200 and "Pièces en retard" in page and "Produire les lettres de relance" in page
        assert '<a href="/agents/conventions/ASSO-2025-001#t-pieces">ASSO-2025-001</a>' in page
        status, _, page = clerk.request("GET", "/agents/conventions/ASSO-2025-001")
        assert status == 200 and "Pièces dues par le partenaire" in page and "Enregistrer la pièce" in page
        csrf = clerk.token("/agents/conventions/ASSO-2025-001")
        status, page = clerk.upload("/agents/conventions/ASSO-2025-001/pieces/recevoir",
                                    {"csrftoken": csrf, "piece": "compte_rendu_financier:2025", "date": "02/11/2026"},
                                    "CRF 2025.pdf", _pdf(tmp_path).read_bytes())
        assert status == 303, page[:500]
        status, _, page = clerk.request("GET", "/agents/conventions/ASSO-2025-001")
        flat = " ".join(normalise(html.unescape(page)).split())
        assert "Pièce enregistrée : compte rendu financier de l'exercice 2025, reçue le 02/11/2026" in flat
        assert "fichier reçu" in flat
        # a file that is not what it says is refused next to the form, nothing recorded
        before = registry_state(pacte.root, pacte.base)
        status, page = clerk.upload("/agents/conventions/ASSO-2025-001/pieces/recevoir",
                                    {"csrftoken": csrf, "piece": "rapport_activite:2025", "date": ""},
                                    "rapport.pdf", b"pas un PDF")
        assert status == 422 and "rapport.pdf n'est pas un PDF" in normalise(html.unescape(page))
        assert "/tmp/" not in page and "/dev/shm" not in page
        assert registry_state(pacte.root, pacte.base) == before
        status, _, raw = server.get(f"/acces/{token}/pieces")
        late = html.unescape(raw.decode("utf-8")).split('id="t-retard"')[1].split("</section>")[0]
        assert "compte rendu financier 2025" not in normalise(late) and "rapport d'activité 2025" in normalise(late)
        received = html.unescape(raw.decode("utf-8")).split('id="t-recues"')[1].split("</section>")[0]
        assert "compte rendu financier 2025" in normalise(received) and "reçue le 02/11/2026" in received
    finally:
        server.stop()
