"""Issue 17's findings — everyday use as staff meet it — each as a test that failed before its fix."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import _admin
from tests.helpers import DATA, Pacte, add_paragraphs, docx_text, folder_state, registry_state

BROKEN = {
    "accolade perdue": ("Objet : {{ convention.objet }", "balise mal formée près de « {{ »"),
    "accolade en trop": ("Montant : { convention.montant }}", "balise mal formée près de « { convention.montant } »"),
    "bloc ouvert": ("Texte {% if convention.objet ", "balise mal formée près de « {% »"),
    "filtre mal tapé": ("Date : {{ convention.date_effet|date_longe }}",
                        "filtre « date_longe » inconnu ; vouliez-vous dire « date_longue » ?"),
    "test inconnu": ("{% if convention.montant is nombreux %}oui{% endif %}", "test « nombreux » inconnu"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_template_is_reported_at_its_place(pacte_sqlite: Pacte, case: str) -> None:
    """A tag that lost a brace passed `modeles verifier` and gave an empty Article 1; a filter typo passed it and
    then `generer` printed a traceback. Each is now an error, with its paragraph and its text, in both."""
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "registre.yaml"))
    text, expected = BROKEN[case]
    path = pacte.root / "modeles/convention_ccas.docx"
    add_paragraphs(path, text)
    checked = pacte("modeles", "verifier", "convention_ccas", ok=False)
    assert checked.exit_code == 1
    line = next(line for line in checked.output.splitlines() if expected in line)
    assert re.search(rf"corps du document, paragraphe \d+ \(« {re.escape(text.strip())} »\)", line), line
    before, registry = folder_state(pacte.root), registry_state(pacte.root, None)
    made = pacte("conventions", "generer", "CCAS-2024-010", "--sans-pdf", ok=False)
    assert made.exit_code == 1 and expected in made.output and "Traceback" not in made.output
    assert folder_state(pacte.root) == before and registry_state(pacte.root, None) == registry


def test_a_sound_template_with_braces_in_its_tags_is_not_flagged(pacte_sqlite: Pacte) -> None:
    path = pacte_sqlite.root / "modeles/convention_ccas.docx"
    add_paragraphs(path, "Objet {{ convention.objet }} {% if convention.montant %}({{ convention.montant|montant "
                           "}}){% endif %} {# note #}")
    assert pacte_sqlite("modeles", "verifier", "convention_ccas").exit_code == 0



def _shown(pacte: Pacte, reference: str, on: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(pacte("--au", on, "conventions", "afficher", reference, "--format",
                                             "json").output)
    return shown


def test_lifecycle_guards(pacte: Pacte) -> None:
    """An avenant was accepted on a convention that had ended, a draft could be dénoncée, and an act dated in the
    future was recorded without a word."""
    pacte("importer", str(DATA / "alertes.yaml"))
    before = registry_state(pacte.root, pacte.base)
    draft = pacte("--au", "2027-03-10", "conventions", "denoncer", "CCAS-2027-105", "--date", "2027-03-10",
                  "--sans-pdf", ok=False)
    assert draft.exit_code == 1 and "n'est pas signée : un projet ne se dénonce pas" in draft.output
    ended = pacte("--au", "2026-06-01", "conventions", "avenant", "FT-2023-104", "--objet", "Ajout.", "--date",
                  "2026-06-01", "--sans-pdf", ok=False)
    assert ended.exit_code == 1 and "a pris fin le 28 février 2026 : un avenant du 1er juin 2026 ne peut plus" \
        in " ".join(ended.output.split())
    future = pacte("--au", "2026-12-01", "conventions", "denoncer", "CCAS-2024-101", "--date", "2027-01-15",
                   "--sans-pdf", ok=False)
    assert future.exit_code == 1
    assert "La date de la dénonciation (15 janvier 2027) est postérieure à aujourd'hui (1er décembre 2026)" in \
        " ".join(future.output.split()) and "--force" in future.output
    renewal = pacte("--au", "2027-01-01", "conventions", "renouveler", "CCAS-2024-101", "--date", "2027-02-01",
                    "--sans-pdf", ok=False)
    assert renewal.exit_code == 1 and "La date du renouvellement (1er février 2027) est postérieure" in \
        " ".join(renewal.output.split())
    assert registry_state(pacte.root, pacte.base) == before
    pacte("--au", "2026-12-01", "conventions", "denoncer", "CCAS-2024-101", "--date", "2027-01-15", "--force",
          "--sans-pdf")
    assert _shown(pacte, "CCAS-2024-101", "2027-01-20")["statut"] == "denoncee"
    prolonged = pacte("--au", "2026-06-01", "conventions", "avenant", "FT-2023-104", "--objet", "Prolongation.",
                      "--date", "2026-06-01", "--nouvelle-fin", "2026-12-31", "--sans-pdf")
    assert "Fin de période portée au 31 décembre 2026." in prolonged.output


def test_a_mistaken_act_is_withdrawn_with_its_reason(pacte: Pacte) -> None:
    """A mistaken dénonciation could not be withdrawn. `annuler-acte` takes back the dénonciation, the last avenant
    or the last renewal: dates and deadlines as before, documents archived, the journal keeps both."""
    pacte("importer", str(DATA / "alertes.yaml"))
    on = "2027-01-15"
    status_before = _shown(pacte, "CCAS-2024-102", on)
    pacte("--au", on, "conventions", "denoncer", "CCAS-2024-102", "--date", on, "--sans-pdf")
    letter = pacte.root / "conventions/CCAS-2024-102/CCAS-2024-102-denonciation.docx"
    assert letter.is_file() and _shown(pacte, "CCAS-2024-102", on)["statut"] == "denoncee"
    missing_reason = pacte("--au", on, "conventions", "annuler-acte", "CCAS-2024-102", "denonciation", ok=False)
    assert missing_reason.exit_code == 2 and "--motif" in missing_reason.output
    withdrawn = pacte("--au", on, "conventions", "annuler-acte", "CCAS-2024-102", "denonciation", "--motif",
                      "Lettre préparée pour la mauvaise convention.")
    assert "dénonciation du 15 janvier 2027 retirée ; motif consigné au journal." in withdrawn.output
    after = _shown(pacte, "CCAS-2024-102", on)
    assert (after["statut"], after["date_limite"]) == (status_before["statut"], status_before["date_limite"])
    assert not letter.exists()
    assert (pacte.root / "archives/conventions/CCAS-2024-102/CCAS-2024-102-denonciation-v1.docx").is_file()
    natures = [e["nature"] for e in after["journal"]]
    assert "denonciation" in natures and natures[-1] == "retrait"  # the act stays in the journal
    assert after["journal"][-1]["description"] == ("Dénonciation du 15 janvier 2027 retirée : Lettre préparée pour "
                                                   "la mauvaise convention.")
    assert "tous intacts, aucun fichier inconnu" in pacte("archives", "verifier").output
    alerts = json.loads(pacte("--au", on, "alertes", "--format", "json").output)
    assert "CCAS-2024-102" in {a["reference"] for a in alerts}  # followed again
    # the last avenant, which had moved the end of the period
    pacte("--au", "2026-02-01", "conventions", "avenant", "CCAS-2024-103", "--objet", "Prolongation.",
          "--nouvelle-fin", "2028-02-29", "--sans-pdf")
    assert _shown(pacte, "CCAS-2024-103", "2026-02-01")["fin_periode"] == "2028-02-29"
    pacte("--au", "2026-02-02", "conventions", "annuler-acte", "CCAS-2024-103", "avenant", "--motif", "Erreur.")
    assert _shown(pacte, "CCAS-2024-103", "2026-02-02")["fin_periode"] != "2028-02-29"
    nothing = pacte("conventions", "annuler-acte", "CCAS-2024-103", "renouvellement", "--motif", "x", ok=False)
    assert nothing.exit_code == 1 and "n'a pas de renouvellement" in nothing.output


MINIMAL = """partenaires:
  - code: CCAS-X
    type: ccas
    nom: CCAS de Choisy-le-Roi
