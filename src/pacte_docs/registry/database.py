"""The one module that owns the database: engine, sessions, migrations."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import ProgrammingError as SAProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from pacte_docs.errors import DatabaseUnavailableError

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works: it only has to be the same for every pacte process sharing a PostgreSQL base.
_PG_MIGRATION_LOCK = 0x70AC7E


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _describe(url: str) -> str:
    """The URL without its password, safe to show; for SQLite, the file."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.database
    return parsed.render_as_string(hide_password=True)


def read_only_file(url: str) -> Path | None:
    """The SQLite file of *url* when this process cannot write it or its folder (a workspace on a read-only share,
    an archive copy): SQLite in WAL mode would need to create its -shm file there, and fail even to read."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    if path.is_file() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return path
    return None


def create(url: str) -> Engine:
    """An engine for *url*; SQLite gets WAL, foreign keys and a busy timeout — or, on a file this process cannot
    write, is opened immutable (reads only, no lock, no -shm file)."""
    if url.startswith("sqlite"):
        frozen = read_only_file(url)
        if frozen is not None:
            return create_engine(f"sqlite:///file:{frozen}?immutable=1&uri=true")
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


_REVISION = re.compile(r"^revision = ['\"](\w+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision = ['\"]?(\w+)['\"]?", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def _revisions_from_files() -> tuple[frozenset[str], str | None]:
    """Every revision this version knows, and the head, read from the migration files' headers (no Alembic
    import: every command opens the registry, and most find it up to date)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found, down = _REVISION.search(source), _DOWN.search(source)
        if found:
            revisions.add(found.group(1))
        if down and down.group(1) != "None":
            parents.add(down.group(1))
    heads = revisions - parents
    return frozenset(revisions), (heads.pop() if len(heads) == 1 else None)


def _head_from_files() -> str | None:
    return _revisions_from_files()[1]


def unreadable(url: str, exc: Exception) -> DatabaseUnavailableError:
    """The French report of a registry that is not a database this tool can read (another kind of file, a
    damaged or truncated SQLite file)."""
    return DatabaseUnavailableError(
        f"Le registre ({_describe(url)}) n'est pas une base de données lisible : {getattr(exc, 'orig', exc)}. "
        "Le fichier est endommagé, tronqué ou d'un autre type. Restaurez-le depuis votre sauvegarde ; rien n'a "
        "été modifié.")


def _current_revision(connection: Any) -> str | None:
    """The registry's revision, None for a new base (no alembic_version table yet)."""
    try:
        with connection.begin():
            revision: str | None = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return revision
    except (OperationalError, SAProgrammingError):
        return None


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision; cheap when it already is."""
    head = _head_from_files()
    try:
        if head is not None:
            with engine.connect() as connection:
                current = _current_revision(connection)
                if current == head:
                    return
                if current is not None and current not in _revisions_from_files()[0]:
                    raise DatabaseUnavailableError(
                        f"Le registre ({_describe(str(engine.url))}) a été mis à jour par une version plus récente "
                        f"de pacte (révision « {current} », inconnue de la version {_version()}). Installez la "
                        "version utilisée par les autres postes ; rien n'a été modifié.")
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Two sites opening a new shared base at once must not both create the tables.
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            if head is not None and _is_empty(connection):
                create_at_head(connection, head)
                return
            from alembic import command
            from alembic.runtime.migration import MigrationContext

            if MigrationContext.configure(connection).get_current_revision() != head_revision():
                command.upgrade(alembic_config(connection), "head")
    except (OperationalError, SAProgrammingError, SADatabaseError) as exc:
        if not isinstance(exc, OperationalError | SAProgrammingError):
            raise unreadable(str(engine.url), exc) from exc
        if isinstance(exc, OperationalError) and "locked" not in str(exc):
            raise DatabaseUnavailableError(
                f"Base de données injoignable ({_describe(str(engine.url))}) : {exc.orig}. "
                "Vérifiez l'adresse donnée par --base, PACTE_BASE ou pacte.toml, et que le serveur tourne."
            ) from exc
        raise


def _is_empty(connection: Any) -> bool:
    """True for a base with no table at all: a new registry."""
    from sqlalchemy import inspect

    return not inspect(connection).get_table_names()


def create_at_head(connection: Any, head: str) -> None:
    """Create a new registry's schema in one step from the models, and record it at *head*: what Alembic advises
    for a database built from scratch (the chain of migrations is for registries that already hold data).
    `test_a_new_registry_has_the_schema_the_migrations_build` keeps the two ways to the same schema."""
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table

    from pacte_docs.registry.models import Base

    Base.metadata.create_all(connection)
    version = Table("alembic_version", MetaData(), Column("version_num", String(32), nullable=False),
                    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))
    version.create(connection)
    connection.execute(version.insert().values(version_num=head))


def _version() -> str:
    from importlib.metadata import version

    return version("pacte_docs")


def _lock_key(name: str) -> int:
    """A PostgreSQL advisory lock key (signed 64-bit) for *name*."""
    return int.from_bytes(hashlib.sha256(f"pacte_docs:{name}".encode()).digest()[:7], "big")


class _Held(threading.local):
    """The locks this thread holds: (url, lock name) → depth. Per thread, not per process: the server runs its
    requests in a pool of threads, and a request must wait for the lock another thread holds (the file lock and
    the advisory lock each exclude a second holder, even in the same process)."""

    def __init__(self) -> None:
        self.depth: dict[tuple[str, str], int] = {}


_HELD = _Held()


class Database:
    """An opened, migrated registry."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.read_only = read_only_file(url) is not None
        self.engine = create(url)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def exclusive(self, name: str, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """One process at a time, on this registry, in what *name* guards — « documents »: producing and
        archiving files; « registre »: imports and the lifecycle's changes. Others wait their turn (on_wait is
        told). Re-entrant in a thread; another thread of the same process waits its turn too. SQLite: a lock file
        next to the base; PostgreSQL: an advisory lock, shared by every site, released by the server if the process
        dies."""
        key, held = (self.url, name), _HELD.depth
        if key in held:
            held[key] += 1
            try:
                yield
            finally:
                held[key] -= 1
            return
        acquire = self._advisory_lock if self.engine.dialect.name == "postgresql" else self._file_lock
        with acquire(name, on_wait):
            held[key] = 1
            try:
                yield
            finally:
                del held[key]

    @contextmanager
    def _file_lock(self, name: str, on_wait: Callable[[str], None] | None) -> Iterator[None]:
        database = self.engine.url.database
        if not database or database == ":memory:":
            yield
            return
        if self.read_only:  # nothing can change a registry nobody may write: no lock to take
            yield
            return
        handle = os.open(f"{database}.{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait:
                    on_wait(name)
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # releases the lock

    @contextmanager
    def _advisory_lock(self, name: str, on_wait: Callable[[str], None] | None) -> Iterator[None]:
        key = _lock_key(name)
        with self.engine.connect() as connection:
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            connection.commit()
            if not taken:
                if on_wait:
                    on_wait(name)
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                connection.commit()
            try:
                yield
            finally:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    connection.commit()
                except Exception:
                    connection.invalidate()  # never give back to the pool a connection that may hold the lock
                    raise

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()
