"""Builds the default DOCX templates shipped in src/pacte_docs/modeles/.

The templates are ordinary Word documents: staff edit them in Word or LibreOffice. This script is how
the defaults are made reproducibly; after changing it, run
    .venv/bin/python outils/construire_modeles.py
and commit the DOCX files together with it. Every Jinja tag is written in a single run, so that
`pacte modeles verifier` finds no split tag in the defaults.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from pacte_docs.documents.rendering import normalise_docx  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "src" / "pacte_docs" / "modeles"
BLUE = RGBColor(0x1F, 0x3A, 0x5F)
GREY = RGBColor(0x55, 0x5B, 0x66)
ORANGE_TEXT = RGBColor(0xA8, 0x5A, 0x12)
FONT = "Liberation Sans"


# ---------------------------------------------------------------- French typography

_JINJA = re.compile(r"(\{\{.*?\}\}|\{%.*?%\})")
_NBSP_RULES = [(" :", "\u00a0:"), (" ;", "\u00a0;"), (" ?", "\u00a0?"), (" !", "\u00a0!"),
               ("« ", "«\u00a0"), (" »", "\u00a0»"), ("n° ", "n°\u00a0"), ("N° ", "N°\u00a0")]


def fr(text: str) -> str:
    """Non-breaking spaces before « : ; ? ! », inside guillemets and after n°, outside Jinja tags."""
    pieces = _JINJA.split(text)
    for i in range(0, len(pieces), 2):
        for old, new in _NBSP_RULES:
            pieces[i] = pieces[i].replace(old, new)
    return "".join(pieces)


# ---------------------------------------------------------------- document scaffolding

def new_document(title: str) -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.3)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    section.header_distance = section.footer_distance = Cm(1.0)
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10.5)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    fmt = normal.paragraph_format
    fmt.space_after = Pt(6)
    fmt.line_spacing = 1.12
    fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    for name in ("List Bullet",):
        styles[name].font.name = FONT
        styles[name].paragraph_format.space_after = Pt(3)
    article = styles["Heading 2"]
    article.font.name = FONT
    article.font.size = Pt(11.5)
    article.font.bold = True
    article.font.color.rgb = BLUE
    article.paragraph_format.space_before = Pt(14)
    article.paragraph_format.space_after = Pt(6)
    article.paragraph_format.keep_with_next = True
    chapter = styles["Heading 1"]
    chapter.font.name = FONT
    chapter.font.size = Pt(13)
    chapter.font.bold = True
    chapter.font.color.rgb = BLUE
    chapter.paragraph_format.space_before = Pt(18)
    chapter.paragraph_format.space_after = Pt(8)
    chapter.paragraph_format.keep_with_next = True
    for style in (article, chapter, styles["Title"]):
        fonts = style.element.rPr.rFonts if style.element.rPr is not None else None
        if fonts is not None:
            for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts.attrib.pop(qn(attribute), None)
    doc.core_properties.title = title
    doc.core_properties.author = "{{ departement.nom }}"
    doc.core_properties.language = "fr-FR"
    doc.core_properties.comments = ""
    _set_language(doc)
    return doc


def _set_language(doc: Document) -> None:
    """French proofing language on the default run properties."""
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "fr-FR")
    lang.set(qn("w:eastAsia"), "fr-FR")
    rpr.append(lang)


def para(doc, text: str = "", *, bold=False, italic=False, size=None, align=None, color=None,
         space_after=None, space_before=None, style=None, keep_next=False):
    p = doc.add_paragraph(style=style)
    if text:
        run = p.add_run(fr(text))
        run.bold = bold
        run.italic = italic
        if size:
            run.font.size = Pt(size)
        if color:
            run.font.color.rgb = color
    if align is not None:
        p.alignment = align
    if space_after is not None:
        p.paragraph_format.space_after = Pt(space_after)
    if space_before is not None:
        p.paragraph_format.space_before = Pt(space_before)
    if keep_next:
        p.paragraph_format.keep_with_next = True
    return p


def rich(doc, *chunks, align=None, style=None):
    """A paragraph made of (text, bold) chunks; each chunk one run, so tags never split."""
    p = doc.add_paragraph(style=style)
    for text, bold in chunks:
        run = p.add_run(fr(text))
        run.bold = bold
    if align is not None:
        p.alignment = align
    return p


def tag(doc, text: str):
    """A paragraph holding only a docxtpl paragraph tag ({%p … %}); it disappears when rendered."""
    return doc.add_paragraph(text)


def article(doc, number: int | str, title: str):
    return doc.add_paragraph(fr(f"Article {number} – {title}"), style="Heading 2")


def bullets(doc, loop: str, item: str, fallback: str | None = None, empty_test: str | None = None):
    tag(doc, "{%p for " + loop + " %}")
    doc.add_paragraph(fr(item), style="List Bullet")
    tag(doc, "{%p endfor %}")
    if fallback:
        tag(doc, "{%p if not " + empty_test + " %}")
        para(doc, fallback)
        tag(doc, "{%p endif %}")


def set_widths(table, widths_cm: list[float]) -> None:
    """Column widths in the grid (what LibreOffice reads) and in every cell (what Word reads)."""
    table.autofit = False
    for i, width in enumerate(widths_cm):
        table.columns[i].width = Cm(width)
        for cell in table.columns[i].cells:
            cell.width = Cm(width)


def _shade(cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _cell_text(cell, text: str, *, bold=False, size=9.5, align=None, color=None):
    cell.text = ""
    p = cell.paragraphs[0]
    run = p.add_run(fr(text))
    run.bold = bold
    run.font.size = Pt(size)
    if color:
        run.font.color.rgb = color
    p.paragraph_format.space_after = Pt(2)
    p.alignment = align if align is not None else WD_ALIGN_PARAGRAPH.LEFT
    return p


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def data_table(doc, headers: list[str], loop: str, cells: list[str], widths: list[float],
               aligns: list | None = None, total: list[str] | None = None, size: float = 9.5):
    """A table: shaded header row, one row per item of *loop*, an optional total row."""
    table = doc.add_table(rows=4 + (1 if total else 0), cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    aligns = aligns or [None] * len(headers)
    header, loop_start, item, loop_end = table.rows[:4]
    for i, text in enumerate(headers):
        _cell_text(header.cells[i], text, bold=True, color=RGBColor(0xFF, 0xFF, 0xFF), size=size, align=aligns[i])
        _shade(header.cells[i], "1F3A5F")
    _repeat_header(header)
    _cell_text(loop_start.cells[0], "{%tr for " + loop + " %}")
    for i, text in enumerate(cells):
        _cell_text(item.cells[i], text, align=aligns[i], size=size)
    _cell_text(loop_end.cells[0], "{%tr endfor %}")
    if total:
        for i, text in enumerate(total):
            _cell_text(table.rows[4].cells[i], text, bold=True, align=aligns[i], size=size)
            _shade(table.rows[4].cells[i], "E8EDF3")
    set_widths(table, widths)
    para(doc, "", space_after=4)
    return table


def kv_table(doc, rows: list[tuple[str, str]], widths=(6.0, 10.4)):
    """A two-column table of labels and values."""
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, (label, value) in enumerate(rows):
        _cell_text(table.rows[r].cells[0], label, bold=True)
        _shade(table.rows[r].cells[0], "E8EDF3")
        _cell_text(table.rows[r].cells[1], value, align=WD_ALIGN_PARAGRAPH.RIGHT)
    set_widths(table, list(widths))
    para(doc, "", space_after=4)
    return table


def _field(paragraph, instruction: str, placeholder: str = "1") -> None:
    def fld(kind: str):
        run = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)
        run.font.size = Pt(8.5)
        run.font.color.rgb = GREY
        return run

    fld("begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    fld("separate")
    shown = paragraph.add_run(placeholder)
    shown.font.size = Pt(8.5)
    shown.font.color.rgb = GREY
    fld("end")


def header_footer(doc, header_text: str, footer_text: str) -> None:
    section = doc.sections[0]
    section.different_first_page_header_footer = False
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = header.add_run(header_text)
    run.font.size = Pt(8.5)
    run.font.color.rgb = GREY
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = footer.add_run(footer_text + " — Page ")
    run.font.size = Pt(8.5)
    run.font.color.rgb = GREY
    _field(footer, "PAGE")
    run = footer.add_run(" sur ")
    run.font.size = Pt(8.5)
    run.font.color.rgb = GREY
    _field(footer, "NUMPAGES")


def letterhead(doc, right_lines: list[str]) -> None:
    """Département block on the left, document reference on the right."""
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = table.rows[0].cells
    _cell_text(left, "{{ departement.nom|upper }}", bold=True, size=12, color=BLUE)
    p = left.add_paragraph()
    r = p.add_run("{{ departement.direction or '' }}")
    r.font.size = Pt(9)
    r.font.color.rgb = GREY
    p = left.add_paragraph()
    r = p.add_run("{{ departement.adresse or '' }}")
    r.font.size = Pt(9)
    r.font.color.rgb = GREY
    first = True
    for line in right_lines:
        if first:
            _cell_text(right, line, bold=True, size=9.5, align=WD_ALIGN_PARAGRAPH.RIGHT, color=BLUE)
            first = False
        else:
            p = right.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            r = p.add_run(line)
            r.font.size = Pt(9)
            r.font.color.rgb = GREY
    set_widths(table, [10.4, 6.0])
    para(doc, "", space_after=18)


def title_block(doc, lines: list[tuple[str, float, bool]]) -> None:
    for text, size, bold in lines:
        para(doc, text, bold=bold, size=size, align=WD_ALIGN_PARAGRAPH.CENTER, color=BLUE, space_after=4)
    para(doc, "", space_after=10)


def parties(doc, partner_role_note: str) -> None:
    para(doc, "ENTRE LES SOUSSIGNÉS :", bold=True, space_before=6)
    rich(doc, ("{{ departement.designation[0]|upper }}{{ departement.designation[1:] }}", True),
         (", dont le siège est situé {{ departement.adresse or '…' }}, représenté par "
          "{{ departement.president.civilite }} {{ departement.president.nom }}, "
          "{{ departement.president.qualite }}, dûment habilité{{ departement.president.e }} à signer la "
          "présente convention par délibération de la "
          "{{ convention.deliberation.instance or 'Commission permanente' }}"
          "{% if convention.deliberation.numero %} n° {{ convention.deliberation.numero }}{% endif %}"
          "{% if convention.deliberation.date %} du {{ convention.deliberation.date|date_longue }}"
          "{% else %} du ……………………{% endif %},", False))
    para(doc, "ci-après dénommé « le Département »,", italic=False)
    para(doc, "d'une part,", align=WD_ALIGN_PARAGRAPH.RIGHT)
    para(doc, "ET", bold=True)
    tag(doc, "{%p for p in partenaires %}")
    rich(doc, ("{{ p.designation[0]|upper }}{{ p.designation[1:] }}", True),
         ("{% if p.adresse %}, {{ p.adresse }}{% endif %}{% if p.siret %} (SIRET {{ p.siret }}){% endif %}, "
          "{{ p.represente }} par {{ p.representant.civilite }} {{ p.representant.nom }}, "
          "{{ p.representant.qualite }}, dûment habilité{{ p.representant.e }} à cet effet,", False))
    para(doc, "ci-après dénommé{% if p.represente == 'représentée' %}e{% endif %} « {{ p.appellation }} »"
              "{% if not loop.last %} ;{% else %},{% endif %}")
    tag(doc, "{%p endfor %}")
    para(doc, "d'autre part,", align=WD_ALIGN_PARAGRAPH.RIGHT)
    para(doc, partner_role_note, italic=True, size=9.5, color=GREY)


def visas(doc, extra: list[str]) -> None:
    para(doc, "Vu le code général des collectivités territoriales ;", space_before=8)
    para(doc, "Vu le code de l'action sociale et des familles, notamment ses articles L263-1 et L263-2 ;")
    para(doc, "Vu la loi n° 2008-1249 du 1er décembre 2008 généralisant le revenu de solidarité active et "
              "réformant les politiques d'insertion ;")
    para(doc, "Vu la loi n° 2015-991 du 7 août 2015 portant nouvelle organisation territoriale de la "
              "République, qui confirme le Département comme chef de file de l'action sociale et de l'insertion ;")
    tag(doc, "{%p if not avant_france_travail %}")
    para(doc, "Vu la loi n° 2023-1196 du 18 décembre 2023 pour le plein emploi, qui substitue France Travail "
              "à Pôle emploi à compter du 1er janvier 2024 ;")
    tag(doc, "{%p endif %}")
    for line, condition in extra:
        if condition:
            tag(doc, "{%p if " + condition + " %}")
        para(doc, line)
        if condition:
            tag(doc, "{%p endif %}")
    para(doc, "Vu la délibération de la {{ convention.deliberation.instance or 'Commission permanente' }}"
              "{% if convention.deliberation.numero %} n° {{ convention.deliberation.numero }}{% endif %}"
              "{% if convention.deliberation.date %} en date du {{ convention.deliberation.date|date_longue }}"
              "{% endif %} approuvant la présente convention et autorisant "
              "{{ departement.president.civilite == 'Mme' and 'la Présidente' or 'le Président' }} "
              "à la signer ;")
    tag(doc, "{%p for p in partenaires if p.type in ('commune', 'ccas', 'cias', 'association', 'siae') %}")
    para(doc, "Vu la décision de l'organe délibérant {{ p.de_appellation }} autorisant son représentant "
              "à signer la présente convention ;")
    tag(doc, "{%p endfor %}")


def common_end_articles(doc, start: int, *, avenant_clause: bool = True) -> int:
    n = start
    article(doc, n, "Durée et renouvellement")
    para(doc, "La présente convention est conclue pour une durée de {{ convention.duree_mois|duree }} à "
              "compter du {{ convention.date_effet|date_longue }}, soit jusqu'au "
              "{{ convention.fin_periode|date_longue }} inclus.")
    tag(doc, "{%p if convention.renouvellement == 'expresse' %}")
    para(doc, "Elle peut être renouvelée de manière expresse, {{ convention.renouvellements_max|fois }} au plus, "
              "pour une durée identique, par décision des instances délibérantes des parties prise avant son "
              "terme. La décision de renouvellement doit intervenir au plus tard le "
              "{{ convention.date_limite|date_longue }}. À défaut, la convention prend fin à son terme.")
    tag(doc, "{%p for r in convention.renouvellements %}")
    para(doc, "Par décision du {{ r.date|date_longue }}{% if r.deliberation %} (délibération n° "
              "{{ r.deliberation }}){% endif %}, la convention a été renouvelée pour la période du "
              "{{ r.debut|date_longue }} au {{ r.fin|date_longue }} inclus.")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p elif convention.renouvellement == 'tacite' %}")
    para(doc, "Elle est reconduite tacitement par périodes de même durée, dans la limite de "
              "{{ convention.renouvellements_max|en_lettres }} reconduction{{ convention.renouvellements_max > 1 "
              "and 's' or '' }}, sauf dénonciation par l'une des parties au plus tard le "
              "{{ convention.date_limite|date_longue }}, soit {{ convention.preavis_mois|en_lettres }} mois "
              "avant son terme, dans les conditions de l'article relatif à la dénonciation.")
    tag(doc, "{%p else %}")
    para(doc, "Elle n'est pas renouvelable. Un nouveau partenariat fera, le cas échéant, l'objet d'une "
              "nouvelle convention.")
    tag(doc, "{%p endif %}")
    n += 1
    if avenant_clause:
        article(doc, n, "Modification de la convention")
        para(doc, "Toute modification des conditions ou des modalités d'exécution de la présente convention, "
                  "définie d'un commun accord entre les parties, fait l'objet d'un avenant approuvé par les "
                  "instances délibérantes de chacune d'elles. Cet avenant précise les éléments modifiés, sans "
                  "que ceux-ci puissent conduire à remettre en cause l'objet défini à l'article 1er.")
        n += 1
    article(doc, n, "Dénonciation et résiliation")
    para(doc, "Chacune des parties peut dénoncer la présente convention à son terme, par lettre recommandée "
              "avec accusé de réception adressée aux autres parties en respectant un préavis de "
              "{{ convention.preavis_mois|en_lettres }} mois.")
    para(doc, "En cas de non-respect par l'une des parties des engagements réciproques inscrits dans la "
              "présente convention, celle-ci peut être résiliée de plein droit par l'une ou l'autre des "
              "parties à l'expiration d'un délai d'un mois suivant l'envoi d'une lettre recommandée avec accusé "
              "de réception valant mise en demeure restée sans effet.")
    n += 1
    article(doc, n, "Protection des données personnelles")
    para(doc, "Les parties s'engagent à respecter le règlement (UE) 2016/679 du 27 avril 2016 (RGPD) et la loi "
              "n° 78-17 du 6 janvier 1978 relative à l'informatique, aux fichiers et aux libertés. Les données "
              "personnelles des personnes accompagnées ne sont échangées qu'entre professionnels tenus au secret, "
              "dans la stricte mesure nécessaire à leur accompagnement. Les bilans prévus par la présente "
              "convention ne comportent que des données agrégées et anonymes.")
    n += 1
    article(doc, n, "Règlement des litiges")
    para(doc, "En cas de difficulté dans l'interprétation ou l'exécution de la présente convention, les parties "
              "s'engagent à rechercher un règlement amiable avant toute action contentieuse. À défaut d'accord "
              "dans un délai de deux mois, le litige est porté devant le tribunal administratif territorialement "
              "compétent.")
    return n + 1


def signatures(doc, departement_label: str = "Pour le Département,") -> None:
    para(doc, "", space_after=6)
    para(doc, "Fait à {{ departement.ville or '……………………' }}, le "
              "{% if convention.date_signature %}{{ convention.date_signature|date_longue }}"
              "{% else %}……………………{% endif %}, en {{ convention.exemplaires|en_lettres }} exemplaires "
              "originaux.", keep_next=True)
    table = doc.add_table(rows=3, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    dep, first = table.rows[0].cells
    _sig_cell(dep, departement_label,
              "{{ departement.president.qualite or 'Le Président du Conseil départemental' }},",
              "{{ departement.president.civilite }} {{ departement.president.nom }}")
    _sig_cell(first, "Pour {{ partenaire.designation }},",
              "{{ partenaire.representant.qualite }},",
              "{{ partenaire.representant.civilite }} {{ partenaire.representant.nom }}")
    _cell_text(table.rows[1].cells[0], "{%tr for p in partenaires[1:] %}")
    _sig_cell(table.rows[2].cells[1], "Pour {{ p.designation }},", "{{ p.representant.qualite }},",
              "{{ p.representant.civilite }} {{ p.representant.nom }}")
    _cell_text(table.rows[2].cells[0], "")
    end = table.add_row()
    _cell_text(end.cells[0], "{%tr endfor %}")
    set_widths(table, [8.2, 8.2])
    for row in table.rows:
        _cant_split(row)


def _cant_split(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))


def _sig_cell(cell, who: str, quality: str, name: str) -> None:
    _cell_text(cell, who, bold=True, size=10, align=WD_ALIGN_PARAGRAPH.CENTER)
    p = cell.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run(fr(quality)).font.size = Pt(10)
    for _ in range(3):
        cell.add_paragraph().paragraph_format.space_after = Pt(6)
    p = cell.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run(name).font.size = Pt(10)
    p.paragraph_format.space_after = Pt(14)


def page_break(doc) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


# ---------------------------------------------------------------- the templates

def convention_ccas() -> Document:
    doc = new_document("Convention de partenariat {{ convention.reference }}")
    header_footer(doc, "{{ departement.nom }} — Convention {{ convention.reference }}",
                  "Convention n° {{ convention.reference }}")
    letterhead(doc, ["Convention n° {{ convention.reference }}",
                     "{% if convention.territoire %}Territoire : {{ convention.territoire }}{% endif %}"])
    title_block(doc, [
        ("CONVENTION DE PARTENARIAT", 17, True),
        ("pour l'accompagnement social et l'insertion des publics fragiles", 12, False),
        ("entre {{ departement.designation }} et {{ partenaire.designation }}"
         "{% for p in partenaires[1:] %}{{ loop.last and ' et ' or ', ' }}{{ p.designation }}{% endfor %}",
         12, True),
    ])
    parties(doc, "Ensemble dénommés « les parties ».")
    visas(doc, [])
    para(doc, "PRÉAMBULE", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_before=12, color=BLUE,
         keep_next=True)
    para(doc, "Chef de file de l'action sociale et de l'insertion, le Département conduit, avec ses services "
              "des solidarités territoriales, l'accompagnement des personnes en difficulté et met en œuvre son "
              "programme départemental d'insertion. Les communes et leurs centres communaux d'action sociale "
              "(CCAS), acteurs de proximité, accueillent chaque jour ces mêmes publics.")
    para(doc, "En structurant la relation de travail entre leurs équipes, les parties entendent assurer "
              "l'articulation et la complémentarité de leurs dispositifs : simplifier les démarches des usagers, "
              "mieux évaluer les situations, enrichir et fluidifier les parcours, développer la prévention et "
              "faciliter l'accès aux droits et aux services, en limitant les ruptures de parcours.")
    para(doc, "Il est convenu ce qui suit :", bold=True, space_before=6)
    article(doc, 1, "Objet")
    para(doc, "{{ convention.objet }}")
    tag(doc, "{%p if convention.territoire %}")
    para(doc, "La convention s'applique sur le territoire suivant : {{ convention.territoire }}.")
    tag(doc, "{%p endif %}")
    article(doc, 2, "Engagements du Département")
    para(doc, "Le Département s'engage à :", keep_next=True)
    bullets(doc, "e in convention.engagements_departement", "{{ e }}",
            "mobiliser ses services des solidarités territoriales et ses travailleurs sociaux au service des "
            "objectifs de la présente convention.", "convention.engagements_departement")
    article(doc, 3, "Engagements {{ partenaire.de_appellation }}")
    para(doc, "{{ partenaire.appellation[0]|upper }}{{ partenaire.appellation[1:] }} s'engage à :", keep_next=True)
    bullets(doc, "e in convention.engagements_partenaire", "{{ e }}",
            "mieux orienter les usagers vers les dispositifs adaptés et prévenir les ruptures de parcours.",
            "convention.engagements_partenaire")
    article(doc, 4, "Actions conjointes")
    tag(doc, "{%p if convention.actions %}")
    para(doc, "Les parties conduisent ensemble les actions suivantes, dont le suivi repose sur les indicateurs "
              "indiqués :", keep_next=True)
    data_table(doc, ["Action", "Public visé", "Indicateur", "Cible"], "a in convention.actions",
               ["{{ a.intitule }}", "{{ a.public or '' }}", "{{ a.indicateur or '' }}", "{{ a.cible or '' }}"],
               [6.0, 3.9, 4.2, 2.3])
    tag(doc, "{%p else %}")
    para(doc, "Les actions conjointes sont définies chaque année par le comité de suivi prévu à l'article 6.")
    tag(doc, "{%p endif %}")
    article(doc, 5, "Dispositions financières")
    tag(doc, "{%p if convention.montant %}")
    para(doc, "Le Département attribue {{ partenaire.a_designation }} une participation financière de "
              "{{ convention.montant|montant }} pour la durée de la convention, "
              "versée selon l'échéancier arrêté par le comité de suivi, sur présentation du bilan annuel.")
    tag(doc, "{%p if convention.taux_fse %}")
    para(doc, "Cette participation est cofinancée par le Fonds social européen plus (FSE+) à hauteur de "
              "{{ convention.taux_fse|pourcentage }}, soit {{ convention.montant_fse|montant }}.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p else %}")
    para(doc, "La présente convention n'emporte aucun engagement financier entre les parties. Chacune "
              "d'elles assume la charge des moyens qu'elle mobilise.")
    tag(doc, "{%p endif %}")
    article(doc, 6, "Comité de suivi et bilan annuel")
    para(doc, "Un comité de suivi réunit au moins une fois par an les représentants des parties"
              "{% if convention.responsable.nom %}, à l'initiative de {{ convention.responsable.nom }} pour le "
              "Département{% endif %}. Il dresse le bilan des actions conduites, examine les difficultés "
              "rencontrées et arrête les actions conjointes de l'année suivante. Le bilan annuel, établi "
              "à partir de données agrégées, est transmis aux instances des parties.")
    article(doc, 7, "Évaluation")
    para(doc, "Six mois avant le terme de la convention, les parties procèdent à son évaluation au regard des "
              "indicateurs prévus. Cette évaluation éclaire la décision de renouvellement.")
    common_end_articles(doc, 8)
    signatures(doc)
    return doc


def convention_france_travail() -> Document:
    doc = new_document("Convention d'accompagnement global {{ convention.reference }}")
    header_footer(doc, "{{ departement.nom }} — {{ operateur }} — Convention {{ convention.reference }}",
                  "Convention n° {{ convention.reference }}")
    letterhead(doc, ["Convention n° {{ convention.reference }}",
                     "{% if convention.territoire %}Territoire : {{ convention.territoire }}{% endif %}"])
    title_block(doc, [
        ("CONVENTION DE PARTENARIAT", 17, True),
        ("relative à l'accompagnement global des demandeurs d'emploi", 12, False),
        ("entre {{ departement.designation }} et {{ operateur }}", 12, True),
    ])
    parties(doc, "Ensemble dénommés « les parties ».")
    visas(doc, [
        ("Vu le protocole national du 1er avril 2014 entre l'Assemblée des départements de France, Pôle emploi "
        "et la délégation générale à l'emploi et à la formation professionnelle relatif à l'approche globale "
        "de l'accompagnement ;", None),
        ("Vu le programme départemental d'insertion et le pacte territorial pour l'insertion en vigueur ;", None),
        ("Vu le règlement (UE) 2021/1057 du 24 juin 2021 instituant le Fonds social européen plus (FSE+) ;",
         "convention.taux_fse"),
    ])
    para(doc, "PRÉAMBULE", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_before=12, color=BLUE,
         keep_next=True)
    para(doc, "Le travail, au-delà d'une source de revenus, est un vecteur essentiel de cohésion sociale et le "
              "premier outil de lutte contre la précarité. Le Département, chef de file des solidarités, et "
              "{{ operateur }} unissent leurs compétences pour offrir aux demandeurs d'emploi les plus éloignés "
              "de l'emploi, en priorité aux bénéficiaires du revenu de solidarité active (RSA), un "
              "accompagnement global associant l'accompagnement professionnel et l'accompagnement social.")
    para(doc, "Cette démarche repose sur un binôme formé d'un conseiller emploi de {{ operateur }} et d'un "
              "travailleur social du Département, qui agissent de façon coordonnée pour lever les freins "
              "périphériques à l'emploi, préalables à la définition d'un projet professionnel.")
    para(doc, "Il est convenu ce qui suit :", bold=True, space_before=6)
    article(doc, 1, "Objet")
    para(doc, "{{ convention.objet }}")
    article(doc, 2, "Public visé")
    para(doc, "L'accompagnement global s'adresse aux demandeurs d'emploi rencontrant des difficultés sociales "
              "qui font obstacle à leur retour à l'emploi, en priorité aux bénéficiaires du RSA et aux "
              "demandeurs d'emploi de longue durée{% if convention.territoire %}, résidant sur le territoire "
              "suivant : {{ convention.territoire }}{% endif %}.")
    article(doc, 3, "Modalités de l'accompagnement")
    para(doc, "Chaque personne accompagnée bénéficie, pendant "
              "{{ (convention.objectifs.duree_accompagnement_mois or 12)|duree }}, du suivi conjoint d'un "
              "conseiller emploi et d'un travailleur social. Le binôme agit notamment sur les freins suivants :",
         keep_next=True)
    for frein in ("santé et situation de handicap ;", "accès au logement ;",
                  "exercice de la parentalité et solutions de garde d'enfants ;", "mobilité ;",
                  "maîtrise du français et compétences numériques."):
        doc.add_paragraph(fr(frein), style="List Bullet")
    article(doc, 4, "Moyens humains et objectifs")
    para(doc, "Les parties mobilisent les moyens et poursuivent les objectifs annuels suivants :", keep_next=True)
    kv_table(doc, [
        ("Conseillers emploi ({{ operateur }})", "{{ convention.objectifs.conseillers|nombre }}"),
        ("Travailleurs sociaux (Département)", "{{ convention.objectifs.travailleurs_sociaux|nombre }}"),
        ("Entrées dans le dispositif par an", "{{ convention.objectifs.entrees|nombre }}"),
        ("dont bénéficiaires du RSA", "{{ convention.objectifs.dont_brsa|nombre }}"),
        ("Durée de l'accompagnement", "{{ (convention.objectifs.duree_accompagnement_mois or 12)|duree }}"),
    ])
    article(doc, 5, "Engagements du Département")
    para(doc, "Le Département s'engage à :", keep_next=True)
    bullets(doc, "e in convention.engagements_departement", "{{ e }}",
            "affecter au dispositif les travailleurs sociaux prévus à l'article 4 et assurer leur encadrement.",
            "convention.engagements_departement")
    article(doc, 6, "Engagements de {{ operateur }}")
    para(doc, "{{ operateur }} s'engage à :", keep_next=True)
    bullets(doc, "e in convention.engagements_partenaire", "{{ e }}",
            "affecter au dispositif les conseillers emploi prévus à l'article 4 et mobiliser son offre de "
            "services.", "convention.engagements_partenaire")
    article(doc, 7, "Financement")
    tag(doc, "{%p if convention.montant %}")
    para(doc, "Le budget du dispositif s'élève à {{ convention.montant|montant }} pour la durée de la "
              "convention, réparti comme suit :", keep_next=True)
    kv_table(doc, [
        ("Budget total", "{{ convention.montant|montant }}"),
        ("Taux de cofinancement FSE+", "{{ convention.taux_fse|pourcentage if convention.taux_fse else '—' }}"),
        ("Part FSE+", "{{ convention.montant_fse|montant if convention.montant_fse else '—' }}"),
        ("Part restant à la charge du Département", "{{ convention.montant_departement|montant }}"),
    ])
    tag(doc, "{%p if convention.taux_fse %}")
    para(doc, "Le cofinancement du Fonds social européen plus (FSE+) est sollicité dans le cadre de l'appel à "
              "projets correspondant. Les parties s'engagent à respecter les obligations de suivi, de "
              "publicité et de conservation des pièces qui s'y rattachent.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p else %}")
    para(doc, "Chacune des parties prend en charge les moyens humains qu'elle affecte au dispositif.")
    tag(doc, "{%p endif %}")
    article(doc, 8, "Gouvernance")
    para(doc, "Un comité de pilotage, coprésidé par le Département et {{ operateur }}, se réunit au moins une "
              "fois par an : il valide les orientations, examine le bilan et décide des ajustements. Un comité "
              "technique réunit trimestriellement les encadrants des binômes pour suivre l'activité"
              "{% if convention.responsable.nom %} ; il est animé pour le Département par "
              "{{ convention.responsable.nom }}{% endif %}.")
    article(doc, 9, "Indicateurs de suivi")
    tag(doc, "{%p if convention.actions %}")
    data_table(doc, ["Action", "Public visé", "Indicateur", "Cible"], "a in convention.actions",
               ["{{ a.intitule }}", "{{ a.public or '' }}", "{{ a.indicateur or '' }}", "{{ a.cible or '' }}"],
               [6.0, 3.9, 4.2, 2.3])
    tag(doc, "{%p else %}")
    para(doc, "Le suivi repose sur le nombre d'entrées, la part des bénéficiaires du RSA, la durée moyenne "
              "d'accompagnement et les sorties positives (emploi, formation, création d'entreprise).")
    tag(doc, "{%p endif %}")
    common_end_articles(doc, 10)
    signatures(doc)
    return doc


def avenant() -> Document:
    doc = new_document("Avenant n° {{ avenant.numero }} à la convention {{ convention.reference }}")
    header_footer(doc, "{{ departement.nom }} — Avenant n° {{ avenant.numero }} à la convention "
                       "{{ convention.reference }}",
                  "Avenant n° {{ avenant.numero }} — convention n° {{ convention.reference }}")
    letterhead(doc, ["Convention n° {{ convention.reference }}", "Avenant n° {{ avenant.numero }}"])
    title_block(doc, [
        ("AVENANT N° {{ avenant.numero }}", 17, True),
        ("à la convention n° {{ convention.reference }}", 12, False),
        ("entre {{ departement.designation }} et {{ partenaire.designation }}"
         "{% for p in partenaires[1:] %}{{ loop.last and ' et ' or ', ' }}{{ p.designation }}{% endfor %}",
         12, True),
    ])
    parties(doc, "Ensemble dénommés « les parties ».")
    para(doc, "Vu la convention n° {{ convention.reference }} "
              "{% if convention.date_signature %}signée le {{ convention.date_signature|date_longue }}"
              "{% else %}prenant effet le {{ convention.date_effet|date_longue }}{% endif %}, "
              "ayant pour objet : {{ convention.objet }}", space_before=8)
    para(doc, "Vu la délibération approuvant le présent avenant ;")
    para(doc, "Il est convenu ce qui suit :", bold=True, space_before=6)
    article(doc, 1, "Objet de l'avenant")
    para(doc, "{{ avenant.objet }}")
    article(doc, 2, "Durée")
    tag(doc, "{%p if avenant.nouvelle_fin %}")
    para(doc, "Le terme de la convention est porté au {{ avenant.nouvelle_fin|date_longue }} inclus.")
    tag(doc, "{%p else %}")
    para(doc, "Le présent avenant ne modifie pas la durée de la convention, qui prend fin le "
              "{{ convention.fin_periode|date_longue }}.")
    tag(doc, "{%p endif %}")
    article(doc, 3, "Autres stipulations")
    para(doc, "Toutes les autres stipulations de la convention demeurent inchangées et continuent de produire "
              "leurs effets.")
    article(doc, 4, "Prise d'effet")
    para(doc, "Le présent avenant prend effet à compter du "
              "{{ (avenant.date or convention.date_effet)|date_longue }}.", keep_next=True)
    para(doc, "Fait à {{ departement.ville or '……………………' }}, le "
              "{% if avenant.date %}{{ avenant.date|date_longue }}{% else %}……………………{% endif %}, en "
              "{{ convention.exemplaires|en_lettres }} exemplaires originaux.", keep_next=True, space_before=14)
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _sig_cell(table.rows[0].cells[0], "Pour le Département,",
              "{{ departement.president.qualite or 'Le Président du Conseil départemental' }},",
              "{{ departement.president.civilite }} {{ departement.president.nom }}")
    _sig_cell(table.rows[0].cells[1], "Pour {{ partenaire.designation }},", "{{ partenaire.representant.qualite }},",
              "{{ partenaire.representant.civilite }} {{ partenaire.representant.nom }}")
    set_widths(table, [8.2, 8.2])
    _cant_split(table.rows[0])
    return doc


# ---------------------------------------------------------------- PDI/PTI

TEXT_WIDTH = 16.4  # cm, A4 less the margins


def _cell_lines(cell, loop: str, item: str, test: str, *, size=9.5) -> None:
    """A cell with one paragraph per item of a list, or a dash when the list is empty (a cell keeps a paragraph)."""
    _cell_text(cell, "{%p if " + test + " %}", size=size)
    for text in ("{%p for " + loop + " %}", item, "{%p endfor %}", "{%p else %}", "—", "{%p endif %}"):
        p = cell.add_paragraph()
        run = p.add_run(fr(text))
        run.font.size = Pt(size)
        p.paragraph_format.space_after = Pt(2)
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT


def fiche_table(doc) -> None:
    """Every fiche-action laid out the same way: a two-column table of its fields."""
    rows = [
        ("Contexte", "{{ f.contexte or '—' }}", None),
        ("Objectifs", "{{ o }}", ("o in f.objectifs", "f.objectifs")),
        ("Public cible", "{{ f.public or '—' }}", None),
        ("Pilote", "{{ f.pilote or '—' }}", None),
        ("Partenaires", "{{ f.partenaires|join(', ') if f.partenaires else '—' }}", None),
        ("Modalités de mise en œuvre", "{{ f.modalites or '—' }}", None),
        ("Calendrier", "{{ f.calendrier or '—' }}", None),
        ("Indicateurs d'évaluation", "{{ i }}", ("i in f.indicateurs", "f.indicateurs")),
        ("Budget prévisionnel", "{{ f.budget|montant if f.budget is not none else 'Non chiffré' }}", None),
        ("Financeurs", "{{ f.financeurs|join(', ') if f.financeurs else '—' }}", None),
    ]
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, (label, value, loop) in enumerate(rows):
        _cell_text(table.rows[r].cells[0], label, bold=True)
        _shade(table.rows[r].cells[0], "E8EDF3")
        if loop:
            _cell_lines(table.rows[r].cells[1], loop[0], "– " + value, loop[1])
        else:
            _cell_text(table.rows[r].cells[1], value)
        _cant_split(table.rows[r])
    for row in table.rows[:-1]:  # the fiche's table stays on one page with its heading (keep with next)
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True
    set_widths(table, [4.4, 12.0])
    para(doc, "", space_after=6)


def toc_entry(doc, text: str, *, level: int) -> None:
    p = doc.add_paragraph()
    run = p.add_run(text)
    run.bold = level == 1
    run.font.size = Pt(10.5 if level == 1 else 9.5)
    fmt = p.paragraph_format
    fmt.tab_stops.add_tab_stop(Cm(TEXT_WIDTH), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
    fmt.left_indent = Cm(0 if level == 1 else 0.8)
    fmt.right_indent = Cm(1.0)  # a long title wraps before the page numbers' column
    fmt.space_before = Pt(6 if level == 1 else 0)
    fmt.space_after = Pt(2)
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT


def heading(doc, text: str, level: int, *, new_page: bool = False):
    p = doc.add_paragraph(text, style=f"Heading {level}")
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    if new_page:
        p.paragraph_format.page_break_before = True
    return p


def pdi_pti() -> Document:
    doc = new_document("{{ pacte.titre }} — PDI/PTI {{ pacte.periode.debut }}-{{ pacte.periode.fin }}")
    header_footer(doc, "{{ departement.nom }} — PDI/PTI {{ pacte.periode.debut }}-{{ pacte.periode.fin }}",
                  "{{ pacte.titre }}")
    doc.sections[0].different_first_page_header_footer = True  # no header nor footer on the cover
    doc.core_properties.subject = ("Programme départemental d'insertion et pacte territorial pour l'insertion "
                                   "{{ pacte.periode.debut }}-{{ pacte.periode.fin }}")
    doc.core_properties.keywords = "PDI, PTI, insertion, RSA, {{ pacte.reference }}"

    # Cover
    para(doc, "{{ departement.nom|upper }}", bold=True, size=15, color=BLUE, align=WD_ALIGN_PARAGRAPH.CENTER,
         space_before=20, space_after=2)
    para(doc, "{{ departement.direction or '' }}", size=10, color=GREY, align=WD_ALIGN_PARAGRAPH.CENTER,
         space_after=90)
    para(doc, "PROGRAMME DÉPARTEMENTAL D'INSERTION", bold=True, size=13, color=GREY,
         align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(doc, "ET PACTE TERRITORIAL POUR L'INSERTION", bold=True, size=13, color=GREY,
         align=WD_ALIGN_PARAGRAPH.CENTER, space_after=30)
    para(doc, "{{ pacte.titre }}", bold=True, size=24, color=BLUE, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=14)
    para(doc, "{{ pacte.periode.debut }}-{{ pacte.periode.fin }}", bold=True, size=18, color=BLUE,
         align=WD_ALIGN_PARAGRAPH.CENTER, space_after=60)
    tag(doc, "{%p if pacte.adoption.date %}")
    para(doc, "Adopté par {{ pacte.adoption.par }} le "
              "{{ pacte.adoption.date|date_longue }}", italic=True, size=11, align=WD_ALIGN_PARAGRAPH.CENTER,
         space_after=24)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if cosignataires %}")
    para(doc, "Cosigné par", size=10, color=GREY, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=2)
    tag(doc, "{%p for c in cosignataires %}")
    para(doc, "{{ c.nom }}", size=11, bold=True, color=BLUE, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=2)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    para(doc, "Référence {{ pacte.reference }}", size=8.5, color=GREY, align=WD_ALIGN_PARAGRAPH.CENTER,
         space_before=40)
    page_break(doc)

    # Table of contents: page numbers are written by `pacte pdi-pti generer` once the document is laid out.
    para(doc, "Sommaire", bold=True, size=16, color=BLUE, space_after=12)
    tag(doc, "{%p for t in sommaire %}")
    tag(doc, "{%p if t.niveau == 1 %}")
    toc_entry(doc, "{{ t.titre }}\t{{ t.page }}", level=1)
    tag(doc, "{%p else %}")
    toc_entry(doc, "{{ t.titre }}\t{{ t.page }}", level=2)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")

    # Préambule and legal basis
    heading(doc, "{{ chapitres.preambule }}", 1, new_page=True)
    para(doc, "Chef de file de l'action sociale et de l'insertion, {{ departement.designation }} définit sa "
              "politique d'insertion dans un programme départemental d'insertion (PDI) et en organise la mise en "
              "œuvre avec ses partenaires dans un pacte territorial pour l'insertion (PTI). Le présent document "
              "réunit ces deux documents en un seul : il fixe les orientations de la période "
              "{{ pacte.periode.debut }}-{{ pacte.periode.fin }} et engage chacun de ses signataires.")
    tag(doc, "{%p if pacte.adoption.date %}")
    para(doc, "Il a été adopté par {{ pacte.adoption.par }} le "
              "{{ pacte.adoption.date|date_longue }}"
              "{% if cosignataires %} et cosigné par {% for c in cosignataires %}{{ c.designation }}"
              "{% if not loop.last %}{{ loop.revindex == 2 and ' et ' or ', ' }}{% endif %}{% endfor %}"
              "{% endif %}.")
    tag(doc, "{%p endif %}")
    para(doc, "Cadre juridique", bold=True, color=BLUE, space_before=8, keep_next=True)
    for line in (
        "la loi n° 2008-1249 du 1er décembre 2008 généralisant le revenu de solidarité active et réformant les "
        "politiques d'insertion, qui fait du Département le pilote de la politique d'insertion ;",
        "le code de l'action sociale et des familles, notamment son article L263-1, selon lequel le Conseil "
        "départemental délibère avant le 31 mars de chaque année sur l'adoption ou l'adaptation du programme "
        "départemental d'insertion, qui définit la politique départementale d'accompagnement social et "
        "professionnel, recense les besoins d'insertion et l'offre locale et planifie les actions ;",
        "le même code, en son article L263-2, selon lequel le Département conclut avec les parties intéressées "
        "un pacte territorial pour l'insertion, qui définit les modalités de coordination des actions entreprises "
        "pour favoriser l'insertion sociale et professionnelle des bénéficiaires du revenu de solidarité active ;",
        "la loi n° 2015-991 du 7 août 2015 portant nouvelle organisation territoriale de la République "
        "(loi NOTRe), qui confirme le Département comme chef de file de l'action sociale et de l'insertion.",
    ):
        doc.add_paragraph(fr(line[0].upper() + line[1:]), style="List Bullet")

    # Context and diagnosis
    heading(doc, "{{ chapitres.contexte }}", 1)
    tag(doc, "{%p for t in pacte.contexte %}")
    para(doc, "{{ t }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if pacte.diagnostic %}")
    para(doc, "Chiffres clés du diagnostic", bold=True, color=BLUE, space_before=8, keep_next=True)
    bullets(doc, "d in pacte.diagnostic", "{{ d }}")
    tag(doc, "{%p endif %}")

    # Method
    heading(doc, "{{ chapitres.methode }}", 1)
    tag(doc, "{%p for t in pacte.methode %}")
    para(doc, "{{ t }}")
    tag(doc, "{%p endfor %}")
    para(doc, "Le pacte s'organise en {{ axes|length|en_lettres }} axes, déclinés en "
              "{{ budget.nombre_fiches }} fiches-actions :", keep_next=True)
    tag(doc, "{%p for a in axes %}")
    doc.add_paragraph("{{ a.titre }} ({{ a.nombre_fiches }} fiche{{ a.nombre_fiches > 1 and 's' or '' }}, "
                      "{{ a.nature_libelle|lower }}){% if loop.last %}.{% else %}\u00a0;{% endif %}",
                      style="List Bullet")
    tag(doc, "{%p endfor %}")

    # One chapter per axis, each fiche-action laid out the same way
    tag(doc, "{%p for a in axes %}")
    heading(doc, "{{ a.titre }}", 1, new_page=True)
    para(doc, "{{ a.nature_libelle }} — {{ a.nombre_fiches }} fiche{{ a.nombre_fiches > 1 and 's' or '' }}-"
              "action{{ a.nombre_fiches > 1 and 's' or '' }} — budget prévisionnel {{ a.budget|montant }}",
         italic=True, color=GREY, size=9.5)
    tag(doc, "{%p if a.objectifs %}")
    para(doc, "Objectifs de l'axe", bold=True, color=BLUE, keep_next=True)
    bullets(doc, "o in a.objectifs", "{{ o }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p for f in a.fiches %}")
    heading(doc, "{{ f.titre }}", 2)
    fiche_table(doc)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endfor %}")

    # Governance
    heading(doc, "{{ chapitres.gouvernance }}", 1, new_page=True)
    para(doc, "La mise en œuvre du pacte fait l'objet d'un suivi annuel :", keep_next=True)
    bullets(doc, "g in pacte.gouvernance", "{{ g }}",
            "un comité de pilotage réunissant les signataires examine chaque année le bilan des actions.",
            "pacte.gouvernance")
    para(doc, "Le bilan annuel rend compte, pour chaque axe et chaque fiche-action, des actions financées, des "
              "crédits engagés et consommés, des personnes accompagnées et des sorties positives. Il ne comporte "
              "que des données agrégées.")

    # Commitments of the co-signatories
    heading(doc, "{{ chapitres.engagements }}", 1)
    para(doc, "Chef de file, le Département s'engage à piloter le pacte, à financer les actions qui relèvent de sa "
              "compétence et à réunir ses partenaires. Chaque cosignataire s'engage, dans le champ de ses "
              "compétences, à contribuer aux fiches-actions dont il est partenaire.")
    tag(doc, "{%p for c in cosignataires %}")
    para(doc, "{{ c.designation[0]|upper }}{{ c.designation[1:] }} s'engage à :", bold=True, color=BLUE,
         keep_next=True, space_before=6)
    bullets(doc, "e in c.engagements", "{{ e }}",
            "contribuer, dans le champ de ses compétences, à la mise en œuvre des fiches-actions du pacte.",
            "c.engagements")
    tag(doc, "{%p endfor %}")

    # Budget
    heading(doc, "{{ chapitres.budget }}", 1, new_page=True)
    para(doc, "Le budget prévisionnel du pacte s'élève à {{ budget.total|montant }} pour la période "
              "{{ pacte.periode.debut }}-{{ pacte.periode.fin }}. L'insertion professionnelle en représente "
              "{{ budget.professionnelle|montant }} ({{ budget.part_professionnelle|pourcentage }}) et "
              "l'insertion sociale {{ budget.sociale|montant }} ({{ budget.part_sociale|pourcentage }}).")
    para(doc, "Répartition par axe", bold=True, color=BLUE, keep_next=True)
    right = WD_ALIGN_PARAGRAPH.RIGHT
    data_table(doc, ["Axe", "Nature", "Fiches", "Budget", "Part"], "a in axes",
               ["{{ a.titre }}", "{{ a.nature_libelle }}", "{{ a.nombre_fiches }}", "{{ a.budget|montant }}",
                "{{ a.part|pourcentage }}"], [6.3, 3.1, 1.6, 3.3, 2.1], [None, None, right, right, right],
               total=["Total", "", "{{ budget.nombre_fiches }}", "{{ budget.total|montant }}", "100 %"])
    para(doc, "Insertion professionnelle et insertion sociale", bold=True, color=BLUE, keep_next=True)
    table = doc.add_table(rows=3, cols=3)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, (label, amount, share) in enumerate([
        ("Insertion professionnelle", "{{ budget.professionnelle|montant }}",
         "{{ budget.part_professionnelle|pourcentage }}"),
        ("Insertion sociale", "{{ budget.sociale|montant }}", "{{ budget.part_sociale|pourcentage }}"),
        ("Total", "{{ budget.total|montant }}", "100 %"),
    ]):
        last = r == 2
        _cell_text(table.rows[r].cells[0], label, bold=True)
        _cell_text(table.rows[r].cells[1], amount, bold=last, align=right)
        _cell_text(table.rows[r].cells[2], share, bold=last, align=right)
        _shade(table.rows[r].cells[0], "E8EDF3")
        if last:
            _shade(table.rows[r].cells[1], "E8EDF3")
            _shade(table.rows[r].cells[2], "E8EDF3")
    set_widths(table, [8.2, 4.6, 3.6])
    para(doc, "", space_after=4)
    tag(doc, "{%p for a in axes %}")
    para(doc, "{{ a.titre }}", bold=True, color=BLUE, keep_next=True, space_before=6,
         align=WD_ALIGN_PARAGRAPH.LEFT)
    data_table(doc, ["Fiche", "Intitulé", "Pilote", "Budget"], "f in a.fiches",
               ["{{ f.numero }}", "{{ f.intitule }}", "{{ f.pilote or '—' }}",
                "{{ f.budget|montant if f.budget is not none else 'Non chiffré' }}"],
               [1.4, 7.6, 4.2, 3.2], [None, None, None, right],
               total=["", "Total de l'axe {{ a.numero }}", "", "{{ a.budget|montant }}"])
    tag(doc, "{%p endfor %}")

    # Signatures
    heading(doc, "{{ chapitres.signatures }}", 1, new_page=True)
    para(doc, "Fait à {{ departement.ville or '……………………' }}, le "
              "{% if pacte.adoption.date %}{{ pacte.adoption.date|date_longue }}{% else %}……………………{% endif %}, "
              "en {{ pacte.exemplaires|en_lettres }} exemplaires originaux.", space_after=12)
    table = doc.add_table(rows=3, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _cell_text(table.rows[0].cells[0], "{%tr for s in signataires %}")
    _sig_cell(table.rows[1].cells[0], "{{ s.gauche.pour }}", "{{ s.gauche.qualite }},", "{{ s.gauche.nom }}")
    _sig_cell(table.rows[1].cells[1], "{% if s.droite %}{{ s.droite.pour }}{% endif %}",
              "{% if s.droite %}{{ s.droite.qualite }},{% endif %}", "{% if s.droite %}{{ s.droite.nom }}{% endif %}")
    _cell_text(table.rows[2].cells[0], "{%tr endfor %}")
    set_widths(table, [8.2, 8.2])
    for row in table.rows:
        _cant_split(row)
    return doc


# ---------------------------------------------------------------- annual bilan

FIGURE_ROWS = [
    ("Actions financées", "actions_financees", "nombre"),
    ("Crédits engagés", "credits_engages", "montant"),
    ("Crédits consommés", "credits_consommes", "montant"),
    ("Personnes accompagnées", "personnes_accompagnees", "effectif"),
    ("Entrées", "entrees", "effectif"),
    ("dont bénéficiaires du RSA", "dont_brsa", "effectif"),
    ("Sorties positives (emploi, formation, création)", "sorties_positives", "effectif"),
    ("Taux de sorties positives", "taux_sorties_positives", "pourcentage"),
    ("Part des bénéficiaires du RSA dans les entrées", "part_brsa", "pourcentage"),
    ("Taux de consommation des crédits", "taux_consommation", "pourcentage"),
]


def key_figures_table(doc) -> None:
    """Indicator | last year | this year | evolution: a fixed list of rows."""
    right = WD_ALIGN_PARAGRAPH.RIGHT
    table = doc.add_table(rows=1 + len(FIGURE_ROWS), cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, text in enumerate(["Indicateur", "{{ annee_precedente }}", "{{ annee }}", "Évolution"]):
        _cell_text(table.rows[0].cells[i], text, bold=True, color=RGBColor(0xFF, 0xFF, 0xFF),
                   align=None if i == 0 else right)
        _shade(table.rows[0].cells[i], "1F3A5F")
    for r, (label, name, fmt) in enumerate(FIGURE_ROWS, start=1):
        cells = table.rows[r].cells
        _cell_text(cells[0], label, bold=True)
        _shade(cells[0], "E8EDF3")
        _cell_text(cells[1], "{{ precedent." + name + "|" + fmt + " if precedent else '—' }}", align=right)
        _cell_text(cells[2], "{{ total." + name + "|" + fmt + " }}", align=right, bold=True)
        change = "points" if fmt == "pourcentage" else "evolution"
        _cell_text(cells[3], "{{ evolution." + name + "|" + change + " }}", align=right)
    set_widths(table, [7.4, 3.0, 3.0, 3.0])
    para(doc, "", space_after=4)


def chart(doc, variable: str) -> None:
    """A chart in its own centred paragraph, shown only when it exists."""
    tag(doc, "{%p if " + variable + " %}")
    para(doc, "{{ " + variable + " }}", align=WD_ALIGN_PARAGRAPH.CENTER, space_after=8)
    tag(doc, "{%p endif %}")


def bilan_annuel() -> Document:
    doc = new_document("Bilan {{ annee }} de la politique départementale d'insertion")
    section = doc.sections[0]
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = header.add_run("{{ departement.nom }} — Bilan {{ annee }} de la politique d'insertion")
    run.font.size = Pt(8.5)
    run.font.color.rgb = GREY
    section.different_first_page_header_footer = True  # pages are numbered « k / n » once compiled
    doc.core_properties.subject = "Bilan annuel du PDI/PTI {{ pacte.periode.debut }}-{{ pacte.periode.fin }}"
    doc.core_properties.keywords = "bilan, insertion, RSA, PDI, PTI, {{ annee }}"

    # Cover
    para(doc, "{{ departement.nom|upper }}", bold=True, size=15, color=BLUE, align=WD_ALIGN_PARAGRAPH.CENTER,
         space_before=20, space_after=2)
    para(doc, "{{ departement.direction or '' }}", size=10, color=GREY, align=WD_ALIGN_PARAGRAPH.CENTER,
         space_after=110)
    para(doc, "BILAN ANNUEL {{ annee }}", bold=True, size=26, color=BLUE, align=WD_ALIGN_PARAGRAPH.CENTER,
         space_after=6)
    para(doc, "de la politique départementale d'insertion", size=15, color=BLUE, align=WD_ALIGN_PARAGRAPH.CENTER,
         space_after=30)
    para(doc, "au regard du {{ pacte.titre }}", bold=True, size=12, color=GREY, align=WD_ALIGN_PARAGRAPH.CENTER,
         space_after=2)
    para(doc, "programme départemental d'insertion et pacte territorial pour l'insertion "
              "{{ pacte.periode.debut }}-{{ pacte.periode.fin }}", size=11, color=GREY,
         align=WD_ALIGN_PARAGRAPH.CENTER, space_after=120)
    para(doc, "Rapport présenté à l'Assemblée départementale", italic=True, size=11,
         align=WD_ALIGN_PARAGRAPH.CENTER)
    page_break(doc)

    # Synthesis
    heading(doc, "Synthèse de l'année {{ annee }}", 1)
    tag(doc, "{%p if total.credits_engages is none and total.personnes_accompagnees is none %}")
    para(doc, "Aucune réalisation n'a été importée pour {{ annee }} : les tableaux ci-dessous sont vides. "
              "Importez les chiffres de l'année (« pacte importer realisations-{{ annee }}.xlsx »).")
    tag(doc, "{%p endif %}")
    para(doc, "En {{ annee }}, {{ total.actions_financees|nombre or 'aucune' }} actions ont été financées au titre "
              "du PDI/PTI, pour {{ total.credits_engages|montant }} de crédits engagés, dont "
              "{{ total.credits_consommes|montant }} consommés ({{ total.taux_consommation|pourcentage }}).")
    para(doc, "{{ total.personnes_accompagnees|effectif }} personnes ont été accompagnées et "
              "{{ total.entrees|effectif }} sont entrées dans une action, dont "
              "{{ total.part_brsa|pourcentage }} de bénéficiaires du RSA. {{ total.sorties_positives|effectif }} "
              "sorties positives ont été enregistrées (emploi, formation, création d'entreprise), soit "
              "{{ total.taux_sorties_positives|pourcentage }} des personnes accompagnées.")
    para(doc, "Les crédits engagés se répartissent entre l'insertion professionnelle, "
              "{{ repartition.engages.professionnelle|montant }} "
              "({{ repartition.engages.part_professionnelle|pourcentage }}), et l'insertion sociale, "
              "{{ repartition.engages.sociale|montant }} ({{ repartition.engages.part_sociale|pourcentage }}).")
    para(doc, "Chiffres clés", bold=True, color=BLUE, keep_next=True, space_before=6)
    key_figures_table(doc)
    chart(doc, "graphiques.repartition")
    tag(doc, "{%p if precedent %}")
    chart(doc, "graphiques.evolution")
    tag(doc, "{%p else %}")
    para(doc, "Aucun chiffre n'a été importé pour {{ annee_precedente }} : l'évolution sera présentée au "
              "prochain bilan.", italic=True, color=GREY)
    tag(doc, "{%p endif %}")

    # Conventions
    heading(doc, "Les conventions en {{ annee }}", 1, new_page=True)
    right = WD_ALIGN_PARAGRAPH.RIGHT
    table = doc.add_table(rows=4, cols=3)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, (label, name) in enumerate([("En vigueur", "en_vigueur"), ("Signées dans l'année", "signees"),
                                       ("Renouvelées dans l'année", "renouvelees"),
                                       ("Ayant pris fin dans l'année", "terminees")]):
        cells = table.rows[r].cells
        _cell_text(cells[0], label, bold=True)
        _shade(cells[0], "E8EDF3")
        _cell_text(cells[1], "{{ conventions." + name + "|length }}", align=right, bold=True)
        _cell_text(cells[2], "{{ conventions." + name + "|map(attribute='reference')|join(', ') or '—' }}",
                   size=8.5)
    set_widths(table, [5.2, 1.4, 9.8])
    para(doc, "", space_after=4)
    tag(doc, "{%p if conventions.en_vigueur %}")
    para(doc, "Conventions en vigueur", bold=True, color=BLUE, keep_next=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    data_table(doc, ["Convention", "Partenaire", "Type", "Période en cours"], "c in conventions.en_vigueur",
               ["{{ c.reference }}", "{{ c.partenaires }}", "{{ c.type_libelle }}",
                "{{ c.debut|date_courte }} – {{ c.fin|date_courte }}"], [2.8, 6.0, 3.0, 4.6], size=8.5)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if conventions_chiffres %}")
    para(doc, "Réalisations des conventions d'accompagnement", bold=True, color=BLUE, keep_next=True,
         align=WD_ALIGN_PARAGRAPH.LEFT)
    data_table(doc, ["Convention", "Partenaire", "Personnes", "Entrées", "dont RSA", "Sorties positives",
                     "Crédits engagés"], "c in conventions_chiffres",
               ["{{ c.reference }}", "{{ c.partenaires }}", "{{ c.chiffres.personnes_accompagnees|effectif }}",
                "{{ c.chiffres.entrees|effectif }}", "{{ c.chiffres.dont_brsa|effectif }}",
                "{{ c.chiffres.sorties_positives|effectif }}", "{{ c.chiffres.credits_engages|montant }}"],
               [2.6, 3.6, 2.0, 1.7, 1.7, 1.9, 2.9], [None, None, right, right, right, right, right], size=8.5)
    para(doc, "Ces chiffres sont déjà comptés dans les axes du pacte : ils ne s'y ajoutent pas.", italic=True,
         size=9, color=GREY)
    tag(doc, "{%p endif %}")

    # By axis
    heading(doc, "Réalisations par axe", 1, new_page=True)
    data_table(doc, ["Axe", "Actions", "Crédits engagés", "Crédits consommés", "Personnes", "Entrées",
                     "Sorties positives"], "a in axes",
               ["{{ a.titre }}", "{{ a.chiffres.actions_financees|nombre or '—' }}",
                "{{ a.chiffres.credits_engages|montant or '—' }}", "{{ a.chiffres.credits_consommes|montant or '—' }}",
                "{{ a.chiffres.personnes_accompagnees|effectif }}", "{{ a.chiffres.entrees|effectif }}",
                "{{ a.chiffres.sorties_positives|effectif }}"],
               [3.6, 1.5, 2.6, 2.6, 2.0, 1.7, 2.0], [None, right, right, right, right, right, right],
               total=["Total", "{{ total.actions_financees|nombre }}", "{{ total.credits_engages|montant }}",
                      "{{ total.credits_consommes|montant }}", "{{ total.personnes_accompagnees|effectif }}",
                      "{{ total.entrees|effectif }}", "{{ total.sorties_positives|effectif }}"], size=8.5)
    chart(doc, "graphiques.credits")
    chart(doc, "graphiques.entrees_sorties")
    tag(doc, "{%p for a in axes %}")
    heading(doc, "{{ a.titre }}", 2)
    para(doc, "{{ a.nature_libelle }}{% if a.source == 'axe' %} — chiffres déclarés pour l'axe"
              "{% elif a.source == 'fiches' %} — somme des chiffres des fiches-actions{% else %} — aucun chiffre "
              "pour {{ annee }}{% endif %}", italic=True, size=9, color=GREY, keep_next=True)
    data_table(doc, ["Fiche-action", "Actions", "Crédits engagés", "Crédits consommés", "Personnes", "Entrées",
                     "dont RSA", "Sorties positives"], "f in a.fiches",
               ["{{ f.numero }} – {{ f.intitule }}", "{{ f.chiffres.actions_financees|nombre if f.chiffres else '—' }}",
                "{{ f.chiffres.credits_engages|montant if f.chiffres else '—' }}",
                "{{ f.chiffres.credits_consommes|montant if f.chiffres else '—' }}",
                "{{ f.chiffres.personnes_accompagnees|effectif if f.chiffres else '—' }}",
                "{{ f.chiffres.entrees|effectif if f.chiffres else '—' }}",
                "{{ f.chiffres.dont_brsa|effectif if f.chiffres else '—' }}",
                "{{ f.chiffres.sorties_positives|effectif if f.chiffres else '—' }}"],
               [3.2, 1.6, 2.4, 2.4, 1.9, 1.6, 1.5, 1.8], [None, right, right, right, right, right, right, right],
               total=["Total de l'axe {{ a.numero }}", "{{ a.chiffres.actions_financees|nombre }}",
                      "{{ a.chiffres.credits_engages|montant }}", "{{ a.chiffres.credits_consommes|montant }}",
                      "{{ a.chiffres.personnes_accompagnees|effectif }}", "{{ a.chiffres.entrees|effectif }}",
                      "{{ a.chiffres.dont_brsa|effectif }}", "{{ a.chiffres.sorties_positives|effectif }}"], size=8)
    tag(doc, "{%p if a.sans_chiffres %}")
    para(doc, "Sans chiffres en {{ annee }} : fiche{{ a.sans_chiffres|length > 1 and 's' or '' }} "
              "{{ a.sans_chiffres|join(', ') }}.", italic=True, size=9, color=ORANGE_TEXT)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")

    heading(doc, "Fiches-actions sans réalisations", 1)
    tag(doc, "{%p if fiches_sans_chiffres %}")
    para(doc, "Aucun chiffre n'a été transmis pour {{ annee }} au titre des fiches-actions "
              "{{ fiches_sans_chiffres|join(', ') }}. Leurs pilotes sont invités à les fournir pour le prochain "
              "comité de pilotage ; une action non engagée est à réexaminer.")
    tag(doc, "{%p else %}")
    para(doc, "Toutes les fiches-actions ont des chiffres pour {{ annee }}.")
    tag(doc, "{%p endif %}")
    heading(doc, "Méthode et protection des données", 1)
    para(doc, "Les chiffres de ce bilan sont des données agrégées transmises par les pilotes des fiches-actions et "
              "les partenaires. Aucune donnée nominative n'est collectée. Les effectifs inférieurs à cinq "
              "personnes sont masqués (« < 5 ») pour qu'aucune personne ne puisse être reconnue. Les chiffres "
              "d'un axe sont ceux déclarés pour l'axe, ou à défaut la somme de ses fiches-actions.")

    # Annexes: the compiled PDF inserts the documents after each of these pages.
    heading(doc, "Annexe 1 – Conventions signées ou renouvelées en {{ annee }}", 1, new_page=True)
    tag(doc, "{%p if annexes %}")
    para(doc, "Les conventions suivantes sont reproduites à la suite, dans l'ordre du tableau.")
    data_table(doc, ["Convention", "Partenaire", "Type", "En {{ annee }}"], "c in annexes",
               ["{{ c.reference }}", "{{ c.partenaires }}", "{{ c.type_libelle }}",
                "{{ c.motif }}{% if c.motif == 'signée' and c.date_signature %} le {{ c.date_signature|date_longue }}"
                "{% elif c.renouvellement %} à compter du {{ c.renouvellement|date_longue }}{% endif %}"],
               [3.0, 6.0, 3.0, 4.4], size=9)
    tag(doc, "{%p else %}")
    para(doc, "Aucune convention n'a été signée ni renouvelée en {{ annee }}.")
    tag(doc, "{%p endif %}")
    heading(doc, "Annexe 2 – Fiches-actions du PDI/PTI {{ pacte.periode.debut }}-{{ pacte.periode.fin }}", 1,
            new_page=True)
    para(doc, "Les fiches-actions du {{ pacte.titre }}, telles qu'adoptées, sont reproduites à la suite, axe par "
              "axe.")
    return doc


TEMPLATES = {
    "convention_ccas": convention_ccas,
    "convention_france_travail": convention_france_travail,
    "avenant": avenant,
    "pdi_pti": pdi_pti,
    "bilan_annuel": bilan_annuel,
}


def main() -> None:
    import io

    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in TEMPLATES.items():
        buffer = io.BytesIO()
        build().save(buffer)
        (OUT / f"{name}.docx").write_bytes(normalise_docx(buffer.getvalue()))
        print(f"écrit : {OUT / (name + '.docx')}")


if __name__ == "__main__":
    main()
