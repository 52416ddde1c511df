"""The directors' pages in a real browser: Playwright for Python driving Debian's chromium package (no browser
download), against `pacte serveur` started on a free port. Screenshots of every page at desktop and phone widths
are written to $PACTE_CAPTURES when it is set (the README's comes from there)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from tests.helpers import (
    JEROME,
    Served,
    convention_ids,
    create_link,
    documents,
    serve_alertes,
    start_server,
)

pytestmark = [pytest.mark.lent, pytest.mark.navigateur]

DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=390, height=844)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_alertes(tmp_path_factory, None)


def open_page(browser: Browser, size: ViewportSize, phone: bool = False) -> tuple[Page, list[str]]:
    """A page of a fresh context; what the browser complains of (console errors, CSP refusals) is collected."""
    context = browser.new_context(viewport=size, is_mobile=phone, has_touch=phone, locale="fr-FR",
                                  accept_downloads=True)
    page = context.new_page()
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text) if message.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda error: complaints.append(str(error)))
    return page, complaints


def capture(page: Page, name: str) -> None:
    folder = os.environ.get("PACTE_CAPTURES")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def rows(page: Page) -> list[str]:
    """The conventions of the deadlines' tables (not those of the documents late)."""
    return page.locator("section.groupe:not(.pieces-en-retard) table.echeances tbody th a").all_inner_texts()


def fits(page: Page) -> bool:
    """Nothing wider than the screen: no sideways scrolling on a phone (a mobile browser widens its layout to
    what overflows, so the screen's width is the measure)."""
    return bool(page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) "
                              "<= screen.width"))


def every_control_is_labelled(page: Page) -> bool:
    return bool(page.evaluate(
        "[...document.querySelectorAll('select, input:not([type=hidden]), button')]"
        ".every(e => e.tagName === 'BUTTON' ? e.innerText.trim() : e.labels.length > 0)"))


def test_the_board_renders_and_filters(browser: Browser, served: Served) -> None:
    page, complaints = open_page(browser, DESKTOP)
    response = page.goto(f"{served.server.url}/acces/{served.team}")
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.title() == "Échéances — Conventions d'insertion"
    assert page.locator("h1").inner_text() == "Échéances au 29 janvier 2027"
    assert rows(page) == ["FT-2023-104", "CCAS-2024-101", "CCAS-2024-102", "CCAS-2024-103"]
    assert every_control_is_labelled(page)
    capture(page, "echeances-bureau")
    # the keyboard: the first Tab reaches « Aller au contenu », which leads to the content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    assert page.locator(".evitement").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    # a director chosen, then a partner typed: the form sends the filters
    page.select_option("#f-responsable", JEROME)
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**responsable=*")
    assert rows(page) == ["CCAS-2024-103"]
    assert page.locator("#f-responsable").input_value() == JEROME  # kept after the reload
    page.get_by_role("link", name="Tout afficher").click()
    page.get_by_label("Partenaire").fill("vitry")
    page.get_by_label("Partenaire").press("Enter")
    page.wait_for_url("**partenaire=vitry*")
    assert rows(page) == ["CCAS-2024-102"]
    page.get_by_role("link", name="Tout afficher").click()
    page.get_by_role("link", name="1 Date limite dépassée").click()
    assert rows(page) == ["FT-2023-104"]
    assert page.get_by_role("link", name="1 Date limite dépassée").get_attribute("aria-current") == "true"
    page.select_option("#f-type", "ccas")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**type=ccas*")
    assert rows(page) == [] and page.get_by_text("Aucune convention ne correspond à ces critères.").is_visible()
    assert complaints == []


def test_a_convention_and_a_download(browser: Browser, served: Served) -> None:
    page, complaints = open_page(browser, DESKTOP)
    page.goto(f"{served.server.url}/acces/{served.elodie}")
    assert rows(page) == ["CCAS-2024-101", "CCAS-2024-102"]
    page.get_by_role("link", name="CCAS-2024-101").click()
    assert page.locator("h1").inner_text() == "Convention CCAS-2024-101"
    assert page.get_by_role("heading", name="Documents").is_visible()
    capture(page, "convention-bureau")
    recorded = documents(served.pacte)["CCAS-2024-101.docx"]
    with page.expect_download() as waiting:
        page.get_by_role("link", name="CCAS-2024-101.docx").click()
    download = waiting.value
    assert download.suggested_filename == "CCAS-2024-101.docx"
    data = Path(download.path()).read_bytes()
    assert hashlib.sha256(data).hexdigest() == recorded[2]
    assert data == (served.pacte.root / recorded[1]).read_bytes()
    page.get_by_role("link", name="PDI/PTI et bilans").click()
    assert page.locator("h1").inner_text() == "PDI/PTI et bilans annuels"
    assert page.get_by_text("Aucun PDI/PTI dans le registre.").is_visible()
    capture(page, "publications-bureau")
    assert complaints == []


