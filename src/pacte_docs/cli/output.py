"""How the commands print: tables (rich), JSON for scripts, CSV; a progress bar on a terminal only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from pacte_docs.formatting import LABELS, date_courte, date_longue, montant, nombre, pourcentage, spreadsheet_safe

if TYPE_CHECKING:
    from pacte_docs.services.generation import Progress


RAW_HELP = ("CSV : écrit chaque texte tel quel. Sans cette option, un texte commençant par =, +, -, @ est "
            "précédé d'une apostrophe, pour qu'un tableur ne l'exécute pas comme une formule.")


def raw_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--brut: CSV cells written exactly, formulas included (for a round trip by a script, not a spreadsheet)."""
    return click.option("--brut", is_flag=True, help=RAW_HELP)(command)


def _remember_raw(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta["csv_brut"] = value
    return value


def output_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--format table|json|csv and --brut, for listing commands."""
    command = click.option("--brut", is_flag=True, expose_value=False, callback=_remember_raw,
                           help=RAW_HELP)(command)
    return click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
                        show_default=True, help="Présentation : tableau lisible, JSON pour les scripts, CSV.")(command)


def emit(rows: list[dict[str, Any]], columns: dict[str, str], fmt: str, title: str | None = None) -> None:
    """Print rows as a rich table, JSON (stable keys) or CSV."""
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=json_default))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
        context = click.get_current_context(silent=True)
        cell = plain if context is not None and context.meta.get("csv_brut") else \
            (lambda value: spreadsheet_safe(plain(value)))
        writer.writerow(list(columns))
        for row in rows:
            writer.writerow([cell(row.get(key)) for key in columns])
        click.echo(buffer.getvalue(), nl=False)
        return
    from rich.console import Console  # rich is imported by the commands that print with it only
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for label in columns.values():
        table.add_column(label, overflow="fold")
    for row in rows:
        table.add_row(*(escape(shown(key, row.get(key))) for key in columns))  # « CCAS [/] A » is text, not markup
    Console(width=160 if not sys.stdout.isatty() else None).print(table)
    if not rows:
        click.echo("(aucun élément)")


def json_default(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_CODED = {"statut", "type", "renouvellement", "action", "etat"}
_AMOUNTS = {"montant", "montant_annuel", "credits_engages", "credits_consommes"}
_RATES = {"taux_fse", "taux"}
_YEARS = {"exercice", "annee"}  # 2025, never « 2 025 »


def shown(key: str, value: Any, long_dates: bool = False) -> str:
    """*value* of field *key* as a French reader expects it: « 4 200 000,00 € », « 50 % », « 1er juin 2024 » (or
    « 01/06/2024 » in a table), « à renouveler », « oui »."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return date_longue(value) if long_dates else date_courte(value)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return shown(key, dt.date.fromisoformat(value), long_dates)
    if key in _AMOUNTS and isinstance(value, Decimal | int | float):
        return montant(value)
    if key in _RATES and isinstance(value, Decimal | int | float):
        return pourcentage(value)
    if key in _YEARS:
        return str(value)
    if key in _CODED and isinstance(value, str):
        return LABELS.get(value, value)
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return nombre(value)
    return plain(value)


def plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@contextmanager
def progress_bar(description: str) -> Iterator[Progress | None]:
    """A rich progress bar on a terminal; nothing when piped or in CI."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    labels = {"docx": "Documents DOCX", "pdf": "Conversion PDF"}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def advance(phase: str, step: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(labels.get(phase, description), total=total)
            bar.advance(tasks[phase], step)

        yield advance


def print_conformity(found: list[tuple[str, str, Any]]) -> None:
    """One line per PDF: PDF/A and PDF/UA claims, tagged, language, title (see documents.conformity); then what
    is not archivable or not accessible, with the fix."""
    rows = [{"chemin": path, "pdfa": f"PDF/A-{c.pdfa[0]}{c.pdfa[1:].lower()}" if c.pdfa else "non",
             "pdfua": f"PDF/UA-{c.pdfua}" if c.pdfua else "non",
             "balise": "oui" if c.balise else "non", "langue": c.langue or "—",
             "titre": (c.titre or "—") + ("" if c.affiche_titre else " (non affiché)")} for path, _, c in found]
    emit(rows, {"chemin": "PDF", "pdfa": "PDF/A", "pdfua": "PDF/UA", "balise": "Balisé", "langue": "Langue",
                "titre": "Titre"}, "table", title="Conformité des PDF (archivage et accessibilité)")
    plain = [path for path, _, c in found if not c.pdfa]
    if plain:
        click.echo(f"  {len(plain)} PDF sans PDF/A-2b (produits avec --sans-pdfa ou par une version précédente) : "
                   "pour l'archivage légal, régénérez-les sans --sans-pdfa.")
    missing = [path for path, _, c in found if not c.accessible]
    if missing:
        click.echo(f"  {len(missing)} PDF non accessible(s) (balisage, langue ou titre manquant), faits par une "
                   "version précédente : régénérez-les (pacte conventions generer, pdi-pti generer, bilan "
                   "compiler).")
    if found and not plain and not missing:
        click.echo("  Le PDF en vigueur est en PDF/A-2b, balisé, avec sa langue et son titre." if len(found) == 1 else
                   f"  Les {len(found)} PDF en vigueur sont en PDF/A-2b, balisés, avec leur langue et leur titre.")


def status(text: str, shown: bool = True) -> AbstractContextManager[Any]:
    """A spinner with *text* on a terminal's standard error while a long step runs; nothing when piped or in CI."""
    if not (shown and sys.stderr.isatty()):
        return nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(text)
