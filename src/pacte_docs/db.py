"""The one module that owns the database: engine, sessions, migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
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
    """The URL without its password, safe to show."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def create(url: str) -> Engine:
    """An engine for *url*; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
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


def alembic_config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision; cheap when it already is."""
    head = head_revision()
    try:
        with engine.connect() as connection:
            if MigrationContext.configure(connection).get_current_revision() == head:
                return
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Two sites opening a new shared base at once must not both create the tables.
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            if MigrationContext.configure(connection).get_current_revision() != head:
                command.upgrade(alembic_config(connection), "head")
    except (OperationalError, SAProgrammingError) as exc:
        if isinstance(exc, OperationalError) and "locked" not in str(exc):
            raise DatabaseUnavailableError(
                f"Base de données injoignable ({_describe(str(engine.url))}) : {exc.orig}. "
                "Vérifiez l'adresse donnée par --base, PACTE_BASE ou pacte.toml, et que le serveur tourne."
            ) from exc
        raise


class Database:
    """An opened, migrated registry."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create(url)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

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
