"""The default templates are the DOCX files under version control: their fingerprints are recorded, `pacte init`
updates an untouched old default and keeps an edited one, and `modeles verifier` checks what the jobs need."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document as DocxDocument

from pacte_docs import workspace
from pacte_docs.cli import cli
from pacte_docs.services import templates
from tests.helpers import Pacte, add_paragraphs

PACKAGE_TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "pacte_docs" / "modeles"


def test_committed_templates_are_the_recorded_defaults() -> None:
    manifest = json.loads((PACKAGE_TEMPLATES / "empreintes.json").read_text(encoding="utf-8"))
    files = {p.stem: hashlib.sha256(p.read_bytes()).hexdigest() for p in PACKAGE_TEMPLATES.glob("*.docx")}
    assert set(files) == set(manifest) == {"avenant", "bilan_annuel", "bordereau", "convention_ccas",
                                           "convention_france_travail",
                                           "convention_subvention", "denonciation", "pdi_pti", "point_etape",
                                           "bilan_etape",
                                           "relance", "renouvellement"}
    changed = [name for name, sha in files.items() if manifest[name]["actuel"] != sha]
    assert changed == [], "modèle modifié : lancez « python outils/empreintes_modeles.py » et committez l'empreinte"
    for entry in manifest.values():
        assert entry["actuel"] not in entry["precedents"]


def _init(root: Path) -> str:
    result = CliRunner().invoke(cli, ["init", str(root)])
    assert result.exit_code == 0, result.output
    return result.output


def test_init_updates_an_untouched_old_default_and_keeps_an_edited_one(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "espace"
    _init(root)
    old_default, edited = root / "modeles/avenant.docx", root / "modeles/convention_ccas.docx"
    # The avenant as a previous version shipped it, never touched here since; the convention edited by a lawyer.
    previous = DocxDocument(str(old_default))
    previous.add_paragraph("Ancienne rédaction du modèle par défaut.")
    previous.save(str(old_default))
    lawyer = DocxDocument(str(edited))
    lawyer.add_paragraph("Clause ajoutée par le service juridique.")
    lawyer.save(str(edited))
    edited_bytes = edited.read_bytes()
    real = workspace.default_template_fingerprints()
    earlier = hashlib.sha256(old_default.read_bytes()).hexdigest()
    def fingerprints() -> dict[str, tuple[str, frozenset[str]]]:
        return {name: (current, known | {earlier} if name == "avenant" else known)
                for name, (current, known) in real.items()}

    monkeypatch.setattr(workspace, "default_template_fingerprints", fingerprints)
    monkeypatch.setattr(templates, "default_template_fingerprints", fingerprints)

    listing = CliRunner().invoke(cli, ["--espace", str(root), "modeles", "lister", "--format", "json"])
    origins = {row["name"]: row["origine"] for row in json.loads(listing.output)}
    assert origins["avenant"] == "par défaut (version précédente)" and origins["convention_ccas"] == "modifié"

    output = _init(root)
    assert "mis à jour modeles/avenant.docx (modèle par défaut d'une version précédente, jamais modifié)" in output
    assert "conservé modeles/convention_ccas.docx : modifié dans l'espace, il est gardé tel quel" in output
    assert old_default.read_bytes() == (PACKAGE_TEMPLATES / "avenant.docx").read_bytes()
    assert edited.read_bytes() == edited_bytes
    assert "conservé modeles/pdi_pti.docx" in output


def test_verifier_lists_every_available_variable_and_marks_the_used_ones(pacte_sqlite: Pacte) -> None:
    result = pacte_sqlite("modeles", "verifier", "avenant", "--variables")
    lines = result.output.splitlines()
    assert any(line.startswith("✓ avenant") and "disponibles" in line for line in lines)
    assert "    ● avenant.article_1" in lines and "    ● avenant.expose" in lines  # used by the avenant
    assert "      avenant.objet" in lines  # available, not used: the exposé and article 1 are built from it
    assert "      convention.montant" in lines  # available, not used by the avenant


def test_verifier_requires_the_bilan_s_annex_headings(pacte_sqlite: Pacte) -> None:
    path = pacte_sqlite.root / "modeles/bilan_annuel.docx"
    document = DocxDocument(str(path))
    heading = next(p for p in document.paragraphs if p.text.startswith("Annexe 2"))
    for run in heading.runs:
        run.text = ""
    heading.runs[0].text = "Deuxième annexe"
    document.save(str(path))
    result = pacte_sqlite("modeles", "verifier", "bilan_annuel", ok=False)
    assert result.exit_code == 1
    assert "✗ bilan_annuel" in result.output
    assert "titre « Annexe 2 – … » (style Titre 1) absent ou mal placé" in result.output
    assert "« Annexe 1 – … »" not in result.output


def test_verifier_flags_what_the_law_of_the_act_s_date_forbids(pacte_sqlite: Pacte) -> None:
    """Rendered as acts of 2023, 2024 and 2025: « Pôle emploi » from 2024, CER or PPAE from 2025, and a
    dénonciation clause in a convention that is not renewable are reported; visas citing older texts are not."""
    path = pacte_sqlite.root / "modeles/convention_france_travail.docx"
    add_paragraphs(path, "Le conseiller de Pôle emploi reçoit la personne dans le mois qui suit son orientation.",
                   "Le référent signe avec la personne un contrat d'engagements réciproques (CER).")
    result = pacte_sqlite("modeles", "verifier", "convention_france_travail", ok=False)
    assert result.exit_code == 1 and "✗ convention_france_travail" in result.output
    assert "« Pôle emploi » dans un acte du 1er juin 2024 : l'opérateur s'appelle France Travail depuis le " \
           "1er janvier 2024" in result.output
    assert "Le conseiller de Pôle emploi reçoit la personne" in result.output
    assert "dans un acte du 1er juin 2025 : depuis le 1er janvier 2025, le contrat d'engagement remplace le CER et " \
           "le PPAE" in result.output
    assert "Vu la loi n° 2023-1196" not in result.output  # a visa names the law by its title: not an anachronism

    ccas = pacte_sqlite.root / "modeles/convention_ccas.docx"
    add_paragraphs(ccas, "Chacune des parties peut dénoncer la présente convention avec un préavis de trois mois.")
    result = pacte_sqlite("modeles", "verifier", "convention_ccas", ok=False)
    assert "une convention qui n'est pas renouvelable ne se dénonce pas" in result.output


def test_verifier_flags_text_left_to_fill_in(pacte_sqlite: Pacte) -> None:
    """A template edited in Word with « XXX » or « [à compléter] » left in it is not a finished act."""
    path = pacte_sqlite.root / "modeles/convention_ccas.docx"
    add_paragraphs(path, "La subvention est versée sur le compte n° XXX de l'association.",
                   "Le comité se réunit [date à compléter].")
    result = pacte_sqlite("modeles", "verifier", "convention_ccas", ok=False)
    flat = " ".join(result.output.split())
    assert result.exit_code == 1 and "✗ convention_ccas" in flat
    assert "texte à compléter resté dans le modèle (« XXX »)" in flat
    assert "texte à compléter resté dans le modèle (« [date à compléter] »)" in flat
    assert "✓" in pacte_sqlite("modeles", "verifier", "convention_france_travail").output


def test_a_template_that_loops_for_ever_is_stopped_in_a_server_thread_too() -> None:
    """The server renders in its request threads and its worker, where no signal arrives: the deadline stops
    the loop there as well, and nothing is raised once it is over."""
    import threading
    import time

    from pacte_docs.documents.rendering import deadline, make_environment
    from pacte_docs.errors import RenderTimeout

    endless = make_environment().from_string("{% for a in range(100000) %}{% for b in range(100000) %}"
                                             "{% endfor %}{% endfor %}")
    seen: dict[str, object] = {}

    def in_a_thread() -> None:
        start = time.monotonic()
        try:
            with deadline(0.5):
                endless.render()
        except RenderTimeout:
            seen["stopped_after"] = time.monotonic() - start
        for _ in range(50):  # quick renders under a short deadline: never interrupted afterwards
            with deadline(5):
                make_environment().from_string("{{ 1 + 1 }}").render()
        time.sleep(0.2)
        seen["after"] = "rien d'interrompu"

    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join(30)
    assert not worker.is_alive()
    assert 0.4 < float(seen["stopped_after"]) < 5 and seen["after"] == "rien d'interrompu"  # type: ignore[arg-type]


def test_a_fetching_field_split_over_several_runs_is_refused_as_a_whole_one() -> None:
    """Word may cut a field's instruction into runs (« INCL » then « UDETEXT … »): it is read back together."""
    import io
    import zipfile
    from importlib import resources

    from pacte_docs.documents.rendering import package_findings

    source = (resources.files("pacte_docs") / "modeles" / "denonciation.docx").read_bytes()
    split = ('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> INCL'
             '</w:instrText></w:r><w:r><w:instrText>UDETEXT "/etc/hostname"</w:instrText></w:r>'
             '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>x</w:t></w:r>'
             '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as original, zipfile.ZipFile(out, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + split.encode(), 1)
            copy.writestr(item, data)
    assert package_findings(source) == []
    found = package_findings(out.getvalue())
    assert [f.message.split(" :")[0] for f in found] == ["champ INCLUDETEXT"]