def test_refused_links_and_paths(browser: Browser, served: Served) -> None:
    page, _ = open_page(browser, DESKTOP)
    url, token, _ = create_link(served.pacte, "--responsable", JEROME)
    assert page.goto(url.replace("http://127.0.0.1:8000", served.server.url)).status == 200  # type: ignore[union-attr]
    served.pacte("acces", "revoquer", token)
    response = page.goto(f"{served.server.url}/acces/{token}")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Page introuvable"
    capture(page, "introuvable-bureau")
    known = convention_ids(served.pacte)
    for path in (f"/acces/{served.elodie}/conventions/{known['CCAS-2024-103']}",  # Jérôme's, through Élodie's link
                 f"/acces/{served.elodie}/documents/{documents(served.pacte)['CCAS-2024-103.docx'][0]}",
                 f"/acces/{served.elodie}/..%2F..%2Fpacte.db", f"/acces/{served.elodie}/documents/..%2Fpacte.toml",
                 "/acces/../pacte.db", f"/calendrier/{token}.ics"):
        response = page.goto(served.server.url + path)
        assert response is not None and response.status == 404, path
        assert page.locator("h1").inner_text() == "Page introuvable"


def test_a_phone_reads_every_page_without_sideways_scrolling(browser: Browser, served: Served) -> None:
    page, complaints = open_page(browser, PHONE, phone=True)
    known = convention_ids(served.pacte)
    for name, path in (("echeances", f"/acces/{served.team}"),
                       ("convention", f"/acces/{served.team}/conventions/{known['CCAS-2024-101']}"),
                       ("publications", f"/acces/{served.team}/publications"),
                       ("introuvable", "/acces/inconnu")):
        page.goto(served.server.url + path)
        assert fits(page), name
        capture(page, f"{name}-telephone")
    assert complaints == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
    complaints.clear()  # the unknown link's page: its 404, and nothing else
    page.goto(f"{served.server.url}/acces/{served.team}")
    # on a phone each deadline is a card that names its fields
    labels = page.evaluate("[...document.querySelector('table.echeances tbody tr').querySelectorAll('td')]"
                           ".map(td => getComputedStyle(td, '::before').content)")
    assert labels == ['"Date limite : "', '"Partenaires : "', '"Statut : "', '"Responsable : "', '"À faire : "']
    assert page.evaluate("getComputedStyle(document.querySelector('table.echeances thead')).position") == "absolute"
    assert complaints == []


@pytest.mark.libreoffice
def test_the_demo_in_a_browser(browser: Browser, tmp_path: Path) -> None:
    """As the README says: `pacte demo`, then `pacte serveur` in its folder and a link from `pacte acces creer`."""
    root = tmp_path / "demo"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run([sys.executable, "-m", "pacte_docs", "--au", "2026-11-22", "demo", str(root)],
                          capture_output=True, text=True, env=env, check=False, timeout=600)
    assert done.returncode == 0, done.stderr
    made = subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(root), "acces", "creer", "--tout"],
                          capture_output=True, text=True, env=env, check=True)
    token = made.stdout.split("/acces/")[1].split()[0]
    server = start_server(root, None, "2026-11-22")
    try:
        page, complaints = open_page(browser, DESKTOP)
        page.goto(f"{server.url}/acces/{token}")
        assert page.locator("h1").inner_text() == "Échéances au 22 novembre 2026"
        shown = rows(page)
        assert "CCAS-2024-001" in shown and "CCAS-2027-005" in shown
        assert "FT-2027-006" not in shown and "ASSO-2023-011" not in shown  # a draft, a denounced one: apart
        assert page.locator("section.pieces-en-retard").count() == 0  # the team reads them on the alerts page
        assert page.get_by_role("heading", name="Moins de 30 jours").is_visible()  # CCAS-2024-001: 30 novembre
        capture(page, "demo-echeances")
        page.get_by_role("link", name="PDI/PTI et bilans").click()
        with page.expect_download() as waiting:
            page.get_by_role("link", name="bilan-2019.pdf").click()
        data = Path(waiting.value.path()).read_bytes()
        assert data.startswith(b"%PDF") and data == (root / "archives/bilans/2019/bilan-2019.pdf").read_bytes()
        assert complaints == []
    finally:
        server.stop()
