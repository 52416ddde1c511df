"""Generation of conventions: what the user reads in the DOCX, refusals, reproducibility, archiving."""

from __future__ import annotations

import hashlib
import io
import subprocess
import zipfile
from pathlib import Path

from tests.helpers import DATA, Pacte, add_paragraphs, docx_text, folder_state, registry_state

SPECIAL = "Association « Pain & Partage » <Sud> 'Est' \"Nord\""


def _generate(pacte: Pacte, *refs: str) -> str:
    pacte("importer", str(DATA / "registre.yaml"))
    return pacte("conventions", "generer", *(refs or ("--toutes",)), "--sans-pdf").output


def test_docx_carries_the_data_in_french(pacte: Pacte) -> None:
    output = _generate(pacte)
    assert "3 document(s) produit(s)" in output
    text = docx_text(pacte.root / "conventions/ASSO-2025-001/ASSO-2025-001.docx")
    assert SPECIAL in text  # literal: neither escaped twice nor evaluated
    assert "« l'aide & l'accès » aux <droits> de {{ tous }}" in text  # data never evaluated as a template
    assert "M. Jean O'Brien & Fils" in text
    assert "Ateliers <numériques> & emploi" in text
    assert "1 234,56 €" in text and "50 %" in text and "617,28 €" in text
    assert "à compter du 1er mars 2025, soit jusqu'au 29 février 2028 inclus" in text
    assert "(mille deux cent trente-quatre euros et cinquante-six centimes)" in text
    assert "renouvelée de manière expresse, deux fois au plus" in text and "reconduite tacitement par" not in text
    assert "au plus tard le 29 novembre 2027" in text
    assert "Fait à Bobigny, le 1er février 2025, en deux exemplaires originaux." in text
    assert "Convention n° ASSO-2025-001 — Page" in text  # footer, with its PAGE / NUMPAGES fields
    assert "Département de la Seine-Saint-Denis — Convention ASSO-2025-001" in text  # header
    assert "Mme Camille Testeur" in text and "dûment habilitée" in text


def test_pole_emploi_before_2024_france_travail_after(pacte: Pacte, tmp_path: Path) -> None:
    _generate(pacte, "FT-2023-009")
    text = docx_text(pacte.root / "conventions/FT-2023-009/FT-2023-009.docx")
    assert "entre le Département de la Seine-Saint-Denis et Pôle emploi" in text
    assert "Pôle emploi Seine-Saint-Denis" in text
    assert "France Travail" not in text
    assert "4 200 000,00 €" in text and "2 100 000,00 €" in text
    # The same agreement concluded a year later, as a new convention (the 2023 one, signed, keeps its text).
    later = tmp_path / "ft-2024.yaml"
    later.write_text((DATA / "registre.yaml").read_text(encoding="utf-8").replace(
        "reference: FT-2023-009", "reference: FT-2024-009").replace(
        "date_signature: 2023-01-10\n    date_effet: 2023-02-01",
        "date_signature: 2024-01-10\n    date_effet: 2024-02-01"),
        encoding="utf-8")
    pacte("importer", str(later))
    pacte("conventions", "generer", "FT-2024-009", "--sans-pdf")
    text = docx_text(pacte.root / "conventions/FT-2024-009/FT-2024-009.docx")
    assert "entre le Département de la Seine-Saint-Denis et France Travail" in text
    assert "loi n° 2023-1196 du 18 décembre 2023 pour le plein emploi" in text
    assert "France Travail Seine-Saint-Denis" in text and "Pôle emploi Seine-Saint-Denis" not in text
    assert "ci-après dénommé « France Travail »" in text


