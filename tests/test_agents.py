"""The staff pages of `pacte serveur`: accounts (`pacte agents`), sign-in at /connexion, roles, CSRF, and a job
done from the browser signed in the journal — requested over raw HTTP by a real server in its own process."""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, text

from tests.helpers import DATA, Pacte, Server, scanned_pdf, start_server

JURISTE = ("claire.dubois@seinesaintdenis.example.fr", "Claire Dubois", "juriste", "un-mot-de-passe-solide")
LECTURE = ("leo.lecteur@seinesaintdenis.example.fr", "Léo Lecteur", "lecture", "un-autre-mot-de-passe")


@dataclass
class Browser:
    """What a browser keeps between requests to the staff pages: its cookies (no redirect followed)."""

    server: Server
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        host, port = self.server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return response.status, {k.lower(): v for k, v in response.getheaders()}, \
                response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def upload(self, path: str, fields: dict[str, str], name: str, data: bytes) -> tuple[int, str]:
        """A multipart/form-data POST with one PDF, the fields first (the token among them, as a page sends it)."""
        boundary = "----pacte-test-frontiere"
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="fichier"; filename="{name}"\r\n'
                     "Content-Type: application/pdf\r\n\r\n".encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        host, port = self.server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        try:
            connection.request("POST", path, body=body, headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())})
            response = connection.getresponse()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def token(self, path: str = "/connexion") -> str:
        status, _, page = self.request("GET", path)
        assert status == 200, (path, status, page[:300])
        found = re.search(r'name="csrftoken" value="([^"]+)"', page)
        assert found, page[:500]
        return found.group(1)

    def sign_in(self, email: str, password: str) -> tuple[int, dict[str, str], str]:
        return self.request("POST", "/connexion", {"csrftoken": self.token(), "email": email,
                                                   "mot_de_passe": password, "suivant": "/agents/"})


@pytest.fixture
def staff(pacte: Pacte) -> Iterator[tuple[Pacte, Server]]:
    pacte("importer", str(DATA / "registre.yaml"))
    for email, nom, role, password in (JURISTE, LECTURE):
        made = pacte("agents", "creer", email, "--nom", nom, "--role", role, input=password + "\n")
        assert f"Compte créé : {nom} <{email}>, rôle {role}" in made.output
    config = pacte.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n[agents]\ncookie_securise = false\n", encoding="utf-8")
    server = start_server(pacte.root, pacte.base)
    try:
        yield pacte, server
    finally:
        server.stop()


