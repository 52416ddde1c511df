"""Issue 15, part 1: a signed copy is proof. Signatures made here with pyHanko and certificates this module creates
(cryptography); nothing mocked."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pypdf import PdfReader

from tests.helpers import DATA, Pacte, registry_state, scanned_pdf

pytestmark = pytest.mark.libreoffice  # the copies are signatures of PDFs LibreOffice made


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Département du Val-de-Marne"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=not ca, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A test certification authority and a signer's certificate and key, as PEM files."""
    folder = tmp_path_factory.mktemp("autorite")
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (x509.CertificateBuilder().subject_name(_name("AC de test du Département")).issuer_name(
        _name("AC de test du Département")).public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(True), critical=True).sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(_name("Mme Nadia Ferhat")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650)).add_extension(_usage(False), critical=True)
            .sign(ca_key, hashes.SHA256()))
    files = {"ca": folder / "ac.pem", "cert": folder / "signataire.pem", "key": folder / "cle.pem"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return files


def _signed(pdf: bytes, authority: dict[str, Path]) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    load: Any = signers.SimpleSigner.load
    signer = load(str(authority["key"]), str(authority["cert"]), ca_chain_files=(str(authority["ca"]),))
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)),
                           signers.PdfSignatureMetadata(field_name="Signature1"), signer=signer)
    return bytes(out.getvalue())


def _changed_after_signing(signed: bytes) -> bytes:
    """An incremental update that adds text to the first page after the signature."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page_ref = writer.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 30 Tf 100 100 Td (MONTANT DOUBLE) Tj ET")
    contents = page["/Contents"]
    parts = list(contents) if isinstance(contents, generic.ArrayObject) else [contents]
    page["/Contents"] = generic.ArrayObject([*parts, writer.add_object(stream)])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


@pytest.fixture
def drafts(pacte_sqlite: Pacte) -> Pacte:
    pacte_sqlite("importer", str(DATA / "alertes.yaml"))
    data = (DATA / "alertes.yaml").read_text(encoding="utf-8")
    second = pacte_sqlite.root.parent / "deuxieme.yaml"
    second.write_text(data.replace("CCAS-2027-105", "CCAS-2027-106"), encoding="utf-8")
    pacte_sqlite("importer", str(second))
    pacte_sqlite("conventions", "generer", "CCAS-2027-105", "CCAS-2027-106")
    return pacte_sqlite


def _pdf(pacte: Pacte, reference: str) -> bytes:
    return (pacte.root / f"conventions/{reference}/{reference}.pdf").read_bytes()


def _shown(pacte: Pacte, reference: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(pacte("conventions", "afficher", reference, "--format", "json").output)
    return shown


def test_a_signed_convention_is_recorded_with_what_its_signature_proves(drafts: Pacte, tmp_path: Path,
                                                                        authority: dict[str, Path]) -> None:
    """« intègre, certificat non reconnu » without trusted authorities, « valide » with the département's; the
    findings are stored, written beside the copy, listed in SHA256SUMS and shown by `afficher`."""
    pacte = drafts
    copy = tmp_path / "signee.pdf"
    copy.write_bytes(_signed(_pdf(pacte, "CCAS-2027-105"), authority))
    result = pacte("conventions", "signer", "CCAS-2027-105", "--date", "2026-11-20", "--fichier", str(copy))
    assert "Copie signée : intègre, certificat non reconnu." in result.output
    assert ("signature 1 : Mme Nadia Ferhat (Département du Val-de-Marne)" in result.output
            and "intègre ; couvre tout le document ; modifications après elle : aucune ; certificat non reconnu"
            in result.output)
    report = pacte.root / "archives/conventions/CCAS-2027-105/CCAS-2027-105-signee-verification.json"
    found = json.loads(report.read_text(encoding="utf-8"))
    assert found["verdict"] == "intègre, certificat non reconnu" and found["texte"] == "conforme"
    assert found["signatures"][0]["integre"] is True and found["signatures"][0]["reconnue"] is False
    assert "conventions/CCAS-2027-105/CCAS-2027-105-signee-verification.json" in \
        (pacte.root / "archives/SHA256SUMS").read_text(encoding="utf-8")
    assert _shown(pacte, "CCAS-2027-105")["signature"] == found
    (pacte.root / "autorites").mkdir()
    (pacte.root / "autorites/ac.pem").write_bytes(authority["ca"].read_bytes())
    config = pacte.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        '# autorites = ["autorites/ac-departement.pem"]', 'autorites = ["autorites/ac.pem"]'), encoding="utf-8")
    copy.write_bytes(_signed(_pdf(pacte, "CCAS-2027-106"), authority))
    trusted = pacte("conventions", "signer", "CCAS-2027-106", "--date", "2026-11-20", "--fichier", str(copy))
    assert "Copie signée : valide." in trusted.output and "certificat reconnu" in trusted.output
    assert _shown(pacte, "CCAS-2027-106")["signature"]["verdict"] == "valide"
    assert "tous intacts, aucun fichier inconnu" in pacte("archives", "verifier").output
    config.write_text(config.read_text(encoding="utf-8").replace('autorites = ["autorites/ac.pem"]', ""),
                      encoding="utf-8")
    again = pacte("archives", "verifier", ok=False)  # the authority withdrawn: the valid copy is to be reviewed
    assert again.exit_code == 1 and "CCAS-2027-106-signee.pdf : signatures électroniques à revoir" in again.output


def test_signing_and_verifying_print_no_library_warning(drafts: Pacte, tmp_path: Path,
                                                        authority: dict[str, Path]) -> None:
    """cryptography 47+ warns, in English, when pyHanko imports its DSA classes: users read it at every `signer` and
    `archives verifier`. Run as a user runs them, each in a process of its own, with Python's default filters."""
    copy = tmp_path / "signee.pdf"
    copy.write_bytes(_signed(_pdf(drafts, "CCAS-2027-105"), authority))
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    for args in (("conventions", "signer", "CCAS-2027-105", "--date", "2026-11-20", "--fichier", str(copy)),
                 ("archives", "verifier")):
        result = subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(drafts.root), *args],
                                capture_output=True, text=True, env=environment, timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", result.stderr
    assert "intègre" in _shown(drafts, "CCAS-2027-105")["signature"]["verdict"]


