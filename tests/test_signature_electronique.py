"""Issue 29, items 2–4: the Département signs a convention electronically once its visas are given — PAdES B-LT
with pyHanko, from a SoftHSM2 token (PKCS#11) or a PKCS#12 file, a timestamp and the revocation data from a test
PKI served on 127.0.0.1 by certomancer (tests/pki.py). Nothing mocked: the tests check what pyHanko's validation
and the pyHanko command line say of the result, and what a failure leaves (nothing)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests import pki
from tests.helpers import Pacte, folder_state, free_port, normalise, pdf_text, registry_state, start_server
from tests.test_espace_agents import violations

pytestmark = [pytest.mark.lent, pytest.mark.libreoffice]
DATA = Path(__file__).parent / "donnees"
JULES = ("jules@seinesaintdenis.example.fr", "Jules Juriste", "juriste", "motdepasse-juriste-1")
LISE = ("lise@seinesaintdenis.example.fr", "Lise Lecture", "lecture", "motdepasse-lecture-1")
DIRECTEUR = "agent.test@seinesaintdenis.example.fr"
DRAFT = """partenaires:  # the arrêté by which its vice-présidente signs, which the act cites
  - code: CCAS-MONTREUIL
    type: ccas
    nom: CCAS de Montreuil
    commune: Montreuil
    code_insee: "93048"
    siret: "26930048000010"
    representant: {civilite: Mme, nom: Ada Lovelace, qualite: Vice-présidente du CCAS}
    delegation: {numero: A-2026-044, date: 2026-06-02}
