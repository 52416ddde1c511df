"""The command line as users meet it: help, workspace creation, templates, listings, export round trip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from docx import Document as DocxDocument

from pacte_docs.cli import cli
from tests.helpers import DATA, Pacte, add_paragraphs, registry_state


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


@pytest.mark.parametrize("path", _commands(cli), ids=" ".join)
def test_every_command_has_french_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="pacte")
    assert result.exit_code == 0
    assert "Utilisation :" in result.output
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    if not isinstance(command, click.Group):
        assert "Exemple" in result.output, f"pacte {' '.join(path)} --help n'a pas d'exemple"
    assert "Show this message" not in result.output


def test_python_m_and_usage_error_exit_2() -> None:
    result = subprocess.run([sys.executable, "-m", "pacte_docs", "conventions", "lister", "--format", "xml"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "Valeur invalide pour" in result.stderr and "Traceback" not in result.stderr


def test_init_is_idempotent_and_keeps_edited_templates(tmp_path: Path) -> None:
    root = tmp_path / "espace"
    runner = CliRunner()
    first = runner.invoke(cli, ["init", str(root)])
    assert first.exit_code == 0
    assert "créé    modeles/convention_ccas.docx" in first.output
    for name in ("pacte.toml", "pacte.db", "modeles", "conventions", "archives"):
        assert (root / name).exists()
    edited = root / "modeles/convention_ccas.docx"
    add_paragraphs(edited, "Clause ajoutée par le service juridique.")
    content = edited.read_bytes()
    (root / "modeles/avenant.docx").unlink()
    second = runner.invoke(cli, ["init", str(root)])
    assert second.exit_code == 0
    assert "conservé modeles/convention_ccas.docx" in second.output
    assert "créé    modeles/avenant.docx" in second.output
    assert edited.read_bytes() == content
    listing = runner.invoke(cli, ["--espace", str(root), "modeles", "lister", "--format", "json"])
    origins = {row["name"]: row["origine"] for row in json.loads(listing.output)}
    assert origins == {"avenant": "par défaut", "convention_ccas": "modifié", "convention_france_travail": "par défaut",
                       "pdi_pti": "par défaut", "bilan_annuel": "par défaut", "renouvellement": "par défaut",
                       "denonciation": "par défaut", "convention_subvention": "par défaut", "relance": "par défaut",
                       "bordereau": "par défaut", "point_etape": "par défaut", "bilan_etape": "par défaut"}


def test_commands_outside_a_workspace_say_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--espace", str(tmp_path), "partenaires", "lister"])
    assert result.exit_code == 1
    assert "Aucun espace de travail" in result.output and "pacte init" in result.output


def test_default_templates_are_clean(pacte_sqlite: Pacte) -> None:
    result = pacte_sqlite("modeles", "verifier", "--variables")
    assert "✓ convention_ccas" in result.output and "✓ avenant" in result.output
    assert "convention.fin_periode" in result.output
    assert "avertissement" not in result.output and "erreur" not in result.output


def test_verifier_reports_syntax_errors_unknown_variables_and_split_tags(pacte_sqlite: Pacte) -> None:
    path = pacte_sqlite.root / "modeles/convention_ccas.docx"
    document = DocxDocument(str(path))
    document.add_paragraph("Montant : {{ convention.montant_total|montant }}")
    split = document.add_paragraph()
    split.add_run("Signé par {{ departement.pres")
    split.add_run("ident.nom }}").bold = True
    document.save(str(path))
    result = pacte_sqlite("modeles", "verifier", "convention_ccas", ok=False)
    assert result.exit_code == 1
    assert "variable « convention.montant_total » inconnue du contexte documenté" in result.output
    assert "balise répartie sur plusieurs segments de mise en forme" in result.output
    assert "{{ departement.president.nom }}" in result.output
    add_paragraphs(path, "{% if convention.montant %}sans fin")
    result = pacte_sqlite("modeles", "verifier", "convention_ccas", ok=False)
    assert "erreur — corps du document, paragraphe" in result.output
    assert "syntaxe Jinja" in result.output and "sans fin" in result.output
    unknown = pacte_sqlite("modeles", "verifier", "inexistant", ok=False)
    assert "Modèle « inexistant » absent" in unknown.output


def test_listings_in_json_and_csv(pacte: Pacte) -> None:
    pacte("importer", str(DATA / "registre.yaml"))
    rows = json.loads(pacte("--au", "2026-11-22", "conventions", "lister", "--format", "json").output)
    by_ref = {row["reference"]: row for row in rows}
    assert by_ref["CCAS-2024-010"]["fin_periode"] == "2027-05-31"
    assert by_ref["CCAS-2024-010"]["date_limite"] == "2027-02-28"
    assert by_ref["CCAS-2024-010"]["statut"] == "a_renouveler"  # 98 days before its deadline, under 180
    assert by_ref["FT-2023-009"]["partenaires"] == ["FT-93"]
    only = json.loads(pacte("conventions", "lister", "--type", "ccas", "--format", "json").output)
    assert [r["reference"] for r in only] == ["CCAS-2024-010"]
    csv_out = pacte("partenaires", "lister", "--format", "csv").output.splitlines()
    assert csv_out[0] == "code;type;nom;commune;representant;email"
    assert any(line.startswith("CCAS-MONTREUIL;ccas;CCAS de Montreuil;Montreuil;Mme Ada Lovelace") for line in csv_out)
    shown = json.loads(pacte("conventions", "afficher", "ASSO-2025-001", "--format", "json").output)
    assert shown["montant"] == "1234.56" and shown["partenaires"] == ["ASSO-PIEGE"]


@pytest.mark.parametrize("fmt", ["yaml", "csv", "xlsx"])
def test_export_round_trips(pacte: Pacte, tmp_path: Path, fmt: str) -> None:
    pacte("importer", str(DATA / "registre.yaml"))
    original = registry_state(pacte.root, pacte.base)
    target = tmp_path / f"registre.{fmt}"
    written = [line.split("écrit ", 1)[1] for line in pacte("exporter", str(target)).output.splitlines()]
    again = pacte("importer", *written)
    assert "Registre déjà à jour : rien n'a changé." in again.output
    fresh = Pacte(tmp_path / "neuf", None)
    fresh("init", str(fresh.root))
    fresh("importer", *written)
    copy = registry_state(fresh.root, None)
    for section in ("departement", "partenaires", "conventions"):
        assert copy[section] == original[section]