def test_same_data_and_template_give_the_same_bytes(tmp_path: Path) -> None:
    digests = []
    for name in ("un", "deux"):
        pacte = Pacte(tmp_path / name, None)
        pacte("init", str(pacte.root))
        _generate(pacte, "CCAS-2024-010")
        digests.append(hashlib.sha256((pacte.root / "conventions/CCAS-2024-010/CCAS-2024-010.docx")
                                      .read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_unchanged_documents_are_skipped(pacte: Pacte) -> None:
    _generate(pacte)
    before = folder_state(pacte.root)
    again = pacte("conventions", "generer", "--toutes", "--sans-pdf").output
    assert "0 document(s) produit(s), 3 inchangé(s)." in again
    assert again.count("(texte signé, inchangé)") == 3  # the three are signed: their text is frozen
    assert folder_state(pacte.root) == before


def test_superseded_version_is_archived_and_summed(pacte: Pacte, tmp_path: Path) -> None:
    """A draft regenerated after a change of its data: the previous version is archived (a signed text is
    frozen instead, see test_actes.py)."""
    draft = (DATA / "registre.yaml").read_text(encoding="utf-8").replace("    date_signature: 2024-05-15\n", "")
    (tmp_path / "brouillon.yaml").write_text(draft, encoding="utf-8")
    pacte("importer", str(tmp_path / "brouillon.yaml"))
    pacte("conventions", "generer", "CCAS-2024-010", "--sans-pdf")
    first = (pacte.root / "conventions/CCAS-2024-010/CCAS-2024-010.docx").read_bytes()
    changed = tmp_path / "change.yaml"
    changed.write_text(draft.replace("mieux orienter les usagers.", "mieux orienter et accompagner les usagers."),
                       encoding="utf-8")
    pacte("importer", str(changed))
    output = pacte("conventions", "generer", "CCAS-2024-010", "--sans-pdf").output
    assert "régénéré" in output
    archived = pacte.root / "archives/conventions/CCAS-2024-010/CCAS-2024-010-v1.docx"
    assert archived.read_bytes() == first
    assert not archived.stat().st_mode & 0o222  # archived files are read-only
    assert "accompagner les usagers" in docx_text(pacte.root / "conventions/CCAS-2024-010/CCAS-2024-010.docx")
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=pacte.root / "archives", capture_output=True,
                           text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "conventions/CCAS-2024-010/CCAS-2024-010-v1.docx: OK" in check.stdout
    shown = pacte("conventions", "afficher", "CCAS-2024-010").output
    assert "archives/conventions/CCAS-2024-010/CCAS-2024-010-v1.docx" in shown and "v2, courant" in shown
    assert "✓" in pacte("archives", "verifier").output


def test_archives_verifier_names_altered_missing_and_unknown_files(pacte: Pacte) -> None:
    _generate(pacte)
    (pacte.root / "conventions/CCAS-2024-010/CCAS-2024-010.docx").write_bytes(b"falsifie")
    (pacte.root / "conventions/FT-2023-009/FT-2023-009.docx").unlink()
    (pacte.root / "conventions/ASSO-2025-001/intrus.pdf").write_bytes(b"%PDF-1.4")
    result = pacte("archives", "verifier", ok=False)
    assert result.exit_code == 1
    assert "conventions/CCAS-2024-010/CCAS-2024-010.docx : modifié depuis son enregistrement" in result.output
    assert "conventions/FT-2023-009/FT-2023-009.docx : manquant" in result.output
    assert "conventions/ASSO-2025-001/intrus.pdf : inconnu du registre" in result.output
    assert "3 anomalie(s)" in result.output


def test_missing_variable_is_refused_named_and_nothing_written(pacte: Pacte) -> None:
    pacte("importer", str(DATA / "registre.yaml"))
    for template in ("convention_ccas", "convention_subvention"):
        add_paragraphs(pacte.root / f"modeles/{template}.docx",
                       "Référence interne : {{ convention.numero_interne }} / {{ signataire_adjoint }}")
    registry_before = registry_state(pacte.root, pacte.base)
    folders_before = folder_state(pacte.root)
    result = pacte("conventions", "generer", "--toutes", ok=False)
    assert result.exit_code == 1
    assert "Aucun document n'a été écrit" in result.output
    assert "modèle « convention_ccas » : variable « convention.numero_interne » absente des données" in result.output
    assert "variable « signataire_adjoint »" in result.output
    assert "ASSO-2025-001" in result.output and "CCAS-2024-010" in result.output
    assert registry_state(pacte.root, pacte.base) == registry_before
    assert folder_state(pacte.root) == folders_before


def test_sandbox_stops_a_template_reaching_for_python_internals(pacte_sqlite: Pacte) -> None:
    pacte = pacte_sqlite
    pacte("importer", str(DATA / "registre.yaml"))
    add_paragraphs(pacte.root / "modeles/convention_ccas.docx",
                     "{{ convention.objet.__class__.__mro__[1].__subclasses__() }}")
    before = folder_state(pacte.root)
    result = pacte("conventions", "generer", "CCAS-2024-010", "--sans-pdf", ok=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "Aucun document n'a été écrit" in result.output
    assert folder_state(pacte.root) == before


def test_generated_docx_is_a_valid_package(pacte_sqlite: Pacte) -> None:
    _generate(pacte_sqlite, "ASSO-2025-001")
    data = (pacte_sqlite.root / "conventions/ASSO-2025-001/ASSO-2025-001.docx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        assert "word/document.xml" in package.namelist()
        assert {i.date_time for i in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_unknown_reference_is_named(pacte_sqlite: Pacte) -> None:
    _generate(pacte_sqlite, "CCAS-2024-010")
    result = pacte_sqlite("conventions", "generer", "CCAS-2024-011", ok=False)
    assert result.exit_code == 1
    assert "Convention « CCAS-2024-011 » inconnue du registre. Références proches : CCAS-2024-010" in result.output


def test_default_avenant_template_renders(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    """The avenant template (used by the lifecycle commands) renders the documented avenant context."""
    import datetime as dt

    from pacte_docs.documents import context
    from pacte_docs.documents.rendering import CompiledTemplate, make_environment
    from pacte_docs.registry import queries
    from pacte_docs.workspace import Workspace

    pacte_sqlite("importer", str(DATA / "registre.yaml"))
    ws = Workspace(pacte_sqlite.root)
    try:
        with ws.db.session() as session:
            convention = queries.convention(session, "ASSO-2025-001")
            ctx = context.avenant_context(convention, 2, "Le montant est porté à 2 000 € & plus.",
                                          dt.date(2026, 3, 1), dt.date(2028, 8, 31))
            template = CompiledTemplate(ws.modeles / "avenant.docx", make_environment())
            assert template.missing(ctx) == []
            out = tmp_path / "avenant.docx"
            out.write_bytes(template.render(ctx))
    finally:
        ws.close()
    text = docx_text(out)
    assert "AVENANT N° 2" in text and "à la convention n° ASSO-2025-001" in text
    assert "Le montant est porté à 2 000 € & plus." in text
    assert "Le terme de la convention est porté au 31 août 2028 inclus." in text
    assert "Fait à Bobigny, le 1er mars 2026" in text
    assert "Avenant n° 2 — convention n° ASSO-2025-001 — Page" in text
