"""The Département's own electronic signature of an act (PAdES, pyHanko): the key and certificate from a PKCS#11
token or a PKCS#12 file ([signature_electronique] of pacte.toml; the PIN or password from the environment only),
a visible signature in the Département's own signature block, a timestamp from the configured RFC 3161 authority,
and the validation data (certificates, OCSP responses, revocation lists) embedded in the file (PAdES B-LT) so that
the signature can be checked after the certificate has expired. A signature added to a file already signed (by a
partner) is an incremental update: the earlier signature stays valid."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from pacte_docs.errors import AuthorityError, PacteError, SignatureError

PIN_VARIABLE = "PACTE_PIN_SIGNATURE"
PASSWORD_VARIABLE = "PACTE_MOT_DE_PASSE_SIGNATURE"
FIELD = "SignatureDepartement"
MARKER = "Pour le Département"  # the first line of the Département's signature block, in every act
TSA_TIMEOUT = 20  # seconds: the timestamping authority and the revocation services each


@dataclass(frozen=True)
class Stamp:
    """What the visible signature says: who signs, in which quality, when."""

    nom: str
    qualite: str
    quand: dt.datetime

    def text(self) -> str:
        from pacte_docs.formatting import moment_long

        moment = moment_long(self.quand).replace("\u00a0", " ")
        day, _, hour = moment.partition(" à ")
        return f"Signé électroniquement par\n{self.nom}\n{self.qualite}\nle {day}\nà {hour}"


@contextlib.contextmanager
def opened_signer(settings: dict[str, str], root: Path) -> Iterator[Any]:
    """The Département's signer, from its token or its PKCS#12 file; closed afterwards. Every failure is said in
    French: a missing PIN or file, a wrong PIN, a key not on the token (exit 1), a module that cannot be loaded
    (exit 3)."""
    if "fichier" in settings:
        yield _pkcs12_signer(root / settings["fichier"])
        return
    pin = os.environ.get(PIN_VARIABLE)
    if not pin:
        raise SignatureError(f"Le code PIN du jeton de signature manque : donnez-le dans la variable "
                             f"d'environnement {PIN_VARIABLE} (jamais dans pacte.toml). Rien n'a été signé.")
    module = settings["module"]
    if not Path(module).is_file():
        raise AuthorityError(f"Le module PKCS#11 {module} ([signature_electronique] module) est introuvable : "
                             "installez le pilote du jeton ou corrigez le chemin. Rien n'a été signé.")
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    try:
        session = open_pkcs11_session(module, token_criteria=TokenCriteria(label=settings["jeton"]), user_pin=pin)
    except Exception as exc:  # noqa: BLE001 — pkcs11 raises its own classes, without French messages
        name = type(exc).__name__
        if "Pin" in name:
            raise SignatureError(f"Le jeton « {settings['jeton']} » refuse le code PIN ({name}) : vérifiez "
                                 f"{PIN_VARIABLE}. Rien n'a été signé.") from None
        if "No token" in str(exc) or "Token" in name:
            raise SignatureError(f"Aucun jeton « {settings['jeton']} » n'est présent ([signature_electronique] "
                                 "jeton) : branchez-le ou corrigez son étiquette. Rien n'a été signé.") from None
        raise AuthorityError(f"Le module PKCS#11 {module} n'a pas pu ouvrir le jeton ({name} : {exc}). Rien n'a "
                             "été signé.") from None
    try:
        try:
            signer = PKCS11Signer(session, key_label=settings["cle"], cert_label=settings["cle"],
                                  other_certs_to_pull=None)
            signer.signing_cert  # noqa: B018 — fetched now, so that a missing certificate is said here
        except Exception as exc:  # noqa: BLE001
            raise SignatureError(f"Le jeton « {settings['jeton']} » n'a pas de clé et de certificat « "
                                 f"{settings['cle']} » ([signature_electronique] cle) ({type(exc).__name__}). Rien "
                                 "n'a été signé.") from None
        yield signer
    finally:
        session.close()


def _pkcs12_signer(path: Path) -> Any:
    from pyhanko.sign import signers

    if not path.is_file():
        raise SignatureError(f"Le fichier PKCS#12 {path} ([signature_electronique] fichier) est introuvable. Rien "
                             "n'a été signé.")
    password = os.environ.get(PASSWORD_VARIABLE)
    load: Any = signers.SimpleSigner.load_pkcs12
    try:
        signer = load(str(path), passphrase=password.encode() if password else None)
    except Exception:  # noqa: BLE001 — pyHanko logs and returns None, or raises, on a wrong password
        signer = None
    if signer is None:
        raise SignatureError(f"Le fichier PKCS#12 {path} ne s'ouvre pas : mot de passe faux ou absent (variable "
                             f"{PASSWORD_VARIABLE}), ou fichier abîmé. Rien n'a été signé.")
    return signer


def certificate_problem(signer: Any, now: dt.datetime) -> str | None:
    """Why the signer's certificate cannot sign at *now* (expired, not yet valid, not for signing), or None."""
    from pacte_docs.formatting import date_longue

    cert = signer.signing_cert
    begins, ends = cert.not_valid_before, cert.not_valid_after
    who = cert.subject.native.get("common_name") or cert.subject.human_friendly
    if now > ends:
        return (f"Le certificat de signature de {who} a expiré le {date_longue(ends.date())} : demandez-en un "
                "nouveau à l'autorité de certification et installez-le. Rien n'a été signé.")
    if now < begins:
        return (f"Le certificat de signature de {who} n'est valable qu'à partir du {date_longue(begins.date())}. "
                "Rien n'a été signé.")
    usage = cert.key_usage_value
    if usage is not None and not ({"digital_signature", "non_repudiation"} & set(usage.native)):
        return f"Le certificat de {who} ne permet pas de signer (usage : {', '.join(usage.native)})."
    return None


