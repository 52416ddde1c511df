"""Alerts selected in SQL (the echeance table) are exactly those the date rules give over every convention,
on any day, after imports and lifecycle events, and after a migration from a registry without the table; so is
the directors' board counted and paged in SQL (the etape table)."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from alembic import command
from sqlalchemy import create_engine, select, text

from pacte_docs.registry import database, queries
from pacte_docs.registry.models import Convention
from pacte_docs.rules import alerts, echeances
from pacte_docs.services import lifecycle, notify, portal
from pacte_docs.services.access import Link
from pacte_docs.workspace import Workspace
from tests.helpers import Pacte

START = dt.date(2017, 1, 1)


def varied_registry(count: int = 160, seed: int = 3) -> dict[str, object]:
    """Conventions of every kind: express, tacit, none; short and long; notice 0 to 6 months; drafts."""
    rng = random.Random(seed)
    conventions = []
    for i in range(count):
        effet = START + dt.timedelta(days=rng.randrange(0, 8 * 365))
        signed = rng.random() > 0.1
        duree = rng.choice([1, 6, 12, 24, 36, 48])
        conventions.append({
            "reference": f"CCAS-2020-{i:03d}", "type": rng.choice(["ccas", "france_travail", "autre"]),
            "partenaires": ["CCAS-X"], "objet": "Objet.", "date_effet": effet.isoformat(),
            "date_signature": (effet - dt.timedelta(days=20)).isoformat() if signed else None,
            "duree_mois": duree,
            "renouvellement": rng.choice(["expresse", "tacite", "aucun"]),
            # a notice shorter than the period (the import refuses one that would fall before its start)
            "renouvellements_max": rng.randrange(0, 4), "preavis_mois": rng.choice([p for p in (0, 1, 3, 6)
                                                                                   if p < duree]),
            "responsable": {"email": f"r{i % 5}@d.example.fr"},
        })
    return {"departement": {"code": "93", "nom": "Département de la Seine-Saint-Denis"},
            "partenaires": [{"code": "CCAS-X", "type": "ccas", "nom": "CCAS d'X"}],
            "conventions": [{k: v for k, v in c.items() if v is not None} for c in conventions]}


def compare(root: Path, base: str | None, days: range) -> int:
    """Alerts through the SQL selection against alerts over every convention, day after day."""
    ws = Workspace(root, base)
    checked = 0
    try:
        with ws.db.session() as session:
            for offset in days:
                on = START + dt.timedelta(days=offset)
                config = ws.config
                selected = alerts.select(notify.suivis(session, on, config), on, config.seuils_jours,
                                         config.seuils_par_type)
                every = alerts.select(notify.suivis(session, on, config, tous=True), on, config.seuils_jours,
                                      config.seuils_par_type)
                assert selected == every, on
                checked += len(every)
    finally:
        ws.close()
    return checked


PARTNERS = [{"code": "CCAS-X", "type": "ccas", "nom": "CCAS d'X"},
            {"code": "CCAS-EVRY", "type": "ccas", "nom": "CCAS d'Évry-Courcouronnes"},
            {"code": "MAIRIE-ETAMPES", "type": "commune", "nom": "Mairie d'Étampes"}]


def lived_registry(pacte: Pacte, tmp_path: Path) -> None:
    """The varied registry imported, partners of every kind, a type with thresholds of its own, and life events
    that change the windows: a renewal, an avenant moving an end, a dénonciation, a signature."""
    data = varied_registry()
    data["partenaires"] = PARTNERS
    rng = random.Random(5)
    conventions: list[dict[str, Any]] = data["conventions"]  # type: ignore[assignment]
    for convention in conventions:
        convention["partenaires"] = rng.sample([p["code"] for p in PARTNERS], rng.randrange(1, 3))
    # the same deadlines under references a linguistic collation would sort otherwise: the order is the bytes'
    conventions.extend(conventions[0] | {"reference": reference} for reference in ("AB-1", "A-B2", "A1", "AB0", "B-A"))
    path = tmp_path / "varie.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pacte("importer", str(path))
    (pacte.root / "pacte.toml").write_text((pacte.root / "pacte.toml").read_text(encoding="utf-8").replace(
        "# [alertes.seuils_par_type]\n# france_travail = [270, 180, 90, 30, 0]",
        "[alertes.seuils_par_type]\nfrance_travail = [270, 180, 90, 30, 0]"), encoding="utf-8")
    ws = Workspace(pacte.root, pacte.base)
    with ws.db.session() as session:
        rows = session.query(Convention).order_by(Convention.reference).all()
        express = next(c for c in rows if c.renouvellement == "expresse" and c.renouvellements_max
                       and c.date_signature and c.duree_mois >= 12)
        tacit = next(c for c in rows if c.renouvellement == "tacite" and c.date_signature and c.duree_mois >= 12
                     and c.renouvellements_max)
        draft = next(c for c in rows if c.date_signature is None)
        renewal = express.date_effet + dt.timedelta(days=200)
        lifecycle.record_renewal(session, express.reference, renewal, "CP-1", renewal)
        lifecycle.record_avenant(session, express.reference, "Prolongation.", renewal,
                                 express.date_effet + dt.timedelta(days=2000), renewal)
        lifecycle.record_denonciation(session, tacit.reference, tacit.date_effet + dt.timedelta(days=30), None, True)
        lifecycle.record_signature(session, ws, draft.reference, draft.date_effet)
    ws.close()


# Days compared: every 11th (alerts) and 53rd (board) day on PostgreSQL, in the whole suite; three times as far
# apart on SQLite, in the one-minute loop (`pytest -m "not lent"`), on other days of the same twelve years.
def _step(base: str | None, fine: int) -> int:
    return fine if base else 3 * fine + 1


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_sql_selection_equals_the_rules_on_every_day(pacte: Pacte, tmp_path: Path) -> None:
    lived_registry(pacte, tmp_path)
    assert compare(pacte.root, pacte.base, range(0, 12 * 365, _step(pacte.base, 11))) > 100  # alerts compared


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").casefold()


def board_by_the_rules(ws: Workspace, who: Link, on: dt.date, filters: portal.Filters) -> dict[str, Any]:
    """The board as the rules give it over every convention of the link (what the pages did before the etape
    table): every line computed, filtered, counted, sorted and cut into pages in Python."""
    with ws.db.session() as session:
        theirs = None if who.equipe else select(Convention.id).where(
            queries.of_responsable(str(who.responsable)))
        followed = notify.suivis(session, on, ws.config, tous=True, parmi=theirs)
    wanted = _folded(filters.partenaire.strip())
    kept = [s for s in followed
            if (not filters.responsable or s.responsable.lower() == filters.responsable.lower())
            and (not filters.type or s.type == filters.type)
            and (not filters.statut or s.situation.statut == filters.statut)
            and (not wanted or any(wanted in _folded(t) for t in (*s.partenaires, *s.partenaires_noms)))]
    every = echeances.lines(kept, on)
    # a status without a band: every line of that status, a decision awaited or not
    chosen = [line for line in every if line.bande == filters.bande] if filters.bande else \
        [line for line in every if filters.statut or line.bande != echeances.NONE]
    pages = max(1, -(-len(chosen) // portal.PAGE_SIZE))
    page = min(max(filters.page, 1), pages)
    return {"counts": echeances.counts(every), "lines": chosen[(page - 1) * portal.PAGE_SIZE:page * portal.PAGE_SIZE],
            "total": len(chosen), "pages": pages, "page": page}


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_the_board_counted_in_sql_is_the_rules_board_on_every_day(pacte: Pacte, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Counts, totals, pages and lines of the directors' board, through every filter and band, the team's link
    and a director's, day after day over twelve years: the same as the rules computed over every convention —
    whether the page reads the filtered conventions whole or the database pages along its index."""
    lived_registry(pacte, tmp_path)
    monkeypatch.setattr(portal, "PAGE_SIZE", 7)  # several pages in every band
    now = dt.datetime(2026, 12, 6)
    team, director = Link(1, "a", None, now, "", None), Link(2, "b", "r2@d.example.fr", now, "", None)
    bands = ["", *(code for code, _ in echeances.BANDS), echeances.NONE, "inconnue"]
    statuses = ["a_renouveler", "en_cours", "reconduite", "signee", "expiree", "denoncee", "brouillon"]
    ws = Workspace(pacte.root, pacte.base)
    compared = 0
    try:
        for offset in range(0, 12 * 365, _step(pacte.base, 53)):
            on = START + dt.timedelta(days=offset)
            rng = random.Random(offset)
            cases = [(team, portal.Filters(bande=band, page=rng.randrange(1, 5))) for band in bands] + [
                (director, portal.Filters(bande=rng.choice(bands), page=rng.randrange(1, 3))),
                (team, portal.Filters(statut=rng.choice(statuses), bande=rng.choice(bands))),
                (team, portal.Filters(type=rng.choice(["ccas", "france_travail", "autre"]), statut="a_renouveler")),
                (team, portal.Filters(partenaire=rng.choice(["evry", "É", "ccas-", " Mairie d'étampes ", "zz"]),
                                      bande=rng.choice(bands))),
                (team, portal.Filters(responsable="R3@D.example.fr", page=2)),
                (director, portal.Filters(statut=rng.choice(statuses), partenaire="x")),
            ]
            # a type with thresholds of its own (the status read with the convention), or one threshold for all
            ws.config.seuils_par_type = {"france_travail": [270, 180, 90, 30, 0]} if offset % 2 else {}
            for who, filters in cases:
                board = portal.board(ws, who, on, filters)
                expected = board_by_the_rules(ws, who, on, filters)
                assert (board.counts, board.lines, board.total, board.pages, board.filters.page) == (
                    expected["counts"], expected["lines"], expected["total"], expected["pages"], expected["page"]), (
                    on, who.responsable, filters)
                compared += len(board.lines)
    finally:
        ws.close()
    assert compared > 600


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_migration_fills_the_windows_and_stretches_of_existing_conventions(tmp_path: Path) -> None:
    runner = Pacte(tmp_path / "espace", None)
    runner("init", str(runner.root))
    lived_registry(runner, tmp_path)  # renewals, an avenant, a dénonciation: what the frozen rules must follow
    engine = create_engine(f"sqlite:///{runner.root / 'pacte.db'}")
    stretches = "SELECT * FROM etape ORDER BY convention_id, du"
    with engine.begin() as connection:
        before = connection.execute(text("SELECT count(*) FROM echeance")).scalar_one()
        written = connection.execute(text(stretches)).all()  # by the rules, at import
        config = database.alembic_config(connection)
        command.downgrade(config, "0004")
        command.upgrade(config, "head")
        after = connection.execute(text("SELECT count(*) FROM echeance")).scalar_one()
        migrated = connection.execute(text(stretches)).all()  # by the migration's frozen copy of them
    engine.dispose()
    assert before > 40 and after == before
    assert len(written) > 100 and migrated == written
    assert compare(runner.root, None, range(0, 10 * 365, 29)) > 50
