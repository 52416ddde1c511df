"""The fast rendering path (template parsed once, only tagged parts rendered) gives the same documents as the
naive docxtpl path: same text, tables, headers, footers and properties, on varied data."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from docx import Document as DocxDocument
from hypothesis import example, given
from hypothesis import strategies as st
from lxml import etree

from pacte_docs.documents import context
from pacte_docs.documents.rendering import (
    _PARSER,
    CompiledTemplate,
    FastDocx,
    _grid_mismatch,
    _grid_mismatch_text,
    make_environment,
)
from pacte_docs.documents.typesetting import typeset_tree, typeset_xml
from pacte_docs.registry.models import ConventionPartenaire, Partenaire
from pacte_docs.workspace import package_templates
from tests.helpers import docx_text


def _partner(code: str, nom: str, type_: str = "association") -> Partenaire:
    return Partenaire(code=code, type=type_, nom=nom, representant_civilite="Mme", representant_nom="Zoé <Z> & Co",
                      representant_qualite="Présidente « élue »", adresse="1, rue d'Ici\n92000 Là")


def convention_variants() -> list[dict[str, Any]]:
    variants = []
    for actions, partners, montant in ((0, 1, None), (1, 2, "1234.56"), (7, 3, "4200000")):
        c = context.sample_convention()
        c.objet = ("Objet avec « guillemets », <balises> & 'apostrophes' \"doubles\"\nsur deux lignes\tet une "
                   "tabulation.")
        c.actions = [{"intitule": f"Action {i} & <{i}>", "public": "BRSA", "indicateur": "Taux « x »",
                      "cible": f"{i} %"} for i in range(actions)]
        c.montant = Decimal(montant) if montant else None
        c.taux_fse = Decimal("0.5") if montant else None
        c.engagements_partenaire = [f"Engagement n° {i} : {{{{ pas du jinja }}}}" for i in range(actions)]
        c.liens = [ConventionPartenaire(partenaire=_partner(f"P-{i}", f"Association « Pain & Partage » <{i}>"), rang=i)
                   for i in range(partners)]
        if partners == 3:
            c.date_signature, c.renouvellement = None, "tacite"
        variants.append(context.convention_context(c))
    return variants


def contexts(name: str) -> list[dict[str, Any]]:
    if name == "pdi_pti":
        pacte, partners = context.sample_pacte()
        empty = copy.deepcopy(context.pacte_context(pacte, partners))
        pacte.titre = "Pacte « Solidarité & Emploi » <2024>"
        pacte.axes[0].fiches[0].objectifs = []
        full = context.pacte_context(pacte, partners, {"Préambule": 3})
        return [empty, full]
    if name == "avenant":
        return [context.avenant_context(context.sample_convention(), 2, "Objet & <avenant>\nligne 2",
                                        dt.date(2025, 1, 1), None)]
    return convention_variants()


def canonical_parts(data: bytes) -> dict[str, bytes]:
    """Body, headers, footers in canonical XML (C14N), whatever the namespace declarations' places."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: etree.tostring(etree.fromstring(archive.read(name)), method="c14n")
                for name in archive.namelist() if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", name)}


def properties(data: bytes) -> tuple[str, ...]:
    core = DocxDocument(io.BytesIO(data)).core_properties
    return (core.title, core.author, core.subject, core.keywords)


@pytest.mark.parametrize("name", ["convention_ccas", "convention_france_travail", "avenant", "pdi_pti"])
def test_fast_path_gives_the_same_document_as_docxtpl(name: str, tmp_path: Any) -> None:
    path = tmp_path / f"{name}.docx"
    path.write_bytes(package_templates()[name])
    template = CompiledTemplate(path, make_environment())
    for ctx in contexts(name):
        fast, naive = template.render(ctx), template.render_docxtpl(ctx)
        (tmp_path / "fast.docx").write_bytes(fast)
        (tmp_path / "naive.docx").write_bytes(naive)
        fast_text, naive_text = docx_text(tmp_path / "fast.docx"), docx_text(tmp_path / "naive.docx")
        assert fast_text == naive_text
        assert properties(fast) == properties(naive)
        assert canonical_parts(fast) == canonical_parts(naive)
        assert "Pain & Partage" in fast_text or name != "convention_ccas"
        assert "{{" not in fast_text.replace("{{ pas du jinja }}", "")  # data are never evaluated
        document = DocxDocument(io.BytesIO(fast))
        assert len(document.tables) == len(DocxDocument(io.BytesIO(naive)).tables)
        assert template.render(ctx) == fast  # reproducible


def test_rendering_on_every_core_gives_the_same_bytes_in_the_same_order(tmp_path: Any) -> None:
    from pacte_docs.services.generation import PARALLEL_FROM, render_all

    path = tmp_path / "convention_ccas.docx"
    path.write_bytes(package_templates()["convention_ccas"])
    template = CompiledTemplate(path, make_environment())
    contexts = [copy.deepcopy(c) for c in (convention_variants() * PARALLEL_FROM)[:PARALLEL_FROM + 5]]
    for i, ctx in enumerate(contexts):
        ctx["convention"]["reference"] = f"CCAS-2024-{i:03d}"
    broken = copy.deepcopy(contexts[3])
    del broken["convention"]["objet"]
    jobs = [(template, ctx, None) for ctx in contexts] + [(template, broken, None)]
    templates = [template] * len(jobs)
    parallel = list(render_all(iter(jobs), 2, templates))
    sequential = list(render_all(iter(jobs), 1, templates))
    assert parallel[:-1] == sequential[:-1]
    assert [docx_text_of(r.data) for r in parallel[:3]] == [docx_text_of(template.render(c)) for c in contexts[:3]]
    (tmp_path / "quatre.docx").write_bytes(parallel[4].data)
    assert "Convention n° CCAS-2024-004" in docx_text(tmp_path / "quatre.docx")
    assert parallel[-1].data is None and "convention.objet" in parallel[-1].missing  # named, never rendered
    # The document on disk made from the same data is not rendered again.
    again = list(render_all(iter([(template, contexts[0], parallel[0].fingerprint)]), 2, [template]))
    assert again[0].data is None and again[0].fingerprint == parallel[0].fingerprint


