"""The staff pages in Debian's chromium (Playwright), as a juriste uses them — signed in, a convention's documents
generated and downloaded — and judged by axe-core (WCAG 2.1 A and AA) on the desktop and on a phone."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.helpers import DATA, Pacte, Server, start_server

pytestmark = [pytest.mark.lent, pytest.mark.navigateur]
AXE = Path(__file__).parent / "navigateur" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=390, height=844)
JURISTE = ("claire.dubois@seinesaintdenis.example.fr", "Claire Dubois", "un-mot-de-passe-solide")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "le paquet Debian chromium manque : apt-get install chromium (scripts/tests.sh l'installe)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium)
        yield launched
        launched.close()


@pytest.fixture
def served(pacte_sqlite: Pacte) -> Iterator[tuple[Pacte, Server]]:
    pacte_sqlite("importer", str(DATA / "registre.yaml"))
    pacte_sqlite("agents", "creer", JURISTE[0], "--nom", JURISTE[1], "--role", "juriste", input=JURISTE[2] + "\n")
    config = pacte_sqlite.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n[agents]\ncookie_securise = false\n",
                      encoding="utf-8")
    server = start_server(pacte_sqlite.root)
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