conventions:
  - reference: CCAS-2027-030
    type: ccas
    partenaires: [CCAS-MONTREUIL]
    objet: La présente convention a pour objet l'accueil et l'orientation des bénéficiaires du RSA à Montreuil.
    deliberation: {instance: Commission permanente, numero: CP-2026-11-017, date: 2026-11-16}
    deliberation_partenaire: {instance: conseil d'administration, numero: CA-2026-31, date: 2026-11-02}
    date_effet: 2027-01-01
    renouvellement: expresse
    responsable: {nom: Agent Test, email: agent.test@seinesaintdenis.example.fr}
"""
ARCHIVAGE = """[archivage]
service_archives = "FRAD093"
service_versant = "FRDEP093-DIE"
regle = "APP0010"
duree = "P10Y"
sort_final = "conserver"
"""


@pytest.fixture(scope="module")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pki.TestPki]:
    # the tests' Département is signed for by its Présidente, Mme Camille Testeur (tests/donnees/registre.yaml)
    # and the CCAS de Montreuil by its vice-présidente, Mme Ada Lovelace
    yield from pki.start(tmp_path_factory.mktemp("pki"), "Mme Camille Testeur", "Mme Ada Lovelace")


@pytest.fixture
def signing(pacte_sqlite: Pacte, test_pki: pki.TestPki, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Pacte:
    """The tests' registry, a draft with its délibération, a juriste and a lecture agent, the circuit, the token."""
    for name, value in test_pki.env().items():
        monkeypatch.setenv(name, value)
    pacte = pacte_sqlite
    pki.configure(pacte.root, test_pki.config() + '\n[circuits]\nconvention = ["juriste", "directeur"]\n')
    pacte("importer", str(DATA / "registre.yaml"))
    draft = tmp_path / "projet.yaml"
    draft.write_text(DRAFT, encoding="utf-8")
    pacte("importer", str(draft))
    for email, nom, role, password in (JULES, LISE):
        pacte("agents", "creer", email, "--nom", nom, "--role", role, input=password + "\n")
    return pacte


def _visas(pacte: Pacte, reference: str = "CCAS-2027-030") -> None:
    pacte("conventions", "generer", reference, "--sans-pdf")
    pacte("conventions", "soumettre", reference)
    pacte("conventions", "viser", reference, "--avis", "favorable", "--par", JULES[0])
    pacte("conventions", "viser", reference, "--avis", "favorable", "--par", DIRECTEUR)


def _refused(pacte: Pacte, code: int, *args: str) -> str:
    """A refusal: its exit code, a French message and nothing changed — registry and folders."""
    before = registry_state(pacte.root, pacte.base), folder_state(pacte.root)
    result = pacte(*args, ok=False)
    assert result.exit_code == code and "Traceback" not in result.output, result.output
    assert (registry_state(pacte.root, pacte.base), folder_state(pacte.root)) == before
    return " ".join(result.output.split())


def _validated(data: bytes, roots: list[bytes]) -> list[Any]:
    """pyHanko's own validation of each signature, offline, from what the file embeds (PAdES B-LT): the
    certificates, OCSP responses and revocation lists of its DSS; a missing one fails (hard-fail)."""
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    reader = PdfFileReader(io.BytesIO(data))
    dss = DocumentSecurityStore.read_dss(reader)
    trust = [cert for pem in roots for cert in load_certs_from_pemder_data(pem)]
    statuses = []
    for embedded in reader.embedded_signatures:
        context = dss.as_validation_context({"trust_roots": trust, "allow_fetching": False,
                                             "revocation_mode": "hard-fail"})
        statuses.append(validate_pdf_signature(embedded, context))
    return statuses


def _pyhanko_says(path: Path, racine: Path) -> str:
    """`pyhanko sign validate` with the test root, as a third party would check the file."""
    done = subprocess.run([str(Path(sys.executable).parent / "pyhanko"), "sign", "validate", "--trust", str(racine),
                           "--trust-replace", "--executive-summary", str(path)], capture_output=True, text=True,
                          check=False, timeout=120)
    return done.stdout + done.stderr


def test_the_departement_signs_a_visaed_draft_with_its_token(signing: Pacte, test_pki: pki.TestPki,
                                                              tmp_path: Path) -> None:
    pacte = signing
    said = _refused(pacte, 1, "conventions", "signer-electroniquement", "CCAS-2027-030", "--par", JULES[0])
    assert "Le projet CCAS-2027-030 ne peut pas être signé : il est non soumis au circuit de visas" in said
    _visas(pacte)
    said = _refused(pacte, 1, "conventions", "signer-electroniquement", "CCAS-2027-030", "--par", LISE[0])
    assert f"{LISE[0]} ne peut pas faire signer le Département : il faut un compte d'agent actif de rôle « juriste » " \
           "ou « administration » (pacte agents creer), ou être le signataire que l'acte nomme pour le Département " \
           "(Camille Testeur)" in said
    done = pacte("conventions", "signer-electroniquement", "CCAS-2027-030", "--par", JULES[0]).output
    assert "CCAS-2027-030 : signée électroniquement pour le Département par Mme Camille Testeur" in done
    assert "Copie signée : valide." in done and "horodatée" in done
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2027-030", "--format", "json").output)
    today = dt.date.today().isoformat()
    assert shown["date_signature"] == today and shown["signature"]["verdict"] == "valide"
    journal = {e["nature"]: e["description"] for e in shown["journal"]}
    assert "Signée électroniquement pour le Département par Mme Camille Testeur (certificat), à la demande de " \
           "Jules Juriste <jules@seinesaintdenis.example.fr>" in journal["signature_electronique"]
    signed_path = pacte.root / "archives/conventions/CCAS-2027-030/CCAS-2027-030-signee.pdf"
    signed = signed_path.read_bytes()

    # the final text: PDF/A, no « PROJET », dated the day of the signature
    text = pdf_text(signed_path)
    assert "PROJET" not in text
    assert ("Fait à Bobigny, en un exemplaire original électronique signé par chacune des parties. La présente "
            "convention prend date au jour de la dernière signature.") in " ".join(text.split())
    assert b"pdfaid:part" in signed

    # pyHanko: one signature, intact, trusted, timestamped, validated from the embedded data alone (B-LT)
    (status,) = _validated(signed, [test_pki.racine.read_bytes()])
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.timestamp_validity is not None and status.timestamp_validity.intact
    assert status.timestamp_validity.trusted
    assert status.modification_level.name == "LTA_UPDATES"  # only the validation data was added after it
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(signed))
    (embedded,) = reader.embedded_signatures
    start, first, second, rest = (int(v) for v in embedded.sig_object["/ByteRange"])
    assert start == 0 and second + rest <= len(signed)  # the signed revision, all but the signature itself
    assert second - first == len(embedded.sig_object.raw_get("/Contents").original_bytes) * 2 + 2
    dss = reader.root["/DSS"]
    assert len(dss["/Certs"]) >= 3 and (len(dss.get("/OCSPs", [])) + len(dss.get("/CRLs", []))) >= 2
    assert "VALID" in _pyhanko_says(signed_path, test_pki.racine)

    # the visible signature: in the Département's block, between « Pour le Département, » and its signatory's name
    last = PdfReader(io.BytesIO(signed)).pages[-1]
    widgets = [a.get_object() for a in last.get("/Annots", []) if a.get_object().get("/FT") == "/Sig"]
    assert len(widgets) == 1
    x1, y1, x2, y2 = (float(v) for v in widgets[0]["/Rect"])
    found: dict[str, float] = {}

    def seen(fragment: str, cm: Any, tm: Any, _font: Any, _size: Any) -> None:
        for marker in ("Pour le Département", "Camille Testeur"):
            if fragment.strip().startswith(marker):
                found.setdefault(marker, tm[5] * cm[3] + cm[5])

    last.extract_text(visitor_text=seen)
    assert found["Camille Testeur"] < y1 < y2 < found["Pour le Département"]
    assert x2 < float(last.mediabox.width) / 2  # the Département's column, not the partner's

    # a changed byte in what was signed breaks it, for pacte's verification as for pyHanko's
    broken = bytearray(signed)
    at = signed.index(b"/Producer")
    broken[at + 1] = ord("Q")
    tampered = tmp_path / "alteree.pdf"
    tampered.write_bytes(bytes(broken))
    assert "VALID" not in _pyhanko_says(tampered, test_pki.racine).replace("INVALID", "")

    # the bordereau: one page, each step with its time and version, the signed copy's SHA-256
    bordereau = pacte.root / "conventions/CCAS-2027-030/CCAS-2027-030-bordereau.pdf"
    assert len(PdfReader(bordereau).pages) == 1
    # in the order of the file (each cell's lines together), spaces aside: the table's cells wrap their lines
    listed = "".join(normalise(PdfReader(bordereau).pages[0].extract_text()).split())
    for expected in ("BORDEREAU DE SIGNATURE", "Circuit de visas : service juridique, puis directeur qui suit la "
                     "convention.", "Signature autorisée par la délibération de la Commission permanente n° "
                     "CP-2026-11-017 du 16 novembre 2026.", "Soumission au circuit (1er tour)",
                     "Visa du service juridique", "Jules Juriste", "Visa du directeur qui suit la convention",
                     "Agent Test", "Signature électronique du Département", "Mme Camille Testeur",
                     "demandée par Jules Juriste", "Signatures restant à recueillir : Pour le CCAS de Montreuil "
                     "(Mme Ada Lovelace).", "Vérification des signatures par pacte : 1 signature valide, document "
                     "intègre."):
        assert expected.replace(" ", "") in listed, expected
    assert shown["signature"]["signatures"][0]["horodatage"]
    import hashlib

    assert hashlib.sha256(signed).hexdigest() in listed

    # the partner signs after, on the same file: an incremental signature; the Département's stays valid
    both_path = tmp_path / "signee-des-deux-parties.pdf"
    both_path.write_bytes(_partner_signs(signed, test_pki))
    added = pacte("conventions", "signer", "CCAS-2027-030", "--date", today, "--fichier", str(both_path)).output
    assert "Copie signée : valide." in added and "signature 2 : Mme Ada Lovelace (Partenaire de test)" in added
    first, second_status = _validated(both_path.read_bytes(), [test_pki.racine.read_bytes()])
    assert first.bottom_line and first.modification_level.name == "FORM_FILLING"
    assert second_status.intact and second_status.valid
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2027-030", "--format", "json").output)
    assert len(shown["signature"]["signatures"]) == 2
    assert "la convention est signée de toutes ses parties" in [
        e["description"] for e in shown["journal"] if e["nature"] == "signature"][-1]

    # to the Archives: the bordereau and the verification reports go with the signed copies
    config = pacte.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[archivage]", "[archivage-exemple]") + ARCHIVAGE,
                      encoding="utf-8")
    package = tmp_path / "versement.zip"
    pacte("archives", "verser", "CCAS-2027-030", "--sortie", str(package), "--force")
    names = zipfile.ZipFile(package).namelist()
    assert any(n.endswith("CCAS-2027-030-bordereau.pdf") for n in names), names
    assert any(n.endswith("CCAS-2027-030-signee-verification.json") for n in names), names
    assert any(n.endswith("CCAS-2027-030-signee-2.pdf") for n in names), names


