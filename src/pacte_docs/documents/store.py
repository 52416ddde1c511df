"""The document store: every file the tool produces is written, recorded, archived when superseded, hashed into
archives/SHA256SUMS and checked « up to date » here — conventions, avenants, acts, PDI/PTI and bilans alike.

A document is a (cle, nature, format): « CCAS-2024-001 », « convention », « pdf ». Its current version lives
where the job puts it; a superseded version moves to an archive folder as <cle>-v<N>.<format>, read-only, and is
never replaced. The database is the source of truth: each file is recorded with its SHA-256 and what it was made
from (template, source file, fingerprint of the data)."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pacte_docs.files import move_into, now, sha256_bytes, sha256_file, stage, write_atomic
from pacte_docs.registry.models import Document
from pacte_docs.workspace import Workspace

SUMS_NAME = "SHA256SUMS"
_CHUNK = 500  # keys per IN (…) query
Key = tuple[str, str, str]  # (cle, nature, format)


@dataclass
class DocumentStore:
    """The documents of a workspace, within one database session; the caller commits."""

    session: Session
    ws: Workspace
    notes: list[str] = field(default_factory=list)  # what the user should know (a file altered by hand, …)
    _current: dict[Key, Document | None] = field(default_factory=dict, repr=False)
    _versions: dict[Key, int] = field(default_factory=dict, repr=False)
    _loaded: set[tuple[str, str]] = field(default_factory=set, repr=False)
    _relative: dict[Path, str] = field(default_factory=dict, repr=False)

    def relative(self, path: Path) -> str:
        """*path* relative to the workspace, once it is known to stay inside (`Workspace.confined`): each path of
        a batch is resolved once, where staging, moving and recording a file would each resolve it."""
        found = self._relative.get(path)
        if found is None:
            found = self._relative[path] = self.ws.relative(path)
        return found

    @property
    def mine(self) -> Any:
        """The condition « made by this workspace »: on a registry shared by several sites, each sees, verifies,
        archives and versions its own files only."""
        return Document.site == self.ws.site

    # ------------------------------------------------------------ reading

    def load(self, cles: Sequence[str], nature: str) -> None:
        """Read the current records and last versions of many documents at once (a bulk generation)."""
        todo = [c for c in dict.fromkeys(cles) if (c, nature) not in self._loaded]
        for start in range(0, len(todo), _CHUNK):
            chunk = todo[start:start + _CHUNK]
            for record in self.session.scalars(select(Document).where(
                    self.mine, Document.cle.in_(chunk), Document.nature == nature, Document.archive.is_(False))):
                self._current[(record.cle, nature, record.format)] = record
            for cle, fmt, version in self.session.execute(
                    select(Document.cle, Document.format, func.max(Document.version))
                    .where(self.mine, Document.cle.in_(chunk), Document.nature == nature)
                    .group_by(Document.cle, Document.format)):
                self._versions[(cle, nature, fmt)] = version
        self._loaded.update((c, nature) for c in todo)

    def current(self, cle: str, nature: str, fmt: str) -> Document | None:
        """The current (not archived) record of a document."""
        key = (cle, nature, fmt)
        if (cle, nature) in self._loaded or key in self._current:
            return self._current.get(key)
        found = self.session.scalar(select(Document).where(
            self.mine, Document.cle == cle, Document.nature == nature, Document.format == fmt,
            Document.archive.is_(False)))
        self._current[key] = found
        return found

    def is_intact(self, record: Document) -> bool:
        """The recorded file is there with the bytes it was recorded with."""
        path = self.ws.root / record.chemin
        return path.is_file() and sha256_file(path) == record.sha256

    def intact_bytes(self, record: Document) -> bytes | None:
        """The recorded file's bytes, read once, when they are those it was recorded with; None otherwise."""
        path = self.ws.root / record.chemin
        data = path.read_bytes() if path.is_file() else None
        return data if data is not None and sha256_bytes(data) == record.sha256 else None

    def is_up_to_date(self, record: Document | None, **made_from: Any) -> bool:
        """The document exists, intact, and was made from exactly *made_from* (empreinte, modele_sha256,
        source_sha256, pdfa…): then there is nothing to redo. A PDF/A copy answers a request for a plain PDF: a
        document is never downgraded."""
        return record is not None and all(
            getattr(record, name) == value or (name == "pdfa" and record.pdfa and not value)
            for name, value in made_from.items()) and self.is_intact(record)

    def latest(self, cles: Sequence[str], nature: str) -> dict[str, Document]:
        """The last version of each document of *nature* (archived or not): a convention's signed copy."""
        found: dict[str, Document] = {}
        todo = sorted(set(cles))
        for start in range(0, len(todo), _CHUNK):
            for record in self.session.scalars(select(Document).where(
                    self.mine, Document.cle.in_(todo[start:start + _CHUNK]), Document.nature == nature)
                    .order_by(Document.version)):
                found[record.cle] = record
        return found

    def current_pdfs(self) -> list[Document]:
        """Every current (not archived) PDF the registry records, by path."""
        return list(self.session.scalars(select(Document).where(self.mine, Document.format == "pdf",
                                                                 Document.archive.is_(False))
                                         .order_by(Document.chemin)))

    def documents(self, convention_id: int) -> list[Document]:
        """Every document of a convention, current and archived, in the order they were made."""
        return list(self.session.scalars(select(Document).where(self.mine, Document.convention_id == convention_id)
                                         .order_by(Document.cree_le, Document.id)))

    # ------------------------------------------------------------ writing

    def retire(self, cle: str, nature: str, fmt: str, folder: Path) -> bool:
        """Archive the current version of a document into *folder*; False when there was none."""
        record = self.current(cle, nature, fmt)
        if record is None:
            return False
        note = self._archive(record, folder)
        if note:
            self.notes.append(note)
        self._current[(cle, nature, fmt)] = None
        self.session.flush()
        return True

    def put(self, target: Path, content: bytes | Path, *, cle: str, nature: str, folder: Path,
            convention_id: int | None = None, sha256: str | None = None, **made_from: Any) -> Document:
        """Make *content* the current version of the document at *target*: its predecessor is archived into
        *folder*, the bytes are written atomically (or the file *content*, already on disk, is moved into place;
        *sha256* is its digest when the caller knows it), and the new version is recorded with what it was made
        from."""
        fmt = target.suffix.lstrip(".").lower()
        self.relative(target)  # *folder* is confined where a version is archived into it (`_archive`)
        # The new bytes are on disk before the current version is archived: a full disk leaves it in place.
        staged = content if isinstance(content, Path) else stage(target, content)
        try:
            os.chmod(staged, 0o644)
            sha = sha256 or sha256_file(staged)
            self.retire(cle, nature, fmt, folder)
            move_into(staged, target)
        except BaseException:
            if staged is not content:
                staged.unlink(missing_ok=True)
            raise
        return self._record(target, sha, cle=cle, nature=nature, fmt=fmt, convention_id=convention_id,
                            archive=False, made_from=made_from)

    def freeze(self, target: Path, data: bytes, *, cle: str, nature: str,
               convention_id: int | None = None) -> Document:
        """Add a document straight to the archives, read-only (a signed copy): it is never superseded."""
        write_atomic(self.ws.confined(target), data, read_only=True)
        return self._record(target, sha256_bytes(data), cle=cle, nature=nature, fmt=target.suffix.lstrip(".").lower(),
                            convention_id=convention_id, archive=True, made_from={})

    def next_version(self, cle: str, nature: str, fmt: str) -> int:
        key = (cle, nature, fmt)
        if key not in self._versions and (cle, nature) not in self._loaded:
            self._versions[key] = self.session.scalar(select(func.max(Document.version)).where(
                self.mine, Document.cle == cle, Document.nature == nature, Document.format == fmt)) or 0
        return self._versions.get(key, 0) + 1

    def write_sums(self) -> None:
        """archives/SHA256SUMS lists every recorded file under archives/, relative to archives/."""
        self.session.flush()
        prefix = "archives/"
        rows = self.session.execute(
            select(Document.chemin, Document.sha256).where(self.mine, Document.chemin.like(prefix + "%"))
            .order_by(Document.chemin)).all()
        lines = "".join(f"{sha}  {chemin[len(prefix):]}\n" for chemin, sha in rows)
        target = self.ws.confined(self.ws.archives / SUMS_NAME)
        if not target.exists() or target.read_text(encoding="utf-8") != lines:
            write_atomic(target, lines.encode("utf-8"))

    # ------------------------------------------------------------ inside

    def _record(self, target: Path, sha: str, *, cle: str, nature: str, fmt: str, convention_id: int | None,
                archive: bool, made_from: dict[str, Any]) -> Document:
        version = self.next_version(cle, nature, fmt)
        document = Document(site=self.ws.site, convention_id=convention_id, nature=nature, format=fmt, cle=cle,
                            version=version,
                            chemin=self.relative(target), archive=archive, sha256=sha, cree_le=now(),
                            **made_from)
        self.session.add(document)
        self._versions[(cle, nature, fmt)] = version
        if not archive:
            self._current[(cle, nature, fmt)] = document
        return document

    def _archive(self, record: Document, folder: Path) -> str | None:
        """Move a superseded file to *folder* as <cle>-v<version>.<ext>, read-only; returns a note if it was altered.

        An archived file is never replaced. A run killed after archiving a version and before recording it left
        the version already in place: it is recorded there, and what its successor left under the current name is
        only an output about to be written again."""
        ws = self.ws
        target = ws.confined(folder / f"{record.cle}-v{record.version}.{record.format}")
        if target.is_file() and sha256_file(target) == record.sha256:
            record.chemin = ws.relative(target)
            record.archive = True
            return None
        source = ws.root / record.chemin
        if not source.is_file():
            self.session.delete(record)
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