def signer_name(signer: Any) -> str:
    return str(signer.signing_cert.subject.native.get("common_name") or signer.signing_cert.subject.human_friendly)


def block(pdf: bytes) -> tuple[int, tuple[int, int, int, int]]:
    """Where the visible signature goes: in the Département's signature block (« Pour le Département, », its
    quality, the blank lines left for the signature, the signatory's name), on the last page that has one; the
    box sits between the quality and the name. Raises when the act has no such block."""
    reader = PdfReader(io.BytesIO(pdf))
    for index in range(len(reader.pages) - 1, -1, -1):
        page = reader.pages[index]
        lines: list[tuple[float, float, str]] = []

        def seen(text: str, cm: Any, tm: Any, _font: Any, _size: Any, lines: list[Any] = lines) -> None:
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                lines.append((x, y, text.strip()))

        page.extract_text(visitor_text=seen)
        marker = next(((x, y) for x, y, text in lines if text.replace("\u00a0", " ").startswith(MARKER)), None)
        if marker is None:
            continue
        middle = float(page.mediabox.width) / 2
        left = min(x for x, y, _ in lines if y <= marker[1] + 1)
        column = sorted({round(y) for x, y, _ in lines if x < middle and y < marker[1] - 1 and y > 50},
                        reverse=True)
        top = marker[1]
        for y in column:  # the quality's lines follow one another; the blank lines left for the signature break it
            if top - y > 22:
                break
            top = y
        below = [y for y in column if y < top - 22]
        bottom = (below[0] + 11) if below else top - 70
        height = max(40.0, min(top - 4 - bottom, 80.0))
        x1 = max(left - 6, 36)
        return index, (round(x1), round(top - 4 - height), round(min(x1 + 230, middle - 4)), round(top - 4))
    raise SignatureError("L'acte n'a pas de bloc de signature « Pour le Département, » où placer la signature "
                         "visible : vérifiez son modèle (pacte modeles verifier).")


