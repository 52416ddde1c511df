"""Files the tool produces: atomic writes, their records, archiving of superseded versions, SHA256SUMS, checks."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pacte_docs.files import move_into, now, sha256_bytes, sha256_file, write_atomic
from pacte_docs.registry.models import Document
from pacte_docs.workspace import Workspace

SUMS_NAME = "SHA256SUMS"


def current(session: Session, cle: str, nature: str, fmt: str) -> Document | None:
    """The current (not archived) record of an output."""
    return session.scalar(
        select(Document).where(Document.cle == cle, Document.nature == nature, Document.format == fmt,
                               Document.archive.is_(False))
    )


def current_many(session: Session, cles: list[str], nature: str) -> dict[tuple[str, str], Document]:
    """The current records of many outputs at once, by (cle, format)."""
    found: dict[tuple[str, str], Document] = {}
    for start in range(0, len(cles), 500):
        chunk = cles[start:start + 500]
        for record in session.scalars(select(Document).where(Document.cle.in_(chunk), Document.nature == nature,
                                                             Document.archive.is_(False))):
            found[(record.cle, record.format)] = record
    return found


def versions_many(session: Session, cles: list[str], nature: str) -> dict[tuple[str, str], int]:
    """The last version number of many outputs at once, by (cle, format)."""
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(cles), 500):
        chunk = cles[start:start + 500]
        rows = session.execute(select(Document.cle, Document.format, func.max(Document.version))
                               .where(Document.cle.in_(chunk), Document.nature == nature)
                               .group_by(Document.cle, Document.format))
        for cle, fmt, version in rows:
            found[(cle, fmt)] = version
    return found


def next_version(session: Session, cle: str, nature: str, fmt: str) -> int:
    versions = session.scalars(
        select(Document.version).where(Document.cle == cle, Document.nature == nature, Document.format == fmt)
    ).all()
    return max(versions, default=0) + 1


def is_intact(ws: Workspace, record: Document) -> bool:
    path = ws.root / record.chemin
    return path.is_file() and sha256_file(path) == record.sha256


def archive_record(session: Session, ws: Workspace, record: Document, folder: Path) -> str | None:
    """Move a superseded file to *folder* as <cle>-v<version>.<ext>, read-only; returns a note if it was altered.

    An archived file is never replaced. A run killed after archiving a version and before recording it left the
    version already in place: it is recorded there, and what its successor left under the current name is only
    an output about to be written again."""
    target = folder / f"{record.cle}-v{record.version}.{record.format}"
    if target.is_file() and sha256_file(target) == record.sha256:
        record.chemin = ws.relative(target)
        record.archive = True
        return None
    source = ws.root / record.chemin
    if not source.is_file():
        session.delete(record)
        return f"{record.chemin} avait disparu ; la version {record.version} n'a pas pu être archivée."
    note = None
    actual = sha256_file(source)
    if actual != record.sha256:
        note = f"{record.chemin} avait été modifié à la main ; il est archivé tel quel."
        record.sha256 = actual
    copy = 1
    while target.exists():
        copy += 1
        target = folder / f"{record.cle}-v{record.version}-{copy}.{record.format}"
    move_into(source, target)
    os.chmod(target, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    record.chemin = ws.relative(target)
    record.archive = True
    return note


def record_file(session: Session, ws: Workspace, path: Path, *, cle: str, nature: str, version: int,
                convention_id: int | None = None, data: bytes | None = None, modele_sha256: str | None = None,
                source_sha256: str | None = None, empreinte: str | None = None, pdfa: bool = False,
                archive: bool = False) -> Document:
    document = Document(
        convention_id=convention_id, nature=nature, format=path.suffix.lstrip(".").lower(), cle=cle,
        version=version, chemin=ws.relative(path), archive=archive,
        sha256=sha256_bytes(data) if data is not None else sha256_file(path),
        modele_sha256=modele_sha256, source_sha256=source_sha256, empreinte=empreinte, pdfa=pdfa, cree_le=now(),
    )
    session.add(document)
    return document


def write_sums(session: Session, ws: Workspace) -> None:
    """archives/SHA256SUMS lists every recorded file under archives/, relative to archives/."""
    session.flush()
    prefix = "archives/"
    rows = session.execute(
        select(Document.chemin, Document.sha256).where(Document.chemin.like(prefix + "%")).order_by(Document.chemin)
    ).all()
    lines = "".join(f"{sha}  {chemin[len(prefix):]}\n" for chemin, sha in rows)
    target = ws.archives / SUMS_NAME
    if not target.exists() or target.read_text(encoding="utf-8") != lines:
        write_atomic(target, lines.encode("utf-8"))


@dataclass(frozen=True)
class Anomaly:
    kind: str  # "modifie" | "manquant" | "inconnu" | "somme"
    path: str

    def __str__(self) -> str:
        label = {
            "modifie": "modifié depuis son enregistrement",
            "manquant": "manquant",
            "inconnu": "inconnu du registre",
            "somme": "absent de SHA256SUMS ou avec une somme différente",
        }[self.kind]
        return f"{self.path} : {label}"


def verify(session: Session, ws: Workspace) -> tuple[int, list[Anomaly]]:
    """Check every recorded file and look for files nobody recorded; returns (files checked, anomalies)."""
    anomalies: list[Anomaly] = []
    records = session.scalars(select(Document).order_by(Document.chemin)).all()
    recorded = set()
    checked = 0
    for record in records:
        path = ws.root / record.chemin
        recorded.add(record.chemin)
        if not path.is_file():
            anomalies.append(Anomaly("manquant", record.chemin))
            continue
        checked += 1
        if sha256_file(path) != record.sha256:
            anomalies.append(Anomaly("modifie", record.chemin))
    for folder in (ws.conventions, ws.archives):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                relative = ws.relative(path)
                if relative not in recorded and relative != f"archives/{SUMS_NAME}":
                    anomalies.append(Anomaly("inconnu", relative))
    sums = ws.archives / SUMS_NAME
    listed: dict[str, str] = {}
    if sums.is_file():
        for line in sums.read_text(encoding="utf-8").splitlines():
            if "  " in line:
                sha, name = line.split("  ", 1)
                listed["archives/" + name] = sha
    for record in records:
        if record.chemin.startswith("archives/") and listed.get(record.chemin) != record.sha256:
            anomalies.append(Anomaly("somme", f"archives/{SUMS_NAME} ({record.chemin})"))
    return checked, anomalies