def docx_text_of(data: Any) -> str:
    document = DocxDocument(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs)


@pytest.mark.parametrize("columns", [["A", "B", "C", "D", "E"], ["A"], ["A", "B"]])
def test_a_column_loop_gets_the_table_grid_docxtpl_gives(columns: list[str], tmp_path: Any) -> None:
    """A table whose columns come from a loop ({%tc for %}) has more or fewer columns than its grid: the fast path
    fixes the grid as docxtpl does (and leaves every other table as it is)."""
    document = DocxDocument()
    document.add_paragraph("Tableau des actions")
    table = document.add_table(rows=2, cols=3)
    for row_number, row in enumerate(table.rows):
        row.cells[0].text = "{%tc for c in colonnes %}"
        row.cells[1].text = "{{ c }}" if row_number == 0 else "{{ c|lower }}"
        row.cells[2].text = "{%tc endfor %}"
    document.add_table(rows=1, cols=2).rows[0].cells[0].text = "Tableau fixe"
    path = tmp_path / "colonnes.docx"
    document.save(str(path))
    template = CompiledTemplate(path, make_environment())
    ctx = {"colonnes": columns}
    fast, naive = template.render(ctx), template.render_docxtpl(ctx)
    assert canonical_parts(fast) == canonical_parts(naive)
    rendered = DocxDocument(io.BytesIO(fast)).tables[0]
    assert [cell.text for cell in rendered.rows[0].cells] == columns
    grid = etree.fromstring(zipfile.ZipFile(io.BytesIO(fast)).read("word/document.xml")).findall(
        ".//{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblGrid")
    assert [len(g) for g in grid] == [len(columns), 2]


# ---------------------------------------------------------------- typesetting without parsing

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _tree_typeset(xml: str) -> bytes:
    tree = etree.fromstring(xml.encode("utf-8"))
    typeset_tree(tree)
    return bytes(etree.tostring(tree, method="c14n"))


def _text_typeset(xml: str) -> bytes | None:
    done = typeset_xml(xml)
    return None if done is None else etree.tostring(etree.fromstring(done.encode("utf-8")), method="c14n")


@pytest.mark.parametrize("name", ["convention_ccas", "convention_france_travail", "avenant", "pdi_pti"])
def test_typesetting_the_text_gives_what_typesetting_the_tree_gives(name: str) -> None:
    fast = FastDocx(package_templates()[name], make_environment())
    for ctx in contexts(name):
        bodies = [fast._finish(fast.body.render(dict(ctx)))]
        bodies += [fast._finish(template.render(dict(ctx))) for template, _ in fast.parts.values()]
        for xml in bodies:
            assert _text_typeset(xml) == _tree_typeset(xml)
            tree = etree.fromstring(xml.encode("utf-8"), _PARSER)
            assert _grid_mismatch_text(xml) in (None, _grid_mismatch(tree))
        document = DocxDocument(io.BytesIO(fast.render(dict(ctx))))
        ordinals = [run for paragraph in document.paragraphs for run in paragraph.runs if run.text == "er"]
        assert all(run.font.superscript for run in ordinals)  # « 1er » of a date or a law, raised as in print
        assert ordinals or "1er" not in docx_text_of(fast.render(dict(ctx)))


_TEXTS = st.text(alphabet=st.sampled_from(list("1erRE a'«»:;?!-n°N°art.L.D2&<>\"\u00a0x")), max_size=40)
_PROPERTIES = st.sampled_from(["", "<w:b/>", '<w:vertAlign w:val="subscript"/>', '<w:b/><w:lang w:val="fr-FR"/>',
                               '<w:rFonts w:ascii="Arial"/><w:cs/><w:vertAlign w:val="baseline"/><w:em w:val="dot"/>'])


@example([("le 1er mars, l'art. L. 262-1", '<w:b/><w:lang w:val="fr-FR"/>', False, False),
          ("1re « fois » & <1er>", '<w:vertAlign w:val="subscript"/>', True, False), ("1er", None, False, False)])
@given(st.lists(st.tuples(_TEXTS, st.one_of(st.none(), _PROPERTIES), st.booleans(), st.booleans()), max_size=6))
def test_typesetting_any_run_as_text_gives_what_the_tree_gives(runs: list[tuple[str, str | None, bool, bool]]) -> None:
    """Texts of apostrophes, quotes, ordinals, references and escaped characters, in runs with or without
    properties, with xml:space or not, simple or with a tab: the text path gives the tree's XML or defers to it."""
    body = []
    for text, rpr, preserve, tab in runs:
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
        space = ' xml:space="preserve"' if preserve else ""
        properties = "" if rpr is None else f"<w:rPr>{rpr}</w:rPr>"
        body.append(f'<w:r w:rsidR="00A1">{properties}<w:t{space}>{escaped}</w:t>{"<w:tab/>" if tab else ""}</w:r>')
    xml = f'<w:body xmlns:w="{W_NS}"><w:p>{"".join(body)}</w:p></w:body>'
    typeset = _text_typeset(xml)
    assert typeset is None or typeset == _tree_typeset(xml)
    if not any(tab for *_, tab in runs):
        assert typeset is not None  # simple runs never need the tree
