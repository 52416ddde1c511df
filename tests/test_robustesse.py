"""Robustness: upgrades from every earlier schema revision keep every row; properties of the date rules, of
the alert windows and of the board's stretches over random facts (hypothesis); random field values never crash
validation; a LibreOffice that hangs is stopped with its whole process group."""

from __future__ import annotations

import datetime as dt
import os
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect, text

from pacte_docs.errors import Problem
from pacte_docs.intake import import_format
from pacte_docs.intake.readers import Item
from pacte_docs.registry import database
from pacte_docs.rules import alerts, echeances, periods
from tests.helpers import DATA, Pacte, fake_soffice, folder_state, running, set_pdf_timeout

REVISIONS = ["0001", "0002", "0003", "0004", "0011"]


def _rows(connection: Any, columns: dict[str, list[str]]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each table, on the given columns (an upgrade may add columns, never change values)."""
    return {t: sorted(map(tuple, connection.execute(text(f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} '
                                                         f'FROM "{t}"'))), key=repr)
            for t, cols in columns.items()}


@pytest.mark.parametrize("revision", REVISIONS)
def test_upgrade_from_each_earlier_revision_keeps_every_row(pacte: Pacte, tmp_path: Path, revision: str) -> None:
    pacte("importer", str(DATA / "registre.yaml"))
    pacte("conventions", "avenant", "CCAS-2024-010", "--objet", "Ajout d'une action.", "--date", "2025-01-10",
          "--sans-pdf")
    pacte("conventions", "generer", "CCAS-2024-010", "--sans-pdf")
    url = pacte.base or f"sqlite:///{pacte.root / 'pacte.db'}"
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(database.alembic_config(connection), revision)
        with engine.connect() as connection:
            schema_then = inspect(connection)
            tables = {t: [c["name"] for c in schema_then.get_columns(t)]
                      for t in schema_then.get_table_names() if t != "alembic_version"}
            before = _rows(connection, tables)
        assert sum(len(r) for r in before.values()) > 10
        with engine.begin() as connection:
            command.upgrade(database.alembic_config(connection), "head")
        with engine.connect() as connection:
            assert _rows(connection, tables) == before
            windows = connection.execute(text("SELECT count(*) FROM echeance")).scalar_one()
            stretches = connection.execute(text("SELECT count(DISTINCT convention_id) FROM etape")).scalar_one()
            conventions = connection.execute(text("SELECT count(*) FROM convention")).scalar_one()
    finally:
        engine.dispose()
    assert windows > 0  # the alert windows are rebuilt for the conventions kept
    assert stretches == conventions  # and the board's stretches
    assert "CCAS-2024-010" in pacte("conventions", "lister", "--format", "json").output


def _schema(url: str) -> dict[str, Any]:
    """What a reader of the schema sees: each table's columns (type, nullability, default), keys, indexes and
    constraints, names included; not the order of the columns, which nothing reads."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection, warnings.catch_warnings():
            # SQLAlchemy does not reflect SQLite's indexes on an expression (lower(email)): their SQL is compared
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            found = inspect(connection)
            sqlite = connection.dialect.name == "sqlite"
            return {table: {
                "colonnes": sorted((c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                                   for c in found.get_columns(table)),  # a migration adds a column at the end
                "cle": found.get_pk_constraint(table),
                "etrangeres": sorted(map(repr, found.get_foreign_keys(table))),
                "index": sorted(map(repr, found.get_indexes(table))),
                "uniques": sorted(map(repr, found.get_unique_constraints(table))),
                "controles": sorted(map(repr, found.get_check_constraints(table))),
                "index_sql": sorted(connection.execute(text(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"),
                    {"t": table}).scalars()) if sqlite else [],
            } | ({"version": connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()}
                 if table == "alembic_version" else {}) for table in sorted(found.get_table_names())}
    finally:
        engine.dispose()


def test_a_new_registry_has_the_schema_the_migrations_build(pacte: Pacte, other_base: str) -> None:
    """`pacte init` creates a new registry from the models in one step, at the head revision; a registry built by
    the whole chain of migrations must be the same, on SQLite and PostgreSQL."""
    engine = create_engine(other_base)
    try:
        with engine.begin() as connection:
            command.upgrade(database.alembic_config(connection), "head")
    finally:
        engine.dispose()
    new = _schema(pacte.base or f"sqlite:///{pacte.root / 'pacte.db'}")
    assert len(new) > 10 and new["alembic_version"]["version"] == database.head_revision()
    assert new == _schema(other_base)


# ---------------------------------------------------------------- date rules and alert windows

days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 12, 31))
facts = st.builds(
    periods.Faits,
    date_effet=days,
    duree_mois=st.sampled_from([1, 6, 12, 18, 24, 36, 48, 60]),
    renouvellement=st.sampled_from(["expresse", "tacite", "aucun"]),
    renouvellements_max=st.integers(0, 4),
    preavis_mois=st.sampled_from([0, 1, 2, 3, 6]),
    date_signature=st.one_of(st.none(), days),
)


@settings(max_examples=300, deadline=None)
@given(facts, days)
def test_periods_follow_each_other_and_deadlines_precede_ends(f: periods.Faits, on: dt.date) -> None:
    chain = periods.periodes(f, on)
    assert chain[0].debut == f.date_effet
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.debut == before.fin + dt.timedelta(days=1)
    for period in chain:
        assert period.debut <= period.fin and period.date_limite <= period.fin
        assert period.fin == periods.fin_periode(period.debut, f.duree_mois)
    assert len(chain) <= 1 + f.renouvellements_max
    assert periods.situation(f, on).statut in periods.STATUTS


@settings(max_examples=400, deadline=None)
@given(facts, days, st.lists(st.integers(0, 400), min_size=1, max_size=5))
def test_every_due_alert_falls_in_a_recorded_window(f: periods.Faits, on: dt.date, seuils: list[int]) -> None:
    """The SQL selection only reads the windows: an alert due outside them would never be sent."""
    due = alerts.due_threshold(periods.situation(f, on, max(seuils)), f.renouvellement, on, seuils)
    if due is not None:
        horizon = on + dt.timedelta(days=max(seuils))
        assert any(limite <= horizon and visible >= on for _, limite, visible in alerts.windows(f)), (f, on, due)


lived = st.builds(
    periods.Faits,
    date_effet=days,
    duree_mois=st.sampled_from([1, 6, 12, 18, 24, 36]),
    renouvellement=st.sampled_from(["expresse", "tacite", "aucun"]),
    renouvellements_max=st.integers(0, 4),
    preavis_mois=st.sampled_from([0, 1, 2, 3, 6]),
    date_signature=st.one_of(st.none(), days),
    renouvellements=st.lists(days, max_size=3).map(lambda found: tuple(sorted(found))),
    date_denonciation=st.one_of(st.none(), days),
)


@settings(max_examples=400, deadline=None)
@given(lived, st.lists(days, min_size=1, max_size=8), st.sampled_from([0, 30, 180, 270]))
def test_the_board_stretches_say_what_the_rules_say_on_any_day(f: periods.Faits, ons: list[dt.date],
                                                                premier_seuil: int) -> None:
    """The pages read a convention's stretch of the day instead of its situation: the same period, deadline,
    status (« à renouveler » from the first threshold) and decision awaited, whatever the day."""
    stretches = echeances.etapes(f)
    assert stretches[0].du == dt.date.min and stretches[-1].au == dt.date.max
    for before, after in zip(stretches, stretches[1:], strict=False):
        assert after.du == before.au + dt.timedelta(days=1)
    for on in ons + [e.du for e in stretches[1:]] + [e.au for e in stretches[:-1]]:
        situation = periods.situation(f, on, premier_seuil)
        stretch = echeances.etape(stretches, on)
        renew = stretch.renouvelable and stretch.date_limite <= periods.renewal_horizon(on, premier_seuil)
        assert (stretch.periode, stretch.date_limite, "a_renouveler" if renew else stretch.statut, stretch.attente) \
            == (situation.periode.numero, situation.date_limite, situation.statut,
                echeances.awaits(situation, f.renouvellement, on)), (on, stretch)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(import_format.SCHEMAS["conventions"]) + ["inconnu", "nom"]),
                       st.one_of(st.none(), st.text(max_size=40), st.integers(), st.lists(st.text(max_size=5)),
                                 st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3)),
                       max_size=12),
       st.sampled_from(["conventions", "partenaires", "realisations", "pacte"]))
