"""The staff pages in Debian's chromium (Playwright), as a juriste uses them — signed in, a convention's documents
generated and downloaded — and judged by axe-core (WCAG 2.1 A and AA) on the desktop and on a phone."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from tests.helpers import DATA, Pacte, Server, create_link, start_server

pytestmark = [pytest.mark.lent, pytest.mark.navigateur]
AXE = Path(__file__).parent / "navigateur" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=390, height=844)
JURISTE = ("claire.dubois@seinesaintdenis.example.fr", "Claire Dubois", "un-mot-de-passe-solide")


@pytest.fixture
def served(pacte_sqlite: Pacte) -> Iterator[tuple[Pacte, Server]]:
    pacte_sqlite("importer", str(DATA / "registre.yaml"))
    draft = pacte_sqlite.root.parent / "projet.yaml"
    draft.write_text("conventions:\n  - reference: CCAS-2026-020\n    type: ccas\n    partenaires: [CCAS-MONTREUIL]\n"
                     "    objet: La présente convention a pour objet l'accueil des bénéficiaires du RSA.\n"
                     "    deliberation: {instance: Commission permanente, numero: CP-2026-01-004, date: 2026-01-12}\n"
                     "    date_effet: 2026-02-01\n    duree_mois: 12\n    renouvellement: expresse\n"
                     "    responsable: {email: agent.test@seinesaintdenis.example.fr}\n", encoding="utf-8")
    pacte_sqlite("importer", str(draft))
    pacte_sqlite("agents", "creer", JURISTE[0], "--nom", JURISTE[1], "--role", "juriste", input=JURISTE[2] + "\n")
    config = pacte_sqlite.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n[agents]\ncookie_securise = false\n",
                      encoding="utf-8")
    server = start_server(pacte_sqlite.root, au="2026-03-01")
    try:
        yield pacte_sqlite, server
    finally:
        server.stop()


def violations(page: Page) -> list[str]:
    """What axe-core finds against WCAG 2.1 A and AA on the page shown: « rule: target » for each node."""
    assert AXE.is_file(), "axe-core manque : npm ci --prefix tests/navigateur (scripts/tests.sh le fait)"
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = page.evaluate("async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
                          "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
                          ".map(v => v.nodes.map(n => v.id + ': ' + n.target.join(' '))).flat()")
    return list(found)


def test_a_juriste_signs_in_generates_and_downloads_and_axe_finds_nothing(browser: Browser,
                                                                         served: tuple[Pacte, Server]) -> None:
    pacte, server = served
    for size, phone in ((DESKTOP, False), (PHONE, True)):
        # the pages' own CSP forbids inline scripts: only the test's axe is let in
        context = browser.new_context(viewport=size, is_mobile=phone, has_touch=phone, locale="fr-FR",
                                      accept_downloads=True, bypass_csp=True)
        page = context.new_page()
        page.goto(server.url + "/agents/")
        assert page.url.startswith(server.url + "/connexion")  # no session: the sign-in page
        assert violations(page) == []
        page.get_by_label("Adresse électronique").fill(JURISTE[0])
        page.get_by_label("Mot de passe").fill("faux-mot-de-passe")
        page.get_by_role("button", name="Se connecter").click()
        assert "Courriel ou mot de passe incorrect" in page.inner_text("main")
        assert page.get_by_label("Adresse électronique").input_value() == JURISTE[0]  # what was typed is kept
        assert violations(page) == []
        page.get_by_label("Mot de passe").fill(JURISTE[2])
        page.keyboard.press("Enter")  # keyboard only
        page.wait_for_url(server.url + "/agents/")
        assert "CCAS-2024-010" in page.inner_text("main") and violations(page) == []
        page.get_by_role("link", name="Partenaires").click()
        assert violations(page) == []
        page.get_by_role("link", name="Alertes du jour").click()
        assert "Alertes du 1er mars 2026" in page.inner_text("h1") and violations(page) == []
        page.get_by_role("link", name="Conventions").click()
        page.get_by_role("link", name="CCAS-2024-010").click()
        assert violations(page) == []
        if not phone:
            page.get_by_role("button", name="Générer les documents (DOCX et PDF)").click()
            assert "document(s) produit(s)" in page.get_by_role("status").inner_text()
            with page.expect_download() as download:
                page.get_by_role("link", name="CCAS-2024-010.pdf").click()
            path = download.value.path()
            recorded = pacte.root / "conventions/CCAS-2024-010/CCAS-2024-010.pdf"
            assert hashlib.sha256(Path(path).read_bytes()).digest() == hashlib.sha256(recorded.read_bytes()).digest()
        assert violations(page) == []
        assert not phone or bool(page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) <= screen.width")), \
            "la page déborde de l'écran du téléphone"
        page.get_by_role("button", name="Se déconnecter").click()
        page.wait_for_url(server.url + "/connexion")
        context.close()
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2024-010", "--format", "json").output)
    assert any(e["auteur"] == f"{JURISTE[1]} <{JURISTE[0]}>" for e in shown["journal"])


def test_a_juriste_records_the_signature_then_the_renewal_act(browser: Browser,
                                                             served: tuple[Pacte, Server]) -> None:
    """From a draft to a signed convention and its renewal act, in the browser only; a refusal comes back next to
    its form with what was typed; the act downloaded is the one recorded."""
    pacte, server = served
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    page.goto(server.url + "/connexion")
    page.get_by_label("Adresse électronique").fill(JURISTE[0])
    page.get_by_label("Mot de passe").fill(JURISTE[2])
    page.get_by_role("button", name="Se connecter").click()
    page.goto(server.url + "/agents/conventions/CCAS-2026-020")
    signer = page.locator("form", has=page.get_by_role("heading", name="Enregistrer la signature"))
    signer.get_by_label("Date de signature (obligatoire)").fill("2026-01-20")
    signer.get_by_role("button", name="Enregistrer la signature").click()
    assert "CCAS-2026-020 : signature enregistrée" in page.get_by_role("status").inner_text()
    renew = page.locator("form", has=page.get_by_role("heading", name="Renouveler (renouvellement exprès)"))
    renew.get_by_label("Numéro de la délibération qui renouvelle").fill("CP-2026-02-031")
    renew.get_by_label("Date de la décision (obligatoire)").fill("2026-03-05")  # after today: refused, kept
    renew.get_by_role("button", name="Enregistrer le renouvellement").click()
    assert "5 mars 2026" in page.get_by_role("alert").inner_text()
    renew = page.locator("form", has=page.get_by_role("heading", name="Renouveler (renouvellement exprès)"))
    assert renew.get_by_label("Numéro de la délibération qui renouvelle").input_value() == "CP-2026-02-031"
    assert violations(page) == []
    renew.get_by_label("Date de la décision (obligatoire)").fill("2026-02-23")
    renew.get_by_role("button", name="Enregistrer le renouvellement").click()
    assert "CCAS-2026-020-renouvellement-1.docx" in page.get_by_role("status").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="CCAS-2026-020-renouvellement-1.pdf").click()
    recorded = pacte.root / "conventions/CCAS-2026-020/CCAS-2026-020-renouvellement-1.pdf"
    assert Path(download.value.path()).read_bytes() == recorded.read_bytes()
    # an avenant, article by article: an article the text does not have is refused next to the form, kept
    amend = page.locator("form", has=page.get_by_role("heading", name="Avenant", exact=True))
    amend.get_by_label("Exposé des motifs (obligatoire)").fill("Une permanence est ajoutée le jeudi.")
    amend.get_by_label("Date de l'avenant").fill("2026-02-25")
    first = amend.get_by_role("group", name="Article modifié n° 1 (facultatif)")
    first.get_by_label("Numéro de l'article de la convention").fill("42")
    first.get_by_label("Texte").fill("Une permanence est tenue le jeudi.")
    amend.get_by_role("button", name="Enregistrer l'avenant").click()
    assert "42" in page.get_by_role("alert").inner_text()
    amend = page.locator("form", has=page.get_by_role("heading", name="Avenant", exact=True))
    first = amend.get_by_role("group", name="Article modifié n° 1 (facultatif)")
    assert first.get_by_label("Texte").input_value() == "Une permanence est tenue le jeudi."
    assert violations(page) == []
    first.get_by_label("Numéro de l'article de la convention").fill("4")
    amend.get_by_role("button", name="Enregistrer l'avenant").click()
    assert "CCAS-2026-020-avenant-1.docx" in page.get_by_role("status").inner_text()
    withdraw = page.locator("form", has=page.get_by_role("heading", name="Retirer un acte enregistré par erreur"))
    withdraw.get_by_label("Acte à retirer").select_option("avenant")
    withdraw.get_by_label("Motif du retrait (obligatoire)").fill("Avenant saisi sur la mauvaise convention.")
    withdraw.get_by_role("button", name="Retirer l'acte").click()
    assert "Avenant n° 1" in page.get_by_role("status").inner_text()
    # an import refused, its problems where they are, judged by axe too
    wrong = pacte.root.parent / "faux.yaml"
    wrong.write_text("partenaires:\n  - code: CCAS-X\n    type: mairie\n    nom: CCAS X\n", encoding="utf-8")
    page.get_by_role("link", name="Importer").click()
    page.get_by_label("Fichier à importer (XLSX, CSV ou YAML, 10 Mo au plus)").set_input_files(str(wrong))
    page.get_by_role("button", name="Vérifier le fichier").click()
    assert "rien ne peut être importé" in page.get_by_role("alert").inner_text()
    assert violations(page) == []
    page.get_by_role("button", name="Abandonner").click()
    assert "Import abandonné" in page.get_by_role("status").inner_text()
    context.close()
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2026-020", "--format", "json").output)
    assert shown["date_signature"] == "2026-01-20"
    signed_by = {e["nature"]: e["auteur"] for e in shown["journal"]}
    assert signed_by["signature"] == signed_by["renouvellement"] == f"{JURISTE[1]} <{JURISTE[0]}>"


def test_every_staff_page_and_form_passes_axe_on_the_desktop_and_on_a_phone(browser: Browser,
                                                                            served: tuple[Pacte, Server]) -> None:
    import re

    pacte, server = served
    made = pacte("agents", "creer", "ada.admin@seinesaintdenis.example.fr", "--nom", "Ada Admin", "--role",
                 "administration", "--lien")
    invitation = re.search(r"(/connexion/invitation/\S+)", made.output)
    assert invitation
    _, director, _ = create_link(pacte, "--responsable", "agent.test@seinesaintdenis.example.fr")
    for size, phone in ((DESKTOP, False), (PHONE, True)):
        context = browser.new_context(viewport=size, is_mobile=phone, has_touch=phone, locale="fr-FR",
                                      bypass_csp=True)
        page = context.new_page()
        seen: list[str] = []

        def judged(label: str, page: Page = page, phone: bool = phone, seen: list[str] = seen) -> None:
            seen.append(label)
            assert violations(page) == [], label
            assert not phone or bool(page.evaluate(
                "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) <= screen.width")), \
                f"{label} : la page déborde de l'écran du téléphone"

        if not phone:  # the one-time link: the administrator chooses a password, then is signed in
            page.goto(server.url + invitation.group(1))
            judged("invitation")
            page.get_by_label("Mot de passe", exact=True).fill("une phrase de passe")
            page.get_by_label("Le même, de nouveau").fill("une phrase de passe")
            page.keyboard.press("Enter")
            page.wait_for_url(server.url + "/agents/")
        else:
            page.goto(server.url + "/connexion")
            page.get_by_label("Adresse électronique").fill("ada.admin@seinesaintdenis.example.fr")
            page.get_by_label("Mot de passe").fill("une phrase de passe")
            page.keyboard.press("Enter")
            page.wait_for_url(server.url + "/agents/")
        page.goto(server.url + "/agents/?bande=aucune&type=ccas")
        judged("conventions filtrées")
        page.get_by_role("link", name="Nouvelle convention").click()
        judged("nouvelle convention")
        page.get_by_label("Référence (obligatoire)").fill("CCAS-2026-0X")
        page.get_by_role("button", name="Enregistrer le brouillon").click()
        assert "Rien n'a été enregistré" in page.get_by_role("alert").inner_text()
        assert page.get_by_label("Référence (obligatoire)").input_value() == "CCAS-2026-0X"
        judged("nouvelle convention refusée")
        page.get_by_role("link", name="Partenaires").first.click()
        page.get_by_role("link", name="Nouveau partenaire").click()
        page.get_by_label("Code (obligatoire)").fill(f"CCAS-BONDY{'-T' if phone else ''}")
        page.get_by_label("Type (obligatoire)").select_option("ccas")
        page.get_by_label("Nom (obligatoire)").fill("CCAS de Bondy")
        page.get_by_label("Code INSEE").fill("93010")
        page.get_by_role("button", name="Enregistrer le partenaire").click()
        assert "enregistré" in page.get_by_role("status").inner_text()
        judged("partenaire")
        page.get_by_role("link", name="PDI/PTI et bilans").click()
        judged("publications")
        page.get_by_label("Ou ces conventions").fill("CCAS-2024-010")
        page.get_by_role("button", name="Produire les documents").click()
        # the work's own page, once the POST's answer has led there (a loaded machine takes its time)
        page.wait_for_url(lambda url: "/agents/travaux/" in url and not url.endswith(("/documents", "/bilan")))
        page.wait_for_load_state()
        judged("travail")
        page.get_by_role("link", name="Modèles").click()
        judged("modèles")
        page.get_by_role("link", name="Comptes").click()
        judged("comptes")
        page.get_by_label("Adresse électronique").fill("paul.martin@seinesaintdenis.example.fr")
        page.get_by_label("Prénom et nom").fill("Paul Martin")
        page.get_by_label("Rôle", exact=True).select_option("redaction")
        page.get_by_role("button", name="Créer le compte").click()
        assert "Compte créé : Paul Martin" in page.get_by_role("status").first.inner_text()
        judged("compte créé")
        page.get_by_role("button", name="Retirer le compte de Paul Martin").click()
        judged("retrait à confirmer")
        page.get_by_role("button", name="Confirmer le retrait").click()
        assert "retiré" in page.get_by_role("status").first.inner_text()
        page.get_by_role("link", name="Département").click()
        judged("département")
        page.goto(server.url + "/agents/conventions/ASSO-2025-001")  # with the documents its partner owes
        assert page.get_by_role("heading", name="Pièces dues par le partenaire").is_visible()
        judged("convention et pièces dues")
        page.goto(server.url + "/agents/alertes")
        judged("alertes et pièces en retard")
        page.goto(f"{server.url}/acces/{director}/pieces")  # the director's page of the documents owed
        assert page.locator("h1").inner_text() == "Pièces dues par les partenaires"
        judged("pièces dues (directeur)")
        context.close()
        assert len(seen) >= 12


def test_a_redaction_agent_is_refused_a_juriste_s_form_and_a_form_without_its_token_is_refused(
        browser: Browser, served: tuple[Pacte, Server]) -> None:
    pacte, server = served
    pacte("agents", "creer", "remi.redaction@seinesaintdenis.example.fr", "--nom", "Rémi Rédaction", "--role",
          "redaction", input="un mot de passe long\n")
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    page.goto(server.url + "/connexion")
    page.get_by_label("Adresse électronique").fill("remi.redaction@seinesaintdenis.example.fr")
    page.get_by_label("Mot de passe").fill("un mot de passe long")
    page.keyboard.press("Enter")
    page.wait_for_url(server.url + "/agents/")
    page.goto(server.url + "/agents/conventions/CCAS-2026-020")
    assert page.get_by_role("heading", name="Enregistrer la signature").count() == 0  # not offered to him
    token = page.locator('input[name="csrftoken"]').first.input_value()
    # the juriste's form, posted from his session with a valid token: 403, in French, nothing recorded
    answer = page.request.post(server.url + "/agents/conventions/CCAS-2026-020/signer",
                               form={"csrftoken": token, "date": "2026-01-20"})
    assert answer.status == 403 and "Cette action demande le rôle « juriste »" in answer.text()
    assert json.loads(pacte("conventions", "afficher", "CCAS-2026-020", "--format", "json").output)[
        "date_signature"] is None
    # a form of his own role, its token taken out of the page before it is sent: 403
    page.evaluate("document.querySelectorAll('input[name=csrftoken]').forEach(e => e.remove())")
    page.get_by_role("button", name="Générer les documents (DOCX et PDF)").click()
    assert "Formulaire refusé" in page.inner_text("h1")
    assert violations(page) == []
    assert not (pacte.root / "conventions/CCAS-2026-020/CCAS-2026-020.docx").exists()
    context.close()
