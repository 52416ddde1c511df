"""Shared fixtures: a PostgreSQL cluster next to SQLite, workspaces, the CLI runner."""

from __future__ import annotations

import email
import email.policy
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result
from hypothesis import settings

from pacte_docs.cli import cli

DATA = Path(__file__).parent / "donnees"

# On CI, the property tests draw the same examples each time (a submission's fate must not hang on a draw);
# on a developer's machine they explore new ones at every run, and keep the failures they find.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
PG_PORT = 54329


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
    options = f"-p {PG_PORT} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w",
                                 "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}"
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
    server = request.getfixturevalue("pg_server")
    name = "t_" + uuid.uuid4().hex[:12]
    with _admin(server) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with _admin(server) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Pacte:
    """Runs `pacte` in a workspace as a user would, on the database under test."""

    def __init__(self, root: Path, base: str | None) -> None:
        self.root = root
        self.base = base

    def __call__(self, *args: str, ok: bool = True) -> Result:
        options = ["--espace", str(self.root)] + (["--base", self.base] if self.base else [])
        result = CliRunner().invoke(cli, [*options, *args], prog_name="pacte")
        if ok and result.exit_code != 0:
            raise AssertionError(f"pacte {' '.join(args)} → {result.exit_code}\n{result.output}\n{result.exception!r}")
        return result


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


@dataclass
class Mailbox:
    """A real SMTP server's handler: stores what it accepts; a hook may inject a fault."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    before_reply: Callable[[int, Any], str | None] | None = None
    delay: float = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        number = len(self.messages) + 1
        if self.before_reply is not None and self.before_reply(number, "avant") == "drop":
            server.transport.close()  # the connection is lost before the server accepts the message
            return "421 connexion perdue"
        if self.delay:
            time.sleep(self.delay)  # a slow server keeps two concurrent runs overlapping
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        if self.before_reply is not None:
            self.before_reply(number, "accepte")  # stored: the message is the server's now
        return "250 Message accepted for delivery"

    def by_recipient(self) -> dict[str, list[EmailMessage]]:
        result: dict[str, list[EmailMessage]] = {}
        for recipients, message in self.messages:
            for recipient in recipients:
                result.setdefault(recipient, []).append(message)
        return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
