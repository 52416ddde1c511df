"""A test PKI for the Département's electronic signature, every part real and on 127.0.0.1: certomancer (by
pyHanko's author) issues the certificates and serves, over HTTP, the timestamping authority (RFC 3161), the OCSP
responder and the revocation lists; SoftHSM2 (Debian's `softhsm2`) holds the Département's key and certificate as a
PKCS#11 token would; a PKCS#12 file holds the same for a small site. Nothing here is a mock: pacte signs with the
token and fetches the timestamp and the revocation data over the network, as it would from a real authority."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "DEPARTEMENT-TEST"
KEY = "signature-departement"
PIN = "4321"
SO_PIN = "87654321"
P12_PASSWORD = "mot-de-passe-p12"
# who signs for the Département (the certificate's subject) and, for the incremental second signature, a partner
KEYS = ("racine", "intermediaire", "horodatage", "ocsp", "departement", "departement-expire", "partenaire")


@dataclass
class TestPki:
    """What a test needs: the trust anchor (PEM), the authority's address, the token's environment, the PKCS#12
    files, the certomancer architecture (to issue more)."""

    folder: Path
    url: str  # http://127.0.0.1:PORT — the TSA is url + TSA_PATH
    racine: Path  # the root certificate, PEM: [signature] autorites
    softhsm_conf: Path
    p12: Path  # the Département's key and chain, for a small site
    p12_expire: Path  # the same signer, its certificate expired
    p12_partenaire: Path  # a partner's, for a second signature
    arch: Any

    @property
    def horodatage(self) -> str:
        return f"{self.url}/testing-ca/tsa/horodatage"

    def env(self) -> dict[str, str]:
        """The variables a `pacte` process needs: the token's configuration, and the PIN (from the environment
        only, as pacte requires)."""
        return {"SOFTHSM2_CONF": str(self.softhsm_conf), "PACTE_PIN_SIGNATURE": PIN,
                "PACTE_MOT_DE_PASSE_SIGNATURE": P12_PASSWORD}

    def config(self, *, token: bool = True, expire: bool = False, horodatage: str | None = None) -> str:
        """The [signature] and [signature_electronique] sections of a pacte.toml using this PKI."""
        lines = ["[signature]", f'autorites = ["{self.racine}"]', "", "[signature_electronique]"]
        if token and not expire:
            lines += [f'module = "{SOFTHSM_MODULE}"', f'jeton = "{TOKEN}"', f'cle = "{KEY}"']
        else:
            lines.append(f'fichier = "{self.p12_expire if expire else self.p12}"')
        lines.append(f'horodatage = "{horodatage or self.horodatage}"')
        return "\n".join(lines) + "\n"


def configure(root: Path, sections: str) -> None:
    """Add *sections* (TOML) to the workspace's pacte.toml: each key under its section's header when the file has
    that header already (commented examples below it), the section at the end otherwise."""
    path = root / "pacte.toml"
    text = path.read_text(encoding="utf-8")
    for block in sections.strip().split("\n\n"):
        header, _, body = block.strip().partition("\n")
        if f"\n{header}\n" in f"\n{text}":
            text = text.replace(f"{header}\n", f"{header}\n{body}\n", 1)
        else:
            text = text.rstrip("\n") + f"\n\n{header}\n{body}\n"
    path.write_text(text, encoding="utf-8")


def _validity(start: str, end: str) -> dict[str, str]:
    return {"valid-from": f"{start}T00:00:00+0000", "valid-to": f"{end}T00:00:00+0000"}


def _usage(*uses: str) -> dict[str, Any]:
    return {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": list(uses)}}


def _architecture(url: str, signataire: str, partenaire: str) -> dict[str, Any]:
    crl = {"id": "crl_distribution_points", "smart-value": {"schema": "crl-dist-url",
                                                            "params": {"crl-repo-names": ["racine"]}}}
    signer_extensions = [
        _usage("digital_signature", "non_repudiation"),
        {"id": "crl_distribution_points",
         "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["intermediaire"]}}},
        {"id": "authority_information_access",
         "smart-value": {"schema": "aia-urls", "params": {"ocsp-responder-names": ["intermediaire"]}}}]
    today = dt.date.today()
    return {
        "external-url-prefix": url,
        "keysets": {"testing-ca": {"path-prefix": ".", "keys": {k: {"path": f"{k}.key.pem"} for k in KEYS}}},
        "pki-architectures": {"testing-ca": {
            "keyset": "testing-ca",
            "entity-defaults": {"country-name": "FR", "organization-name": "Département de test"},
            "entities": {
                "racine": {"common-name": "AC racine de test"},
                "intermediaire": {"common-name": "AC des agents de test"},
                "horodatage": {"common-name": "Autorité d'horodatage de test"},
                "ocsp": {"common-name": "Répondeur OCSP de test"},
                "departement": {"common-name": signataire, "organizational-unit-name": "Direction de "
                                "l'insertion"},
                "partenaire": {"common-name": partenaire, "organization-name": "Partenaire de test"},
            },
            "certs": {
                "racine": {"subject": "racine", "issuer": "racine", "validity": _validity("2020-01-01", "2060-01-01"),
                           "extensions": [{"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                                          _usage("digital_signature", "key_cert_sign", "crl_sign")]},
                "intermediaire": {"issuer": "racine", "validity": _validity("2020-01-01", "2050-01-01"),
                                  "extensions": [{"id": "basic_constraints", "critical": True,
                                                  "value": {"ca": True, "path-len-constraint": 0}},
                                                 _usage("digital_signature", "key_cert_sign", "crl_sign"), crl]},
                "ocsp": {"issuer": "intermediaire", "validity": _validity("2020-01-01", "2050-01-01"),
                         "extensions": [_usage("digital_signature"),
                                        {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                                        {"id": "ocsp_no_check"}]},
                "horodatage": {"issuer": "racine", "validity": _validity("2020-01-01", "2050-01-01"),
                               "extensions": [_usage("digital_signature"),
                                              {"id": "extended_key_usage", "critical": True,
                                               "value": ["time_stamping"]}, crl]},
                "departement": {"issuer": "intermediaire", "validity": _validity("2024-01-01", "2040-01-01"),
                                "extensions": signer_extensions},
                "departement-expire": {"subject": "departement", "subject-key": "departement-expire",
                                       "issuer": "intermediaire",
                                       "validity": _validity("2022-01-01", str(today - dt.timedelta(days=30))),
                                       "extensions": signer_extensions},
                "partenaire": {"issuer": "intermediaire", "validity": _validity("2024-01-01", "2040-01-01"),
                               "extensions": signer_extensions},
            },
            "services": {
                "ocsp": {"intermediaire": {"for-issuer": "intermediaire", "responder-cert": "ocsp",
                                           "signing-key": "ocsp"}},
                "crl-repo": {"racine": {"for-issuer": "racine", "signing-key": "racine",
                                        "simulated-update-schedule": "P90D"},
                             "intermediaire": {"for-issuer": "intermediaire", "signing-key": "intermediaire",
                                               "simulated-update-schedule": "P30D"}},
                "cert-repo": {"racine": {"for-issuer": "racine", "publish-issued-certs": True},
                              "intermediaire": {"for-issuer": "intermediaire", "publish-issued-certs": True}},
                "time-stamping": {"horodatage": {"signing-key": "horodatage", "signing-cert": "horodatage"}},
            },
        }},
    }


def _keys(folder: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    for label in KEYS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (folder / f"{label}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


class _Late:
    """A WSGI application set once the server's port, hence the authority's URLs, is known."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