def test_accounts_are_made_listed_and_withdrawn_from_the_command_line(pacte: Pacte) -> None:
    short = pacte("agents", "creer", "a@b.fr", "--nom", "A", "--role", "juriste", input="court\n", ok=False)
    assert short.exit_code == 1 and "Mot de passe trop court : 12 caractères au moins." in short.output
    bad = pacte("agents", "creer", "a@b.fr", "--nom", "A", "--role", "chef", input="x" * 20 + "\n", ok=False)
    assert bad.exit_code == 2 and "chef" in bad.output
    pacte("agents", "creer", "Anne.Martin@Essonne.example.fr", "--nom", " Anne   Martin ", "--role", "redaction",
          input="x" * 20 + "\n")
    again = pacte("agents", "creer", "anne.martin@essonne.example.fr", "--nom", "A", "--role", "lecture",
                  input="y" * 20 + "\n", ok=False)
    assert again.exit_code == 1 and "Un compte existe déjà pour anne.martin@essonne.example.fr" in again.output
    listed = json.loads(pacte("agents", "lister", "--format", "json").output)
    assert listed == [{"email": "anne.martin@essonne.example.fr", "nom": "Anne Martin", "role": "redaction",
                       "actif": True, "connexion": "mot de passe"}]
    engine = create_engine(pacte.base or f"sqlite:///{pacte.root / 'pacte.db'}")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT mot_de_passe FROM agent")).scalar_one()
    engine.dispose()
    assert stored.startswith("$argon2id$") and "x" * 20 not in stored  # a hash, never the password
    pacte("agents", "retirer", "anne.martin@essonne.example.fr")
    assert json.loads(pacte("agents", "lister", "--format", "json").output) == []


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_sign_in_roles_csrf_and_the_journal(staff: tuple[Pacte, Server]) -> None:
    pacte, server = staff
    visitor = Browser(server)
    status, headers, _ = visitor.request("GET", "/agents/")
    assert status == 303 and headers["location"] == "/connexion?suivant=%2Fagents%2F"
    # a form posted without its token: refused, in French, before anything is read
    status, _, page = visitor.request("POST", "/connexion", {"email": JURISTE[0], "mot_de_passe": JURISTE[3]})
    assert status == 403 and "Formulaire refusé" in page
    status, _, page = visitor.sign_in(JURISTE[0], "pas-le-bon-mot-de-passe")
    assert status == 401 and "Courriel ou mot de passe incorrect." in page
    assert f'value="{JURISTE[0]}"' in page and 'aria-invalid="true"' in page  # the address typed is kept
    assert "connexion refusée pour claire.dubois@seinesaintdenis.example.fr" in server.log.read_text("utf-8")

    juriste = Browser(server)
    status, headers, _ = juriste.sign_in(JURISTE[0], JURISTE[3])
    assert status == 303 and headers["location"] == "/agents/"
    session_cookie = next(v for k, v in headers.items() if k == "set-cookie")
    assert "httponly" in session_cookie.lower() and "samesite=lax" in session_cookie.lower()
    status, _, page = juriste.request("GET", "/agents/")
    assert status == 200 and "CCAS-2024-010" in page and "Claire Dubois (juriste)" in page
    token = juriste.token("/agents/conventions/CCAS-2024-010")
    status, _, _ = juriste.request("POST", "/agents/conventions/CCAS-2024-010/generer", {"csrftoken": "faux"})
    assert status == 403
    status, headers, _ = juriste.request("POST", "/agents/conventions/CCAS-2024-010/generer", {"csrftoken": token})
    assert status == 303 and headers["location"] == "/agents/conventions/CCAS-2024-010"
    status, _, page = juriste.request("GET", "/agents/conventions/CCAS-2024-010")
    assert "document(s) produit(s)" in page and "Claire Dubois &lt;claire.dubois@seinesaintdenis.example.fr&gt;" in page
    # the file downloaded is the one recorded, byte for byte
    status, headers, _ = juriste.request("GET", "/agents/conventions/CCAS-2024-010/documents/CCAS-2024-010.docx")
    assert status == 200 and "attachment" in headers["content-disposition"]
    # the journal, as the command line shows it, names the agent who acted from the browser
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2024-010", "--format", "json").output)
    assert any(e["auteur"] == f"{JURISTE[1]} <{JURISTE[0]}>" and e["nature"] == "generation"
               for e in shown["journal"])

    # a form with a file is checked the same way (asgi-csrf leaves those to web.staff)
    pdf = (pacte.root / "conventions/CCAS-2024-010/CCAS-2024-010.pdf").read_bytes()
    for fields in ({"date": "2024-05-15"}, {"csrftoken": "faux", "date": "2024-05-15"}):
        status, page = juriste.upload("/agents/conventions/CCAS-2024-010/signer", fields, "copie.pdf", pdf)
        assert status == 403 and "Ce formulaire n&#39;a pas été accepté" in page
    status, page = juriste.upload("/agents/conventions/CCAS-2024-010/generer", {}, "x.pdf", b"%PDF-1.4")
    assert status == 403
    token = juriste.token("/agents/conventions/CCAS-2024-010")
    status, page = juriste.upload("/agents/conventions/CCAS-2024-010/signer",
                                  {"csrftoken": token, "date": "2024-05-15"}, "copie.pdf", pdf)
    # the tool's own PDF is no signed copy: refused next to the form, as `signer --fichier` refuses it
    assert status == 422 and "ne prouve pas la signature" in page
    # a scan of the paper copy: its verdict shown first, recorded only once the juriste confirms
    pages = len(PdfReader(pacte.root / "conventions/CCAS-2024-010/CCAS-2024-010.pdf").pages)
    status, page = juriste.upload("/agents/conventions/CCAS-2024-010/signer",
                                  {"csrftoken": token, "date": "2024-05-15"}, "scan signé.pdf",
                                  scanned_pdf("EXEMPLAIRE SIGNE", pages=pages))
    assert status == 200 and "Vérification de la copie signée scan signé.pdf" in page
    assert "signature manuscrite numérisée" in page and "Confirmer la signature" in page
    assert not list((pacte.root / "archives/conventions").glob("CCAS-2024-010/*-signee*.pdf"))
    status, headers, _ = juriste.request("POST", "/agents/conventions/CCAS-2024-010/signature/confirmer",
                                         {"csrftoken": token})
    assert status == 303
    status, _, page = juriste.request("GET", "/agents/conventions/CCAS-2024-010")
    assert "Copie signée : signature manuscrite numérisée" in page
    assert list((pacte.root / "archives/conventions").glob("CCAS-2024-010/CCAS-2024-010-signee.pdf"))
    # nothing waits any more: a second confirmation records nothing
    status, headers, _ = juriste.request("POST", "/agents/conventions/CCAS-2024-010/signature/confirmer",
                                         {"csrftoken": token})
    status, _, page = juriste.request("GET", "/agents/conventions/CCAS-2024-010")
    assert "Aucune copie signée en attente" in page

    reader = Browser(server)
    assert reader.sign_in(LECTURE[0], LECTURE[3])[0] == 303
    token = reader.token("/agents/conventions/CCAS-2024-010")
    status, _, page = reader.request("POST", "/agents/conventions/ASSO-2025-001/generer", {"csrftoken": token})
    assert status == 403 and "Cette action demande le rôle « rédaction »" in page
    assert not (pacte.root / "conventions/ASSO-2025-001").exists()
    # signing out ends the session; the directors' pages are unchanged
    status, headers, _ = juriste.request("POST", "/deconnexion", {"csrftoken": juriste.token("/agents/")})
    assert status == 303 and juriste.request("GET", "/agents/")[0] == 303
    assert server.get("/acces/" + "x" * 43)[0] == 404 and server.get("/", method="POST")[0] == 405