def _partner_signs(data: bytes, test_pki: pki.TestPki) -> bytes:
    """The partner's own signature (its PKCS#12 file, in its own parapheur), added to *data*."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    load: Any = signers.SimpleSigner.load_pkcs12
    partner = load(str(test_pki.p12_partenaire), passphrase=pki.P12_PASSWORD.encode())
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)),
                           signers.PdfSignatureMetadata(field_name="SignaturePartenaire"), signer=partner)
    return bytes(out.getvalue())


def test_a_partner_signs_first_then_the_departement(signing: Pacte, test_pki: pki.TestPki, tmp_path: Path) -> None:
    pacte = signing
    _visas(pacte)
    final = tmp_path / "a-signer.pdf"
    said = pacte("conventions", "signer-electroniquement", "CCAS-2027-030", "--par", JULES[0], "--texte-definitif",
                 str(final)).output
    assert f"texte définitif écrit dans {final}" in said and final.read_bytes().startswith(b"%PDF")
    assert "PROJET" not in pdf_text(final)
    # a partner who signed the draft (« PROJET »), not the final text: refused, nothing recorded
    pacte("conventions", "generer", "CCAS-2027-030")  # the draft's PDF, for the partner to sign it by mistake
    draft = tmp_path / "projet-signe.pdf"
    draft.write_bytes(_partner_signs((pacte.root / "conventions/CCAS-2027-030/CCAS-2027-030.pdf").read_bytes(),
                                     test_pki))
    refused = _refused(pacte, 1, "conventions", "signer-electroniquement", "CCAS-2027-030", "--par", JULES[0],
                       "--fichier", str(draft))
    assert "ne peut pas recevoir la signature du Département" in refused
    signed_first = tmp_path / "signee-par-le-partenaire.pdf"
    signed_first.write_bytes(_partner_signs(final.read_bytes(), test_pki))
    done = pacte("conventions", "signer-electroniquement", "CCAS-2027-030", "--par", JULES[0], "--fichier",
                 str(signed_first)).output
    assert "après la signature du partenaire (Mme Ada Lovelace (Partenaire de test))" in " ".join(done.split())
    assert "Copie signée : valide." in done
    data = (pacte.root / "archives/conventions/CCAS-2027-030/CCAS-2027-030-signee.pdf").read_bytes()
    assert data.startswith(signed_first.read_bytes())  # the partner's signature kept, the Département's added
    partner, departement = _validated(data, [test_pki.racine.read_bytes()])
    assert partner.intact and partner.valid and partner.modification_level.name == "FORM_FILLING"
    assert departement.bottom_line and departement.timestamp_validity is not None


def test_a_failed_signature_records_nothing(signing: Pacte, test_pki: pki.TestPki, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    pacte = signing
    _visas(pacte)
    command = ("conventions", "signer-electroniquement", "CCAS-2027-030", "--par", JULES[0])
    # the draft changed after its visas: they no longer hold
    changed = tmp_path / "modifie.yaml"
    changed.write_text(DRAFT.replace("l'accueil et l'orientation", "l'accueil"), encoding="utf-8")
    pacte("importer", str(changed))
    assert "il est modifié depuis sa soumission : à soumettre de nouveau" in _refused(pacte, 1, *command)
    pacte("importer", str(tmp_path / "projet.yaml"))  # back to the text that was given its visas
    monkeypatch.delenv("PACTE_PIN_SIGNATURE")
    assert "Le code PIN du jeton de signature manque : donnez-le dans la variable d'environnement " \
           "PACTE_PIN_SIGNATURE" in _refused(pacte, 1, *command)
    monkeypatch.setenv("PACTE_PIN_SIGNATURE", "0000")
    assert "refuse le code PIN" in _refused(pacte, 1, *command)
    monkeypatch.setenv("PACTE_PIN_SIGNATURE", pki.PIN)
    config = pacte.root / "pacte.toml"
    original = config.read_text(encoding="utf-8")

    def configured(**options: Any) -> None:
        config.write_text(original, encoding="utf-8")
        text = config.read_text(encoding="utf-8")
        start = text.index("[signature_electronique]\n") + len("[signature_electronique]\n")
        end = text.index("horodatage = ", start)
        end = text.index("\n", end) + 1
        config.write_text(text[:start] + test_pki.config(**options).split("[signature_electronique]\n")[1]
                          + text[end:], encoding="utf-8")

    # an expired certificate: a data error (exit 1), said with its date
    configured(token=False, expire=True)
    said = _refused(pacte, 1, *command)
    assert "Le certificat de signature de Mme Camille Testeur a expiré le" in said and "Rien n'a été signé" in said
    # a timestamping authority that does not answer: a component (exit 3)
    silent = f"http://127.0.0.1:{free_port()}/tsa"
    configured(horodatage=silent)
    said = _refused(pacte, 3, *command)
    assert f"L'autorité d'horodatage {silent} ([signature_electronique] horodatage) n'a pas donné de jeton " \
           "d'horodatage" in said and "Rien n'a été signé ni enregistré" in said
    # a bordereau's template that would fail once the signature is recorded: refused before anything is signed
    configured()
    bordereau = pacte.root / "modeles/bordereau.docx"
    kept = bordereau.read_bytes()
    bordereau.write_bytes((pacte.root / "modeles/relance.docx").read_bytes())
    said = _refused(pacte, 1, *command)
    assert "modèle « bordereau » : variable « relance." in said
    bordereau.write_bytes(kept)
    # a PIN written in the file is refused
    config.write_text(original.replace("[signature_electronique]\n", '[signature_electronique]\npin = "1234"\n'),
                      encoding="utf-8")
    said = " ".join(pacte("conventions", "lister", ok=False).output.split())
    assert "[signature_electronique], champ « pin » : un secret ne doit jamais être écrit dans un fichier" in said
    # the same draft, then, signed with the PKCS#12 file of a small site, by the Présidente herself (an account
    # for reading only: the signatory the act names may sign)
    configured(token=False)
    pacte("agents", "creer", "camille.testeur@seinesaintdenis.example.fr", "--nom", "Camille Testeur", "--role",
          "lecture", input="motdepasse-presidente-1\n")
    done = pacte(*command[:-1], "camille.testeur@seinesaintdenis.example.fr").output
    assert "signée électroniquement pour le Département par Mme Camille Testeur" in done
    assert "Copie signée : valide." in done
    assert os.environ["PACTE_MOT_DE_PASSE_SIGNATURE"] == pki.P12_PASSWORD


DEMO_NAMES = {"FT-IDF": "Karim Benali", "FT-92": "Claire Dubois", "VILLE-CLICHY": "Rémi Muzeau"}
LEA = ("lea.martin@hauts-de-seine.example.fr", "Léa Martin", "un-mot-de-passe-de-juriste")
MARC = ("marc.olivier@hauts-de-seine.example.fr", "Marc Olivier", "un-mot-de-passe-de-directeur")
NEW_DRAFT = """conventions:
  - reference: CCAS-2027-009
    type: ccas
    departement: "92"
    partenaires: [VILLE-CLICHY]
    deliberation: {instance: Commission permanente, numero: "CP-2026-11-244", date: 2026-11-16}
    deliberation_partenaire: {instance: conseil municipal, numero: "2026-118", date: 2026-11-05}
    objet: >-
      La présente convention a pour objet l'accueil, à Clichy, des bénéficiaires du RSA orientés vers un
      accompagnement social.
    date_effet: 2027-03-01
    renouvellement: expresse
    responsable: {nom: Marc Olivier, email: marc.olivier@hauts-de-seine.example.fr}
