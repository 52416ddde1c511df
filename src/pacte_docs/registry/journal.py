"""The append-only journal of each convention: what happened, when, with which document and its SHA-256."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pacte_docs.files import now
from pacte_docs.registry.models import Convention, Evenement


def record(session: Session, c: Convention, nature: str, description: str, *, date: dt.date | None = None,
           document: str | None = None, sha256: str | None = None) -> Evenement:
    """Append one event (never updated, never deleted)."""
    event = Evenement(convention_id=c.id, quand=now(), nature=nature, date=date, description=description,
                      document=document, document_sha256=sha256)
    session.add(event)
    return event


def entries(session: Session, c: Convention) -> list[Evenement]:
    return list(session.scalars(select(Evenement).where(Evenement.convention_id == c.id)
                                .order_by(Evenement.quand, Evenement.id)))