def test_any_value_in_any_field_is_checked_never_crashes(data: dict[str, Any], section: str) -> None:
    problems: list[Problem] = []
    values = import_format.clean(Item(section, "f.yaml", "ligne 1", data), problems)
    assert (values is None) == bool(problems)
    for problem in problems:
        assert problem.source == "f.yaml" and problem.message


# ---------------------------------------------------------------- LibreOffice hanging

@pytest.mark.crash
def test_hanging_libreoffice_is_stopped_with_its_process_group(pacte_sqlite: Pacte, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A converter that never answers (injected: a real LibreOffice cannot be made to hang on demand), with a
    child of its own, as soffice.bin is of soffice."""
    marker = f"pacte-hang-{os.getpid()}"
    child = 3000 + os.getpid() % 997  # a sleep of a duration no other process uses
    fake = fake_soffice(tmp_path, f"sleep {child} &\nexec -a {marker} sleep 300")
    set_pdf_timeout(pacte_sqlite.root, 2)
    pacte_sqlite("importer", str(DATA / "registre.yaml"))
    monkeypatch.setenv("PACTE_SOFFICE", str(fake))
    start = time.monotonic()
    result = pacte_sqlite("conventions", "generer", "CCAS-2024-010", ok=False)
    assert time.monotonic() - start < 30
    assert result.exit_code == 3 and "n'a pas terminé la conversion" in result.output
    assert "Traceback" not in result.output
    time.sleep(0.5)
    assert not running(marker), f"processus restants : {running(marker)}"
    assert not running(f"sleep {child}"), "un enfant de soffice est resté"
    assert not any(name.endswith(".pdf") for name in folder_state(pacte_sqlite.root))