"""


@pytest.mark.navigateur
def test_the_demo_s_drafts_signed_from_the_command_line_and_from_the_pages(browser: Any, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`pacte demo`'s data: the clerk names the signatories and gives the délibérations, then one draft goes
    through soumettre → two visas → signer-electroniquement on the command line, another through the staff pages
    in chromium; both are signed « valide » for pacte and for `pyhanko sign validate`."""
    import yaml

    root = tmp_path / "demo"

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(root), *args],
                              capture_output=True, text=True, check=False, timeout=600,
                              env={**os.environ, "PYTHONIOENCODING": "utf-8"})
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    made = subprocess.run([sys.executable, "-m", "pacte_docs", "--au", "2026-11-22", "demo", str(root)],
                          capture_output=True, text=True, check=False, timeout=600)
    assert made.returncode == 0, made.stderr
    # the Hauts-de-Seine's Président signs, and the Ville de Clichy's maire
    authority = pki.start(tmp_path / "pki", "M. Georges Siffredi", "M. Rémi Muzeau")
    test_pki = next(authority)
    try:
        for name, value in test_pki.env().items():
            monkeypatch.setenv(name, value)
        pki.configure(root, test_pki.config() + '\n[circuits]\nconvention = ["juriste", "directeur"]\n\n'
                      "[agents]\ncookie_securise = false\n")
        # what the acts lack before they are signed, as a clerk gives it: the registry exported, completed, imported
        cli("exporter", str(tmp_path / "registre.yaml"), "--format", "yaml")
        registry = yaml.safe_load((tmp_path / "registre.yaml").read_text(encoding="utf-8"))
        partners = [p for p in registry["partenaires"] if p["code"] in DEMO_NAMES]
        for partner in partners:
            partner["representant"]["nom"] = DEMO_NAMES[partner["code"]]
        draft = next(c for c in registry["conventions"] if c["reference"] == "FT-2027-006")
        draft["deliberation"] = {"instance": "Commission permanente", "numero": "CP-2026-11-245",
                                 "date": dt.date(2026, 11, 16)}
        (tmp_path / "complements.yaml").write_text(yaml.safe_dump(
            {"partenaires": partners, "conventions": [draft]}, allow_unicode=True), encoding="utf-8")
        cli("importer", str(tmp_path / "complements.yaml"))
        (tmp_path / "nouveau.yaml").write_text(NEW_DRAFT, encoding="utf-8")
        cli("importer", str(tmp_path / "nouveau.yaml"))
        for email, nom, role, password in ((*LEA[:2], "juriste", LEA[2]), (*MARC[:2], "lecture", MARC[2])):
            subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(root), "agents", "creer", email,
                            "--nom", nom, "--role", role], input=password + "\n", text=True, check=True,
                           capture_output=True)

        # on the command line
        cli("conventions", "generer", "FT-2027-006")
        cli("conventions", "soumettre", "FT-2027-006", "--par", LEA[0])
        cli("conventions", "viser", "FT-2027-006", "--avis", "favorable", "--par", LEA[0])
        cli("conventions", "viser", "FT-2027-006", "--avis", "favorable", "--par",
            "isabelle.roche@hauts-de-seine.example.fr")
        said = cli("conventions", "signer-electroniquement", "FT-2027-006", "--par", LEA[0])
        assert "signée électroniquement pour le Département par M. Georges Siffredi" in said, said
        assert "Copie signée : valide." in said

        # in the staff pages
        server = start_server(root)
        try:
            # the pages' own CSP forbids inline scripts: only the test's axe is let in
            page = browser.new_context(locale="fr-FR", accept_downloads=True, bypass_csp=True).new_page()

            def sign_in(who: tuple[str, str, str]) -> None:
                page.goto(server.url + "/connexion")
                page.get_by_label("Adresse électronique").fill(who[0])
                page.get_by_label("Mot de passe").fill(who[2])
                page.get_by_role("button", name="Se connecter").click()
                page.goto(server.url + "/agents/conventions/CCAS-2027-009")

            sign_in(LEA)
            page.get_by_role("button", name="Générer les documents (DOCX et PDF)").click()
            page.get_by_role("button", name="Soumettre au circuit de visas").click()
            page.get_by_role("button", name="Enregistrer mon visa").click()
            assert "visa attendu du directeur qui suit la convention" in page.locator("main").inner_text()
            assert page.get_by_role("button", name="Signer électroniquement pour le Département").count() == 0
            page.get_by_role("button", name="Se déconnecter").click()
            sign_in(MARC)  # the director who follows it, with a reading account: the visa is his to give
            page.get_by_role("button", name="Enregistrer mon visa").click()
            assert "tous les visas sont donnés" in page.locator("main").inner_text()
            # but not the Département's signature: no button, and the form posted all the same is refused
            assert page.get_by_role("button", name="Signer électroniquement pour le Département").count() == 0
            token = page.locator("input[name=csrftoken]").first.input_value()
            refused = page.request.post(server.url + "/agents/conventions/CCAS-2027-009/signer-electroniquement",
                                        form={"csrftoken": token})
            assert refused.status == 403 and "demande le rôle « juriste » ou « administration »" in refused.text()
            page.get_by_role("button", name="Se déconnecter").click()
            sign_in(LEA)
            assert violations(page) == []  # the signature's forms, judged by axe-core (WCAG 2.1 A and AA)
            # the Ville de Clichy signs first, in its own parapheur, the final text the juriste downloads
            with page.expect_download() as waiting:
                page.get_by_role("button", name="Télécharger le texte définitif (pour un partenaire qui signe le "
                                                "premier)").click()
            final = Path(waiting.value.path()).read_bytes()
            assert final.startswith(b"%PDF") and "PROJET" not in PdfReader(io.BytesIO(final)).pages[0].extract_text()
            returned = tmp_path / "clichy-signee.pdf"
            with ThreadPoolExecutor(1) as apart:  # pyHanko runs its own event loop, Playwright's is this thread's
                returned.write_bytes(apart.submit(_partner_signs, final, test_pki).result())
            page.get_by_label("Copie déjà signée par le partenaire (PDF, facultatif)").set_input_files(str(returned))
            page.get_by_role("button", name="Signer électroniquement pour le Département").click()
            shown = " ".join(page.locator("main").inner_text().split())
            assert "CCAS-2027-009 : signée électroniquement pour le Département par M. Georges Siffredi" in shown
            assert "après la signature du partenaire (M. Rémi Muzeau" in shown
            assert page.get_by_role("heading", name="Signature électronique du Département").count() == 0
            page.close()
        finally:
            server.stop()
        for reference in ("FT-2027-006", "CCAS-2027-009"):
            shown_json = json.loads(cli("conventions", "afficher", reference, "--format", "json"))
            assert shown_json["signature"]["verdict"] == "valide", reference
            signed = root / "archives/conventions" / reference / f"{reference}-signee.pdf"
            assert "VALID" in _pyhanko_says(signed, test_pki.racine).replace("INVALID", ""), reference
            bordereau = root / "conventions" / reference / f"{reference}-bordereau.pdf"
            steps = " ".join(PdfReader(bordereau).pages[0].extract_text().split())
            assert "Soumission au circuit (1er tour) Léa Martin" in steps, reference  # who submitted, by name
    finally:
        authority.close()
