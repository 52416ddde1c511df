"""Files on disk: atomic writes, SHA-256, and the owner tag that lets a later run tidy a killed run's leftovers."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import os
import re
import socket
import stat
import tempfile
import zipfile
from pathlib import Path

from pacte_docs.errors import InputFileError

_OWNER = re.compile(r"([A-Za-z0-9_]*)@(\d+)")  # <machine>@<pid>, as owner_tag() writes it


def owner_tag() -> str:
    """<machine>@<pid>: put in the names of temporary files and folders, so that a later run can tell those of a
    process that died (on this machine: the workspace may sit on a share that other machines use too)."""
    return f"{_machine()}@{os.getpid()}"


def owner_gone(name: str) -> bool:
    """Whether the name carries the tag of a process of this machine that no longer runs."""
    found = _OWNER.search(name)
    if found is None or found.group(1) != _machine():
        return False
    try:
        os.kill(int(found.group(2)), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    return False


@functools.lru_cache(maxsize=1)
def _machine() -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname().split(".")[0]) or "machine"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stage(path: Path, data: bytes, *, read_only: bool = False, sync: bool = True) -> Path:
    """Write *data* to a temporary file next to *path*, on disk (fsync), and return it: a full disk fails here,
    before anything under *path* is touched. `os.replace` (or `move_into`) then puts it in place. A batch passes
    *sync* False and makes all its files durable at once (`make_durable`) before it moves any into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{owner_tag()}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            if sync:
                os.fsync(out.fileno())
        os.chmod(tmp, 0o444 if read_only else 0o644)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(path: Path, data: bytes, *, read_only: bool = False) -> None:
    """Write through a temporary file in the same folder, then rename: never a partial file under *path*."""
    tmp = stage(path, data, read_only=read_only)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def make_durable(paths: list[Path]) -> None:
    """Put the written files on disk (fsync) side by side, from a pool of threads: the kernel and the disk write
    them together, where one fsync after another would wait for each. A full disk or an I/O error fails here."""
    if not paths:
        return

    def sync(path: Path) -> None:
        handle = os.open(path, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(16, len(paths))) as pool:
        for _ in pool.map(sync, paths):
            pass


def remove_stale_temporaries(path: Path) -> None:
    """Remove what a killed run left while writing *path* (its temporary file names carry the writer's machine
    and pid); a temporary file of a process still running, or of another machine, is left alone."""
    prefix = f".{path.name}."
    try:
        entries = list(os.scandir(path.parent))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name.startswith(prefix) and entry.name.endswith(".tmp") and owner_gone(entry.name[len(prefix):]):
            Path(entry.path).unlink(missing_ok=True)


def move_into(source: Path, target: Path) -> None:
    """Atomic move within the workspace (same file system)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def write_new(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


MIB = 1024 * 1024


def megabytes(size: int) -> str:
    """« 50 Mo », « 1,5 Mo »: a size as a French reader writes it."""
    value = size / MIB
    text = f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}".replace(".", ",")
    return f"{text}\u00a0Mo"


def capital(text: str) -> str:
    """*text* with its first letter in capital (str.capitalize would lower the others: « Le pdf »)."""
    return text[:1].upper() + text[1:]


def read_input(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a file the user gives (*what*: « le PDF signé », « le fichier d'import »…): read only if it is a
    regular file of at most *limit* bytes, so that a device (/dev/zero), a FIFO, a folder or a huge sparse file
    is refused at once, in French, before a byte is read. The check is made on the opened file (no race)."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise InputFileError(f"{capital(what)} {path} est introuvable : vérifiez le chemin.") from None
    except IsADirectoryError:
        raise InputFileError(f"{path} est un dossier : donnez le chemin d'un fichier.") from None
    except OSError as exc:
        raise InputFileError(f"{capital(what)} {path} ne peut pas être lu ({exc.strerror}).") from None
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(stream.fileno())
        if stat.S_ISDIR(info.st_mode):
            raise InputFileError(f"{path} est un dossier : donnez le chemin d'un fichier.")
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(f"{path} n'est pas un fichier ordinaire (périphérique, tube ou socket) : "
                                 "donnez le chemin d'un fichier enregistré sur le disque.")
        if info.st_size > limit:
            raise InputFileError(f"{capital(what)} {path} pèse {megabytes(info.st_size)}, au-delà de la limite "
                                 f"de {megabytes(limit)} : vérifiez qu'il s'agit du bon fichier.")
        data = stream.read(limit + 1)
    if len(data) > limit:  # the file grew while being read
        raise InputFileError(f"{capital(what)} {path} dépasse la limite de {megabytes(limit)}.")
    return data


def check_zip(data: bytes, what: str, *, max_bytes: int, max_entries: int = 2000) -> None:
    """Refuse an archive (DOCX, XLSX) whose entries would decompress past *max_bytes* in all, or that holds more
    than *max_entries* entries: a zip bomb is stopped before it is opened. The sizes checked are those the archive
    declares; zipfile never reads an entry past its declared size (a lie ends in a CRC error). A file that is not
    an archive at all is left to the reader that opens it next."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not an archive: the reader that opens it next says so in its own words
    if len(entries) > max_entries:
        raise InputFileError(f"{capital(what)} compte {len(entries)} éléments, au-delà de la limite de "
                             f"{max_entries} : ce n'est pas un document ordinaire.")
    total = sum(entry.file_size for entry in entries)
    if total > max_bytes:
        raise InputFileError(f"{capital(what)} se décompresse en {megabytes(total)}, au-delà de la limite de "
                             f"{megabytes(max_bytes)} : ce n'est pas un document ordinaire (archive piégée ?).")
