"""Shared fixtures: a PostgreSQL cluster next to SQLite, workspaces, the CLI runner."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from hypothesis import settings

from tests.helpers import Mailbox, Pacte, free_port

# On CI, the property tests draw the same examples each time (a submission's fate must not hang on a draw);
# on a developer's machine they explore new ones at every run, and keep the failures they find.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


SLOW = ("libreoffice", "postgresql", "crash")


def pytest_configure(config: pytest.Config) -> None:
    """Tests work in memory (/dev/shm) when the machine has it: their files never outlive them, and an fsync to
    disk was an eighth of the one-minute loop. A TMPDIR the developer sets is kept."""
    shm = Path("/dev/shm")
    if "TMPDIR" not in os.environ and shm.is_dir() and os.access(shm, os.W_OK):
        tempfile.tempdir = str(shm)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tiers: a test on PostgreSQL is marked so; a test marked libreoffice, postgresql or crash is « lent »,
    so that « pytest -m "not lent" » runs the fast tier (pure rules, import format, SQLite, rendering) alone."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if (callspec is not None and callspec.params.get("base") == "postgresql") or "pg_server" in getattr(
                item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgresql)
        if any(item.get_closest_marker(name) for name in SLOW):
            item.add_marker(pytest.mark.lent)


def _pg_bindir() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _as_postgres(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server URL (without database): PACTE_TEST_PG, else a private cluster started here."""
    configured = os.environ.get("PACTE_TEST_PG")
    if configured:
        yield configured.rstrip("/")
        return
    bindir = _pg_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL est introuvable : les tests du registre tournent aussi sur PostgreSQL. "
                    "Lancez ./scripts/tests.sh, qui l'installe, ou donnez PACTE_TEST_PG.", pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="pacte-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                 "-E", "UTF8", "--locale", "C.UTF-8"]), check=True, capture_output=True)
    log = root / "pg.log"
    if os.geteuid() == 0:
        log.touch()
        shutil.chown(log, "postgres")
    port = free_port()  # two suites on one machine each start their own server
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w",
                                 "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _admin(server: str) -> psycopg.Connection:
    dsn = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    for _ in range(50):
        try:
            return psycopg.connect(dsn, autocommit=True)
        except psycopg.OperationalError:
            time.sleep(0.2)
    return psycopg.connect(dsn, autocommit=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def base(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for the embedded SQLite default, else the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    with _pg_database(request.getfixturevalue("pg_server")) as url:
        yield url


@contextmanager
def _pg_database(server: str) -> Iterator[str]:
    name = "t_" + uuid.uuid4().hex[:12]
    with _admin(server) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with _admin(server) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def other_base(base: str | None, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second, empty database of the same kind as *base* (a SQLite file, or a PostgreSQL database)."""
    if base is None:
        yield f"sqlite:///{tmp_path / 'autre.db'}"
        return
    with _pg_database(request.getfixturevalue("pg_server")) as url:
        yield url


@pytest.fixture
def pacte(tmp_path: Path, base: str | None) -> Pacte:
    """An initialised, empty workspace on SQLite and on PostgreSQL."""
    runner = Pacte(tmp_path / "espace", base)
    runner("init", str(runner.root))
    return runner


@pytest.fixture
def pacte_sqlite(tmp_path: Path) -> Pacte:
    """An initialised workspace on SQLite only, for tests about files rather than the database."""
    runner = Pacte(tmp_path / "espace", None)
    runner("init", str(runner.root))
    return runner


# ---------------------------------------------------------------- a real SMTP server on 127.0.0.1


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("PACTE_SMTP_HOTE", "127.0.0.1")
    monkeypatch.setenv("PACTE_SMTP_PORT", str(port))
    monkeypatch.setenv("PACTE_SMTP_EXPEDITEUR", "insertion@valdemarne.example.fr")
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium through Playwright (no browser download), for the tests that use one."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "le paquet Debian chromium manque : apt-get install chromium (scripts/tests.sh l'installe)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium)
        yield launched
        launched.close()
