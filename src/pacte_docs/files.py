"""Files on disk: atomic writes, SHA-256, and the owner tag that lets a later run tidy a killed run's leftovers."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import socket
import tempfile
from pathlib import Path

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


def write_atomic(path: Path, data: bytes, *, read_only: bool = False) -> None:
    """Write through a temporary file in the same folder, then rename: never a partial file under *path*."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{owner_tag()}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o444 if read_only else 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_stale_temporaries(path: Path) -> None:
    """Remove what a killed run left while writing *path* (its temporary file names carry the writer's machine
    and pid); a temporary file of a process still running, or of another machine, is left alone."""
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        if owner_gone(leftover.name[len(path.name) + 2:]):
            leftover.unlink(missing_ok=True)


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
