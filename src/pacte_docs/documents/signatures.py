"""What a signed copy proves, checked before it is recorded: its electronic signatures (pyHanko: signer, time,
integrity, what they cover and what changed after them, whether the signer's certificate chains to an authority
the département trusts), and that its text is this convention's, as generated — or, for a scan of a paper-signed
act, that it has the generated document's pages."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from pypdf import PdfReader

from pacte_docs.formatting import date_longue

# What pyHanko's difference analysis allows after a signature without doubting it: nothing, validation data,
# form filling and further signatures. Annotations and other changes alter what was signed.
_ALLOWED = {"NONE": "aucune", "LTA_UPDATES": "données de validation ajoutées",
            "FORM_FILLING": "remplissage de formulaire ou signature suivante"}
_CHANGED = {"ANNOTATIONS": "annotations ajoutées après la signature", "OTHER": "contenu modifié après la signature"}
_COVERAGE = {"ENTIRE_FILE": "tout le document", "ENTIRE_REVISION": "le document tel qu'il était alors",
             "CONTIGUOUS_BLOCK_FROM_START": "le début du document seulement", "UNCLEAR": "une partie incertaine"}
VALIDE = "valide"
NON_RECONNU = "intègre, certificat non reconnu"
MANUSCRITE = "signature manuscrite numérisée"
REFUSEE = "refusée"
MIN_TEXT = 200  # characters: below, a copy is an image (a scan without text layer)


@dataclass(frozen=True)
class Signature:
    """One electronic signature of the copy, as pyHanko finds it."""

    signataire: str
    date: str | None  # the signing time the signer reports (ISO 8601), if any
    integre: bool  # the signed bytes hash to what was signed, and the signature is the signer's key's
    couverture: str
    modifications: str
    reconnue: bool  # the certificate chains to an authority of [signature] autorites
    rapport: str = ""  # pyHanko's own report on the signature (English, as pyHanko writes it)
    horodatage: str | None = None  # the time a timestamping authority certified (ISO 8601), if the signature has one

    @property
    def acceptable(self) -> bool:
        return self.integre and self.modifications in _ALLOWED.values() and self.couverture in (
            _COVERAGE["ENTIRE_FILE"], _COVERAGE["ENTIRE_REVISION"])


@dataclass
class Verification:
    """Everything found about a signed copy: stored in the registry, written beside it as a JSON report."""

    nature: str  # "electronique" | "manuscrite"
    signatures: list[Signature] = field(default_factory=list)
    texte: str = ""  # "conforme" | "image" | "différent"
    refus: list[str] = field(default_factory=list)  # why it is not this convention's signed text
    avertissements: list[str] = field(default_factory=list)
    force: bool = False  # recorded although refused (--force)

    @property
    def verdict(self) -> str:
        if self.refus:
            return REFUSEE
        if self.nature == "manuscrite":
            return MANUSCRITE
        return VALIDE if all(s.reconnue for s in self.signatures) else NON_RECONNU

    def as_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "nature": self.nature, "texte": self.texte, "force": self.force,
                "refus": list(self.refus), "avertissements": list(self.avertissements),
                "signatures": [asdict(s) for s in self.signatures]}


def electronic_signatures(data: bytes, authorities: list[bytes]) -> list[Signature]:
    """Each electronic signature of the PDF *data*, validated offline against *authorities* (PEM or DER)."""
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    roots = [cert for pem in authorities for cert in load_certs_from_pemder_data(pem)]
    found = []
    try:
        embedded_signatures = list(PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures)
    except Exception:  # noqa: BLE001 — a signature dictionary pyHanko cannot read: a broken signature, in French
        return [Signature("(illisible)", None, False, _COVERAGE["UNCLEAR"], _CHANGED["OTHER"], False)]
    for embedded in embedded_signatures:
        try:
            with _quiet():  # pyHanko logs an untrusted chain with its traceback: the finding says it in French
                status = validate_pdf_signature(embedded, ValidationContext(trust_roots=roots, allow_fetching=False))
        except Exception:  # noqa: BLE001 — a signature pyHanko cannot even parse is a broken one
            found.append(Signature("(illisible)", None, False, _COVERAGE["UNCLEAR"], _CHANGED["OTHER"], False))
            continue
        level = status.modification_level.name if status.modification_level is not None else "OTHER"
        moment = getattr(status, "signer_reported_dt", None)
        stamped = getattr(status, "timestamp_validity", None)
        found.append(Signature(
            signataire=_who(status.signing_cert),
            date=moment.isoformat() if moment is not None else None,
            integre=bool(status.intact and status.valid),
            couverture=_COVERAGE.get(status.coverage.name if status.coverage is not None else "UNCLEAR",
                                     _COVERAGE["UNCLEAR"]),
            modifications=_ALLOWED.get(level) or _CHANGED.get(level, _CHANGED["OTHER"]),
            reconnue=bool(status.trusted), rapport=_details(status),
            horodatage=stamped.timestamp.isoformat() if stamped is not None and stamped.intact else None))
    return found


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _details(status: Any) -> str:
    try:
        return str(status.pretty_print_details())
    except Exception:  # noqa: BLE001 — the report is a complement; the findings above are what counts
        return ""


def _who(certificate: Any) -> str:
    """« Mme Nadia Ferhat (Département de test) »: the certificate subject's name and organisation."""
    if certificate is None:
        return "(inconnu)"
    subject = certificate.subject.native
    name = subject.get("common_name") or certificate.subject.human_friendly
    organisation = subject.get("organization_name")
    return f"{name} ({organisation})" if organisation else str(name)


