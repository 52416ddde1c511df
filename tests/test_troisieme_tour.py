"""Hostile round 3 (issue 30), by family: each finding refused by one mechanism, with a test that failed before."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.helpers import DATA, Pacte, folder_state


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- 1. an output path never lands on what pacte keeps


def test_no_output_lands_on_the_registry_its_files_the_configuration_or_the_archives(pacte_sqlite: Pacte,
                                                                                     tmp_path: Path) -> None:
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "registre.yaml"))
    pacte("conventions", "generer", "CCAS-2024-010")
    root = pacte.root
    registry, config = root / "pacte.db", root / "pacte.toml"
    kept = {registry: _digest(registry), config: _digest(config)}
    before = folder_state(root / "conventions")
    aside = tmp_path / "ailleurs"
    aside.mkdir()
    (aside / "lien.db").symlink_to(registry)  # another spelling of the same file
    attempts = [
        ("--au", "2026-12-01", "archives", "verser", "--terminees", "--force", "--sortie", str(registry)),
        ("exporter", "--format", "yaml", str(registry)),
        ("exporter", "--format", "yaml", str(aside / "lien.db")),
        ("exporter", "--format", "yaml", str(root / "archives" / ".." / "pacte.toml")),
        ("alertes", "--ics", str(registry)),
        ("alertes", "--ics", str(root / "pacte.db-wal")),
        ("alertes", "--ics", str(root / "conventions" / "CCAS-2024-010" / "CCAS-2024-010.pdf")),
        ("archives", "verser", "CCAS-2024-010", "--force", "--sortie",
         str(root / "archives" / "conventions" / "CCAS-2024-010" / "copie.zip")),
        ("bilan", "compiler", "2025", "--format", "xlsx", "--sortie", str(root / "modeles" / "avenant.docx")),
        ("exporter", str(root / "modeles" / "avenant.docx"), "--format", "yaml"),
    ]
    for args in attempts:
        result = pacte(*args, ok=False)
        assert result.exit_code == 1, (args, result.output)
        assert "ce chemin est tenu par pacte" in " ".join(result.output.split()), (args, result.output)
        assert "Traceback" not in result.output
    assert {path: _digest(path) for path in kept} == kept
    assert folder_state(root / "conventions") == before
    assert not (root / "archives" / "conventions" / "CCAS-2024-010" / "copie.zip").exists()
    # elsewhere, the same commands write where they are told
    assert pacte("exporter", "--format", "yaml", str(aside / "registre.yaml")).exit_code == 0
    assert pacte("alertes", "--ics", str(aside / "echeances.ics")).exit_code == 0


@pytest.mark.parametrize("name", ["pacte.db-shm", "pacte.db.registre.lock", "pacte.db-journal"])
def test_the_registry_s_companion_files_are_kept_too(pacte_sqlite: Pacte, name: str) -> None:
    result = pacte_sqlite("alertes", "--ics", str(pacte_sqlite.root / name), ok=False)
    assert result.exit_code == 1 and "ce chemin est tenu par pacte" in " ".join(result.output.split())


# ---------------------------------------------------------------- 8. every sandbox error is a French template error


@pytest.mark.parametrize(("tag", "said"), [
    ("{% include '/etc/passwd' %}", "balise « include »"),
    ("{% for i in range(10**9) %}x{% endfor %}", "dépasse 100 000 tours"),
])
def test_a_template_s_forbidden_tag_or_endless_range_is_a_french_template_error(pacte_sqlite: Pacte, tag: str,
                                                                                said: str) -> None:
    from tests.helpers import add_paragraphs

    pacte = pacte_sqlite
    pacte("importer", str(DATA / "registre.yaml"))
    add_paragraphs(pacte.root / "modeles" / "convention_ccas.docx", tag)
    result = pacte("conventions", "generer", "CCAS-2024-010", ok=False)
    assert result.exit_code != 0 and "Traceback" not in result.output and "TypeError" not in result.output
    assert "OverflowError" not in result.output and "convention_ccas" in result.output
    checked = pacte("modeles", "verifier", "convention_ccas", ok=False)
    if "include" in tag:
        assert checked.exit_code != 0 and said in checked.output
    else:
        assert said in result.output, result.output


def test_a_truncated_pdf_is_refused_in_french_only(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "registre.yaml"))
    pacte("conventions", "generer", "CCAS-2024-010")
    whole = (pacte.root / "conventions/CCAS-2024-010/CCAS-2024-010.pdf").read_bytes()
    cut = tmp_path / "tronque.pdf"
    cut.write_bytes(whole[:len(whole) // 3])
    result = pacte("conventions", "signer", "CCAS-2024-010", "--date", "2024-05-15", "--fichier", str(cut), ok=False)
    assert result.exit_code == 1 and "est endommagé et ne peut pas être lu" in result.output
    assert "EOF marker" not in result.output and "Error" not in result.output.replace("Erreur", "")


# ---------------------------------------------------------------- 6. the server: one canonical path, strict params


@pytest.mark.lent  # a server or a process of its own
def test_the_server_answers_404_for_every_non_canonical_path_and_parses_numbers_strictly(pacte_sqlite: Pacte
                                                                                        ) -> None:
    import http.client

    from tests.helpers import create_link, start_server

    pacte = pacte_sqlite
    pacte("importer", str(DATA / "registre.yaml"))
    _, token, _ = create_link(pacte, "--tout")
    server = start_server(pacte.root)
    try:
        host, port = server.url.removeprefix("http://").split(":")

        def get(path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            try:
                connection.request("GET", path, headers=headers or {})
                response = connection.getresponse()
                response.read()
                return response.status, {k.lower(): v for k, v in response.getheaders()}
            finally:
                connection.close()

        assert get(f"/acces/{token}")[0] == 200
        for path in (f"/acces%2f{token}", f"/acces%2F{token}", f"/acces/{token}/", f"/acces//{token}",
                     f"/acces/{'x' * 43}/", f"/acces/{token}%2fpublications"):
            status, headers = get(path, {"Host": "evil.example"})
            assert status == 404 and "location" not in headers, (path, status, headers)
        for value in ("%C2%B2", "%E2%91%A0", "%EF%BC%91", "9" * 40, "-1"):
            assert get(f"/acces/{token}?page={value}")[0] == 200, value
        assert "Traceback" not in server.stop()
    finally:
        server.stop()


# ---------------------------------------------------------------- 7. a signed text altered on the disk


def test_a_signed_text_altered_on_the_disk_is_reported_by_generer_never_called_unchanged(pacte_sqlite: Pacte
                                                                                       ) -> None:
    import os
    import stat

    pacte = pacte_sqlite
    pacte("importer", str(DATA / "registre.yaml"))
    pacte("conventions", "generer", "CCAS-2024-010")  # signed in the registry: its text is frozen once made
    again = pacte("conventions", "generer", "CCAS-2024-010")
    assert again.exit_code == 0
    signed = pacte.root / "conventions/CCAS-2024-010/CCAS-2024-010.docx"
    os.chmod(signed, os.stat(signed).st_mode | stat.S_IWUSR)
    with signed.open("ab") as out:
        out.write(b"\0")
    altered = pacte("conventions", "generer", "CCAS-2024-010", ok=False)
    said = " ".join(altered.output.split())
    assert altered.exit_code == 1 and "Texte signé modifié ou absent sur le disque" in said, said
    assert "conventions/CCAS-2024-010/CCAS-2024-010.docx" in said and "sauvegarde" in said
    assert "inchangé" not in said


# ---------------------------------------------------------------- 4. one validation for a typed value


@pytest.mark.parametrize(("args", "said"), [
    (("avenant", "CCAS-2024-010", "--objet", "Objet\x07 sonore", "--date", "2026-11-02"),
     "caractère de contrôle invisible (U+0007)"),
    (("avenant", "CCAS-2024-010", "--objet", "Objet", "--date", "2026-11-02", "--remplace-article", "4",
      "Texte \x1b[31mrouge"), "caractère de contrôle invisible (U+001B)"),
    (("avenant", "CCAS-2024-010", "--objet", "Objet", "--date", "2026-11-02", "--deliberation", "CP\n2026"),
     "retour à la ligne interdit"),
    (("denoncer", "CCAS-2024-010", "--date", "2026-11-02", "--motif", "x" * 3000), "texte trop long"),
    (("avenant", "CCAS-2024-010", "--objet", "Objet", "--date", "2026-11-02", "--remplace-article", "0", "T"),
     "Numéro d'article « 0 » incompréhensible"),
    (("avenant", "CCAS-2024-010", "--objet", "Objet", "--date", "2026-11-02", "--remplace-article", "1" + "0" * 30,
      "T"), "incompréhensible"),
    (("avenant", "CCAS-2024-010", "--objet", "Objet", "--date", "2026-11-02", "--remplace-article", "٣", "T"),
     "incompréhensible"),
    (("avenant", "CCAS-2024-010", "--objet", "Objet", "--date", "2026-11-02", "--remplace-article", "１", "T"),
     "incompréhensible"),
])
def test_text_typed_on_the_command_line_is_checked_as_an_import_checks_it(pacte_sqlite: Pacte, args: tuple[str, ...],
                                                                          said: str) -> None:
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "registre.yaml"))
    before = pacte("exporter", "--format", "yaml", str(pacte.root.parent / "avant.yaml")).exit_code
    result = pacte("conventions", *args, ok=False)
    assert result.exit_code != 0 and said in " ".join(result.output.split()), result.output
    assert before == 0 and "Traceback" not in result.output
    exported = pacte.root.parent / "apres.yaml"
    pacte("exporter", "--format", "yaml", str(exported))
    assert exported.read_text(encoding="utf-8") == (pacte.root.parent / "avant.yaml").read_text(encoding="utf-8")


# ---------------------------------------------------------------- 5. SEDA: what XML cannot hold, identifiers


def test_a_name_no_xml_can_hold_is_refused_at_import_and_identifiers_follow_the_content(pacte_sqlite: Pacte,
                                                                                        tmp_path: Path) -> None:
    pacte = pacte_sqlite
    hostile = tmp_path / "nonchar.yaml"
    hostile.write_text("partenaires:\n  - code: CCAS-X\n    type: ccas\n    nom: \"CCAS \\uFFFE de X\\uFFFF\"\n",
                       encoding="utf-8")
    refused = pacte("importer", str(hostile), ok=False)
    assert refused.exit_code != 0 and "U+FFFE" in refused.output and "Traceback" not in refused.output
    pacte("importer", str(DATA / "registre.yaml"))
    config = pacte.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[archivage]", "[archivage-exemple]")
                      + '\n[archivage]\nservice_archives = "FRAD093"\nservice_versant = "FRDEP093-DIE"\n'
                        'regle = "APP0010"\nduree = "P10Y"\nsort_final = "conserver"\n', encoding="utf-8")
    pacte("conventions", "generer", "FT-2023-009", "--sans-pdf")

    def identifier(name: str) -> str:
        import re
        import zipfile

        package = tmp_path / name
        pacte("--au", "2026-12-01", "archives", "verser", "FT-2023-009", "--sortie", str(package))
        with zipfile.ZipFile(package) as archive:
            manifest = archive.read("manifest.xml").decode("utf-8")
        found = re.search(r"<MessageIdentifier>([^<]+)</MessageIdentifier>", manifest)
        assert found, manifest[:300]
        return found.group(1)

    first = identifier("premier.zip")
    assert identifier("meme.zip") == first  # the same package, made again
    from tests.helpers import scanned_pdf

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned_pdf("EXEMPLAIRE SIGNE", pages=3))
    pacte("conventions", "signer", "FT-2023-009", "--date", "2023-01-10", "--fichier", str(scan))
    assert identifier("autre.zip") != first  # another content (its signed copy added), another identifier


# ---------------------------------------------------------------- 3. lifecycle: repeats, order, a closed pipe


def test_a_renewal_run_twice_is_recorded_once_and_is_withdrawn_only_before_what_rests_on_it(pacte_sqlite: Pacte
                                                                                           ) -> None:
    import json

    pacte = pacte_sqlite
    pacte("importer", str(DATA / "alertes.yaml"))
    command = ("--au", "2027-02-22", "conventions", "renouveler", "CCAS-2024-101", "--deliberation",
               "CP-2027-02-041", "--sans-pdf")
    pacte(*command)
    again = pacte(*command)
    assert again.exit_code == 0 and "déjà enregistré ; rien n'a changé" in again.output
    shown = json.loads(pacte("--au", "2027-06-02", "conventions", "afficher", "CCAS-2024-101", "--format",
                             "json").output)
    assert shown["periode"] == 2 and len(shown["renouvellements"]) == 1
    pacte("--au", "2027-07-01", "conventions", "avenant", "CCAS-2024-101", "--objet", "Une permanence de plus.",
          "--date", "2027-07-01", "--sans-pdf")
    refused = pacte("--au", "2027-07-02", "conventions", "annuler-acte", "CCAS-2024-101", "renouvellement",
                    "--motif", "Saisi par erreur.", ok=False)
    said = " ".join(refused.output.split())
    assert refused.exit_code == 1 and "l'avenant n° 1 repose sur la période qu'il a ouverte" in said, said
    assert len(json.loads(pacte("conventions", "afficher", "CCAS-2024-101", "--format", "json").output)[
        "renouvellements"]) == 1
    pacte("--au", "2027-07-02", "conventions", "annuler-acte", "CCAS-2024-101", "avenant", "--motif", "Erreur.")
    pacte("--au", "2027-07-02", "conventions", "annuler-acte", "CCAS-2024-101", "renouvellement", "--motif",
          "Erreur.")


@pytest.mark.lent  # a server or a process of its own
def test_a_renewal_printed_into_a_closed_pipe_says_it_is_recorded(pacte_sqlite: Pacte) -> None:
    import json
    import subprocess
    import sys

    pacte = pacte_sqlite
    pacte("importer", str(DATA / "alertes.yaml"))
    process = subprocess.Popen([sys.executable, "-m", "pacte_docs", "--espace", str(pacte.root), "--au", "2027-02-22",
                                "conventions", "renouveler", "CCAS-2024-101", "--sans-pdf"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # « … | true »: nobody reads what it prints
    with process.stderr:
        error = process.stderr.read().decode("utf-8")
    process.wait(timeout=120)
    assert "annulé" not in error and "Traceback" not in error
    assert "Affichage interrompu" in error and "reste fait" in error
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2024-101", "--format", "json").output)
    assert len(shown["renouvellements"]) == 1


@pytest.mark.lent  # a server or a process of its own
def test_a_document_downloaded_while_generer_replaces_it_is_sent_whole(pacte_sqlite: Pacte) -> None:
    """Issue 30, family 6: downloads during a replacement answered « Fichier altéré » (409) now and then; the
    old version or the new one is sent, whole."""
    import threading

    from tests.helpers import add_paragraphs, create_link, documents, start_server

    pacte = pacte_sqlite
    pacte("importer", str(DATA / "alertes.yaml"))
    pacte("conventions", "generer", "CCAS-2027-105", "--sans-pdf")
    ident = documents(pacte)["CCAS-2027-105.docx"][0]
    _, token, _ = create_link(pacte, "--tout")
    server = start_server(pacte.root)
    stop = threading.Event()

    def regenerate() -> None:  # in processes of their own, as a second terminal would
        import subprocess
        import sys

        for number in range(12):
            add_paragraphs(pacte.root / "modeles" / "convention_ccas.docx", f"Phrase ajoutée n° {number}.")
            subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(pacte.root), "conventions",
                            "generer", "CCAS-2027-105", "--sans-pdf"], check=True, capture_output=True, timeout=120)
        stop.set()

    worker = threading.Thread(target=regenerate)
    try:
        worker.start()
        answers = []
        while not stop.is_set():
            status, _, data = server.get(f"/acces/{token}/documents/{ident}")
            answers.append(status)
            assert data[:2] == b"PK" or status != 200
        worker.join(120)
        assert answers and set(answers) == {200}, answers
    finally:
        stop.set()
        worker.join(120)
        server.stop()


def test_a_signature_dated_after_today_is_refused_as_the_other_acts_are(pacte_sqlite: Pacte) -> None:
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "alertes.yaml"))
    future = pacte("--au", "2025-04-01", "conventions", "signer", "CCAS-2027-105", "--date", "2030-01-01", ok=False)
    said = " ".join(future.output.split())
    assert future.exit_code == 1 and "est postérieure à aujourd'hui (1er avril 2025)" in said, said
    forced = pacte("--au", "2025-04-01", "conventions", "signer", "CCAS-2027-105", "--date", "2030-01-01", "--force")
    assert forced.exit_code == 0