def test_a_copy_that_does_not_prove_the_signature_is_refused(drafts: Pacte, tmp_path: Path,
                                                             authority: dict[str, Path]) -> None:
    """An altered copy, a broken signature, a copy of another convention: refused, nothing recorded; --force
    records the copy with the finding. A scan of a paper-signed act is accepted as such."""
    pacte = drafts
    before = registry_state(pacte.root, None)
    signed = _signed(_pdf(pacte, "CCAS-2027-105"), authority)
    cases = {
        "modifiee.pdf": (_changed_after_signing(signed), "contenu modifié après la signature"),
        "rompue.pdf": (signed.replace(b"/Title", b"/Tytle", 1), "rompue"),
        "autre.pdf": (_signed(_pdf(pacte, "CCAS-2027-106"), authority),
                      "le texte de la copie ne nomme pas la convention CCAS-2027-105"),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        refused = pacte("conventions", "signer", "CCAS-2027-105", "--date", "2026-11-20", "--fichier", str(path),
                        ok=False)
        assert refused.exit_code == 1, (name, refused.output)
        assert expected in " ".join(refused.output.split()) and "Rien n'a été enregistré" in refused.output, name
        assert registry_state(pacte.root, None) == before, name
    older = _signed(_pdf(pacte, "CCAS-2027-106"), authority)  # signed, then the draft changed and regenerated
    data = (DATA / "alertes.yaml").read_text(encoding="utf-8").replace("CCAS-2027-105", "CCAS-2027-106")
    changed = tmp_path / "revu.yaml"
    changed.write_text(data.replace("objet: Objet.\n    date_effet: 2027-03-01",
                                    "objet: Objet revu après signature.\n    date_effet: 2027-03-01", 1),
                       encoding="utf-8")
    pacte("importer", str(changed))
    pacte("conventions", "generer", "CCAS-2027-106")
    (tmp_path / "ancienne.pdf").write_bytes(older)
    stale = pacte("conventions", "signer", "CCAS-2027-106", "--date", "2026-11-20", "--fichier",
                  str(tmp_path / "ancienne.pdf"), ok=False)
    assert stale.exit_code == 1 and "le texte de la copie diffère de la convention enregistrée (article" in \
        " ".join(stale.output.split()) and "copie d'une autre version" in " ".join(stale.output.split())
    forced = pacte("conventions", "signer", "CCAS-2027-105", "--date", "2026-11-20", "--fichier",
                   str(tmp_path / "modifiee.pdf"), "--force")
    assert "Copie signée : refusée — enregistrée avec --force." in forced.output
    assert _shown(pacte, "CCAS-2027-105")["signature"]["force"] is True
    pages = len(PdfReader(io.BytesIO(_pdf(pacte, "CCAS-2027-106"))).pages)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned_pdf("EXEMPLAIRE SIGNE", pages=pages + 1))
    wrong = pacte("conventions", "signer", "CCAS-2027-106", "--date", "2026-11-20", "--fichier", str(scan), ok=False)
    assert wrong.exit_code == 1 and f"la copie a {pages + 1} pages, la convention générée {pages}" in wrong.output
    scan.write_bytes(scanned_pdf("EXEMPLAIRE SIGNE", pages=pages))
    paper = pacte("conventions", "signer", "CCAS-2027-106", "--date", "2026-11-20", "--fichier", str(scan))
    assert "Copie signée : signature manuscrite numérisée." in paper.output
    assert "copie sans texte (scan en image) : son texte n'a pas pu être comparé" in " ".join(paper.output.split())


