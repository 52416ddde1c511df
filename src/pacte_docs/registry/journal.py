"""The append-only journal of each convention: what happened, when, with which document and its SHA-256."""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from pacte_docs.files import now
from pacte_docs.registry.models import Convention, Evenement

# Who acts, when an agent acts from the staff pages: « Nom <courriel> », written on each event they cause — one
# mechanism for every job, whatever service records it. None from the command line.
AUTHOR: contextvars.ContextVar[str | None] = contextvars.ContextVar("pacte_author", default=None)
T = TypeVar("T")


@contextmanager
def acting(author: str) -> Iterator[None]:
    token = AUTHOR.set(author)
    try:
        yield
    finally:
        AUTHOR.reset(token)


def as_author(author: str, job: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run *job* with every event it records signed by *author* (in the thread that runs it)."""
    with acting(author):
        return job(*args, **kwargs)


def record(session: Session, c: Convention, nature: str, description: str, *, date: dt.date | None = None,
           document: str | None = None, sha256: str | None = None) -> Evenement:
    """Append one event (never updated, never deleted), signed by the agent acting, if any."""
    event = Evenement(convention_id=c.id, quand=now(), nature=nature, date=date, description=description,
                      document=document, document_sha256=sha256, auteur=AUTHOR.get())
    session.add(event)
    return event


def entries(session: Session, c: Convention) -> list[Evenement]:
    return list(session.scalars(select(Evenement).where(Evenement.convention_id == c.id)
                                .order_by(Evenement.quand, Evenement.id)))
