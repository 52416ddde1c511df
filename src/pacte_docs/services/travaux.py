"""Long work started from the staff pages — the documents of many conventions, a bilan — run outside the request.

Each piece of work is a row of the registry (registry.models.Travail): what to do, who asked, where it stands; every
server sharing the registry reads it. Who runs it depends on the registry:
- the embedded SQLite registry has one server: it keeps a worker thread (concurrent.futures) that runs the work
  while the pages go on answering;
- a PostgreSQL registry may be shared by several servers: the work goes through procrastinate, a task queue kept
  in that same PostgreSQL, and the first server's worker free takes it.
The work itself is the CLI's (services.generation, services.bilan), taking the same locks, its changes signed with
the agent's name in the journal."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select

from pacte_docs.errors import PacteError
from pacte_docs.registry import journal
from pacte_docs.registry.models import Travail
from pacte_docs.workspace import Workspace

log = logging.getLogger("pacte.travaux")
PHASES = {"docx": "Documents DOCX", "pdf": "Conversion en PDF", "bilan": "Compilation du bilan"}
QUEUE = "pacte-travaux"
Progress = Callable[[str, int, int], None]


# ---------------------------------------------------------------- the work itself: the CLI's services


def _documents(ws: Workspace, params: dict[str, Any], progress: Progress) -> list[str]:
    from pacte_docs.services import generation

    report = generation.generate(ws, list(params["references"]), all_=bool(params["toutes"]), progress=progress)
    made = report.count("cree") + report.count("regenere")
    return [f"{made} document(s) produit(s), {report.count('inchange')} inchangé(s).", *report.notes]


def _bilan(ws: Workspace, params: dict[str, Any], progress: Progress) -> list[str]:
    from pacte_docs.services import bilan

    progress("bilan", 0, 0)
    annee = int(params["annee"])
    seance = dt.date.fromisoformat(params["seance"]) if params.get("seance") else None
    report = bilan.compile_bilan(ws, annee, seance=seance, deliberation=params.get("deliberation") or None)
    said = {"cree": "créé", "regenere": "refait", "inchange": "inchangé"}.get(report.status, report.status)
    return [f"Bilan {annee} : {report.chemin} ({said}, {report.pages} pages).",
            *([f"Conventions en annexe : {', '.join(report.annexes)}."] if report.annexes else []), *report.notes]


WORKS: dict[str, Callable[[Workspace, dict[str, Any], Progress], list[str]]] = {
    "documents": _documents, "bilan": _bilan}


def create(ws: Workspace, nature: str, params: dict[str, Any], titre: str, auteur: str) -> str:
    """Record a piece of work, waiting for a worker; its id."""
    ident = secrets.token_urlsafe(12)
    with ws.db.session() as session:
        session.add(Travail(id=ident, nature=nature, parametres=params, titre=titre[:300], auteur=auteur[:300],
                            etat="en_attente", phase="", fait=0, total=0, lignes=[],
                            debut=dt.datetime.now(dt.UTC)))
    return ident


def run(ws: Workspace, ident: str) -> None:
    """Do the work *ident* (whoever calls it: the worker thread or procrastinate's worker), its progress written
    as it goes (twice a second at most), its outcome at the end; never raises."""
    with ws.db.session() as session:
        t = session.get(Travail, ident)
        if t is None or t.etat != "en_attente":
            return
        t.etat = "en_cours"
        nature, params, auteur, titre = t.nature, dict(t.parametres), t.auteur, t.titre
    state: dict[str, Any] = {"phase": "", "fait": 0, "written": 0.0}

    def progress(phase: str, advanced: int, total: int) -> None:
        if phase != state["phase"]:
            state["phase"], state["fait"] = phase, 0
        state["fait"] = min(total, state["fait"] + advanced)
        if time.monotonic() - state["written"] >= 0.5 or state["fait"] == total:
            state["written"] = time.monotonic()
            with ws.db.session() as session:
                row = session.get(Travail, ident)
                if row is not None:
                    row.phase, row.fait, row.total = phase, state["fait"], total

    try:
        lines, outcome = journal.as_author(auteur, WORKS[nature], ws, params, progress), "termine"
    except PacteError as exc:
        lines, outcome = [str(exc)], "echec"
    except Exception as exc:  # never a traceback on a page: the log keeps what happened
        log.exception("travail « %s » interrompu", titre)
        lines, outcome = [f"Le travail s'est interrompu ({type(exc).__name__}) : réessayez ; si cela recommence, "
                          "prévenez l'administrateur de pacte."], "echec"
    with ws.db.session() as session:
        row = session.get(Travail, ident)
        if row is not None:
            row.etat, row.lignes, row.fin = outcome, lines, dt.datetime.now(dt.UTC)
    log.info("travail « %s » de %s : %s", titre, auteur, outcome)


def seen(ws: Workspace, ident: str) -> Travail | None:
    """A piece of work as its page shows it (read once, detached from the session)."""
    with ws.db.session() as session:
        return session.get(Travail, ident[:32])


def recent(ws: Workspace, count: int = 10) -> list[Travail]:
    with ws.db.session() as session:
        return list(session.scalars(select(Travail).order_by(Travail.debut.desc()).limit(count)))


def interrupted(ws: Workspace) -> int:
    """On the embedded registry, the one server's work that a stop left unfinished, said as such (the documents
    it made are recorded; the rest is to start again); how many."""
    with ws.db.session() as session:
        found = list(session.scalars(select(Travail).where(Travail.etat.in_(("en_attente", "en_cours")))))
        for t in found:
            t.etat, t.fin = "echec", dt.datetime.now(dt.UTC)
            t.lignes = [*t.lignes, "Interrompu par l'arrêt du serveur : ce qui a été produit est au registre ; "
                                   "relancez ce travail pour le reste."]
    return len(found)


# ---------------------------------------------------------------- who runs it


class Atelier:
    """The server's worker: a thread on SQLite, procrastinate's worker on PostgreSQL (open/close in the server's
    lifespan)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.postgres = ws.db.engine.dialect.name == "postgresql"
        self._pool: ThreadPoolExecutor | None = None
        self._app: Any = None
        self._worker: asyncio.Task[None] | None = None

    async def open(self) -> None:
        if not self.postgres:
            await asyncio.to_thread(interrupted, self.ws)
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pacte-travaux")
            return
        import procrastinate

        url = self.ws.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
        ws = self.ws

        async def travail(ident: str) -> None:
            await asyncio.to_thread(run, ws, ident)

        self._task = self._app.task(name="pacte.travail", queue=QUEUE)(travail)
        await self._app.open_async()
        await self._schema()
        self._worker = asyncio.create_task(self._app.run_worker_async(
            queues=[QUEUE], concurrency=1, wait=True, install_signal_handlers=False))

    async def _schema(self) -> None:
        """procrastinate's own tables, made once in the registry's PostgreSQL (two servers starting at once: one
        makes them, under a lock)."""
        async with self._app.connector.pool.connection() as connection:
            await connection.execute("SELECT pg_advisory_lock(hashtext('pacte-procrastinate-schema'))")
            try:
                cursor = await connection.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
                exists = (await cursor.fetchone())[0]
                if not exists:
                    await connection.execute(self._app.schema_manager.get_schema())
                    await connection.commit()
            finally:
                await connection.execute("SELECT pg_advisory_unlock(hashtext('pacte-procrastinate-schema'))")

    async def submit(self, ident: str) -> None:
        if self._app is not None:
            await self._task.defer_async(ident=ident)
        elif self._pool is not None:
            self._pool.submit(run, self.ws, ident)
        else:
            raise PacteError("Le serveur s'arrête : relancez ce travail dans un instant.")

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except (asyncio.CancelledError, Exception):
                pass
            self._worker = None
        if self._app is not None:
            await self._app.close_async()
            self._app = None
