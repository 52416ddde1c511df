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
