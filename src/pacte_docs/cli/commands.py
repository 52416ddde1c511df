"""The `pacte` command line: a thin layer that parses options, calls one domain function and prints the result."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pacte_docs import __version__
from pacte_docs.cli import clickfr
from pacte_docs.cli.output import (
    emit,
    json_default,
    output_option,
    plain,
    print_conformity,
    progress_bar,
    raw_option,
    shown,
    status,
)
from pacte_docs.errors import DatabaseUnavailableError, ExternalError, Invalid, PacteError
from pacte_docs.formatting import LABELS, date_longue
from pacte_docs.kinds import ArticleChange, ConventionType, values
from pacte_docs.rules import periods
from pacte_docs.thirdparty import silence_third_party_warnings
from pacte_docs.workspace import Workspace, find_root, init_workspace

if TYPE_CHECKING:
    from pacte_docs.services import lifecycle

# The commands import the heavier modules (LibreOffice, docxtpl, matplotlib, pypdf, openpyxl) when they run,
# so that `pacte alertes` and the listings start in a fraction of a second.
clickfr.install()
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
SHOWN_FIELDS = {  # `conventions afficher`: field → French label, in the order a reader looks for them
    "objet": "Objet", "partenaires": "Partenaires", "departement": "Département", "date_signature": "Signée le",
    "date_effet": "Date d'effet", "duree_mois": "Durée (mois)", "periode": "Période en cours",
    "debut_periode": "Début de période", "fin_periode": "Fin de période", "renouvellement": "Renouvellement",
    "renouvellements_max": "Renouvellements au plus", "preavis_mois": "Préavis (mois)",
    "date_limite": "Date limite de décision", "territoire": "Territoire", "montant": "Montant", "taux_fse": "Taux FSE",
    "fse_accorde_le": "FSE+ accordé le",
}
STATUS_LABELS = {"cree": "créé", "regenere": "régénéré", "inchange": "inchangé", "modifie": "modifié",
                 "fige": "texte signé, inchangé"}


class State:
    """Global options, shared with every command through ctx.obj."""

    def __init__(self, espace: Path | None, base: str | None, au: dt.date | None) -> None:
        self.espace = espace or find_root(Path.cwd())  # from a subfolder, the enclosing workspace
        self.base = base
        self.au = au or periods.today()
        self.au_given = au is not None
        self._workspace: Workspace | None = None

    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace(self.espace, self.base)
            self._workspace.on_wait = _tell_waiting
        return self._workspace

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()


WAITING = {
    "documents": "Une autre commande pacte produit ou archive des documents de ce registre : attente de sa fin…",
    "registre": "Une autre commande pacte modifie ce registre (import ou suivi d'une convention) : attente de sa "
                "fin…",
}


def _tell_waiting(lock: str) -> None:
    click.echo(WAITING.get(lock, "Attente de la fin d'une autre commande pacte…"), err=True)


def _key(_ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
    """A reference or code as the registry writes it (capitals, no spaces): « ccas-2024-001 » is CCAS-2024-001."""
    if isinstance(value, tuple):
        return tuple(v.strip().upper() for v in value)
    return value.strip().upper() if isinstance(value, str) else value


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    """A date typed on the command line, read by the import's own rule: AAAA-MM-JJ or JJ/MM/AAAA, in the
    plausible years (1980 to 2100) — never « 1er janvier 1 » in an act."""
    if value is None:
        return None
    from pacte_docs.intake import import_format

    try:
        return import_format.date(value)
    except Invalid as exc:
        raise click.BadParameter(f"{exc.message} ; {exc.fix}.") from None


# ---------------------------------------------------------------- the group


class PacteClickError(click.ClickException):
    """A domain error shown as « Erreur : … » with its documented exit code, never a traceback."""

    def __init__(self, error: PacteError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_code  # type: ignore[misc]  # click declares it on the class


GLOBAL_OPTIONS = ("--espace", "--base", "--au")


def globals_first(args: list[str]) -> list[str]:
    """The common options (--espace, --base, --au) moved before the command, wherever they were typed:
    « pacte alertes --au 2027-01-01 » means « pacte --au 2027-01-01 alertes »."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        if arg in GLOBAL_OPTIONS and index + 1 < len(args):
            front.extend(args[index:index + 2])
            index += 2
            continue
        if arg.startswith(tuple(f"{name}=" for name in GLOBAL_OPTIONS)):
            front.append(arg)
        else:
            rest.append(arg)
        index += 1
    return front + rest