def sign(pdf: bytes, signer: Any, settings: dict[str, str], roots: list[bytes], stamp: Stamp,
         reason: str, location: str | None) -> bytes:
    """*pdf* signed by *signer* in PAdES B-LT: a visible signature in the Département's block, a timestamp from
    [signature_electronique] horodatage, the validation data fetched from the certificates' revocation services and
    embedded. An authority that does not answer → AuthorityError (exit 3); a certificate the département's
    authorities do not recognise or that is revoked → SignatureError (exit 1). Nothing is written."""
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko.stamp import TextStampStyle
    from pyhanko_certvalidator import ValidationContext

    from pacte_docs.documents.signatures import _quiet

    page, box = block(pdf)
    trust = [cert for pem in roots for cert in load_certs_from_pemder_data(pem)]
    if not trust:
        raise SignatureError("Aucune autorité de certification n'est reconnue ([signature] autorites de pacte.toml) :"
                             " la signature ne pourrait pas être vérifiée. Ajoutez celle du certificat du "
                             "Département. Rien n'a été signé.")
    context = ValidationContext(trust_roots=trust, allow_fetching=True, fetcher_backend=_fetchers())
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD, subfilter=fields.SigSeedSubFilter.PADES, embed_validation_info=True,
        validation_context=context, reason=reason, location=location, name=stamp.nom)
    # pyHanko's own font (Courier): its OpenType path, with the HarfBuzz of the lock, spaces the letters apart
    style = TextStampStyle(stamp_text=stamp.text(), border_width=1, background=None,
                           text_box_style=TextBoxStyle(font_size=8))
    pdf_signer = signers.PdfSigner(
        metadata, signer=signer, timestamper=timestamps.HTTPTimeStamper(settings["horodatage"], timeout=TSA_TIMEOUT),
        new_field_spec=fields.SigFieldSpec(FIELD, on_page=page, box=box), stamp_style=style)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    try:
        with _quiet():
            out = pdf_signer.sign_pdf(writer)
    except Exception as exc:  # noqa: BLE001 — pyHanko's errors name the cause in English: said here in French
        raise _said(exc, settings["horodatage"]) from None
    return bytes(out.getvalue())


def _fetchers() -> Any:
    from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

    return RequestsFetcherBackend(per_request_timeout=TSA_TIMEOUT)


def _said(exc: Exception, tsa: str) -> PacteError:
    """A failure of the signature, in French: which authority did not answer, or what the certificate lacks."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    names = " ".join(f"{type(e).__module__}.{type(e).__name__}: {e}" for e in chain)
    if "TimestampRequestError" in names or re.search(r"time ?stamp", names, re.IGNORECASE):
        return AuthorityError(f"L'autorité d'horodatage {tsa} ([signature_electronique] horodatage) n'a pas donné "
                              f"de jeton d'horodatage ({_short(chain[-1])}). Rien n'a été signé ni enregistré : "
                              "réessayez plus tard, ou vérifiez son adresse.")
    if "revoked" in names.lower():
        return SignatureError("Le certificat de signature du Département est révoqué : il ne peut plus signer. "
                              "Rien n'a été signé.")
    if re.search(r"requests|urllib3|ConnectionError|Timeout|fetch", names):
        return AuthorityError(f"Un service de révocation (OCSP ou liste de révocation) de l'autorité de "
                              f"certification ne répond pas ({_short(chain[-1])}) : les données de validation ne "
                              "peuvent pas être jointes à la signature. Rien n'a été signé ni enregistré ; "
                              "réessayez plus tard.")
    if re.search(r"PathBuilding|PathValidation|trust|InsufficientRevinfo|Validation", names):
        return SignatureError(f"Le certificat du Département ne remonte pas à une autorité reconnue ([signature] "
                              f"autorites) ou sa validité ne peut être établie ({_short(chain[0])}). Rien n'a été "
                              "signé.")
    return SignatureError(f"La signature n'a pas pu être faite ({_short(chain[0])}). Rien n'a été signé.")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
