"""Long work started from the staff pages — the documents of many conventions, a bilan — run outside the request.

On one server (the embedded SQLite registry) the server keeps a worker (concurrent.futures, one thread: LibreOffice
converts one document at a time anyway) that runs the work while the pages go on answering; each piece of work
keeps its progress for the page that follows it. The work itself is the CLI's (services.generation, services.bilan),
signed with the agent's name in the journal."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pacte_docs.errors import PacteError
from pacte_docs.registry import journal

log = logging.getLogger("pacte.travaux")
KEPT = 200  # pieces of work remembered (the oldest finished ones forgotten first)
PHASES = {"docx": "Documents DOCX", "pdf": "Conversion en PDF", "bilan": "Compilation du bilan"}


@dataclass
class Travail:
    """A piece of work and where it stands."""

    id: str
    titre: str
    auteur: str  # « Nom <courriel> »
    debut: dt.datetime
    etat: str = "en_attente"  # en_attente | en_cours | termine | echec
    phase: str = ""
    fait: int = 0
    total: int = 0  # 0: how far it is cannot be said (a bilan)
    lignes: list[str] = field(default_factory=list)  # what it did, or why it failed
    fin: dt.datetime | None = None

    @property
    def fini(self) -> bool:
        return self.etat in ("termine", "echec")

    def avance(self, phase: str, advanced: int, total: int) -> None:
        """The generation's progress callback: (phase, advanced by, total)."""
        if phase != self.phase:
            self.phase, self.fait = phase, 0
        self.total = total
        self.fait = min(total, self.fait + advanced)


class Atelier:
    """The server's worker and the work it was given."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pacte-travaux")
        self._work: dict[str, Travail] = {}
        self._lock = threading.Lock()

    def lancer(self, titre: str, auteur: str, work: Callable[[Travail], list[str]]) -> Travail:
        """Queue *work* (given its Travail to report progress on; it returns the lines to show at the end)."""
        travail = Travail(secrets.token_urlsafe(12), titre, auteur, dt.datetime.now(dt.UTC))

        def run() -> None:
            travail.etat = "en_cours"
            try:
                travail.lignes = journal.as_author(auteur, work, travail)
                travail.etat = "termine"
            except PacteError as exc:
                travail.lignes, travail.etat = [str(exc)], "echec"
            except Exception as exc:  # never a traceback on a page: the log keeps what happened
                log.exception("travail « %s » interrompu", titre)
                travail.lignes, travail.etat = [f"Le travail s'est interrompu ({type(exc).__name__}) : "
                                                "réessayez ; si cela recommence, prévenez l'administrateur."], "echec"
            finally:
                travail.fin = dt.datetime.now(dt.UTC)
                log.info("travail « %s » de %s : %s", titre, auteur, travail.etat)

        with self._lock:
            self._work[travail.id] = travail
            finished = [t for t in self._work.values() if t.fini]
            for old in finished[:max(0, len(self._work) - KEPT)]:
                self._work.pop(old.id, None)
        self._pool.submit(run)
        return travail

    def travail(self, ident: str) -> Travail | None:
        return self._work.get(ident)

    def recents(self, count: int = 10) -> list[Travail]:
        with self._lock:
            return sorted(self._work.values(), key=lambda t: t.debut, reverse=True)[:count]

    def fermer(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