class PacteGroup(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            args = globals_first(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import DatabaseError, OperationalError

        from pacte_docs.registry.database import unreadable

        try:
            return super().invoke(ctx)
        except PacteError as exc:
            raise PacteClickError(exc) from exc
        except OperationalError as exc:
            if "readonly" in str(exc.orig):
                error = DatabaseUnavailableError(
                    "Le registre est en lecture seule pour vous (dossier ou fichier protégé en écriture) : cette "
                    "commande le modifierait, rien n'a été changé. Les consultations (lister, afficher, alertes, "
                    "archives verifier) restent possibles ; pour le reste, demandez l'accès en écriture.")
            else:
                error = DatabaseUnavailableError(
                    f"la base de données ne répond pas ({exc.orig}). Vérifiez --base, PACTE_BASE ou pacte.toml, "
                    "et que le serveur tourne.")
            raise PacteClickError(error) from exc
        except DatabaseError as exc:  # a damaged registry found in the middle of a command
            state = ctx.obj if isinstance(ctx.obj, State) else None
            url = state._workspace.base_url if state and state._workspace else "pacte.db"
            raise PacteClickError(unreadable(url, exc)) from exc
        except BrokenPipeError:  # « pacte … | true »: the reader of the output left; what was done stays done
            output_closed()
            raise SystemExit(1) from None
        except OSError as exc:  # a full disk, a read-only folder: said in French, exit 3
            where = f" ({exc.filename})" if exc.filename else ""
            raise PacteClickError(ExternalError(
                f"Écriture ou lecture impossible{where} : {exc.strerror or exc}. Libérez de la place ou rendez le "
                "dossier accessible en écriture, puis relancez : ce qui était commencé a été annulé.")) from exc


@click.group(cls=PacteGroup, context_settings=CONTEXT)
@click.option("--espace", type=click.Path(file_okay=False, path_type=Path), envvar="PACTE_ESPACE",
              help="Dossier de l'espace de travail (par défaut : le dossier courant ; variable PACTE_ESPACE).")
@click.option("--base", envvar="PACTE_BASE", metavar="URL",
              help="Adresse SQLAlchemy du registre, par exemple postgresql+psycopg://pacte@serveur/pacte "
                   "(variable PACTE_BASE ; par défaut : pacte.db dans l'espace).")
@click.option("--au", callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Date du jour à retenir (par défaut : aujourd'hui, heure de Paris).")
@click.version_option(__version__, "--version", prog_name="pacte")
@click.pass_context
def cli(ctx: click.Context, espace: Path | None, base: str | None, au: dt.date | None) -> None:
    """Conventions d'insertion, PDI/PTI et bilans du Département, générés depuis des modèles DOCX.

    \b
    Exemple :
      pacte demo                 # un espace complet de démonstration dans ./pacte-demo
      pacte --espace ~/insertion conventions lister
    """
    silence_third_party_warnings()
    state = State(espace, base, au)
    ctx.obj = state
    ctx.call_on_close(state.close)


@cli.command("init")
@click.argument("dossier", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--departement", "code", metavar="CODE", help="Code du département de l'espace (91, 2A, 974…).")
@click.option("--nom", metavar="NOM", help="Son nom, tel que les actes l'écrivent (« Département de l'Essonne »).")
@click.pass_obj
def init_command(state: State, dossier: Path | None, code: str | None, nom: str | None) -> None:
    """Crée ou complète un espace de travail (sans jamais écraser un modèle modifié), et enregistre son
    département : les conventions et les PDI/PTI importés lui sont rattachés.

    \b
    Exemple :
      pacte init ~/insertion --departement 91 --nom "Département de l'Essonne"
    """
    if (code is None) != (nom is None):
        raise click.UsageError("donnez --departement et --nom ensemble, par exemple --departement 91 --nom "
                               "\"Département de l'Essonne\".")
    root = dossier or state.espace
    report = init_workspace(root, state.base)
    for name in report.created:
        click.echo(f"  créé    {name}")
    for name in report.kept:
        click.echo(f"  conservé {name}")
    for name in report.updated:
        click.echo(f"  mis à jour {name} (modèle par défaut d'une version précédente, jamais modifié)")
    for name in report.edited:
        click.echo(f"  conservé {name} : modifié dans l'espace, il est gardé tel quel ; le modèle par défaut de "
                   f"cette version a changé (« pacte modeles verifier » dit s'il reste compatible)")
    if code is not None and nom is not None:
        from pacte_docs.services import records

        with Workspace(root, state.base) as ws:
            recorded = records.record_departement(ws, code, nom)
        done = "enregistré" if recorded.changed else "déjà enregistré"
        click.echo(f"  département {code} ({nom}) {done}")
    click.echo(f"Espace de travail prêt : {root.resolve()}")


@cli.command("demo")
@click.argument("dossier", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def demo_command(state: State, dossier: Path | None) -> None:
    """Construit un espace de démonstration complet à partir des données fournies.

    Importe les partenaires et conventions des Hauts-de-Seine et de l'Essonne, le pacte solidarité
    Essonne (PDI/PTI) et ses réalisations 2018 et 2019 ; génère chaque convention et le PDI/PTI en
    DOCX et en PDF, rejoue la vie des conventions, compile le bilan 2019 et affiche les alertes.

    \b
    Exemple :
      pacte demo ~/pacte-demo
    """
    from pacte_docs.services import demo

    root = dossier or (state.espace if state.espace != Path.cwd() else Path.cwd() / "pacte-demo")
    with progress_bar("Démonstration") as progress:
        report = demo.run(root, state.au, state.base, progress)
    counts = report.imported.counts
    click.echo(f"Espace de démonstration : {report.root}")
    click.echo(f"  Registre : {sum(counts.get('departement', {}).values())} départements, "
               f"{sum(counts.get('partenaires', {}).values())} partenaires, "
               f"{sum(counts.get('conventions', {}).values())} conventions, "
               f"{sum(counts.get('pacte', {}).values())} PDI/PTI et "
               f"{sum(counts.get('realisations', {}).values())} lignes de réalisations importés.")
    click.echo("  Conventions générées :")
    for output in report.generated.outputs:
        pdf = f" et {output.pdf}" if output.pdf else ""
        click.echo(f"    {output.reference:<16} {output.docx}{pdf}")
    for pacte in report.pactes:
        pages = f", {pacte.pages} pages" if pacte.pages else ""
        click.echo(f"  PDI/PTI {pacte.reference} ({pacte.libelle}) : {pacte.docx} et {pacte.pdf}{pages}")
    for point in report.points:
        click.echo(f"  Point d'étape du comité de pilotage du {date_longue(point.date)} : {point.docx} et {point.pdf}")
    for compiled in report.bilans:
        if compiled.etape:
            click.echo(f"  Bilan d'étape {compiled.annee} : {compiled.chemin} ({compiled.pages} pages)")
            continue
        click.echo(f"  Bilan {compiled.annee} pour l'Assemblée : {compiled.chemin} ({compiled.pages} pages, "
                   f"conventions en annexe : {', '.join(compiled.annexes) or 'aucune'})")
    if report.history:
        click.echo("  Vie des conventions rejouée :")
        for line in report.history:
            click.echo(f"    {line}")
    by_status: dict[str, list[str]] = {}
    for reference, statut in report.statuts.items():
        by_status.setdefault(statut, []).append(reference)
    click.echo(f"  Statuts au {date_longue(state.au)} :")
    for statut in periods.STATUTS:
        if statut in by_status:
            click.echo(f"    {statut:<13} {', '.join(by_status[statut])}")
    emit([a.as_json() for a in report.alertes],
         {"reference": "Référence", "responsable": "Responsable", "date_limite": "Date limite",
          "jours_restants": "Jours", "seuil": "Seuil", "action": "À faire"},
         "table", f"Alertes au {date_longue(state.au)} (pacte alertes --envoyer les adresse aux responsables)")
    click.echo(f"  Calendrier des échéances : {report.calendrier}")
    from pacte_docs.documents import store

    click.echo(f"  Empreintes des archives : {report.root / 'archives' / store.SUMS_NAME}")
    click.echo("Pour continuer : cd " + str(report.root) + " && pacte conventions lister")


@cli.command("importer")
@click.argument("fichiers", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--simulation", is_flag=True, help="Valide les fichiers et montre les changements sans rien enregistrer.")
@click.pass_obj
def import_command(state: State, fichiers: tuple[Path, ...], simulation: bool) -> None:
    """Importe des partenaires et conventions (classeur XLSX, CSV ou YAML), tout ou rien.

    Pour commencer : pacte modeles classeur, un classeur vierge dont chaque en-tête dit sa règle.
    Un classeur a une feuille par section : departement, partenaires, conventions, realisations,
    le PDI/PTI (pacte, axes, fiches-actions, engagements) et la vie des conventions (avenants,
    renouvellements, denonciations, journal). Une ligne de titre au-dessus des en-têtes est permise ;
    les en-têtes en français (« Date d'effet ») et les valeurs telles que pacte les affiche
    (« France Travail », « Exprès ») sont lus. Un fichier CSV tient une section, nommée par le
    fichier (partenaires.csv). Toutes les colonnes et leurs règles : les notes des en-têtes du
    classeur vierge, et la section « Format d'import » du README.

    Chaque erreur est signalée avec son fichier, sa feuille, sa ligne et sa colonne ; au moindre
    problème, rien n'est enregistré. Réimporter le même fichier ne change rien.

    \b
    Exemple :
      pacte importer partenaires.csv conventions.xlsx --simulation
    """
    from pacte_docs.services import records

    report = records.import_files(state.workspace(), list(fichiers), simulation=simulation)
    for line in report.summary():
        click.echo(f"  {line}")
    if not any(report.counts.values()):
        click.echo("Aucune donnée à importer dans ces fichiers : les feuilles sont vides, ou ne portent que la "
                   "ligne d'exemple grise du classeur vierge, que l'import passe.")
    elif simulation:
        click.echo("Simulation : rien n'a été enregistré.")
    elif not report.changed:
        click.echo("Registre déjà à jour : rien n'a changé.")
    else:
        click.echo("Import enregistré.")


@cli.command("exporter")
@click.argument("fichier", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "yaml"]),
              help="Format (par défaut : d'après l'extension du fichier).")
@click.option("--subventions", "annee", type=click.IntRange(1990, 2100), metavar="ANNEE",
              help="Les données essentielles des conventions de subvention signées cette année, au format SCDL "
                   "« subventions » 2.1.1 (CSV à publier en données ouvertes).")
@raw_option
@click.pass_obj
def export_command(state: State, fichier: Path, fmt: str | None, annee: int | None, brut: bool) -> None:
    """Exporte le registre dans un fichier réimportable, ou les données essentielles des subventions.

    En CSV, chaque section va dans son propre fichier (registre-partenaires.csv, …).

    \b
    Exemples :
      pacte exporter registre.xlsx
      pacte exporter --subventions 2026 subventions-2026.csv
    """
    from pacte_docs.services import records

    if annee is not None:
        from pacte_docs.services import publication

        published, count = publication.write_csv(state.workspace(), annee, fichier)
        click.echo(f"  écrit {published} : {count} subvention{'s' if count > 1 else ''} publiée"
                   f"{'s' if count > 1 else ''} (SCDL subventions 2.1.1)")
        return

    if fmt is None and fichier.suffix.lower().lstrip(".") not in ("xlsx", "csv", "yaml", "yml"):
        raise click.BadParameter("extension inconnue : donnez --format xlsx, csv ou yaml.", param_hint="FICHIER")
    written = records.export_registry(state.workspace(), fichier, fmt, brut)
    for path in written:
        click.echo(f"  écrit {path}")


# ---------------------------------------------------------------- partenaires, conventions


@cli.group("partenaires", context_settings=CONTEXT)
def partenaires_group() -> None:
    """Partenaires du registre (communes, CCAS, France Travail, …)."""


@partenaires_group.command("lister")
@output_option
@click.pass_obj
def partenaires_list(state: State, fmt: str) -> None:
    """Liste les partenaires.

    \b
    Exemple :
      pacte partenaires lister --format csv > partenaires.csv
    """
    from pacte_docs.services import records

    rows = records.list_partenaires(state.workspace())
    emit(rows, {"code": "Code", "type": "Type", "nom": "Nom", "commune": "Commune",
                "representant": "Représentant", "email": "Courriel"}, fmt, "Partenaires")


@cli.group("conventions", context_settings=CONTEXT)
def conventions_group() -> None:
    """Conventions : liste, détail, génération des documents."""


@conventions_group.command("lister")
@click.option("--type", "type_", type=click.Choice(values(ConventionType)), help="Seulement ce type.")
@click.option("--statut", type=click.Choice(periods.STATUTS), help="Seulement ce statut.")
@output_option
@click.pass_obj
def conventions_list(state: State, type_: str | None, statut: str | None, fmt: str) -> None:
    """Liste les conventions avec leur statut et leurs échéances.

    \b
    Exemple :
      pacte conventions lister --type ccas --format json
    """
    from pacte_docs.services import records

    rows = records.list_conventions(state.workspace(), state.au, type_=type_, statut=statut)
    emit(rows, {"reference": "Référence", "type": "Type", "partenaires": "Partenaires", "statut": "Statut",
                "date_effet": "Effet", "fin_periode": "Fin de période", "date_limite": "Date limite"},
         fmt, f"Conventions au {date_longue(state.au)}")


@conventions_group.command("afficher")
@click.argument("reference", callback=_key)
@output_option
@click.pass_obj
def conventions_show(state: State, reference: str, fmt: str) -> None:
    """Affiche une convention, ses partenaires et ses documents.

    \b
    Exemple :
      pacte conventions afficher CCAS-2024-001
    """
    from pacte_docs.services import records

    row = records.show_convention(state.workspace(), reference, state.au)
    if fmt == "json":
        click.echo(json.dumps(row, ensure_ascii=False, indent=2, default=json_default))
        return
    if fmt == "csv":
        emit([row], {k: k for k in row if k not in ("documents", "journal", "signature", "pieces", "circuit")}, "csv")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{escape(row['reference'])}[/bold] — {escape(shown('type', row['type']))} — statut : "
                  f"[bold]{escape(shown('statut', row['statut']))}[/bold]")
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, label in SHOWN_FIELDS.items():
        table.add_row(label, escape(shown(key, row.get(key), long_dates=True)))
    table.add_row("Responsable", escape(f"{plain(row['responsable'].get('nom'))} <{row['responsable'].get('email')}>"))
    if row.get("signature"):
        table.add_row("Copie signée", escape(row["signature"]["verdict"]))
    console.print(table)
    if row["documents"]:
        console.print("[bold]Documents[/bold]")
        for d in row["documents"]:
            state_label = "archivé" if d["archive"] else "courant"
            console.print(escape(f"  {d['chemin']}  (v{d['version']}, {state_label}, sha256 {d['sha256'][:12]}…)"))
    if row["circuit"]:
        console.print(f"[bold]Circuit de visas[/bold] : {escape(row['circuit']['libelle'])}")
        for step in row["circuit"]["etapes"]:
            said = (f"visé par {step['visa']['par']} le {step['visa']['quand']:%d/%m/%Y}" if step["visa"]
                    else "attendu" if step["attendue"] else "à venir")
            console.print(escape(f"  {step['qui']} : {said}"), highlight=False)
        if row["circuit"]["renvoi"]:
            console.print(escape(f"  Renvoyé par {row['circuit']['renvoi']['par']} : "
                                 f"« {row['circuit']['renvoi']['commentaire']} »"), highlight=False)
    if row["pieces"]:
        console.print("[bold]Pièces dues par le partenaire[/bold]")
        for p in row["pieces"]:
            console.print(escape(f"  {p['libelle']} {p['exercice']} — échéance {shown('echeance', p['echeance'])} — "
                                 f"{p['etat']}"), highlight=False)
    if row["journal"]:
        console.print("[bold]Journal[/bold]")
        for e in row["journal"]:
            sha = f" [sha256 {e['sha256'][:12]}…]" if e["sha256"] else ""
            when = dt.datetime.fromisoformat(e["quand"]).strftime("%d/%m/%Y %H:%M")
            by = f" — {e['auteur']}" if e.get("auteur") else ""
            console.print(escape(f"  {when}  {e['nature']:<15} {e['description']}{sha}{by}"), highlight=False)


@conventions_group.command("generer")
@click.argument("references", nargs=-1, callback=_key, metavar="[RÉFÉRENCES]…")
@click.option("--toutes", is_flag=True, help="Génère toutes les conventions du registre.")
@click.option("--sans-pdf", is_flag=True, help="Ne produit que les DOCX.")
@click.option("--pdfa/--sans-pdfa", default=True, show_default=False,
              help="PDF/A-2b pour l'archivage légal (par défaut) ; --sans-pdfa pour un PDF simple.")
@click.pass_obj
def conventions_generate(state: State, references: tuple[str, ...], toutes: bool, sans_pdf: bool,
                         pdfa: bool) -> None:
    """Génère les conventions en DOCX et PDF depuis les modèles de modeles/.

    Un document dont les données et le modèle n'ont pas changé n'est pas refait ; une version
    remplacée part dans archives/.

    \b
    Exemple :
      pacte conventions generer CCAS-2024-001
      pacte conventions generer --toutes --sans-pdfa
    """
    from pacte_docs.services import generation

    if toutes and references:
        raise click.UsageError("Donnez des références ou --toutes, pas les deux.")
    if not toutes and not references:  # a usage error (exit 2), not bad data
        raise click.UsageError("indiquez au moins une référence de convention, ou --toutes pour toutes les "
                               "générer. Exemple : pacte conventions generer CCAS-2024-001")
    ws = state.workspace()
    with progress_bar("Génération") as progress:
        report = generation.generate(ws, list(references), all_=toutes, with_pdf=not sans_pdf, pdfa=pdfa,
                                     progress=progress)
    for output in report.outputs:
        pdf = f", PDF {STATUS_LABELS[output.pdf_status]}" if output.pdf_status else ""
        click.echo(f"  {output.reference:<16} {output.docx} ({STATUS_LABELS[output.docx_status]}{pdf})")
    for note in report.notes:
        click.echo(f"  Remarque : {note}")
    made = report.count("cree") + report.count("regenere")
    click.echo(f"{made} document(s) produit(s), {report.count('inchange') + report.count('fige')} inchangé(s).")


def _print_step(step: lifecycle.Step) -> None:
    for line in step.lines:
        click.echo(line)
    for report in step.generated:
        for output in report.outputs:
            pdf = f", PDF {STATUS_LABELS[output.pdf_status]}" if output.pdf_status else ""
            click.echo(f"  {output.docx} ({STATUS_LABELS[output.docx_status]}{pdf})")
        for note in report.notes:  # what the act still lacks (« PROJET »), as generer says it
            click.echo(f"  Remarque : {note}")


@conventions_group.command("soumettre")
@click.argument("reference", callback=_key)
@click.option("--par", "par", metavar="COURRIEL",
              help="L'agent qui soumet le projet, tel que le journal et le bordereau le nommeront.")
@click.pass_obj
def conventions_submit(state: State, reference: str, par: str | None) -> None:
    """Soumet un projet de convention à son circuit de visas ([circuits] de pacte.toml).

    Le projet doit avoir un document à jour de ses données (pacte conventions generer) : chaque visa porte sur
    cette version, identifiée par son empreinte SHA-256.

    \b
    Exemple :
      pacte conventions soumettre CCAS-2027-005 --par redacteur@departement.fr
    """
    from pacte_docs.services import circuit

    for line in circuit.soumettre(state.workspace(), reference, par):
        click.echo(line)


@conventions_group.command("viser")
@click.argument("reference", callback=_key)
@click.option("--avis", required=True, type=click.Choice(["favorable", "defavorable"]), help="L'avis donné.")
@click.option("--commentaire", metavar="TEXTE", help="Obligatoire pour un avis défavorable : ce qu'il faut reprendre.")
@click.option("--par", "par", required=True, metavar="COURRIEL",
              help="L'agent qui donne le visa (son compte, ou le directeur qui suit la convention).")
@click.pass_obj
def conventions_visa(state: State, reference: str, avis: str, commentaire: str | None, par: str) -> None:
    """Donne le visa attendu d'un projet soumis : favorable, ou défavorable avec un commentaire (le projet
    retourne à son auteur).

    \b
    Exemples :
      pacte conventions viser CCAS-2027-005 --avis favorable --par juriste@departement.fr
      pacte conventions viser CCAS-2027-005 --avis defavorable --commentaire "Article 5 : préciser l'échéancier" \\
        --par directeur@departement.fr
    """
    from pacte_docs.services import circuit

    for line in circuit.viser(state.workspace(), reference, avis, commentaire, par):
        click.echo(line)


@conventions_group.command("signer")
@click.argument("reference", callback=_key)
@click.option("--date", "date_", required=True, callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Date de signature.")
@click.option("--fichier", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PDF signé (électroniquement, ou scan d'un exemplaire papier) : ses signatures et son texte sont "
                   "vérifiés, puis il est archivé en lecture seule avec le rapport de vérification.")
@click.option("--force", is_flag=True, help="Enregistre une copie refusée (signature rompue, texte différent), ou "
                                            "une convention à qui manquent des visas de son circuit, avec ce "
                                            "constat.")
@click.pass_obj
def conventions_sign(state: State, reference: str, date_: dt.date, fichier: Path | None, force: bool) -> None:
    """Enregistre la signature d'une convention (et archive le PDF signé).

    \b
    Exemple :
      pacte conventions signer CCAS-2024-001 --date 2024-05-15 --fichier signee.pdf
    """
    from pacte_docs.services import lifecycle

    _print_step(lifecycle.signer(state.workspace(), reference, date_, fichier, force, on=state.au))


@conventions_group.command("signer-electroniquement")
@click.argument("reference", callback=_key)
@click.option("--par", "par", required=True, metavar="COURRIEL",
              help="L'agent (rôle juriste ou administration) qui fait signer le Département.")
@click.option("--fichier", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Le texte définitif déjà signé par le partenaire : la signature du Département s'y ajoute.")
@click.option("--texte-definitif", "sortie", type=click.Path(dir_okay=False, path_type=Path), metavar="FICHIER.pdf",
              help="Écrit seulement le texte définitif, pour que le partenaire le signe le premier.")
@click.pass_obj
def conventions_esign(state: State, reference: str, par: str, fichier: Path | None, sortie: Path | None) -> None:
    """Signe électroniquement une convention pour le Département (PAdES, horodatée).

    Une fois tous les visas de son circuit donnés, le texte définitif (PDF/A, sans « PROJET », daté du jour) est
    signé avec le certificat du Département ([signature_electronique] de pacte.toml : jeton PKCS#11, code PIN dans
    PACTE_PIN_SIGNATURE, ou fichier PKCS#12), horodaté par l'autorité configurée, les données de validation
    jointes (PAdES B-LT). La copie signée est vérifiée, archivée en lecture seule avec son rapport, et le
    bordereau du circuit (visas et signature) est produit. Le partenaire peut signer ensuite : sa copie se donne
    à « pacte conventions signer REF --date D --fichier F ». Ou bien il signe le premier : --texte-definitif
    écrit le texte à lui envoyer, --fichier donne la copie qu'il a signée.

    \b
    Exemples :
      PACTE_PIN_SIGNATURE=1234 pacte conventions signer-electroniquement CCAS-2027-005 --par juriste@departement.fr
      pacte conventions signer-electroniquement CCAS-2027-005 --par juriste@departement.fr \\
        --texte-definitif a-signer.pdf
      pacte conventions signer-electroniquement CCAS-2027-005 --par juriste@departement.fr \\
        --fichier signee-par-le-partenaire.pdf
    """
    from pacte_docs import files
    from pacte_docs.services import esignature

    if sortie is not None:
        if fichier is not None:
            raise click.UsageError("--texte-definitif écrit le texte à faire signer ; --fichier signe une copie : "
                                   "l'un ou l'autre.")
        ws = state.workspace()
        ws.check_output(sortie, "--texte-definitif")
        final = esignature.texte_definitif(ws, reference, par, on=state.au)
        files.write_atomic(sortie, final)
        click.echo(f"{reference} : texte définitif écrit dans {sortie} (PDF/A, SHA-256 {files.sha256_bytes(final)}).")
        click.echo("Une fois signé par le partenaire, le Département le signe à son tour : pacte conventions "
                   f"signer-electroniquement {reference} --par {par} --fichier COPIE-SIGNEE.pdf")
        return
    _print_step(esignature.signer_electroniquement(state.workspace(), reference, par, on=state.au,
                                                   fichier=fichier))


@conventions_group.command("renouveler")
@click.argument("reference", callback=_key)
@click.option("--date", "date_", callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Date de la décision de renouvellement (par défaut : --au, aujourd'hui).")
@click.option("--deliberation", metavar="NUMERO", help="Numéro de la délibération qui renouvelle.")
@click.option("--sans-pdf", is_flag=True, help="Ne produit que le DOCX de l'acte de renouvellement.")
@click.option("--force", is_flag=True,
              help="Enregistre une décision datée après aujourd'hui, ou prise après la date limite que fixe la "
                   "convention (le journal dit que la clause a été écartée).")
@click.pass_obj
def conventions_renew(state: State, reference: str, date_: dt.date | None, deliberation: str | None,
                      sans_pdf: bool, force: bool) -> None:
    """Enregistre le renouvellement exprès d'une convention : la période suivante s'ouvre, et l'acte de
    renouvellement est produit depuis modeles/renouvellement.docx (le texte signé de la convention ne change pas).

    \b
    Exemple :
      pacte conventions renouveler CCAS-2024-001 --date 2027-03-20 --deliberation CP-2027-03-041
    """
    from pacte_docs.services import lifecycle

    _print_step(lifecycle.renouveler(state.workspace(), reference, date_ or state.au, deliberation, state.au,
                                     with_pdf=not sans_pdf, force=force))


@conventions_group.command("succeder")
@click.argument("reference", callback=_key)
@click.option("--reference", "nouvelle", required=True, metavar="NOUVELLE",
              help="Référence de la nouvelle convention (par exemple CCAS-2027-001).")
@click.option("--date-effet", callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Prise d'effet de la nouvelle convention (par défaut : le lendemain de la fin de l'ancienne).")
@click.pass_obj
def conventions_succeed(state: State, reference: str, nouvelle: str, date_effet: dt.date | None) -> None:
    """Prépare en brouillon la convention qui succède à une convention terminée ou qui ne peut plus être
    renouvelée : mêmes parties, objet et clauses, nouvelle référence ; la délibération et la signature
    restent à venir.

    \b
    Exemple :
      pacte conventions succeder CCAS-2024-001 --reference CCAS-2027-001
    """
    from pacte_docs.services import lifecycle

    _print_step(lifecycle.succeder(state.workspace(), reference, nouvelle, state.au, date_effet))


@conventions_group.command("avenant")
@click.argument("reference", callback=_key)
@click.option("--objet", required=True,
              help="Les motifs de l'avenant (« Exposé des motifs ») ; son article 1 dit alors ce qu'il change. Sans "
                   "--remplace-article, --complete-article ni --nouvelle-fin, c'est le texte de son article 1.")
@click.option("--date", "date_", callback=_parse_date, metavar="AAAA-MM-JJ", help="Date de l'avenant.")
@click.option("--nouvelle-fin", callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Nouvelle date de fin de la période en cours.")
@click.option("--deliberation", metavar="NUMERO", help="Numéro de la délibération qui approuve l'avenant.")
@click.option("--date-deliberation", callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Date de cette délibération.")
@click.option("--complete-article", "complete", nargs=2, multiple=True, metavar="ARTICLE TEXTE",
              help="Ajoute un alinéa à un article de la convention (« L'article 4 est complété par l'alinéa "
                   "suivant : « … » »). Répétable.")
@click.option("--remplace-article", "remplace", nargs=2, multiple=True, metavar="ARTICLE TEXTE",
              help="Donne la nouvelle rédaction d'un article de la convention (« L'article 6 est ainsi rédigé : "
                   "« … » »). Répétable.")
@click.option("--sans-pdf", is_flag=True, help="Ne produit que le DOCX de l'avenant.")
@click.option("--force", is_flag=True, help="Enregistre d'avance un avenant daté après aujourd'hui.")
@click.pass_obj
def conventions_amend(state: State, reference: str, objet: str, date_: dt.date | None,
                      nouvelle_fin: dt.date | None, deliberation: str | None, date_deliberation: dt.date | None,
                      complete: tuple[tuple[str, str], ...], remplace: tuple[tuple[str, str], ...],
                      sans_pdf: bool, force: bool) -> None:
    """Enregistre un avenant numéroté et le génère depuis modeles/avenant.docx.

    L'objet résume l'avenant en une phrase ; chaque article modifié reçoit sa nouvelle rédaction
    (--complete-article, --remplace-article), dans l'ordre des articles.

    \b
    Exemple :
      pacte conventions avenant CCAS-2024-001 --objet "Ajout d'une permanence numérique." --date 2025-09-01 \\
        --deliberation CP-2025-07-112 --date-deliberation 2025-07-07 \\
        --complete-article 4 "Le CCAS tient une permanence numérique le mardi matin."
    """
    from pacte_docs.services import lifecycle

    changes = [(ArticleChange.COMPLETE.value, article, texte) for article, texte in complete]
    changes += [(ArticleChange.REMPLACE.value, article, texte) for article, texte in remplace]
    _print_step(lifecycle.avenant(state.workspace(), reference, objet, date_, nouvelle_fin, state.au,
                                  with_pdf=not sans_pdf, deliberation=deliberation,
                                  date_deliberation=date_deliberation, changes=changes, force=force))


@conventions_group.command("denoncer")
@click.argument("reference", callback=_key)
@click.option("--date", "date_", required=True, callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Date de la dénonciation (envoi de la lettre recommandée).")
@click.option("--motif", help="Motif de la dénonciation.")
@click.option("--deliberation", metavar="NUMERO", help="Numéro de la délibération qui décide la dénonciation.")
@click.option("--date-deliberation", callback=_parse_date, metavar="AAAA-MM-JJ", help="Date de cette délibération.")
@click.option("--force", is_flag=True, help="Enregistre une dénonciation tacite hors délai, d'un commun accord, "
                                            "ou d'avance une dénonciation datée après aujourd'hui.")
@click.option("--sans-pdf", is_flag=True, help="Ne produit que le DOCX de la lettre de dénonciation.")
@click.pass_obj
def conventions_denounce(state: State, reference: str, date_: dt.date, motif: str | None, deliberation: str | None,
                         date_deliberation: dt.date | None, force: bool, sans_pdf: bool) -> None:
    """Enregistre la dénonciation d'une convention ; elle prend fin au terme de sa période. La lettre
    recommandée qui la notifie est produite depuis modeles/denonciation.docx.

    La lettre cite la délibération qui décide la dénonciation et l'article de la convention qui la permet ;
    sans numéro ni date de délibération, elle reste un « PROJET » : relancez la même commande, à la même
    date, avec --deliberation et --date-deliberation pour la compléter.

    \b
    Exemple :
      pacte conventions denoncer CCAS-2024-003 --date 2027-01-10 --motif "Fin du dispositif" \\
        --deliberation CP-2027-01-012 --date-deliberation 2027-01-06
    """
    from pacte_docs.services import lifecycle

    _print_step(lifecycle.denoncer(state.workspace(), reference, date_, motif, force, with_pdf=not sans_pdf,
                                   on=state.au, deliberation=deliberation, date_deliberation=date_deliberation))


@conventions_group.command("annuler-acte")
@click.argument("reference", callback=_key)
@click.argument("acte", type=click.Choice(["denonciation", "avenant", "renouvellement"]))
@click.option("--motif", required=True, help="Pourquoi l'acte est retiré (consigné au journal).")
@click.pass_obj
def conventions_withdraw(state: State, reference: str, acte: str, motif: str) -> None:
    """Retire un acte enregistré par erreur : la dénonciation, le dernier avenant ou le dernier renouvellement.

    La convention retrouve ses dates et ses échéances d'avant l'acte ; les documents de l'acte sont archivés (jamais
    effacés) et le journal garde l'acte et son retrait, avec le motif.

    \b
    Exemple :
      pacte conventions annuler-acte CCAS-2024-003 denonciation --motif "Lettre envoyée à tort, retirée le jour même."
    """
    from pacte_docs.services import lifecycle

    _print_step(lifecycle.annuler_acte(state.workspace(), reference, acte, motif))


# ---------------------------------------------------------------- alertes


@cli.command("alertes")
@click.option("--envoyer", is_flag=True, help="Envoie à chaque responsable le récapitulatif de ses alertes.")
@click.option("--simulation", is_flag=True, help="Montre ce qui serait envoyé, sans rien envoyer.")
@click.option("--rediriger", metavar="ADRESSE",
              help="Envoie tout à cette adresse (répétition : rien n'est enregistré comme envoyé).")
@click.option("--ics", type=click.Path(dir_okay=False, path_type=Path),
              help="Écrit un fichier iCalendar de toutes les échéances, avec rappels.")
@output_option
@click.pass_obj
def alertes_command(state: State, envoyer: bool, simulation: bool, rediriger: str | None, ics: Path | None,
                    fmt: str) -> None:
    """Échéances de renouvellement et de préavis à signaler, et leur envoi aux responsables.

    Chaque alerte (convention, période, seuil) n'est envoyée qu'une fois ; un envoi échoué est
    repris à l'exécution suivante. À lancer chaque jour (cron ou minuterie systemd).

    \b
    Exemple :
      pacte alertes --envoyer --ics echeances.ics
      pacte --au 2027-01-01 alertes --format json
    """
    from pacte_docs.services import notify

    # the documents late are for people and for sending (pieces lister --format json serves the scripts)
    run = notify.run_alerts(state.workspace(), state.au, envoyer=envoyer, simulation=simulation,
                            rediriger=rediriger, ics=ics, with_pieces=fmt == "table")
    if ics is not None:
        click.echo(f"Calendrier écrit : {ics} ({run.calendrier} échéances)", err=fmt != "table")
    rows = [a.as_json() for a in run.due]
    if fmt != "table" and not (envoyer or simulation):
        emit(rows, {k: k for k in ("reference", "type", "partenaires", "responsable", "fin_periode", "date_limite",
                                   "jours_restants", "seuil", "action")}, fmt)
        return
    if not (envoyer and fmt != "table"):
        emit(rows, {"reference": "Référence", "partenaires": "Partenaires", "responsable": "Responsable",
                    "date_limite": "Date limite", "jours_restants": "Jours", "seuil": "Seuil", "action": "À faire"},
             "table", f"Alertes au {date_longue(state.au)}")
        for alerte in (a for a in run.due if a.succession):  # the director reads the action; the clerk, the command
            click.echo(f"  {alerte.reference} prend fin à son terme : pour préparer la convention qui lui succède, "
                       f"pacte conventions succeder {alerte.reference} --reference NOUVELLE-REFERENCE")
        if run.pieces:
            emit([line.as_json() | {"etat": line.etat} for line in run.pieces],
                 PIECE_COLUMNS | {"responsable": "Responsable"}, "table",
                 f"Pièces en retard au {date_longue(state.au)}")
            click.echo("  Pour les réclamer : pacte pieces relancer ; à réception : pacte pieces recevoir …")
    if simulation:
        for preview in run.apercu:
            click.echo(f"  serait envoyé à {preview.destinataire} : « {preview.sujet} » ({preview.alertes} alerte(s))")
        click.echo("Simulation : rien n'a été envoyé ni enregistré.")
        return
    if run.envoi is None:
        return
    for digest, count in run.envoi.envoyes:
        click.echo(f"  envoyé à {rediriger or digest.destinataire} : {count} alerte(s)")
    if run.envoi.deja:
        click.echo(f"  {run.envoi.deja} alerte(s) déjà envoyée(s) ou en cours d'envoi : non renvoyée(s).")
    failure = run.envoi.error()
    if failure is not None:
        raise failure
    if not run.envoi.envoyes:
        click.echo("Aucune nouvelle alerte à envoyer.")


# ---------------------------------------------------------------- PDI/PTI


@cli.group("pieces", context_settings=CONTEXT)
def pieces_group() -> None:
    """Pièces dues par les partenaires : comptes rendus financiers, rapports d'activité, bilans FSE+."""


PIECE_COLUMNS = {"reference": "Convention", "partenaire": "Partenaire", "libelle": "Pièce", "exercice": "Exercice",
                 "echeance": "Échéance", "etat": "État"}


@pieces_group.command("lister")
@click.argument("references", nargs=-1, callback=_key, metavar="[RÉFÉRENCES]…")
@click.option("--en-retard", "late", is_flag=True, help="Seulement les pièces dont l'échéance est passée et qui "
                                                        "n'ont pas été reçues.")
@output_option
@click.pass_obj
def pieces_list(state: State, references: tuple[str, ...], late: bool, fmt: str) -> None:
    """Liste les pièces que les conventions signées appellent, exercice par exercice, et où elles en sont.

    Une subvention à une association appelle chaque année le compte rendu financier (dans les six mois suivant
    la fin de l'exercice), le budget et les comptes certifiés, le rapport d'activité ; un cofinancement FSE+ les
    éléments du bilan d'exécution.

    \b
    Exemples :
      pacte pieces lister --en-retard
      pacte pieces lister ASSO-2024-007 --format csv > pieces.csv
    """
    from pacte_docs.services import pieces

    lines = pieces.lister(state.workspace(), state.au, late_only=late, references=references)
    rows = [line.as_json() | {"etat": line.etat} for line in lines]
    emit(rows, PIECE_COLUMNS, fmt, "Pièces en retard" if late else "Pièces dues par les partenaires")


@pieces_group.command("recevoir")
@click.argument("reference", callback=_key)
@click.argument("piece", metavar="PIÈCE")
@click.option("--exercice", required=True, type=click.IntRange(1900, 2999), metavar="AAAA",
              help="L'exercice (l'année) dont la pièce rend compte.")
@click.option("--fichier", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="La pièce reçue : PDF, DOCX, XLSX, ODT ou ODS ; archivée en lecture seule et contrôlée par "
                   "« pacte archives verifier ».")
@click.option("--date", "date_", callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Date de réception (par défaut : aujourd'hui).")
@click.pass_obj
def pieces_receive(state: State, reference: str, piece: str, exercice: int, fichier: Path,
                   date_: dt.date | None) -> None:
    """Enregistre la réception d'une pièce (PIÈCE : compte_rendu_financier, comptes_annuels, rapport_activite,
    bilan_execution_fse).

    \b
    Exemple :
      pacte pieces recevoir ASSO-2024-007 compte_rendu_financier --exercice 2025 --fichier crf-2025.pdf
    """
    from pacte_docs.services import pieces

    line = pieces.recevoir(state.workspace(), reference, piece.strip().lower(), exercice, fichier,
                           state.au, date_)
    click.echo(f"Pièce enregistrée pour {line.reference} : {line.piece} de l'exercice {line.exercice}, {line.etat} ; "
               f"archivée dans {line.document}.")


@pieces_group.command("relancer")
@click.argument("references", nargs=-1, callback=_key, metavar="[RÉFÉRENCES]…")
@click.option("--sans-pdf", is_flag=True, help="Produit le DOCX seulement.")
@click.pass_obj
def pieces_remind(state: State, references: tuple[str, ...], sans_pdf: bool) -> None:
    """Produit une lettre de relance par convention dont le partenaire est en retard (modeles/relance.docx),
    pour les pièces qui n'ont pas été relancées depuis un mois.

    \b
    Exemple :
      pacte pieces relancer
    """
    from pacte_docs.services import pieces

    report = pieces.relancer(state.workspace(), state.au, references, with_pdf=not sans_pdf)
    if not report.letters:
        click.echo("Aucune pièce en retard à relancer.")
        return
    for reference, numero, lines in report.letters:
        click.echo(f"{reference} : lettre de relance n° {numero} — "
                   + " ; ".join(f"{line.piece} {line.exercice}" for line in lines))
    if report.generated is not None:
        for output in report.generated.outputs:
            pdf = f", PDF {STATUS_LABELS[output.pdf_status]}" if output.pdf_status else ""
            click.echo(f"  {output.docx} ({STATUS_LABELS[output.docx_status]}{pdf})")
        for note in report.generated.notes:
            click.echo(f"  Remarque : {note}")
    click.echo(f"{len(report.letters)} lettre(s) de relance produite(s).")


@cli.group("pdi-pti", context_settings=CONTEXT)
def pdi_pti_group() -> None:
    """Le document unique PDI/PTI : programme départemental et pacte territorial pour l'insertion."""


@pdi_pti_group.command("lister")
@output_option
@click.pass_obj
def pdi_pti_list(state: State, fmt: str) -> None:
    """Liste les PDI/PTI du registre, avec leurs axes, fiches-actions et budget.

    \b
    Exemple :
      pacte pdi-pti lister
    """
    from pacte_docs.services import records

    rows = records.list_pactes(state.workspace())
    emit(rows, {"reference": "Référence", "titre": "Titre", "periode": "Période", "adoption": "Adopté le",
                "axes": "Axes", "fiches": "Fiches", "budget": "Budget", "cosignataires": "Cosignataires"},
         fmt, "PDI/PTI")


@pdi_pti_group.command("generer")
@click.argument("reference", required=False, callback=_key)
@click.option("--sans-pdf", is_flag=True, help="Ne produit que le DOCX (sommaire sans numéros de page).")
@click.option("--pdfa/--sans-pdfa", default=True, show_default=False,
              help="PDF/A-2b pour l'archivage légal (par défaut) ; --sans-pdfa pour un PDF simple.")
@click.pass_obj
def pdi_pti_generate(state: State, reference: str | None, sans_pdf: bool, pdfa: bool) -> None:
    """Génère le document PDI/PTI en DOCX et PDF dans archives/pdi-pti/REFERENCE/.

    Le sommaire porte les vrais numéros de page et le PDF a des signets (chapitres, axes,
    fiches-actions). Sans référence, le seul PDI/PTI du registre est généré. Une version
    remplacée est gardée sous le nom REFERENCE-vN.

    Un PDI/PTI révisé (pacte pdi-pti reviser) est produit dans sa version consolidée en
    vigueur à la date --au (aujourd'hui par défaut) : la dernière version est
    REFERENCE.pdf ; une version antérieure, REFERENCE-AAAA-MM-JJ.pdf (date de la
    délibération qui l'a adoptée).

    \b
    Exemples :
      pacte pdi-pti generer PACTE-2016-2020
      pacte pdi-pti generer PACTE-2016-2020 --au 2017-01-01   # le texte adopté en 2016
    """
    from pacte_docs.services import pdi_pti

    ws = state.workspace()
    with status("Mise en page du PDI/PTI par LibreOffice…", shown=not sans_pdf):
        report = pdi_pti.generate_pacte(ws, reference, with_pdf=not sans_pdf, pdfa=pdfa, au=state.au)
    label = STATUS_LABELS[report.status]
    click.echo(f"  {report.reference}, {report.libelle} :")
    click.echo(f"  {report.reference} : {report.docx} ({label})")
    if report.pdf:
        pages = f", {report.pages} pages, sommaire paginé en {report.mises_en_page} passes" if report.pages else ""
        click.echo(f"  {report.reference} : {report.pdf} ({label}{pages})")
    for note in report.notes:
        click.echo(f"  Remarque : {note}")


@pdi_pti_group.command("reviser")
@click.argument("reference", callback=_key)
@click.argument("fichier", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--deliberation", "numero", required=True, metavar="NUMERO",
              help="Numéro de la délibération qui adopte la révision.")
@click.option("--date", "date_", required=True, callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Date de cette délibération : la version révisée est en vigueur à partir d'elle.")
@click.option("--instance", help="Assemblée qui a délibéré (par défaut, celle qui a adopté le PDI/PTI).")
@click.option("--objet", help="Objet de la révision, cité par le document (« nouvelles actions 2019-2020 »).")
@click.option("--simulation", is_flag=True, help="Vérifie la révision et dit ce qu'elle ferait, sans rien enregistrer.")
@click.pass_obj
def pdi_pti_revise(state: State, reference: str, fichier: Path, numero: str, date_: dt.date,
                   instance: str | None, objet: str | None, simulation: bool) -> None:
    """Enregistre une révision du PDI/PTI adoptée par délibération : ajoute, modifie ou
    clôt des axes et des fiches-actions.

    FICHIER (YAML, ou classeur aux feuilles « axes » et « fiches-actions ») donne, pour
    chaque axe ou fiche, son numéro et son « operation » : ajouter (avec tous ses champs),
    modifier (seulement les champs qui changent) ou clore (avec un « motif »). Tout est
    vérifié avant d'enregistrer : au moindre problème, rien ne change. Les versions
    précédentes restent produites par « pacte pdi-pti generer --au DATE ».

    \b
    Exemple :
      pacte pdi-pti reviser PACTE-2016-2020 revision-2019.yaml \\
          --deliberation 2019-04-0032 --date 2019-06-24 --objet "nouvelles actions 2019-2020"
    """
    from pacte_docs.services import pdi_pti

    report = pdi_pti.revise(state.workspace(), reference, fichier, numero=numero, date=date_, instance=instance,
                            objet=objet, simulation=simulation, on=state.au)
    verbs = {"ajouter": "ajouté", "modifier": "modifié", "clore": "clos"}
    head = "Simulation : rien n'est enregistré. " if simulation else ""
    click.echo(f"{head}{report.reference} : révision n° {report.rang}, délibération n° {report.deliberation} du "
               f"{date_longue(report.date)}.")
    for change in report.changements:
        verb = verbs[change["operation"]] + ("e" if change["objet"] == "fiche" else "")
        motif = f" — {change['motif']}" if change.get("motif") else ""
        click.echo(f"  {change['objet'].capitalize()} {change['numero']} {verb} : {change['intitule']}{motif}")
    if not simulation:
        click.echo(f"  Document consolidé : pacte pdi-pti generer {report.reference}")


@pdi_pti_group.command("versions")
@click.argument("reference", required=False, callback=_key)
@output_option
@click.pass_obj
def pdi_pti_versions(state: State, reference: str | None, fmt: str) -> None:
    """Liste les versions d'un PDI/PTI : son adoption, puis chaque révision, avec sa
    délibération et ce qu'elle a ajouté, modifié ou clos.

    \b
    Exemple :
      pacte pdi-pti versions PACTE-2016-2020
    """
    from pacte_docs.services import pdi_pti

    rows = pdi_pti.history(state.workspace(), reference)
    emit(rows, {"rang": "Version", "deliberation": "Délibération", "date": "Date", "objet": "Objet",
                "fiches": "Fiches en vigueur", "changements": "Changements"}, fmt, "Versions du PDI/PTI")


@pdi_pti_group.command("suivi")
@click.argument("reference", callback=_key)
@click.argument("fiche")
@click.option("--etat", required=True, metavar="ETAT",
              help="à engager, en cours, réalisée, ajustée, suspendue ou abandonnée.")
@click.option("--commentaire", help="Ce qui a été fait ou ajusté, en une ou deux phrases.")
@click.option("--date", "date_", callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Date du constat (par défaut aujourd'hui, ou --au).")
@click.option("--referent", help="Référent thématique de la fiche, s'il change (une fonction ou un agent).")
@click.option("--par", metavar="EMAIL", help="Qui enregistre l'état (son adresse d'agent), pour l'historique.")
@click.pass_obj
def pdi_pti_follow(state: State, reference: str, fiche: str, etat: str, commentaire: str | None,
                   date_: dt.date | None, referent: str | None, par: str | None) -> None:
    """Enregistre l'état d'une fiche-action (« 1.1 ») ou d'un axe (« axe 2 ») à une date.

    L'historique est gardé : chaque date garde son état ; un second état le même jour
    corrige le premier. Les états figurent sur les pages des agents et des directeurs et
    dans le point d'étape du comité de pilotage (pacte pdi-pti point-etape).

    \b
    Exemples :
      pacte pdi-pti suivi PACTE-2016-2020 2.3 --etat "en cours" --date 2019-09-30 \\
          --commentaire "Ouverture de la crèche en septembre 2019 : 20 berceaux."
      pacte pdi-pti suivi PACTE-2016-2020 3.3 --etat réalisée
    """
    from pacte_docs.services import suivi

    report = suivi.record(state.workspace(), reference, fiche, etat, on=date_ or state.au, commentaire=commentaire,
                          referent=referent, par=par or "ligne de commande", today=state.au)
    verb = {"cree": "enregistré", "modifie": "corrigé", "inchange": "déjà enregistré"}[report.status]
    click.echo(f"{report.reference}, {suivi.label(report.cible)} : « {LABELS[report.etat]} » au "
               f"{date_longue(report.date)} ({verb}).")


@pdi_pti_group.command("point-etape")
@click.argument("reference", required=False, callback=_key)
@click.option("--date", "date_", callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Date du comité de pilotage (par défaut aujourd'hui, ou --au).")
@click.option("--depuis", callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Les changements depuis cette date (par défaut depuis le point d'étape précédent, ou l'adoption).")
@click.option("--sans-pdf", is_flag=True, help="Ne produit que le DOCX.")
@click.option("--pdfa/--sans-pdfa", default=True, show_default=False, help="PDF/A-2b (par défaut) ou PDF simple.")
@click.pass_obj
def pdi_pti_point(state: State, reference: str | None, date_: dt.date | None, depuis: dt.date | None,
                  sans_pdf: bool, pdfa: bool) -> None:
    """Produit le point d'étape du comité de pilotage (modeles/point_etape.docx), en DOCX et
    PDF dans archives/pdi-pti/REFERENCE/points-etape/.

    Pour chaque axe, chaque fiche-action en vigueur à la date : son référent, son état et son
    commentaire (pacte pdi-pti suivi), les chiffres de l'année déjà importés ; puis ce qui a
    changé depuis le point d'étape précédent (états, révisions).

    \b
    Exemple :
      pacte pdi-pti point-etape PACTE-2016-2020 --date 2019-12-10
    """
    from pacte_docs.services import point_etape

    with status("Mise en page du point d'étape par LibreOffice…", shown=not sans_pdf):
        report = point_etape.produce(state.workspace(), reference, date_ or state.au, depuis=depuis,
                                     with_pdf=not sans_pdf, pdfa=pdfa)
    label = STATUS_LABELS[report.status]
    click.echo(f"  {report.reference}, point d'étape du {date_longue(report.date)} (changements depuis le "
               f"{date_longue(report.depuis)}) :")
    click.echo(f"  {report.docx} ({label})")
    if report.pdf:
        click.echo(f"  {report.pdf} ({label})")
    for note in report.notes:
        click.echo(f"  Remarque : {note}")


# ---------------------------------------------------------------- bilan


@cli.group("bilan", context_settings=CONTEXT)
def bilan_group() -> None:
    """Le bilan annuel de la politique d'insertion, pour l'Assemblée départementale."""


@bilan_group.command("compiler")
@click.argument("annee", type=click.IntRange(1990, 2100))
@click.option("--sortie", type=click.Path(dir_okay=False, path_type=Path),
              help="Copie à écrire en plus, exactement à ce chemin : .pdf (le bilan compilé) ou .docx ; le bilan reste "
                   "enregistré dans archives/bilans/ANNEE/. Avec --format xlsx : le fichier du tableau.")
@click.option("--pdfa/--sans-pdfa", default=True, show_default=False,
              help="Bilan et annexes en PDF/A-2b (par défaut) ; --sans-pdfa pour des PDF simples.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx"]), default="pdf", show_default=True,
              help="pdf : le bilan compilé avec ses annexes ; xlsx : le tableau des chiffres de l'année.")
@click.option("--departement", help="Code du département, quand le registre en contient plusieurs.")
@click.option("--seance", callback=_parse_date, metavar="AAAA-MM-JJ",
              help="Date de la séance de l'Assemblée qui reçoit le bilan (sinon la couverture dit « PROJET »).")
@click.option("--deliberation", metavar="NUMERO",
              help="Numéro du rapport : le bilan se termine alors par le projet de délibération qui en prend acte.")
@click.option("--etape", is_flag=True,
              help="Le bilan d'étape à mi-parcours : depuis l'adoption du PDI/PTI jusqu'au 31 décembre de ANNEE.")
@click.pass_obj
def bilan_compile(state: State, annee: int, sortie: Path | None, pdfa: bool, fmt: str,
                  departement: str | None, seance: dt.date | None, deliberation: str | None, etape: bool) -> None:
    """Compile le bilan d'une année en un seul PDF : bilan, conventions signées ou renouvelées
    dans l'année, fiches-actions du PDI/PTI ; signets, pages numérotées « k / n ».

    Avec --etape, le bilan d'étape à mi-parcours (modeles/bilan_etape.docx) : les chiffres
    depuis l'adoption, année par année et cumulés, l'état de chaque fiche-action, les
    révisions et les actions nouvelles ; archivé dans archives/bilans/ANNEE/bilan-etape-ANNEE.pdf.

    \b
    Exemples :
      pacte bilan compiler 2019
      pacte bilan compiler 2019 --seance 2020-03-30 --deliberation 2020-03-0101
      pacte bilan compiler 2019 --format xlsx --sortie chiffres-2019.xlsx
      pacte bilan compiler 2019 --etape --deliberation 2020-03-0102
    """
    from pacte_docs.services import bilan

    ws = state.workspace()
    if fmt == "xlsx" and etape:
        raise click.UsageError("--etape produit un PDF : retirez --format xlsx.")
    if fmt == "xlsx":
        written = bilan.export_figures(ws, annee, sortie, departement)
        click.echo(f"  Chiffres {annee} : {ws.relative(written) if written.is_relative_to(ws.root) else written}")
        return
    kind = "Bilan d'étape" if etape else "Bilan"
    with status(f"Compilation du {kind.lower()} {annee}…"):
        compile_ = bilan.compile_etape if etape else bilan.compile_bilan
        report = compile_(ws, annee, sortie=sortie, pdfa=pdfa, departement=departement, seance=seance,
                          deliberation=deliberation)
    click.echo(f"  {kind} {annee} : {report.chemin} ({STATUS_LABELS[report.status]}, {report.pages} pages)")
    if report.copie:
        click.echo(f"  Copie demandée : {report.copie}")
    if report.annexes:
        click.echo("  Conventions en annexe : " + ", ".join(report.annexes))
    for note in report.notes:
        click.echo(f"  Remarque : {note}")


# ---------------------------------------------------------------- modeles, archives


@cli.group("modeles", context_settings=CONTEXT)
def modeles_group() -> None:
    """Modèles DOCX de l'espace (modeles/)."""


@modeles_group.command("lister")
@output_option
@click.pass_obj
def modeles_list(state: State, fmt: str) -> None:
    """Liste les modèles et indique s'ils ont été modifiés.

    \b
    Exemple :
      pacte modeles lister
    """
    from pacte_docs.services import templates

    rows = [vars(info) for info in templates.list_templates(state.workspace())]
    emit(rows, {"name": "Modèle", "path": "Fichier", "origine": "Origine", "taille": "Octets"}, fmt, "Modèles")


@modeles_group.command("verifier")
@click.argument("noms", nargs=-1)
@click.option("--variables", is_flag=True,
              help="Liste toutes les variables disponibles pour chaque modèle et marque celles qu'il utilise.")
@click.pass_obj
def modeles_check(state: State, noms: tuple[str, ...], variables: bool) -> None:
    """Vérifie les modèles : syntaxe, variables connues, balises coupées par la mise en forme.

    \b
    Exemple :
      pacte modeles verifier convention_ccas --variables
    """
    from pacte_docs.services import templates

    results = templates.check_templates(state.workspace(), list(noms))
    failed = False
    for result in results:
        mark = "✓" if result.ok else "✗"
        click.echo(f"{mark} {result.name} ({result.path}) : {len(result.used)} variables utilisées sur "
                   f"{len(result.available)} disponibles")
        if variables:
            used = set(result.used)
            click.echo("    Variables disponibles (● : utilisée par le modèle) :")
            for path in result.available:
                click.echo(f"    {'●' if path in used or any(u.startswith(path + '.') for u in used) else ' '} {path}")
        for path in result.unknown:
            click.echo(f"    erreur — variable « {path} » inconnue du contexte documenté")
        for finding in result.findings:
            click.echo(f"    {finding}")
        failed = failed or not result.ok
    if failed:
        raise PacteError("Des modèles contiennent des erreurs : corrigez-les dans Word ou LibreOffice. "
                         "« pacte modeles verifier --variables » liste les variables utilisées.")


@modeles_group.command("classeur")
@click.argument("fichier", type=click.Path(path_type=Path), default="classeur-pacte.xlsx", required=False)
@click.option("--remplacer", is_flag=True, help="Écrase le fichier s'il existe déjà.")
def modeles_workbook(fichier: Path, remplacer: bool) -> None:
    """Écrit un classeur vierge à remplir puis à importer (par défaut : classeur-pacte.xlsx).

    Une feuille par section : departement, partenaires, conventions, realisations, et le PDI/PTI :
    pacte, axes, fiches-actions, engagements. Chaque en-tête porte une note (obligatoire ou non,
    format, valeurs permises) ; les listes fermées ont une liste déroulante ; la ligne grise est un
    exemple que l'import passe tant qu'elle reste telle quelle.

    \b
    Exemple :
      pacte modeles classeur classeur.xlsx
      pacte importer classeur.xlsx --simulation
    """
    from pacte_docs.services import templates

    written = templates.write_workbook(fichier, remplacer)
    click.echo(f"Classeur écrit : {written}")
    click.echo(f"Remplissez-le dans Excel ou LibreOffice Calc, puis : pacte importer {written} --simulation")


@cli.group("agents", context_settings=CONTEXT)
def agents_group() -> None:
    """Comptes des agents qui se connectent aux pages du personnel (pacte serveur, /connexion)."""


@agents_group.command("creer")
@click.argument("email")
@click.option("--nom", required=True, help="Prénom et nom de l'agent, tels que le journal les citera.")
@click.option("--role", required=True, type=click.Choice(["lecture", "redaction", "juriste", "administration"]),
              help="lecture : consulter ; redaction : partenaires, projets, imports, génération ; juriste : en "
                   "plus signatures, renouvellements, avenants, dénonciations, modèles ; administration : comptes.")
@click.option("--sans-mot-de-passe", is_flag=True,
              help="Compte connecté seulement par le fournisseur d'identité du Département ([agents] oidc_*).")
@click.option("--lien", is_flag=True,
              help="Affiche un lien à usage unique (72 heures) par lequel l'agent choisit lui-même son mot de passe.")
@click.pass_obj
def agents_create(state: State, email: str, nom: str, role: str, sans_mot_de_passe: bool, lien: bool) -> None:
    """Crée le compte d'un agent. Le mot de passe (12 caractères au moins) est lu sur l'entrée standard,
    jamais sur la ligne de commande ; il est gardé haché (Argon2id). Avec --lien, l'agent le choisit lui-même.

    \b
    Exemples :
      pacte agents creer claire.dubois@valdemarne.fr --nom "Claire Dubois" --role juriste
      pacte agents creer paul.martin@valdemarne.fr --nom "Paul Martin" --role redaction --lien
    """
    from pacte_docs.services import agents

    password = None
    if not sans_mot_de_passe and not lien:
        if sys.stdin.isatty():
            password = click.prompt("Mot de passe", hide_input=True, confirmation_prompt="Confirmez-le")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
    ws = state.workspace()
    made = agents.create(ws, email, nom, role, password)
    click.echo(f"Compte créé : {made.nom} <{made.email}>, rôle {made.role}. Connexion : /connexion sur pacte serveur.")
    if lien:
        _print_invitation(ws, made.email)


def _print_invitation(ws: Any, email: str) -> None:
    from pacte_docs.services import access, agents

    token = agents.invite(ws, email)
    click.echo(f"Lien à usage unique, valable {agents.INVITATION_HOURS} heures, à transmettre à l'agent : "
               f"{access.public_url(ws)}{agents.INVITATION_PATH}{token}")


@agents_group.command("inviter")
@click.argument("email")
@click.pass_obj
def agents_invite(state: State, email: str) -> None:
    """Affiche un lien à usage unique par lequel l'agent choisit (ou choisit de nouveau) son mot de passe.

    \b
    Exemple :
      pacte agents inviter claire.dubois@valdemarne.fr
    """
    _print_invitation(state.workspace(), email)


@agents_group.command("lister")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_obj
def agents_list(state: State, fmt: str) -> None:
    """Liste les comptes des agents : courriel, nom, rôle, mode de connexion.

    \b
    Exemple :
      pacte agents lister --format csv
    """
    from pacte_docs.services import agents

    emit(agents.listing(state.workspace()), {"email": "Courriel", "nom": "Nom", "role": "Rôle", "actif": "Actif",
                                             "connexion": "Connexion"}, fmt, title="Agents")


@agents_group.command("retirer")
@click.argument("email")
@click.pass_obj
def agents_remove(state: State, email: str) -> None:
    """Retire le compte d'un agent : il ne peut plus se connecter ; le journal garde ce qu'il a fait.

    \b
    Exemple :
      pacte agents retirer claire.dubois@valdemarne.fr
    """
    from pacte_docs.services import agents

    agents.remove(state.workspace(), email)
    click.echo(f"Compte retiré : {email}.")


@cli.group("archives", context_settings=CONTEXT)
def archives_group() -> None:
    """Intégrité des documents produits et archivés."""


@archives_group.command("verifier")
@click.option("--conformite", is_flag=True,
              help="Dit aussi, pour chaque PDF en vigueur, s'il se déclare PDF/A, s'il est balisé pour "
                   "l'accessibilité, sa langue et son titre.")
@click.pass_obj
def archives_check(state: State, conformite: bool) -> None:
    """Vérifie chaque document enregistré et signale tout fichier modifié, manquant ou inconnu.

    \b
    Exemples :
      pacte archives verifier
      pacte archives verifier --conformite
    """
    from pacte_docs.services import records

    if conformite:
        print_conformity(records.pdf_conformity(state.workspace()))
    checked, anomalies = records.verify_archives(state.workspace())
    if anomalies:
        for anomaly in anomalies:
            click.echo(f"  ✗ {anomaly}")
        raise PacteError(f"{len(anomalies)} anomalie(s) sur {checked} fichier(s) vérifié(s). Un document modifié "
                         "doit être régénéré (pacte conventions generer), jamais corrigé à la main.")
    click.echo(f"✓ {checked} fichier(s) vérifié(s) : tous intacts, aucun fichier inconnu.")


@archives_group.command("verser")
@click.argument("references", nargs=-1, callback=_key, metavar="[RÉFÉRENCES]…")
@click.option("--terminees", is_flag=True, help="Verse toutes les conventions terminées au jour dit (--au).")
@click.option("--sortie", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Paquet à écrire (.zip) : manifest.xml et les fichiers, pour les Archives départementales.")
@click.option("--force", is_flag=True, help="Verse aussi une convention encore en vigueur.")
@click.pass_obj
def archives_transfer(state: State, references: tuple[str, ...], terminees: bool, sortie: Path, force: bool) -> None:
    """Prépare le versement aux Archives départementales (SEDA 2.3) des conventions terminées.

    Chaque convention devient une unité d'archives avec ses actes (convention, copie signée et son rapport de
    vérification, avenants, renouvellements, dénonciation) ; chaque fichier est décrit avec son empreinte SHA-512.
    Le service d'archives, le service versant et la règle de sort final viennent de [archivage] dans pacte.toml.

    \b
    Exemples :
      pacte archives verser --terminees --sortie versement-2027.zip
      pacte archives verser CCAS-2021-004 --sortie versement.zip
    """
    from pacte_docs.services import archiving

    if not references and not terminees:
        raise click.UsageError("donnez des références, ou --terminees pour toutes les conventions terminées.")
    done = archiving.verser(state.workspace(), list(references), terminees, sortie, state.au, force)
    click.echo(f"  Paquet SEDA 2.3 écrit : {done.chemin} (message {done.identifiant}, {done.fichiers} fichiers)")
    click.echo("  Conventions versées : " + ", ".join(done.references))


# ---------------------------------------------------------------- directors' pages


@cli.command("serveur")
@click.option("--hote", metavar="ADRESSE", help="Adresse d'écoute ([serveur] hote, 127.0.0.1 par défaut : cette "
                                                 "machine seulement).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port d'écoute ([serveur] port, 8000 par défaut).")
@click.pass_obj
def serveur_command(state: State, hote: str | None, port: int | None) -> None:
    """Sert les pages des directeurs et leurs calendriers, en lecture seule, jusqu'à Ctrl-C.

    Chaque directeur les ouvre par son lien personnel (pacte acces creer). Pour les rendre accessibles
    hors de cette machine, placez le serveur derrière le mandataire HTTPS du département et donnez
    son adresse dans [serveur] url_publique.

    \b
    Exemples :
      pacte serveur
      pacte serveur --port 8080
    """
    from pacte_docs.web import app

    ws = state.workspace()
    fixed = state.au if state.au_given else None

    def ready(address: str) -> None:
        click.echo(f"Pages des directeurs servies sur {address} (Ctrl-C pour arrêter).")
        click.echo("Liens personnels : pacte acces creer --responsable ADRESSE, ou --tout pour l'équipe.")
        if fixed is not None:
            click.echo(f"Situation figée au {date_longue(fixed)} (--au).")

    app.serve(ws, hote or ws.config.hote, port or ws.config.port, fixed, ready)


@cli.group("acces", context_settings=CONTEXT)
def acces_group() -> None:
    """Liens personnels vers les pages des directeurs et leurs calendriers."""


@acces_group.command("creer")
@click.option("--responsable", metavar="ADRESSE", help="Le directeur : ses conventions seulement.")
@click.option("--tout", is_flag=True, help="Lien d'équipe : toutes les conventions.")
@click.pass_obj
def acces_create(state: State, responsable: str | None, tout: bool) -> None:
    """Crée un lien personnel et l'affiche, une seule fois : il n'est pas conservé en clair.

    \b
    Exemples :
      pacte acces creer --responsable m.durand@departement.fr
      pacte acces creer --tout
    """
    from pacte_docs.services import access

    if bool(responsable) == tout:
        raise click.UsageError("donnez --responsable ADRESSE (un directeur) ou --tout (l'équipe), l'un des deux.")
    created = access.create(state.workspace(), None if tout else responsable)
    who = "l'équipe (toutes les conventions)" if tout else created.link.responsable
    click.echo(f"Lien créé pour {who} — {created.conventions} convention(s) visibles aujourd'hui.")
    click.echo(f"  Pages      : {created.page}")
    click.echo(f"  Calendrier : {created.calendrier}")
    click.echo(f"Transmettez-les à leur seul destinataire. Pour les retirer : pacte acces revoquer "
               f"{created.link.prefixe}")
    if created.conventions == 0 and not tout:
        click.echo("Attention : aucune convention du registre n'a ce responsable ; vérifiez l'adresse "
                   "(pacte conventions lister).", err=True)


@acces_group.command("lister")
@output_option
@click.pass_obj
def acces_list(state: State, fmt: str) -> None:
    """Les liens d'accès, par leurs premiers caractères (les jetons ne sont pas conservés).

    \b
    Exemple :
      pacte acces lister
    """
    from pacte_docs.services import access

    rows = [{"jeton": f"{link.prefixe}…", "pour": link.responsable or "équipe (tout)",
             "origine": {"commande": "pacte acces creer", "courriel": "courriel d'alerte"}.get(link.origine,
                                                                                             link.origine),
             "cree_le": link.cree_le.date(), "revoque_le": link.revoque_le.date() if link.revoque_le else None,
             "etat": "révoqué" if link.revoque_le else "actif"} for link in access.list_links(state.workspace())]
    emit(rows, {"jeton": "Jeton", "pour": "Pour", "origine": "Créé par", "cree_le": "Créé le",
                "etat": "État", "revoque_le": "Révoqué le"}, fmt, "Liens d'accès")


@acces_group.command("revoquer")
@click.argument("jeton")
@click.pass_obj
def acces_revoke(state: State, jeton: str) -> None:
    """Révoque un lien : ses pages et son calendrier répondent aussitôt « page introuvable ».

    JETON : le jeton, le lien entier, ou ses premiers caractères tels que « pacte acces lister » les montre.

    \b
    Exemple :
      pacte acces revoquer Xb3k9QpZ
    """
    from pacte_docs.services import access

    link = access.revoke(state.workspace(), jeton)
    click.echo(f"Lien {link.prefixe}… ({link.responsable or 'équipe'}) révoqué.")


# ---------------------------------------------------------------- entry point


def main() -> None:
    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show « é » or « » » gets « ? », not a traceback
        if isinstance(stream, io.TextIOWrapper) and (stream.encoding or "").lower().replace("-", "") != "utf8":
            stream.reconfigure(errors="replace")
    try:
        cli(prog_name="pacte", standalone_mode=False)
    except KeyboardInterrupt:
        click.echo("\nInterrompu (Ctrl-C) : ce qui était commencé a été annulé ou sera repris.", err=True)
        sys.exit(130)
    except click.exceptions.Abort:
        click.echo("\nInterrompu.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:  # « pacte … | head »: the reader left before the end of what was printed
        output_closed()
        sys.exit(1)


def output_closed() -> None:
    """The reader of the output left (« | head », « | true ») before the end: nothing was undone — a command
    that records (a renewal) has recorded — and that is what the user reads on the error output."""
    try:
        sys.stderr.write("Affichage interrompu : la commande qui lisait la sortie s'est arrêtée. Ce que pacte "
                         "a fait reste fait (« pacte conventions afficher REF » le montre).\n")
        sys.stderr.flush()
    except OSError:
        pass
    try:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 — Python flushes stdout once more at exit
    except OSError:
        pass


clickfr.frenchify(cli)  # once every command is defined