def _with_added_page(pdf: bytes, line: str) -> bytes:
    """The generated convention with one more page carrying *line* (an article nobody approved)."""
    from pypdf import PdfReader, PdfWriter

    from tests.helpers import scanned_pdf

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        writer.add_page(page)
    writer.add_page(PdfReader(io.BytesIO(scanned_pdf(line))).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_hostile_round_3_the_whole_text_is_compared_and_a_repeat_changes_nothing(
        drafts: Pacte, tmp_path: Path, authority: dict[str, Path]) -> None:
    """Issue 30, family 2: an article added on a page of its own, signed with a trusted key, is refused (only the
    generated articles were compared); a signature whose CMS data is garbage is a French refusal, not a traceback;
    the same signer twice: the second answers « déjà enregistrée », exit 0, and archives nothing more."""
    pacte = drafts
    before = registry_state(pacte.root, None)
    added = tmp_path / "ajout.pdf"
    added.write_bytes(_signed(_with_added_page(_pdf(pacte, "CCAS-2027-105"),
                                               "Article 13 - subvention exceptionnelle de 1 000 000 euros"),
                              authority))
    refused = pacte("conventions", "signer", "CCAS-2027-105", "--date", "2026-11-20", "--fichier", str(added),
                    ok=False)
    said = " ".join(refused.output.split())
    assert refused.exit_code == 1 and "article 13 ajouté" in said and "page" in said, said
    assert registry_state(pacte.root, None) == before
    signed = _signed(_pdf(pacte, "CCAS-2027-105"), authority)
    start = signed.rindex(b"/Contents <") + len(b"/Contents <")
    garbage = tmp_path / "cms.pdf"
    garbage.write_bytes(signed[:start] + b"0" * 64 + signed[start + 64:])
    broken = pacte("conventions", "signer", "CCAS-2027-105", "--date", "2026-11-20", "--fichier", str(garbage),
                   ok=False)
    assert broken.exit_code == 1 and "Traceback" not in broken.output and "ValueError" not in broken.output
    assert "rompue" in broken.output or "illisible" in broken.output, broken.output
    assert registry_state(pacte.root, None) == before
    good = tmp_path / "signee.pdf"
    good.write_bytes(signed)
    first = pacte("conventions", "signer", "CCAS-2027-105", "--date", "2026-11-20", "--fichier", str(good))
    assert "signature enregistrée au 20 novembre 2026" in first.output
    again = pacte("conventions", "signer", "CCAS-2027-105", "--date", "2026-11-20", "--fichier", str(good))
    assert again.exit_code == 0 and "déjà enregistrée" in again.output
    copies = list((pacte.root / "archives/conventions/CCAS-2027-105").glob("*-signee*.pdf"))
    assert len(copies) == 1
