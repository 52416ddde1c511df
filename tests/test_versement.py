"""Issue 15, part 2: ended conventions transferred to the Archives départementales as a SEDA 2.3 package, valid
against the official schemas (validated here with xmlschema, offline, from the copies the package ships)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from importlib import resources
from pathlib import Path

import pytest
import xmlschema
from lxml import etree

from tests.helpers import DATA, Pacte

NS = {"s": "fr:gouv:culture:archivesdefrance:seda:v2.3"}
ARCHIVAGE = """
[archivage]
service_archives = "FRAD094"
service_versant = "FRDEP094-DIE"
accord = "AV-DIE-2026-01"
regle = "APP0010"
duree = "P10Y"
sort_final = "conserver"
"""


def _schema() -> xmlschema.XMLSchema:
    folder = resources.files("pacte_docs") / "seda"
    return xmlschema.XMLSchema(str(folder / "seda-2.3-main.xsd"), locations=[
        ("http://www.w3.org/XML/1998/namespace", str(folder / "xml.xsd")),
        ("http://www.w3.org/1999/xlink", str(folder / "xlink.xsd"))])


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_ended_conventions_go_to_the_archives_as_a_valid_seda_package(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "alertes.yaml"))
    pacte("conventions", "generer", "FT-2023-104", "CCAS-2024-101", "--sans-pdf")
    out = tmp_path / "versement.zip"
    missing = pacte("--au", "2026-12-01", "archives", "verser", "--terminees", "--sortie", str(out), ok=False)
    assert missing.exit_code == 1 and "section [archivage] de pacte.toml" in missing.output and not out.exists()
    config = pacte.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[archivage]", "[archivage-exemple]") + ARCHIVAGE,
                      encoding="utf-8")
    running = pacte("--au", "2026-12-01", "archives", "verser", "CCAS-2024-101", "--sortie", str(out), ok=False)
    assert running.exit_code == 1 and "CCAS-2024-101 : toujours en vigueur au 1er décembre 2026" in running.output
    done = pacte("--au", "2026-12-01", "archives", "verser", "--terminees", "--sortie", str(out))
    assert "Conventions versées : FT-2023-104" in done.output
    package = zipfile.ZipFile(out)
    manifest = package.read("manifest.xml")
    _schema().validate(etree.fromstring(manifest))  # raises with the first error otherwise
    root = etree.fromstring(manifest)
    assert root.findtext("s:ArchivalAgency/s:Identifier", namespaces=NS) == "FRAD094"
    assert root.findtext("s:TransferringAgency/s:Identifier", namespaces=NS) == "FRDEP094-DIE"
    assert root.findtext("s:ArchivalAgreement", namespaces=NS) == "AV-DIE-2026-01"
    units = root.findall("s:DataObjectPackage/s:DescriptiveMetadata/s:ArchiveUnit", namespaces=NS)
    assert [u.findtext("s:Content/s:OriginatingSystemId", namespaces=NS) for u in units] == ["FT-2023-104"]
    assert units[0].findtext("s:Management/s:AppraisalRule/s:Rule", namespaces=NS) == "APP0010"
    assert units[0].findtext("s:Management/s:AppraisalRule/s:FinalAction", namespaces=NS) == "Keep"
    objects = root.findall(".//s:BinaryDataObject", namespaces=NS)
    assert objects and len(objects) == len(units[0].findall("s:ArchiveUnit", namespaces=NS))
    for binary in objects:  # every digest and size is the file's
        data = package.read(binary.findtext("s:Uri", namespaces=NS))
        assert binary.findtext("s:MessageDigest", namespaces=NS) == hashlib.sha512(data).hexdigest()
        assert binary.find("s:MessageDigest", namespaces=NS).get("algorithm") == "SHA-512"
        assert int(binary.findtext("s:Size", namespaces=NS)) == len(data)
    again = tmp_path / "encore.zip"
    pacte("--au", "2026-12-01", "archives", "verser", "--terminees", "--sortie", str(again))
    assert again.read_bytes() == out.read_bytes()  # the same registry, the same bytes
    journal = json.loads(pacte("conventions", "afficher", "FT-2023-104", "--format", "json").output)["journal"]
    assert journal[-1]["nature"] == "versement" and "FRAD094" in journal[-1]["description"]
    forced = pacte("--au", "2026-12-01", "archives", "verser", "CCAS-2024-101", "--sortie", str(tmp_path / "f.zip"),
                   "--force")
    assert "CCAS-2024-101" in forced.output
    _schema().validate(etree.parse(io.BytesIO(zipfile.ZipFile(tmp_path / "f.zip").read("manifest.xml"))))