@pytest.mark.lent  # a provider and a server started for it
def test_sign_in_through_the_departement_s_openid_provider(pacte_sqlite: Pacte, monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """A real OpenID provider on 127.0.0.1 (oidc-provider-mock): the agent is matched on the e-mail claim; an
    identity without an account opens nothing; a forged return is refused."""
    import oidc_provider_mock

    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the test provider speaks http on 127.0.0.1
    monkeypatch.setenv("PACTE_OIDC_SECRET", "secret-du-client-pacte")
    users = [oidc_provider_mock.User(sub="cdubois", claims={"email": JURISTE[0].upper(), "name": JURISTE[1]}),
             oidc_provider_mock.User(sub="inconnu", claims={"email": "inconnu@seinesaintdenis.example.fr"})]
    pacte_sqlite("importer", str(DATA / "registre.yaml"))
    pacte_sqlite("agents", "creer", JURISTE[0], "--nom", JURISTE[1], "--role", "juriste", "--sans-mot-de-passe")
    with oidc_provider_mock.run_server_in_thread(user_claims=users) as provider:
        issuer = f"http://127.0.0.1:{provider.server_port}"
        config = pacte_sqlite.root / "pacte.toml"
        config.write_text(config.read_text(encoding="utf-8") + f'\n[agents]\ncookie_securise = false\n'
                          f'oidc_emetteur = "{issuer}"\noidc_client = "pacte"\n', encoding="utf-8")
        server = start_server(pacte_sqlite.root)
        try:
            for sub, expected in (("cdubois", 303), ("inconnu", 403)):
                agent = Browser(server)
                _, _, page = agent.request("GET", "/connexion")
                assert "Se connecter avec son compte du Département" in page
                status, headers, _ = agent.request("GET", "/connexion/oidc?suivant=%2Fagents%2Fpartenaires")
                assert status in (302, 307) and headers["location"].startswith(issuer + "/oauth2/authorize")
                answer = _provider_answer(headers["location"], sub)
                assert answer.startswith(server.url + "/connexion/oidc/retour?")
                status, headers, page = agent.request("GET", answer.removeprefix(server.url))
                assert status == expected, page[:300]
                if expected == 303:
                    assert headers["location"] == "/agents/partenaires"
                    assert agent.request("GET", "/agents/partenaires")[0] == 200
                else:
                    said = page.replace("&#39;", "'")
                    assert "Aucun compte d'agent actif pour inconnu@seinesaintdenis.example.fr" in said
            forged = Browser(server)
            forged.request("GET", "/connexion/oidc")
            status, _, page = forged.request("GET", "/connexion/oidc/retour?code=faux&state=faux")
            assert status == 403 and "n'a pas confirmé votre connexion" in page.replace("&#39;", "'")
        finally:
            log = server.stop()
    assert "connexion de claire.dubois@seinesaintdenis.example.fr (juriste) par le fournisseur d'identité" in log
    # a local sign-in with no password set is impossible
    assert "mot de passe" not in json.loads(pacte_sqlite("agents", "lister", "--format", "json").output)[0][
        "connexion"]


def _provider_answer(authorize: str, sub: str) -> str:
    """What the provider's page does when the user picks *sub*: its redirection back to pacte, with the code."""
    url = urllib.parse.urlsplit(authorize)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        connection.request("POST", f"{url.path}?{url.query}", body=urllib.parse.urlencode({"sub": sub}),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        response.read()
        assert response.status == 302, response.status
        return response.getheader("location") or ""
    finally:
        connection.close()


@pytest.mark.lent
def test_a_workbook_is_checked_then_imported_on_confirmation(staff: tuple[Pacte, Server]) -> None:
    """Upload → the simulation's report (each problem where it is) → confirm or abandon, all or nothing; the
    conventions it creates say in their journal who imported them."""
    pacte, server = staff
    clerk = Browser(server)
    assert clerk.sign_in(JURISTE[0], JURISTE[3])[0] == 303
    wrong = "conventions:\n  - reference: CCAS-2026-777\n    type: ccas\n    partenaires: [CCAS-MONTREUIL]\n" \
            "    objet: Objet.\n    date_effet: 2026-02-30\n    renouvellement: expresse\n" \
            "    responsable: {email: agent.test@seinesaintdenis.example.fr}\n"
    status, _ = clerk.upload("/agents/import", {"csrftoken": clerk.token("/agents/import")}, "nouvelles.yaml",
                             wrong.encode())
    assert status == 303
    status, _, page = clerk.request("GET", "/agents/import")
    assert "Vérification de nouvelles.yaml" in page and "rien ne peut être importé" in page
    assert "date_effet" in page and "n&#39;existe pas au calendrier" in page and "ligne 6" in page
    assert "Confirmer l'import" not in page
    status, _ = clerk.upload("/agents/import", {"csrftoken": clerk.token("/agents/import")}, "nouvelles.yaml",
                             wrong.replace("2026-02-30", "2026-02-01").encode())
    status, _, page = clerk.request("GET", "/agents/import")
    assert "conventions : 1 créée" in page and "Confirmer l'import" in page
    assert "CCAS-2026-777" not in pacte("conventions", "lister").output  # a simulation records nothing
    status, headers, _ = clerk.request("POST", "/agents/import/confirmer", {"csrftoken": clerk.token("/agents/import")})
    assert status == 303
    _, _, page = clerk.request("GET", "/agents/import")
    assert "Import de nouvelles.yaml enregistré : conventions : 1 créée." in page
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2026-777", "--format", "json").output)
    assert shown["journal"][0]["auteur"] == f"{JURISTE[1]} <{JURISTE[0]}>"
    status, headers, data = clerk.request("GET", "/agents/import/classeur-vierge.xlsx")
    assert status == 200 and "classeur-pacte.xlsx" in headers["content-disposition"]
    reader = Browser(server)
    reader.sign_in(LECTURE[0], LECTURE[3])
    assert reader.request("GET", "/agents/import")[0] == 403


@pytest.mark.lent  # waits for the slowed-down sign-ins
def test_what_a_hostile_round_found_is_refused(staff: tuple[Pacte, Server]) -> None:
    """Three wrong passwords made every later sign-in a 500 (a naive date from SQLite), for good; a corrupted
    workbook broke the import page; a « rédaction » agent signed a convention through an import; a cookie kept
    after sign-out still opened the pages; a chunked body past 10 MB was a 500; /agents redirected to the host the
    request named."""
    import time

    pacte, server = staff
    guesser = Browser(server)
    for _ in range(3):
        assert guesser.sign_in(LECTURE[0], "mauvais-mot-de-passe")[0] == 401
    start = time.perf_counter()
    assert guesser.sign_in("personne@seinesaintdenis.example.fr", "mauvais-mot-de-passe")[0] == 401
    assert time.perf_counter() - start >= 0.9  # slowed down from this client, whatever address it tries
    assert Browser(server).sign_in(LECTURE[0], LECTURE[3])[0] == 303  # the account is not locked for good

    clerk = Browser(server)
    pacte("agents", "creer", "anne.martin@seinesaintdenis.example.fr", "--nom", "Anne Martin", "--role", "redaction",
          input="motdepasse-redaction\n")
    assert clerk.sign_in("anne.martin@seinesaintdenis.example.fr", "motdepasse-redaction")[0] == 303
    clerk.upload("/agents/import", {"csrftoken": clerk.token("/agents/import")}, "classeur.xlsx",
                 b"PK\x03\x04" + b"\x00" * 200)
    status, _, page = clerk.request("GET", "/agents/import")
    assert status == 200 and "rien ne peut être importé" in page
    signed = "conventions:\n  - reference: CCAS-2026-900\n    type: ccas\n    partenaires: [CCAS-MONTREUIL]\n" \
             "    objet: Objet.\n    date_signature: 2026-01-10\n    date_effet: 2026-02-01\n" \
             "    renouvellement: expresse\n    responsable: {email: agent.test@seinesaintdenis.example.fr}\n"
    clerk.upload("/agents/import", {"csrftoken": clerk.token("/agents/import")}, "signee.yaml", signed.encode())
    status, _, page = clerk.request("GET", "/agents/import")
    assert "relèvent du rôle « juriste »" in page and "Confirmer l'import" not in page
    assert "CCAS-2026-900" not in pacte("conventions", "lister").output

    kept = dict(clerk.cookies)
    assert clerk.request("POST", "/deconnexion", {"csrftoken": clerk.token("/agents/")})[0] == 303
    replay = Browser(server, dict(kept))
    assert replay.request("GET", "/agents/")[0] == 303  # the copied cookie opens nothing any more

    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request("POST", "/connexion", body=iter([b"x" * 1024 * 1024] * 12), encode_chunked=True,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert connection.getresponse().status == 413
    finally:
        connection.close()
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request("GET", "/agents", headers={"Host": "evil.example"})
        response = connection.getresponse()
        assert response.status == 303 and response.getheader("location") == "/agents/"
    finally:
        connection.close()


def test_partners_and_drafts_are_typed_in_forms_checked_as_the_workbook_is(staff: tuple[Pacte, Server]) -> None:
    pacte, server = staff
    juriste = Browser(server)
    assert juriste.sign_in(JURISTE[0], JURISTE[3])[0] == 303
    # the list of conventions has the board's filters: a type, a partner's name, every convention awaiting nothing
    status, _, page = juriste.request("GET", "/agents/?type=france_travail")
    assert status == 200 and '<option value="france_travail" selected>' in page
    assert "/agents/conventions/FT-2023-009" in page and "/agents/conventions/CCAS-2024-010" not in page
    status, _, page = juriste.request("GET", "/agents/?partenaire=montreuil")
    assert "/agents/conventions/FT-2023-009" not in page and "/agents/conventions/CCAS-2024-010" in page
    assert "Nouvelle convention" in page

    # a new partner: each problem next to its field, what was typed kept, nothing recorded
    token = juriste.token("/agents/partenaires/nouveau")
    status, _, page = juriste.request("POST", "/agents/partenaires/nouveau", {
        "csrftoken": token, "code": "ccas-mennecy", "type": "ccas", "nom": "", "code_insee": "9138",
        "adresse": "Place de la Mairie\n91540 Mennecy"})
    assert status == 422 and "Rien n'a été enregistré : 2 points à corriger" in page
    assert re.search(r'id="e-nom">Champ obligatoire absent — renseignez-le\.<', page)
    assert re.search(r'id="e-code_insee">« 9138 » : un code INSEE a 5 caractères', page)
    assert 'aria-describedby="a-code_insee e-code_insee" aria-invalid="true"' in page
    assert "Place de la Mairie\n91540 Mennecy</textarea>" in page and 'value="ccas-mennecy"' in page
    assert "CCAS-MENNECY" not in pacte("partenaires", "lister").output
    status, headers, _ = juriste.request("POST", "/agents/partenaires/nouveau", {
        "csrftoken": token, "code": "ccas-mennecy", "type": "ccas", "nom": "CCAS de Mennecy", "code_insee": "91386",
        "representant_civilite": "Mme", "representant_nom": "Claire Dupuis",
        "representant_qualite": "Vice-présidente du CCAS"})
    assert status == 303 and headers["location"] == "/agents/partenaires/CCAS-MENNECY"
    status, _, page = juriste.request("GET", "/agents/partenaires/CCAS-MENNECY")
    assert "Partenaire CCAS-MENNECY enregistré." in page and 'value="Claire Dupuis"' in page
    assert 'id="f-code" name="code"' in page and "readonly" in page  # its code names it everywhere: kept
    status, _, page = juriste.request("POST", "/agents/partenaires/nouveau", {
        "csrftoken": token, "code": "CCAS-MENNECY", "type": "ccas", "nom": "Autre"})
    assert status == 422 and "Le partenaire ccas-mennecy existe déjà" in page.replace("CCAS-MENNECY", "ccas-mennecy")

    # a draft convention, then its edition; its journal says who typed it, and where
    token = juriste.token("/agents/conventions/nouvelle")
    draft = {"csrftoken": token, "reference": "CCAS-2027-001", "type": "ccas", "partenaires": "CCAS-MENNECY",
             "objet": "Accompagnement social des bénéficiaires du RSA par le CCAS de Mennecy.",
             "date_effet": "2027-01-01", "renouvellement": "expresse", "responsable_email": "pas-une-adresse",
             "montant": "12 500,00", "versements": "50 % à la signature\n50 % au 1er juillet"}
    status, _, page = juriste.request("POST", "/agents/conventions/nouvelle", draft)
    assert status == 422 and 'id="e-responsable_email"' in page and "arobase" in page
    assert "50 % à la signature\n50 % au 1er juillet</textarea>" in page
    draft["responsable_email"] = "anne.martin@essonne.example.fr"
    status, _, page = juriste.request("POST", "/agents/conventions/nouvelle", dict(draft, partenaires="CCAS-NULLEPART"))
    assert status == 422 and "(liste : page « Partenaires »)" in page and "pacte partenaires" not in page
    status, headers, _ = juriste.request("POST", "/agents/conventions/nouvelle", draft)
    assert status == 303 and headers["location"] == "/agents/conventions/CCAS-2027-001"
    status, _, page = juriste.request("GET", headers["location"])
    assert "Brouillon CCAS-2027-001 enregistré." in page and "Modifier le brouillon" in page
    status, _, page = juriste.request("GET", "/agents/?bande=aucune")  # a draft awaits no decision
    assert "/agents/conventions/CCAS-2027-001" in page
    status, _, page = juriste.request("GET", "/agents/conventions/CCAS-2027-001/modifier")
    assert status == 200 and 'value="12500,00"' in page and '<option value="expresse" selected>' in page
    edited = dict(draft, csrftoken=juriste.token("/agents/conventions/CCAS-2027-001/modifier"), duree_mois="24")
    status, headers, _ = juriste.request("POST", "/agents/conventions/CCAS-2027-001/modifier", edited)
    assert status == 303
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2027-001", "--format", "json").output)
    assert shown["duree_mois"] == 24 and shown["date_signature"] is None and shown["montant"] == "12500.00"
    entries = [(e["description"], e["auteur"]) for e in shown["journal"]]
    assert ("Créée depuis le formulaire de l'espace agents.", f"{JURISTE[1]} <{JURISTE[0]}>") in entries
    assert ("Modifiée depuis le formulaire de l'espace agents.", f"{JURISTE[1]} <{JURISTE[0]}>") in entries

    # a signed convention has no draft form; a lecture agent reads a partner, changes nothing
    status, _, page = juriste.request("GET", "/agents/conventions/CCAS-2024-010/modifier")
    assert status == 409 and "est signée : son texte ne se modifie plus ici ; un changement se fait par avenant" in page
    status, _, page = juriste.request("POST", "/agents/conventions/CCAS-2024-010/modifier", dict(
        draft, reference="CCAS-2024-010", partenaires="CCAS-MONTREUIL", csrftoken=juriste.token("/agents/")))
    assert status == 422 and "un changement se fait par avenant" in page
    assert json.loads(pacte("conventions", "afficher", "CCAS-2024-010", "--format", "json").output)["objet"] == \
        "La présente convention a pour objet de mieux orienter les usagers."
    reader = Browser(server)
    assert reader.sign_in(LECTURE[0], LECTURE[3])[0] == 303
    status, _, page = reader.request("GET", "/agents/partenaires/CCAS-MENNECY")
    assert status == 200 and "<dd>Claire Dupuis</dd>" in page and "<form method=\"post\" action=\"/agents/part" \
        not in page
    status, _, page = reader.request("POST", "/agents/partenaires/CCAS-MENNECY", {
        "csrftoken": reader.token("/agents/"), "code": "CCAS-MENNECY", "type": "ccas", "nom": "Pirate"})
    assert status == 403 and "Pirate" not in pacte("partenaires", "lister").output


def test_every_field_of_the_workbook_s_sheets_has_its_place_in_the_forms() -> None:
    from pacte_docs.services import records
    from pacte_docs.web import forms

    for section in ("partenaires", "conventions"):
        shown = [champ.nom for _, champs in forms.fields(section) for champ in champs]
        assert sorted(shown) == sorted(records.form_columns(section)), section
        assert all(champ.libelle and (champ.aide or champ.widget in ("select", "date"))
                   for _, champs in forms.fields(section) for champ in champs)


def _docx_with(source: bytes, old: str, new: str) -> bytes:
    """A copy of a DOCX whose body text *old* is replaced by *new* (as an edit in Word would)."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as original, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "word/document.xml":
                assert old.encode() in data, old
                data = data.replace(old.encode(), new.encode(), 1)
            copy.writestr(item, data)
    return out.getvalue()


@pytest.mark.lent  # a server of its own, several sign-ins
def test_a_template_is_checked_before_it_replaces_the_current_one(staff: tuple[Pacte, Server]) -> None:
    pacte, server = staff
    juriste = Browser(server)
    assert juriste.sign_in(JURISTE[0], JURISTE[3])[0] == 303
    status, _, page = juriste.request("GET", "/agents/modeles")
    assert status == 200 and "denonciation.docx" in page and "par défaut" in page
    current = (pacte.root / "modeles/denonciation.docx").read_bytes()
    status, headers, body = juriste.request("GET", "/agents/modeles/denonciation.docx")
    assert status == 200 and "attachment" in headers["content-disposition"]
    assert len(body.encode("utf-8", "surrogateescape")) > 0

    # a version with a variable the documents do not know: its findings shown, no way to put it in place
    broken = _docx_with(current, "{{ convention.reference }}", "{{ convention.reference_inconnue }}")
    token = juriste.token("/agents/modeles")
    status, upload_page = juriste.upload("/agents/modeles/deposer", {"csrftoken": token, "nom": "denonciation"},
                                         "denonciation (2).docx", broken)
    assert status == 303
    status, _, page = juriste.request("GET", "/agents/modeles")
    assert "Cette version contient des erreurs" in page and "reference_inconnue" in page
    assert "Remplacer le modèle" not in page
    status, _, _ = juriste.request("POST", "/agents/modeles/remplacer", {"csrftoken": token})
    assert status == 303 and (pacte.root / "modeles/denonciation.docx").read_bytes() == current

    # a good version: checked, then in place on confirmation, the previous one kept
    better = _docx_with(current, "{{ convention.reference }}", "{{ convention.reference }} ")
    status, _ = juriste.upload("/agents/modeles/deposer", {"csrftoken": token, "nom": "denonciation"},
                               "denonciation.docx", better)
    status, _, page = juriste.request("GET", "/agents/modeles")
    assert "Aucune erreur" in page and "Remplacer le modèle denonciation" in page
    assert (pacte.root / "modeles/denonciation.docx").read_bytes() == current  # nothing before the confirmation
    status, headers, _ = juriste.request("POST", "/agents/modeles/remplacer", {"csrftoken": token})
    assert status == 303
    assert (pacte.root / "modeles/denonciation.docx").read_bytes() == better
    kept = list((pacte.root / "modeles/versions-precedentes").glob("denonciation-*.docx"))
    assert len(kept) == 1 and kept[0].read_bytes() == current
    status, _, page = juriste.request("GET", "/agents/modeles")
    assert "Modèle denonciation remplacé" in page and "modifié" in page
    assert "✓ denonciation" in pacte("modeles", "verifier", "denonciation").output

    # a lecture agent lists and downloads, never deposits
    reader = Browser(server)
    assert reader.sign_in(LECTURE[0], LECTURE[3])[0] == 303
    status, _, page = reader.request("GET", "/agents/modeles")
    assert status == 200 and "Déposer une nouvelle version" not in page
    status, _ = reader.upload("/agents/modeles/deposer", {"csrftoken": reader.token("/agents/modeles"),
                                                          "nom": "denonciation"}, "x.docx", broken)
    assert status == 403 and (pacte.root / "modeles/denonciation.docx").read_bytes() == better


@pytest.mark.lent  # a server of its own, several sign-ins
def test_the_administrator_makes_accounts_each_agent_chooses_a_password_by_a_one_time_link(
        staff: tuple[Pacte, Server]) -> None:
    pacte, server = staff
    made = pacte("agents", "creer", "ada.admin@seinesaintdenis.example.fr", "--nom", "Ada Admin", "--role",
                 "administration", "--lien")
    link = re.search(r"valable 72 heures, à transmettre à l'agent : \S+(/connexion/invitation/\S+)", made.output)
    assert link, made.output
    assert "lien envoyé, mot de passe à choisir" in pacte("agents", "lister").output
    admin = Browser(server)
    status, _, page = admin.request("GET", link.group(1))
    assert status == 200 and "Bonjour Ada Admin" in page
    token = re.search(r'name="csrftoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    status, _, page = admin.request("POST", link.group(1), {"csrftoken": token, "mot_de_passe": "court",
                                                            "confirmation": "court"})
    assert status == 422 and "Mot de passe trop court : 12 caractères au moins." in page
    status, headers, _ = admin.request("POST", link.group(1), {
        "csrftoken": token, "mot_de_passe": "une phrase de passe", "confirmation": "une phrase de passe"})
    assert status == 303 and headers["location"] == "/agents/"
    assert admin.request("GET", link.group(1))[0] == 404  # used once, never again
    status, _, page = admin.request("GET", "/agents/administration")
    assert status == 200 and "Claire Dubois" in page and "(vous)" in page

    # an account made from the page: its link shown once, the new agent signs in with the password chosen
    token = admin.token("/agents/administration")
    status, _, page = admin.request("POST", "/agents/administration/creer", {
        "csrftoken": token, "email": "pas-une-adresse", "nom": "Paul Martin", "role": "redaction",
        "connexion": "lien"})
    assert status == 422 and 'value="Paul Martin"' in page and "pas-une-adresse" in page
    status, _, page = admin.request("POST", "/agents/administration/creer", {
        "csrftoken": token, "email": "paul.martin@seinesaintdenis.example.fr", "nom": "Paul Martin",
        "role": "redaction", "connexion": "lien"})
    assert status == 200 and "Compte créé : Paul Martin" in page
    invitation = re.search(r"(/connexion/invitation/[A-Za-z0-9_-]+)</code>", page)
    assert invitation
    paul = Browser(server)
    paul_token = paul.token(invitation.group(1))
    assert paul.request("POST", invitation.group(1), {"csrftoken": paul_token, "mot_de_passe": "mot de passe de paul",
                                                      "confirmation": "mot de passe de paul"})[0] == 303
    assert Browser(server).sign_in("paul.martin@seinesaintdenis.example.fr", "mot de passe de paul")[0] == 303
    # a juriste has no access to the accounts; the administrator withdraws Paul's account
    juriste = Browser(server)
    assert juriste.sign_in(JURISTE[0], JURISTE[3])[0] == 303
    assert juriste.request("GET", "/agents/administration")[0] == 403
    # a role changed takes effect at once; a withdrawal is asked for twice
    status, _, _ = admin.request("POST", "/agents/administration/role", {
        "csrftoken": token, "email": "paul.martin@seinesaintdenis.example.fr", "role": "juriste"})
    assert status == 303 and "Paul Martin a désormais le rôle « juriste »" in admin.request(
        "GET", "/agents/administration")[2]
    status, _, page = admin.request("POST", "/agents/administration/retirer", {
        "csrftoken": token, "email": "paul.martin@seinesaintdenis.example.fr"})
    assert status == 200 and "Retirer le compte de paul.martin@seinesaintdenis.example.fr ?" in page
    assert "paul.martin" in pacte("agents", "lister").output
    status, headers, _ = admin.request("POST", "/agents/administration/retirer", {
        "csrftoken": token, "email": "paul.martin@seinesaintdenis.example.fr", "confirme": "oui"})
    assert status == 303 and paul.request("GET", "/agents/")[0] == 303
    assert "paul.martin" not in pacte("agents", "lister").output


def _finished(browser: Browser, location: str) -> str:
    """The page of a piece of work, once it is over (the worker runs it outside the request)."""
    import time

    deadline = time.monotonic() + 240
    while True:
        status, _, page = browser.request("GET", location)
        assert status == 200, page[:400]
        if "Actualiser" not in page or time.monotonic() > deadline:
            return page
        time.sleep(0.5)


@pytest.mark.lent  # LibreOffice converts the documents
def test_long_work_runs_outside_the_request_and_shows_how_far_it_is(staff: tuple[Pacte, Server]) -> None:
    pacte, server = staff
    agent = Browser(server)
    assert agent.sign_in(JURISTE[0], JURISTE[3])[0] == 303
    token = agent.token("/agents/publications")
    status, _, page = agent.request("POST", "/agents/travaux/documents", {"csrftoken": token, "references": ""})
    assert status == 422 and "cochez « toutes les conventions »" in page
    status, headers, _ = agent.request("POST", "/agents/travaux/documents", {
        "csrftoken": token, "references": "CCAS-2024-010, FT-2023-009"})
    assert status == 303 and headers["location"].startswith("/agents/travaux/")
    # the server answers other pages while the work goes on
    assert agent.request("GET", "/agents/partenaires")[0] == 200
    page = _finished(agent, headers["location"])
    assert "Terminé." in page and "document(s) produit(s)" in page, page
    if pacte.base and pacte.base.startswith("postgresql"):  # several servers: through procrastinate's queue
        engine = create_engine(pacte.base)
        try:
            with engine.connect() as db:
                assert db.execute(text("SELECT task_name, status FROM procrastinate_jobs")).all() == [
                    ("pacte.travail", "succeeded")]
        finally:
            engine.dispose()
    assert (pacte.root / "conventions/FT-2023-009/FT-2023-009.pdf").is_file()
    shown = json.loads(pacte("conventions", "afficher", "FT-2023-009", "--format", "json").output)
    assert any(e["auteur"] == f"{JURISTE[1]} <{JURISTE[0]}>" and e["nature"] == "generation" for e in shown["journal"])
    # a bilan the registry cannot make: the reason, in French, on the work's page
    status, headers, _ = agent.request("POST", "/agents/travaux/bilan", {"csrftoken": token, "annee": "2025"})
    page = _finished(agent, headers["location"])
    assert "Échec" in page and "Traceback" not in page
    status, _, page = agent.request("POST", "/agents/travaux/bilan", {"csrftoken": token, "annee": "20x5"})
    assert status == 422 and 'value="20x5"' in page
    status, _, page = agent.request("GET", "/agents/publications")
    assert "Travaux récents" in page and "Documents de CCAS-2024-010, FT-2023-009" in page


def test_journal_moments_are_read_in_french_time_and_service_words_name_the_pages() -> None:
    from pacte_docs.formatting import heure_locale
    from pacte_docs.web.forms import for_pages

    assert heure_locale("2026-12-06T11:05:00") == "06/12/2026 à 12\u00a0h\u00a005"  # winter: UTC+1
    assert heure_locale("2026-07-06T11:05:00+00:00") == "06/07/2026 à 13\u00a0h\u00a005"  # summer: UTC+2
    said = for_pages("partenaire « X » inconnu — corrigez le code (liste : « pacte partenaires lister »)")
    assert said.endswith("(liste : page « Partenaires »)") and "pacte " not in said


@pytest.mark.lent  # a server of its own, several sign-ins
def test_what_the_third_round_on_the_staff_pages_found_is_refused(staff: tuple[Pacte, Server]) -> None:
    pacte, server = staff
    # a session outlives its account: an account made later under the same number opens nothing for it
    pacte("agents", "creer", "parti@seinesaintdenis.example.fr", "--nom", "Parti", "--role", "lecture",
          input="un mot de passe long\n")
    gone = Browser(server)
    assert gone.sign_in("parti@seinesaintdenis.example.fr", "un mot de passe long")[0] == 303
    pacte("agents", "retirer", "parti@seinesaintdenis.example.fr")
    pacte("agents", "creer", "chef@seinesaintdenis.example.fr", "--nom", "Chef", "--role", "administration",
          input="un mot de passe long\n")
    status, headers, _ = gone.request("GET", "/agents/administration")
    assert status == 303 and headers["location"].startswith("/connexion")
    # nobody removes their own account, whatever its spelling; the last administrator stays
    chef = Browser(server)
    assert chef.sign_in("chef@seinesaintdenis.example.fr", "un mot de passe long")[0] == 303
    token = chef.token("/agents/administration")
    chef.request("POST", "/agents/administration/retirer", {"csrftoken": token, "confirme": "oui",
                                                           "email": "chef@seinesaintdenis.ｅxample.fr"})
    chef.request("POST", "/agents/administration/role", {"csrftoken": token, "role": "lecture",
                                                         "email": "chef@seinesaintdenis.example.fr"})
    accounts = json.loads(pacte("agents", "lister", "--format", "json").output)
    assert {a["email"]: a["role"] for a in accounts}["chef@seinesaintdenis.example.fr"] == "administration"
    assert "chef@seinesaintdenis.example.fr" in pacte("agents", "lister").output
    refused = pacte("agents", "retirer", "chef@seinesaintdenis.example.fr", ok=False)
    assert refused.exit_code != 0 and "seul administrateur" in refused.output
    # a rédaction agent does not change what a signed convention's acts say of its partner; a juriste does
    pacte("agents", "creer", "redac@seinesaintdenis.example.fr", "--nom", "Rémi Rédaction", "--role", "redaction",
          input="un mot de passe long\n")
    redac = Browser(server)
    assert redac.sign_in("redac@seinesaintdenis.example.fr", "un mot de passe long")[0] == 303
    values = {"csrftoken": redac.token("/agents/partenaires/CCAS-MONTREUIL"), "code": "CCAS-MONTREUIL",
              "type": "ccas", "nom": "CCAS de Montreuil", "representant_nom": "Pierre Modifié"}
    status, _, page = redac.request("POST", "/agents/partenaires/CCAS-MONTREUIL", values)
    assert status == 422 and "relève du rôle « juriste »" in page
    assert "Pierre Modifié" not in pacte("partenaires", "lister").output
    juriste = Browser(server)
    assert juriste.sign_in(JURISTE[0], JURISTE[3])[0] == 303
    status, _, _ = juriste.request("POST", "/agents/partenaires/CCAS-MONTREUIL", dict(
        values, csrftoken=juriste.token("/agents/partenaires/CCAS-MONTREUIL")))
    assert status == 303 and "Pierre Modifié" in pacte("partenaires", "lister").output
    # digits that are not ASCII digits, ids beyond any integer column, a DOCX that lies about its parts: French
    assert juriste.request("GET", "/agents/?page=%C2%B2")[0] == 200
    token = juriste.token("/agents/publications")
    assert juriste.request("POST", "/agents/travaux/bilan", {"csrftoken": token, "annee": "²"})[0] == 422
    assert juriste.request("GET", "/agents/documents/" + "9" * 30)[0] == 404
    status, _ = juriste.upload("/agents/modeles/deposer", {"csrftoken": token, "nom": "denonciation"},
                               "abime.docx", b"PK\x03\x04" + b"\x00" * 200)
    status, _, page = juriste.request("GET", "/agents/modeles")
    assert status == 200 and ("endommagé" in page or "illisible" in page or "DOCX" in page)
    assert "Remplacer le modèle" not in page
    assert "Traceback" not in server.log.read_text("utf-8")


@pytest.mark.lent  # a server of its own, several sign-ins
def test_an_ended_convention_is_taken_up_by_a_draft_from_its_page(staff: tuple[Pacte, Server]) -> None:
    pacte, server = staff
    juriste = Browser(server)
    assert juriste.sign_in(JURISTE[0], JURISTE[3])[0] == 303
    status, _, page = juriste.request("GET", "/agents/conventions/FT-2023-009")
    # what a clerk looks for first, without opening the PDF
    assert status == 200 and '<a href="/agents/partenaires/FT-93">FT-93</a>' in page
    assert "<dt>Montant</dt><dd>4\u202f200\u202f000,00\u00a0€</dd>" in page or "4 200 000" in page.replace(
        "\u202f", " ").replace("\u00a0", " ")
    token = juriste.token("/agents/conventions/FT-2023-009")
    status, _, page = juriste.request("POST", "/agents/conventions/FT-2023-009/renouveler",
                                      {"csrftoken": token, "date": "2026-12-01"})
    assert status == 422 and "pacte conventions" not in page
    status, _, page = juriste.request("POST", "/agents/conventions/FT-2023-009/succeder",
                                      {"csrftoken": token, "nouvelle": "FT-2023-009"})
    assert status == 422 and 'id="e-succeder"' in page and page.count("existe déjà") == 1
    status, headers, _ = juriste.request("POST", "/agents/conventions/FT-2023-009/succeder",
                                         {"csrftoken": token, "nouvelle": "ft-2026-031"})
    assert status == 303 and headers["location"] == "/agents/conventions/FT-2026-031"
    status, _, page = juriste.request("GET", headers["location"])
    assert "brouillon créé pour succéder à FT-2023-009" in page and "pacte conventions generer" not in page
    shown = json.loads(pacte("conventions", "afficher", "FT-2026-031", "--format", "json").output)
    assert shown["partenaires"] == ["FT-93"] and shown["date_signature"] is None
    # the draft's template is chosen from those of modeles/, never typed
    status, _, page = juriste.request("GET", "/agents/conventions/FT-2026-031/modifier")
    assert '<select id="f-modele" name="modele"' in page and '<option value="convention_ccas"' in page
    assert '<option value="avenant"' not in page


@pytest.mark.lent  # a server of its own, several sign-ins
def test_the_departement_that_acts_name_is_completed_in_its_page(staff: tuple[Pacte, Server]) -> None:
    pacte, server = staff
    reader = Browser(server)
    assert reader.sign_in(LECTURE[0], LECTURE[3])[0] == 303
    status, _, page = reader.request("GET", "/agents/departement")
    assert status == 200 and "<dt>Code du département</dt><dd>93</dd>" in page and 'name="president_nom"' not in page
    status, _, _ = reader.request("POST", "/agents/departement", {"csrftoken": reader.token("/agents/"),
                                                                  "code": "93", "nom": "Pirate"})
    assert status == 403
    juriste = Browser(server)
    assert juriste.sign_in(JURISTE[0], JURISTE[3])[0] == 303
    status, _, page = juriste.request("GET", "/agents/departement")
    assert 'name="president_nom"' in page and "readonly" in page
    values = re.findall(r'<input id="f-(\w+)" name="\w+"[^>]*value="([^"]*)"', page)
    form = {name: value for name, value in values} | {"csrftoken": juriste.token("/agents/departement"),
                                                     "president_civilite": "M.", "president_nom": "Stéphane Troussel",
                                                     "president_qualite": "Président du Conseil départemental",
                                                     "delegation_date": "15/13/2024"}
    status, _, page = juriste.request("POST", "/agents/departement", form)
    assert status == 422 and 'id="e-delegation_date"' in page and 'value="Stéphane Troussel"' in page
    status, headers, _ = juriste.request("POST", "/agents/departement", dict(form, delegation_date=""))
    assert status == 303 and headers["location"] == "/agents/departement"
    status, _, page = juriste.request("GET", "/agents/departement")
    assert "Département 93 enregistré." in page and 'value="Stéphane Troussel"' in page


def test_work_a_server_stop_left_unfinished_is_said_interrupted(pacte_sqlite: Pacte) -> None:
    from pacte_docs.services import travaux
    from pacte_docs.workspace import Workspace

    ws = Workspace.open(pacte_sqlite.root)
    left = travaux.create(ws, "bilan", {"annee": 2025}, "Bilan 2025", "Claire Dubois <c@d.fr>")
    assert travaux.interrupted(ws) == 1
    seen = travaux.seen(ws, left)
    assert seen is not None and seen.etat == "echec" and seen.fini and "Interrompu" in seen.lignes[-1]
    assert travaux.interrupted(ws) == 0
