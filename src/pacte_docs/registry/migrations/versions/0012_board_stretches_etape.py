"""the board's stretches (etape), filled for the conventions already registered, and an index of the
conventions by director

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 05:00:00
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pendulum
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('etape',
    sa.Column('convention_id', sa.Integer(), nullable=False),
    sa.Column('du', sa.Date(), nullable=False),
    sa.Column('au', sa.Date(), nullable=False),
    sa.Column('periode', sa.Integer(), nullable=False),
    sa.Column('date_limite', sa.Date(), nullable=False),
    sa.Column('statut', sa.String(length=20), nullable=False),
    sa.Column('renouvelable', sa.Boolean(), nullable=False),
    sa.Column('attente', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('convention_id', 'du'),
    sqlite_with_rowid=False
    )
    op.create_index('ix_etape_au', 'etape', ['au', 'du', 'attente', 'date_limite', 'renouvelable', 'statut'],
                    unique=False)
    op.create_index('ix_etape_attente', 'etape', ['attente', 'date_limite', 'du', 'au', 'renouvelable', 'statut'],
                    unique=False)
    op.create_index('ix_convention_responsable', 'convention', ['responsable_email', 'responsable_nom'],
                    unique=False)
    _fill_stretches()


def downgrade() -> None:
    op.drop_index('ix_convention_responsable', table_name='convention')
    op.drop_index('ix_etape_attente', table_name='etape')
    op.drop_index('ix_etape_au', table_name='etape')
    op.drop_table('etape')


def _fill_stretches() -> None:
    """The board's stretches of the conventions already in the registry (plain SQL on this revision's columns)."""
    def day(value: Any) -> Any:  # SQLite gives ISO strings, PostgreSQL dates
        return dt.date.fromisoformat(value) if isinstance(value, str) else value

    bind = op.get_bind()
    renewals: dict[int, list[dt.date]] = {}
    for convention_id, date in bind.execute(sa.text(
            "SELECT convention_id, date FROM renouvellement ORDER BY convention_id, numero")):
        renewals.setdefault(convention_id, []).append(day(date))
    moved: dict[int, list[tuple[int, dt.date]]] = {}
    for convention_id, periode, fin in bind.execute(sa.text(
            "SELECT convention_id, periode, nouvelle_fin FROM avenant WHERE nouvelle_fin IS NOT NULL "
            "ORDER BY convention_id, numero")):
        moved.setdefault(convention_id, []).append((periode, day(fin)))
    table = sa.table("etape", sa.column("convention_id", sa.Integer), sa.column("du", sa.Date),
                     sa.column("au", sa.Date), sa.column("periode", sa.Integer), sa.column("date_limite", sa.Date),
                     sa.column("statut", sa.String), sa.column("renouvelable", sa.Boolean),
                     sa.column("attente", sa.Boolean))
    rows: list[dict[str, Any]] = []
    for row in bind.execute(sa.text(
            "SELECT id, date_effet, duree_mois, renouvellement, renouvellements_max, preavis_mois, date_signature, "
            "date_denonciation FROM convention")):
        facts = _Faits(date_effet=day(row[1]), duree_mois=row[2], renouvellement=row[3],
                       renouvellements_max=row[4], preavis_mois=row[5], date_signature=day(row[6]),
                       renouvellements=tuple(renewals.get(row[0], ())), fins_avenants=tuple(moved.get(row[0], ())),
                       date_denonciation=day(row[7]))
        rows.extend({"convention_id": row[0], "du": du, "au": au, "periode": periode, "date_limite": limite,
                     "statut": statut, "renouvelable": renouvelable, "attente": attente}
                    for du, au, (periode, limite, statut, renouvelable, attente) in _stretches(facts))
        if len(rows) >= 5000:
            op.bulk_insert(table, rows)
            rows = []
    if rows:
        op.bulk_insert(table, rows)


# ---------------------------------------------------------------- the rules of this revision, frozen
# A migration applies the rules of its time: a later change of pacte_docs.rules must not change what it wrote.
# Copied from pacte_docs.rules.periods, alerts and echeances as they were at revision 0012 (6 December 2026).

_EXPIREE_VISIBLE_DAYS = 365


@dataclass(frozen=True)
class _Faits:
    date_effet: dt.date
    duree_mois: int
    renouvellement: str
    renouvellements_max: int
    preavis_mois: int
    date_signature: dt.date | None
    renouvellements: tuple[dt.date, ...]
    fins_avenants: tuple[tuple[int, dt.date], ...]
    date_denonciation: dt.date | None


@dataclass(frozen=True)
class _Periode:
    numero: int
    debut: dt.date
    fin: dt.date
    date_limite: dt.date


def _add_months(day: dt.date, months: int) -> dt.date:
    return pendulum.Date(day.year, day.month, day.day).add(months=months)


def _fin_periode(date_effet: dt.date, duree_mois: int) -> dt.date:
    arrival_month = _add_months(date_effet.replace(day=1), duree_mois)
    last_day = pendulum.Date(arrival_month.year, arrival_month.month, 1).end_of("month").day
    if date_effet.day > last_day:
        return dt.date(arrival_month.year, arrival_month.month, last_day)
    return dt.date(arrival_month.year, arrival_month.month, date_effet.day) - dt.timedelta(days=1)


def _periode(faits: _Faits, numero: int, debut: dt.date) -> _Periode:
    fin = _fin_periode(debut, faits.duree_mois)
    for number, moved in faits.fins_avenants:
        if number == numero:
            fin = moved
    if faits.renouvellement == "aucun":
        return _Periode(numero, debut, fin, fin)
    limite = _add_months(fin, -faits.preavis_mois)
    return _Periode(numero, debut, fin, dt.date(limite.year, limite.month, limite.day))


def _periodes(faits: _Faits, on: dt.date) -> list[_Periode]:
    chain = [_periode(faits, 1, faits.date_effet)]
    while True:
        current = chain[-1]
        renewed = len(chain) - 1
        if faits.renouvellement == "expresse":
            if renewed >= len(faits.renouvellements) or renewed >= faits.renouvellements_max:
                break
        elif faits.renouvellement == "tacite":
            if on <= current.fin or renewed >= faits.renouvellements_max:
                break
            if faits.date_denonciation is not None and faits.date_denonciation <= current.fin:
                break
        else:
            break
        chain.append(_periode(faits, current.numero + 1, current.fin + dt.timedelta(days=1)))
    return chain


def _standing(faits: _Faits, on: dt.date) -> tuple[int, dt.date, str, bool, bool]:
    """(period, decision deadline, status but « à renouveler », renewable, a decision awaited) on *on*."""
    chain = _periodes(faits, on)
    current = chain[0]
    for period in reversed(chain):
        if period.debut <= on:
            current = period
            break
    remaining = 0 if faits.renouvellement == "aucun" else max(0, faits.renouvellements_max - (len(chain) - 1))
    ended = on > current.fin and current is chain[-1]
    renewed = current is not chain[-1]
    if faits.date_signature is None:
        statut = "brouillon"
    elif faits.date_denonciation is not None and faits.date_denonciation <= on:
        statut = "denoncee"
    elif on < faits.date_effet:
        statut = "signee"
    elif ended:
        statut = "expiree"
    elif current.numero > 1:
        statut = "reconduite"
    else:
        statut = "en_cours"
    if statut in ("brouillon", "denoncee") or renewed:
        awaited = False
    elif ended:
        awaited = (faits.renouvellement == "expresse" and remaining > 0
                   and (on - current.fin).days <= _EXPIREE_VISIBLE_DAYS)
    else:
        awaited = True
    return current.numero, current.date_limite, statut, statut in ("en_cours", "reconduite") and remaining > 0, awaited


def _stretches(faits: _Faits) -> list[tuple[dt.date, dt.date, tuple[int, dt.date, str, bool, bool]]]:
    """(first day, last day, standing) of each stretch, from date.min to date.max."""
    chain = _periodes(faits, dt.date.max)
    changes = {dt.date.min, faits.date_effet, *(period.debut for period in chain)}
    for after in (1, _EXPIREE_VISIBLE_DAYS + 1):
        if chain[-1].fin <= dt.date.max - dt.timedelta(days=after):
            changes.add(chain[-1].fin + dt.timedelta(days=after))
    if faits.date_denonciation is not None:
        changes.add(faits.date_denonciation)
    starts: list[dt.date] = []
    states: list[tuple[int, dt.date, str, bool, bool]] = []
    for day in sorted(changes):
        state = _standing(faits, day)
        if not states or state != states[-1]:
            starts.append(day)
            states.append(state)
    ends = [day - dt.timedelta(days=1) for day in starts[1:]] + [dt.date.max]
    return list(zip(starts, ends, states, strict=True))
