"""The transfer of ended conventions to the Archives départementales in SEDA 2.3 (Standard d'échange de données
pour l'archivage): a zip holding `manifest.xml` — an ArchiveTransfer valid against the official schemas shipped in
`pacte_docs/seda/` — and the files it describes under `content/`. One ArchiveUnit per convention, its acts as
sub-units, one BinaryDataObject per file with its SHA-512; management rules from pacte.toml [archivage].

The same registry gives the same bytes: the message's date is the last event it transfers, the zip entries carry a
fixed date, and everything is written in a fixed order."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from lxml import etree

NS = "fr:gouv:culture:archivesdefrance:seda:v2.3"
_E = f"{{{NS}}}"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FORMATS = {"pdf": ("application/pdf", "fmt/276"), "docx": (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "fmt/412"),
    "json": ("application/json", "fmt/817")}


@dataclass(frozen=True)
class Piece:
    """One file of a convention's file, as it goes to the Archives."""

    chemin: str  # in the workspace
    titre: str  # « Convention signée », « Avenant n° 1 »…
    data: bytes
    date: dt.date | None = None


@dataclass
class Dossier:
    """A convention and what goes with it."""

    reference: str
    titre: str
    debut: dt.date
    fin: dt.date
    parties: list[str]
    mots_cles: list[str]
    pieces: list[Piece] = field(default_factory=list)


@dataclass(frozen=True)
class Rules:
    """[archivage] of pacte.toml: who transfers to whom, under which agreement, and the appraisal rule."""

    service_archives: str
    service_versant: str
    accord: str | None
    regle: str  # the appraisal rule's identifier in the tableau de gestion, e.g. « APP0010 »
    duree: str  # its duration, ISO 8601 (« P10Y »)
    sort_final: str  # « Keep » (conserver) or « Destroy » (éliminer)


_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _sub(parent: Any, name: str, text: str | None = None, **attributes: str) -> Any:
    element = etree.SubElement(parent, _E + name, {(_LANG if k == "lang" else k): v for k, v in attributes.items()})
    if text is not None:
        element.text = text
    return element


def manifest(dossiers: list[Dossier], rules: Rules, moment: dt.datetime, identifier: str) -> bytes:
    """The ArchiveTransfer message describing *dossiers*."""
    root = etree.Element(_E + "ArchiveTransfer", nsmap={None: NS})
    plural = "s" if len(dossiers) > 1 else ""
    _sub(root, "Comment", f"Versement de {len(dossiers)} convention{plural} d'insertion arrivée{plural} à leur "
                          f"terme ; règle de sort final {rules.regle} : durée {rules.duree}, "
                          f"{'conservation' if rules.sort_final == 'Keep' else 'élimination'} à son terme.")
    _sub(root, "Date", moment.strftime("%Y-%m-%dT%H:%M:%S"))
    _sub(root, "MessageIdentifier", identifier)
    if rules.accord:
        _sub(root, "ArchivalAgreement", rules.accord)
    _sub(root, "CodeListVersions")
    package = _sub(root, "DataObjectPackage")
    groups: list[tuple[str, Piece, str]] = []
    for d_index, dossier in enumerate(dossiers, start=1):
        for p_index, piece in enumerate(dossier.pieces, start=1):
            groups.append((f"GRP-{d_index}-{p_index}", piece, f"OBJ-{d_index}-{p_index}"))
    for group_id, piece, object_id in groups:
        group = _sub(package, "DataObjectGroup", id=group_id)
        binary = _sub(group, "BinaryDataObject", id=object_id)
        _sub(binary, "DataObjectVersion", "BinaryMaster_1")
        _sub(binary, "Uri", "content/" + piece.chemin)
        _sub(binary, "MessageDigest", hashlib.sha512(piece.data).hexdigest(), algorithm="SHA-512")
        _sub(binary, "Size", str(len(piece.data)))
        mime, puid = FORMATS.get(piece.chemin.rsplit(".", 1)[-1].lower(), ("application/octet-stream", "UNKNOWN"))
        identification = _sub(binary, "FormatIdentification")
        _sub(identification, "MimeType", mime)
        _sub(identification, "FormatId", puid)
        info = _sub(binary, "FileInfo")
        _sub(info, "Filename", piece.chemin.rsplit("/", 1)[-1])
    descriptive = _sub(package, "DescriptiveMetadata")
    by_piece = {id(piece): group_id for group_id, piece, _ in groups}
    for d_index, dossier in enumerate(dossiers, start=1):
        unit = _sub(descriptive, "ArchiveUnit", id=f"AU-{d_index}")
        management = _sub(unit, "Management")
        appraisal = _sub(management, "AppraisalRule")
        _sub(appraisal, "Rule", rules.regle)
        _sub(appraisal, "StartDate", dossier.fin.isoformat())
        _sub(appraisal, "FinalAction", rules.sort_final)
        content = _sub(unit, "Content")
        _sub(content, "DescriptionLevel", "File")
        _sub(content, "Title", dossier.titre, lang="fr")
        _sub(content, "OriginatingSystemId", dossier.reference)
        _sub(content, "Description", f"Convention {dossier.reference} entre " + " et ".join(dossier.parties) + ".",
             lang="fr")
        for word in dossier.mots_cles:
            keyword = _sub(content, "Keyword")
            _sub(keyword, "KeywordContent", word)
        _sub(content, "StartDate", dossier.debut.isoformat() + "T00:00:00")
        _sub(content, "EndDate", dossier.fin.isoformat() + "T00:00:00")
        for p_index, piece in enumerate(dossier.pieces, start=1):
            sub = _sub(unit, "ArchiveUnit", id=f"AU-{d_index}-{p_index}")
            sub_content = _sub(sub, "Content")
            _sub(sub_content, "DescriptionLevel", "Item")
            _sub(sub_content, "Title", piece.titre, lang="fr")
            if piece.date is not None:
                _sub(sub_content, "StartDate", piece.date.isoformat() + "T00:00:00")
            reference = _sub(sub, "DataObjectReference")
            _sub(reference, "DataObjectGroupReferenceId", by_piece[id(piece)])
    management_metadata = _sub(package, "ManagementMetadata")
    _sub(management_metadata, "OriginatingAgencyIdentifier", rules.service_versant)
    archival = _sub(root, "ArchivalAgency")
    _sub(archival, "Identifier", rules.service_archives)
    transferring = _sub(root, "TransferringAgency")
    _sub(transferring, "Identifier", rules.service_versant)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


@functools.lru_cache(maxsize=1)
def schema() -> Any:
    """The SEDA 2.3 schema, from the copies shipped in the package (offline); built once per process (a second)."""
    import xmlschema

    folder = resources.files("pacte_docs") / "seda"
    return xmlschema.XMLSchema(str(folder / "seda-2.3-main.xsd"), locations=[
        ("http://www.w3.org/XML/1998/namespace", str(folder / "xml.xsd")),
        ("http://www.w3.org/1999/xlink", str(folder / "xlink.xsd"))])


def package(dossiers: list[Dossier], rules: Rules, moment: dt.datetime, identifier: str) -> bytes:
    """The transfer package: manifest.xml, validated, and the files under content/."""
    xml = manifest(dossiers, rules, moment, identifier)
    schema().validate(etree.fromstring(xml))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [("manifest.xml", xml)] + [("content/" + p.chemin, p.data)
                                                     for d in dossiers for p in d.pieces]:
            entry = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return out.getvalue()