@dataclass(frozen=True)
class Anomaly:
    kind: str  # "modifie" | "manquant" | "inconnu" | "somme" | "signature"
    path: str

    def __str__(self) -> str:
        label = {
            "modifie": "modifié depuis son enregistrement",
            "manquant": "manquant",
            "inconnu": "inconnu du registre",
            "somme": "absent de SHA256SUMS ou avec une somme différente",
            "signature": "signatures électroniques à revoir : elles ne sont plus reconnues comme à "
                         "l'enregistrement (autorités de pacte.toml ?)",
        }[self.kind]
        return f"{self.path} : {label}"


def _signatures_again(record: Document, data: bytes, authorities: list[bytes]) -> list[Anomaly]:
    """A signed copy's signatures checked again, with today's trusted authorities: one that was whole, or
    recognised, and no longer is, is reported (an authority withdrawn from pacte.toml); one recognised since is not
    a problem."""
    from pacte_docs.documents import signatures

    recorded = record.verification or {}
    now = signatures.electronic_signatures(data, authorities)
    before = [(bool(s.get("integre")), bool(s.get("reconnue"))) for s in recorded.get("signatures", [])]
    worse = len(now) != len(before) or any((was_whole and not s.integre) or (was_known and not s.reconnue)
                                           for (was_whole, was_known), s in zip(before, now, strict=False))
    return [Anomaly("signature", record.chemin)] if worse else []


def verify(session: Session, ws: Workspace) -> tuple[int, list[Anomaly]]:
    """Check every file this workspace recorded and look for files nobody recorded; returns (files checked,
    anomalies). Another site's records on a shared registry are its own business."""
    anomalies: list[Anomaly] = []
    authorities: list[bytes] | None = None  # read once, when the first signed copy is met
    records = session.scalars(select(Document).where(Document.site == ws.site).order_by(Document.chemin)).all()
    recorded = set()
    checked = 0
    for record in records:
        path = ws.root / record.chemin
        recorded.add(record.chemin)
        if not path.is_file():
            anomalies.append(Anomaly("manquant", record.chemin))
            continue
        checked += 1
        if record.nature == "signe" and record.verification:  # its bytes are read once, for both checks
            data = path.read_bytes()
            if sha256_bytes(data) != record.sha256:
                anomalies.append(Anomaly("modifie", record.chemin))
                continue
            authorities = ws.authorities() if authorities is None else authorities
            anomalies.extend(_signatures_again(record, data, authorities))
        elif sha256_file(path) != record.sha256:
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