conventions:
  - reference: CCAS-2026-001
    type: ccas
    partenaires: [CCAS-X]
    objet: Accompagnement des allocataires.
    date_effet: 2026-01-01
    renouvellement: expresse
    responsable: {nom: Anne Durand, email: anne.durand@example.fr}
"""


def test_a_first_workspace_works_from_init(tmp_path: Path) -> None:
    """A fresh workspace refused every convention until a département existed, and neither the message nor the
    README said how to create it. `pacte init --departement CODE --nom …` records it; the message gives that
    command; the blanks a convention leaves for lack of data are named by `generer`."""
    fresh = Pacte(tmp_path / "vide", None)
    fresh("init", str(fresh.root))
    data = tmp_path / "conventions.yaml"
    data.write_text(MINIMAL, encoding="utf-8")
    refused = fresh("importer", str(data), ok=False)
    assert refused.exit_code == 1
    assert 'pacte init --departement CODE --nom "Département de …"' in " ".join(refused.output.split())
    wrong = fresh("init", str(fresh.root), "--departement", "9X", "--nom", "X", ok=False)
    assert wrong.exit_code == 1 and "pacte init, champ « --departement » : « 9X » n'est pas un code" in wrong.output
    alone = fresh("init", str(fresh.root), "--departement", "94", ok=False)
    assert alone.exit_code == 2 and "donnez --departement et --nom ensemble" in alone.output
    made = fresh("init", str(fresh.root), "--departement", "94", "--nom", "Département du Val-de-Marne")
    assert "département 94 (Département du Val-de-Marne) enregistré" in made.output
    fresh("importer", str(data))
    shown = fresh("conventions", "generer", "CCAS-2026-001", "--sans-pdf").output
    generated = " ".join(shown.split())
    assert ("CCAS-2026-001 : 4 blancs à remplir à la main (le nom du représentant du Département, la date de la "
            "délibération, le représentant du CCAS de Choisy-le-Roi, la ville où l'acte est signé)") in generated
    # each blank with the sheet and column that fill it, and the same field in YAML
    assert "la date de la délibération : feuille « conventions », colonne « deliberation_date », ligne de la " \
           "convention CCAS-2026-001 (YAML : conventions › deliberation › date)" in generated
    assert "le nom du représentant du Département : feuille « departement », colonne « president_nom »" in generated
    assert "feuille « partenaires », colonne « representant_nom », ligne du partenaire CCAS-X" in generated
    text = docx_text(fresh.root / "conventions/CCAS-2026-001/CCAS-2026-001.docx")
    assert "siège est situé" not in text and " …," not in text  # an absent address: the clause is left out


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in getattr(group, "commands", {}).items():
        found += _commands(command, (*path, name))
    return found


def test_every_help_is_in_french(pacte_sqlite: Pacte) -> None:
    """Help mixed English from click (« Options: », « [required] », « TEXT », « COMMAND [ARGS]... »)."""
    from pacte_docs.cli.commands import cli

    english = ("Options:", "Usage", "[required]", "TEXT", "INTEGER", "COMMAND", "[ARGS]", "Show this message",
               "default:", "env var", "Commands:", "BOOLEAN", "FLOAT", "PATH")
    commands = _commands(cli)
    assert len(commands) > 20
    for path in commands:
        shown = pacte_sqlite(*path, "--help").output
        assert "Utilisation : pacte" in shown and "Options\u00a0:" in shown, path
        found = [word for word in english if re.search(rf"(?<![\w\[]){re.escape(word)}(?![\w])", shown)]
        assert not found, (path, found)


def test_common_options_come_before_or_after_the_command(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """`pacte alertes --au 2027-01-01` was « Option inconnue »; --espace and --base the same."""
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "alertes.yaml"))
    before = json.loads(pacte("--au", "2027-01-15", "alertes", "--format", "json").output)
    after = json.loads(pacte("alertes", "--format", "json", "--au", "2027-01-15").output)
    assert before == after and before
    elsewhere = Pacte(tmp_path / "ailleurs", None)
    elsewhere("init", str(elsewhere.root))
    from click.testing import CliRunner

    from pacte_docs.cli.commands import cli

    listed = CliRunner().invoke(cli, ["conventions", "lister", "--format", "json", f"--espace={pacte.root}"])
    assert listed.exit_code == 0 and "CCAS-2024-101" in listed.output


def test_people_read_french_values_and_scripts_read_codes(pacte_sqlite: Pacte) -> None:
    """`conventions afficher` showed 4200000.00, 0.5000 and ISO dates, the tables showed « a_renouveler »; a
    lowercase reference was not found; from inside ws/conventions/ the tool did not find its workspace."""
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "registre.yaml"))
    shown = " ".join(pacte("--au", "2026-12-01", "conventions", "afficher", "ccas-2024-010").output.split())
    assert "CCAS-2024-010 — CCAS — statut :" in shown
    assert "Date d'effet 1er juin 2024" in shown and "2024-06-01" not in shown
    money = normalise_spaces(" ".join(pacte("conventions", "afficher", "ft-2023-009").output.split()))
    assert "Montant 4 200 000,00 €" in money and "Taux FSE 50 %" in money
    machine = json.loads(pacte("conventions", "afficher", "FT-2023-009", "--format", "json").output)
    assert machine["date_effet"] == "2023-02-01" and machine["montant"] == "4200000.00"
    table = pacte("--au", "2027-02-20", "conventions", "lister").output
    assert "à renouveler" in table and "a_renouveler" not in table and "01/06/2024" in table
    assert "a_renouveler" in pacte("--au", "2027-02-20", "conventions", "lister", "--format", "csv").output
    inside = pacte.root / "conventions"
    result = subprocess.run([sys.executable, "-m", "pacte_docs", "conventions", "lister", "--format", "json"],
                            cwd=inside, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "CCAS-2024-010" in result.stdout, result.stderr


def normalise_spaces(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_import_understands_people(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """« Courriel du responsable » was not matched to responsable_email, « Référence » with its accent was not
    normalised, errors named responsable.email where the column is « Courriel du responsable », `1.250` was read
    as 1250 without a word, and a lowercase reference was refused."""
    pacte = pacte_sqlite
    pacte("init", str(pacte.root), "--departement", "94", "--nom", "Département du Val-de-Marne")
    (tmp_path / "partenaires.csv").write_text("Code ; Type ; Nom;Nom du représentant;Civilité du représentant\n"
                                              "ccas-x;CCAS;CCAS de Choisy-le-Roi;Mme Durand;Mme\n", encoding="utf-8")
    header = ("Référence;Type;Partenaires;Objet;Date d'effet;Renouvellement;Nom du responsable;"
              "Courriel du responsable;Montant\n")
    conventions = tmp_path / "conventions.csv"
    conventions.write_text(header + "ccas-2026-002;ccas;CCAS-X;Objet.;01/01/2026;expresse;Anne Durand;anne.@x.fr;"
                           "1.250\n", encoding="utf-8")
    refused = pacte("importer", str(tmp_path / "partenaires.csv"), str(conventions), ok=False)
    lines = refused.output.splitlines()
    assert refused.exit_code == 1 and len([line for line in lines if line.startswith("  • ")]) == 2, refused.output
    assert any("champ « Courriel du responsable » : « anne.@x.fr » n'est pas une adresse électronique valable (un "
               "point juste avant l'arobase @)" in line for line in lines)
    assert any("champ « Montant » : « 1.250 » peut se lire 1\u202f250 ou 1,250 — écrivez 1250 ou 1,25, sans point"
               in line for line in lines)
    conventions.write_text(header + "ccas-2026-002;ccas;ccas-x;Objet.;01/01/2026;expresse;Anne Durand;"
                           "anne.durand@x.fr;1 250,00\n", encoding="utf-8")
    pacte("importer", str(tmp_path / "partenaires.csv"), str(conventions))
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2026-002", "--format", "json").output)
    assert shown["responsable"] == {"nom": "Anne Durand", "email": "anne.durand@x.fr"}
    assert (shown["montant"], shown["date_effet"], shown["partenaires"]) == ("1250.00", "2026-01-01", ["CCAS-X"])
    pacte("conventions", "generer", "CCAS-2026-002", "--sans-pdf")
    text = docx_text(pacte.root / "conventions/CCAS-2026-002/CCAS-2026-002.docx")
    assert "représenté par Mme Durand, dûment habilitée" in text and "Mme Mme" not in text


def test_generer_without_a_reference_is_a_usage_error(pacte_sqlite: Pacte) -> None:
    result = pacte_sqlite("conventions", "generer", ok=False)
    assert result.exit_code == 2 and "indiquez au moins une référence de convention, ou --toutes" in result.output
    assert "pacte conventions generer [OPTIONS] [RÉFÉRENCES]…" in result.output


@contextmanager
def _registry(base: str | None, folder: Path) -> Iterator[Pacte]:
    """An initialised workspace in *folder* on its own empty registry (SQLite, or a new PostgreSQL database)."""
    url = None
    if base is not None:
        server = base.rsplit("/", 1)[0]
        name = "t_" + uuid.uuid4().hex[:12]
        with _admin(server) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        url = f"{server}/{name}"
    runner = Pacte(folder, url)
    runner("init", str(folder))
    try:
        yield runner
    finally:
        if url is not None:
            with _admin(url.rsplit("/", 1)[0]) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


LIFECYCLES = st.fixed_dictionaries({
    # days after 2027-01-01, CCAS-2024-101 (expresse): up to its decision deadline, 28 February 2027
    "renouveler": st.one_of(st.none(), st.integers(0, 58)),
    "denoncer": st.one_of(st.none(), st.integers(0, 50)),  # days after 2027-01-01, CCAS-2024-102 (tacite)
    "avenants": st.lists(st.booleans(), max_size=2),  # CCAS-2024-103: each carries its end further, or not
    "signer": st.booleans(),  # the draft CCAS-2027-105
    "retirer": st.booleans(),  # withdraw the last act recorded, if any
})


@pytest.mark.lent  # whole workspaces exported and imported a few times: about 20 s
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(life=LIFECYCLES)
def test_export_keeps_the_whole_registry(base: str | None, tmp_path_factory: pytest.TempPathFactory,
                                         life: dict[str, Any]) -> None:
    """`pacte exporter` then `pacte importer` into a new workspace lost every renewal, dénonciation, avenant and
    signature (CCAS-2024-001 came back expirée instead of reconduite), and two départements made three files.
    Now the round trip export → import into an empty workspace → export gives the same file, and statuses and
    deadlines are the same on both sides at several dates — whatever happened to the conventions."""
    folder = tmp_path_factory.mktemp("aller-retour")
    with _registry(base, folder / "source") as source, _registry(base, folder / "cible") as target:
        source("importer", str(DATA / "alertes.yaml"), str(DATA / "registre.yaml"))  # two départements
        acts = []
        if life["renouveler"] is not None:
            day = (dt.date(2027, 1, 1) + dt.timedelta(days=life["renouveler"])).isoformat()
            source("--au", day, "conventions", "renouveler", "CCAS-2024-101", "--date", day, "--sans-pdf")
            acts.append(("CCAS-2024-101", "renouvellement"))
        if life["denoncer"] is not None:
            day = (dt.date(2027, 1, 1) + dt.timedelta(days=life["denoncer"])).isoformat()
            source("--au", day, "conventions", "denoncer", "CCAS-2024-102", "--date", day, "--force", "--sans-pdf",
                   "--motif", "Fin du dispositif ; « guillemets » et accents.")
            acts.append(("CCAS-2024-102", "denonciation"))
        for number, extends in enumerate(life["avenants"], start=1):
            extra = ["--nouvelle-fin", f"{2028 + number}-02-28"] if extends else []
            source("--au", "2026-01-15", "conventions", "avenant", "CCAS-2024-103", "--objet", f"Avenant {number}.",
                   "--date", "2026-01-15", "--remplace-article", "4", "Nouvelle rédaction.", *extra, "--sans-pdf")
            acts.append(("CCAS-2024-103", "avenant"))
        if life["signer"]:
            source("--au", "2027-02-10", "conventions", "signer", "CCAS-2027-105", "--date", "2027-02-10")
        if life["retirer"] and acts:
            source("conventions", "annuler-acte", *acts[-1], "--motif", "Erreur de saisie.")
        first = folder / "registre.yaml"
        assert [Path(p.split()[-1]) for p in source("exporter", str(first)).output.splitlines()] == [first]
        target("importer", str(first))
        second = folder / "registre-2.yaml"
        target("exporter", str(second))
        assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
        for fmt in ("xlsx", "csv"):  # a sheet or a file for each table, the life included
            source("exporter", str(folder / f"registre.{fmt}"))
            with _registry(base, folder / f"cible-{fmt}") as other:
                tables = [folder / "registre.xlsx"] if fmt == "xlsx" else sorted(folder.glob("registre-*.csv"))
                other("importer", *map(str, tables))
                other("exporter", str(folder / f"retour-{fmt}.yaml"))
                assert (folder / f"retour-{fmt}.yaml").read_text(encoding="utf-8") == \
                    first.read_text(encoding="utf-8"), fmt
        for on in ("2026-12-01", "2027-03-15", "2028-06-30", "2030-01-01"):
            mine = json.loads(source("--au", on, "conventions", "lister", "--format", "json").output)
            theirs = json.loads(target("--au", on, "conventions", "lister", "--format", "json").output)
            assert mine == theirs, on
            assert json.loads(source("--au", on, "alertes", "--format", "json").output) == \
                json.loads(target("--au", on, "alertes", "--format", "json").output)