_STORE_CERTIFICATES = """
import sys
import pkcs11
from asn1crypto import x509
from pkcs11 import Attribute, CertificateType, ObjectClass
module, token, pin, key, *paths = sys.argv[1:]
with pkcs11.lib(module).get_token(token_label=token).open(rw=True, user_pin=pin) as session:
    for number, path in enumerate(paths, start=1):
        cert = x509.Certificate.load(open(path, "rb").read())
        session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True, Attribute.LABEL: key if number == 1 else path, Attribute.ID: bytes([number]),
            Attribute.SUBJECT: cert.subject.dump(), Attribute.ISSUER: cert.issuer.dump(),
            Attribute.SERIAL_NUMBER: cert["tbs_certificate"]["serial_number"].dump(), Attribute.VALUE: cert.dump()})
"""


def _token(folder: Path, arch: Any) -> Path:
    """A SoftHSM2 token holding the Département's key and its certificate chain, the key and its certificate
    under one label."""
    tokens = folder / "softhsm-jetons"
    tokens.mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    util = shutil.which("softhsm2-util")
    if util is None:
        raise RuntimeError("softhsm2-util manque : apt-get install softhsm2 (scripts/tests.sh l'installe)")
    subprocess.run([util, "--init-token", "--free", "--label", TOKEN, "--so-pin", SO_PIN, "--pin", PIN],
                   check=True, env=env, capture_output=True)
    subprocess.run([util, "--import", str(folder / "departement.key.pem"), "--token", TOKEN, "--label", KEY,
                    "--id", "01", "--pin", PIN], check=True, env=env, capture_output=True)
    from certomancer.registry import CertLabel

    certificates = []
    for label in ("departement", "intermediaire", "racine"):
        path = folder / f"{label}.der"
        path.write_bytes(arch.get_cert(CertLabel(label)).dump())
        certificates.append(str(path))
    # in a process of its own: the PKCS#11 module reads SOFTHSM2_CONF once per process, and the tests' own
    # process may hold another test PKI's token
    subprocess.run([sys.executable, "-c", _STORE_CERTIFICATES, SOFTHSM_MODULE, TOKEN, PIN, KEY, *certificates],
                   check=True, env=env, capture_output=True, timeout=60)
    return conf


def start(folder: Path, signataire: str = "Mme Nadia Ferhat",
          partenaire: str = "M. Paul Girard") -> Generator[TestPki, None, None]:
    """Issue the PKI in *folder* (the Département's certificate in the name of *signataire*, a partner's in the
    name of *partenaire*), serve its authority on 127.0.0.1 and fill the token; yields, then stops the server (a
    generator for a pytest fixture)."""
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    folder.mkdir(parents=True, exist_ok=True)
    _keys(folder)
    late = _Late()
    server = make_server("127.0.0.1", 0, late, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    config = CertomancerConfig(_architecture(url, signataire, partenaire), key_search_dir=str(folder))
    arch = config.get_pki_arch(ArchLabel("testing-ca"))
    late.app = Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False)
    # the TSA's address a département would be given: certomancer serves it under /testing-ca/tsa/<name>
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    racine = folder / "racine.pem"
    racine.write_bytes(_pem(arch.get_cert(CertLabel("racine")).dump()))
    p12s = {}
    for label in ("departement", "departement-expire", "partenaire"):
        p12s[label] = folder / f"{label}.p12"
        p12s[label].write_bytes(arch.package_pkcs12(CertLabel(label), password=P12_PASSWORD.encode()))
    try:
        yield TestPki(folder, url, racine, _token(folder, arch), p12s["departement"], p12s["departement-expire"],
                      p12s["partenaire"], arch)
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _pem(der: bytes) -> bytes:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n".encode()