def _squash(text: str) -> str:
    """Text as extraction gives it, reduced to what two copies of one document share: no spaces, plain dashes and
    apostrophes (LibreOffice's non-breaking hyphens and typographic quotes are the same letters)."""
    text = text.replace("\u2011", "-").replace("\u2019", "'").replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", "", text)


def _body(text: str, reference: str) -> str:
    """The text without the page furniture that differs between a draft and the final text (« PROJET » headers,
    « Page 2 sur 5 », the lines naming the reference)."""
    return "\n".join(line for line in text.splitlines() if reference not in line.replace("\u2011", "-")
                     and not re.search(r"\bPROJET\b|Page \d+ sur \d+|^\s*\d+\s*/\s*\d+\s*$", line))


def _articles(text: str, reference: str) -> dict[str, str]:
    """The text of each article, by its number (« 1er » → « 1 »), and what comes before the first one under
    « préambule », page furniture aside (_body)."""
    parts = re.split(r"(?m)^\s*Article\s+(\d+)(?:er)?\b", _body(text, reference))
    return {"préambule": _squash(parts[0]), **{parts[i]: _squash(parts[i + 1]) for i in range(1, len(parts) - 1, 2)}}


def _page_texts(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def _text(data: bytes) -> tuple[str, int]:
    texts = _page_texts(data)
    return "\n".join(texts), len(texts)


DRAFT_MARK = re.compile(r"\bPROJET\b")  # what pacte writes on each page of an act not yet signed


def compare(copy: bytes, generated: bytes | None, reference: str, verification: Verification) -> None:
    """Is the copy this convention, as generated? A copy with text must name the reference and give each article
    as the generated PDF does; an image (a scan without text) must have its pages. The tool's own draft, « PROJET »
    on each page, is no signed copy."""
    texts = _page_texts(copy)
    text, pages = "\n".join(texts), len(texts)
    if texts and all(DRAFT_MARK.search(page) for page in texts):
        if verification.nature == "manuscrite":  # no signature in it: the draft itself, printed to PDF
            verification.refus.append("chaque page porte la mention « PROJET » et la copie ne porte aucune signature "
                                      "électronique : c'est le projet que pacte a produit, pas l'acte signé ; donnez "
                                      "le scan de l'exemplaire signé ou le PDF signé électroniquement")
        else:
            verification.avertissements.append("chaque page porte la mention « PROJET » : c'est le projet qui a été "
                                               "signé électroniquement")
    expected_text, expected_pages = _text(generated) if generated is not None else ("", 0)
    if len(_squash(text)) < MIN_TEXT:
        verification.texte = "image"
        verification.avertissements.append(
            "copie sans texte (scan en image) : son texte n'a pas pu être comparé à celui de la convention")
        if generated is not None and pages != expected_pages:
            verification.refus.append(f"la copie a {pages} page{'s' if pages > 1 else ''}, la convention générée "
                                      f"{expected_pages}")
        return
    if _squash(reference) not in _squash(text):
        verification.texte = "différent"
        verification.refus.append(f"le texte de la copie ne nomme pas la convention {reference} : c'est un autre "
                                  "document")
        return
    if generated is None:
        verification.texte = "conforme"
        verification.avertissements.append("aucun PDF généré enregistré : seule la référence a été vérifiée")
        return
    # the whole text, compared: each article, what precedes them, nothing added after, the same pages
    mine, theirs = _articles(expected_text, reference), _articles(text, reference)
    different = [number for number in mine if number != "préambule" and theirs.get(number) != mine[number]]
    added = [number for number in theirs if number not in mine]
    reasons = []
    if different:
        reasons.append(f"article{'s' if len(different) > 1 else ''} {', '.join(different)} "
                       f"différent{'s' if len(different) > 1 else ''}")
    if added:
        reasons.append(f"article{'s' if len(added) > 1 else ''} {', '.join(added)} "
                       f"ajouté{'s' if len(added) > 1 else ''}")
    if theirs.get("préambule") != mine.get("préambule"):
        reasons.append("texte différent avant l'article 1er")
    if pages != expected_pages:
        reasons.append(f"{pages} page{'s' if pages > 1 else ''} au lieu de {expected_pages}")
    if reasons:
        verification.texte = "différent"
        verification.refus.append(f"le texte de la copie diffère de la convention enregistrée ({' ; '.join(reasons)}) "
                                  ": copie d'une autre version, ou texte ajouté ?")
        return
    verification.texte = "conforme"


def verify(copy: bytes, generated: bytes | None, reference: str, authorities: list[bytes]) -> Verification:
    """The findings about a signed copy of *reference* (see the module)."""
    signatures = electronic_signatures(copy, authorities)
    verification = Verification("electronique" if signatures else "manuscrite", signatures)
    for number, signature in enumerate(signatures, start=1):
        if not signature.integre:
            verification.refus.append(f"signature {number} ({signature.signataire}) rompue : le document a été "
                                      "modifié ou la signature est invalide")
        elif not signature.acceptable:
            verification.refus.append(f"signature {number} ({signature.signataire}) : {signature.modifications} "
                                      f"(elle couvre {signature.couverture})")
    compare(copy, generated, reference, verification)
    return verification


def describe(verification: Verification) -> list[str]:
    """What a user reads of the findings, in French."""
    lines = [f"Copie signée : {verification.verdict}" + (" — enregistrée avec --force" if verification.force else "")
             + "."]
    for number, s in enumerate(verification.signatures, start=1):
        when = f", le {date_longue(dt.date.fromisoformat(s.date[:10]))}" if s.date else ""
        if s.horodatage:
            stamped = dt.datetime.fromisoformat(s.horodatage).astimezone()
            when += f", horodatée le {date_longue(stamped.date())} à {stamped:%H} h {stamped:%M}"
        lines.append(f"  signature {number} : {s.signataire}{when} ; {'intègre' if s.integre else 'ROMPUE'} ; couvre "
                     f"{s.couverture} ; modifications après elle : {s.modifications} ; certificat "
                     f"{'reconnu' if s.reconnue else 'non reconnu'}")
    lines += [f"  refus : {reason}" for reason in verification.refus]
    lines += [f"  attention : {warning}" for warning in verification.avertissements]
    return lines
