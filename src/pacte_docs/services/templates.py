"""`pacte modeles`: the workspace's DOCX templates, listed and checked against the documented context."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from docx import Document as DocxDocument

from pacte_docs.documents import context
from pacte_docs.documents.rendering import CompiledTemplate, Finding, analyse, make_environment, missing_paths
from pacte_docs.documents.typesetting import plain
from pacte_docs.errors import TemplateError, UnknownReferenceError
from pacte_docs.files import sha256_bytes, sha256_file
from pacte_docs.formatting import date_longue
from pacte_docs.registry.models import Convention, Renouvellement
from pacte_docs.rules import periods
from pacte_docs.workspace import Workspace, default_template_fingerprints, package_templates

# The context each template is checked against; every other template renders a convention.
KIND = {"avenant": "avenant", "renouvellement": "renouvellement", "denonciation": "denonciation", "relance": "relance",
        "bordereau": "bordereau", "pdi_pti": "pdi_pti", "bilan_annuel": "bilan_annuel",
        "point_etape": "point_etape", "bilan_etape": "bilan_etape"}


@dataclass
class TemplateInfo:
    name: str
    path: str
    origine: str  # "par défaut" | "modifié" | "ajouté"
    taille: int


def list_templates(ws: Workspace) -> list[TemplateInfo]:
    """The workspace's templates, each « par défaut », « par défaut (version précédente) », « modifié » or
    « ajouté »."""
    defaults = {name: sha256_bytes(data) for name, data in package_templates().items()}
    earlier = {name: known for name, (_, known) in default_template_fingerprints().items()}
    result = []
    for path in sorted(ws.modeles.glob("*.docx")):
        if path.name.startswith(("~$", ".")):
            continue  # Word's lock files
        name, sha = path.stem, sha256_file(path)
        if name not in defaults:
            origin = "ajouté"
        elif sha == defaults[name]:
            origin = "par défaut"
        elif sha in earlier.get(name, ()):
            origin = "par défaut (version précédente)"
        else:
            origin = "modifié"
        result.append(TemplateInfo(name, ws.relative(path), origin, path.stat().st_size))
    return result


@dataclass
class TemplateCheck:
    name: str
    path: str
    used: list[str]
    unknown: list[str]
    findings: list[Finding]
    available: list[str] = field(default_factory=list)  # every variable the template may use

    @property
    def ok(self) -> bool:
        return not self.unknown and not any(f.severity == "erreur" for f in self.findings)


def check_templates(ws: Workspace, names: list[str]) -> list[TemplateCheck]:
    available = {info.name: ws.root / info.path for info in list_templates(ws)}
    for name in names:
        if name.removesuffix(".docx") not in available:
            raise UnknownReferenceError(f"Modèle « {name} » absent de {ws.modeles}. Modèles présents : "
                                        + ", ".join(sorted(available)) + ".")
    selected = [n.removesuffix(".docx") for n in names] or sorted(available)
    env = make_environment()
    return [_check(name, available[name], ws.relative(available[name]), env) for name in selected]


def _check(name: str, path: Path, shown: str, env: Any) -> TemplateCheck:
    """What `modeles verifier` finds in the template *name* read from *path* (*shown* as its place)."""
    analysis = analyse(path, env)
    documented = context.documented_context(KIND.get(name, "convention"))
    findings = list(analysis.findings)
    if not analysis.errors:  # a template refused as a file (size, macros, links) is not opened further
        findings += _missing_headings(path, REQUIRED_HEADINGS.get(name, ()))
        findings += legal_findings(path, name, KIND.get(name, "convention"), env)
    return TemplateCheck(name, shown, sorted(analysis.paths), missing_paths(analysis.paths, documented), findings,
                         sorted(context.leaf_paths(documented)))


PREVIOUS = "versions-precedentes"  # under modeles/: each replaced version, named after its template and time


def _template_name(name: str) -> str:
    from pacte_docs.errors import Invalid, PacteError
    from pacte_docs.intake import import_format

    try:
        return import_format.template_name(name)
    except Invalid as exc:
        raise PacteError(f"{exc.message[:1].upper()}{exc.message[1:]} : {exc.fix}.") from None


def check_upload(ws: Workspace, name: str, data: bytes) -> TemplateCheck:
    """What `modeles verifier` would find in *data* as the new version of the template *name* (nothing is
    replaced): the staff see it before they confirm (replace_template)."""
    import zipfile
    import zlib

    from lxml import etree

    name = _template_name(name)
    shown = f"modeles/{name}.docx (nouvelle version)"
    with ws.scratch("modele-") as folder:
        path = folder / f"{name}.docx"
        path.write_bytes(data)
        try:
            return _check(name, path, shown, make_environment())
        except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, KeyError, ValueError, OSError,
                etree.XMLSyntaxError):  # a part that lies about itself: refused, never a crash
            return TemplateCheck(name, shown, [], [], [Finding(
                "erreur", "fichier", None, "", "fichier DOCX endommagé ou illisible : ouvrez-le dans Word ou "
                "LibreOffice, enregistrez-le de nouveau au format .docx, puis déposez-le")])


def replace_template(ws: Workspace, name: str, data: bytes) -> tuple[TemplateCheck, str | None]:
    """Put *data* in place of the template *name* (or add it), if `modeles verifier` finds no error in it; the
    version replaced is kept in modeles/versions-precedentes/. Returns the check and the kept version's path."""
    from pacte_docs.errors import PacteError
    from pacte_docs.files import write_atomic

    found = check_upload(ws, name, data)
    if not found.ok:
        raise PacteError(f"Le modèle {found.name} n'a pas été remplacé : « pacte modeles verifier » y trouve des "
                         "erreurs. Corrigez-les dans Word ou LibreOffice, puis déposez-le de nouveau.")
    target = ws.modeles / f"{found.name}.docx"
    kept = None
    if target.is_file():
        if sha256_file(target) == sha256_bytes(data):
            return found, None
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        previous = ws.modeles / PREVIOUS / f"{found.name}-{stamp}.docx"
        previous.parent.mkdir(exist_ok=True)
        write_atomic(previous, target.read_bytes())
        kept = ws.relative(previous)
    write_atomic(target, data)
    return dataclasses.replace(found, path=ws.relative(target)), kept


def template_file(ws: Workspace, name: str) -> tuple[str, bytes] | None:
    """The current template *name* as a file to download (its name, its bytes), or None."""
    for info in list_templates(ws):
        if info.name == name:
            return f"{info.name}.docx", (ws.root / info.path).read_bytes()
    return None


# Headings a template must keep, in this order, as « Titre 1 » paragraphs: the compiled bilan inserts the
# annexed conventions after « Annexe 1 – … » and the fiches-actions after « Annexe 2 – … ».
REQUIRED_HEADINGS = {"bilan_annuel": ("Annexe 1", "Annexe 2")}


def _missing_headings(path: Path, required: tuple[str, ...]) -> list[Finding]:
    if not required:
        return []
    try:
        paragraphs = DocxDocument(str(path)).paragraphs
    except Exception:  # noqa: BLE001 — an unreadable file is already reported by analyse()
        return []
    headings = [p.text.strip() for p in paragraphs if p.style is not None and p.style.name in ("Heading 1", "Titre 1")]
    findings = []
    position = 0
    for title in required:
        found = next((i for i in range(position, len(headings)) if headings[i].startswith(title)), None)
        if found is None:
            findings.append(Finding("erreur", "document", None, "", f"titre « {title} – … » (style Titre 1) absent "
                                    "ou mal placé : le bilan compilé insère ses annexes après lui ; rétablissez-le"))
        else:
            position = found + 1
    return findings


# ---------------------------------------------------------------- the legal check

# The law a template must follow, checked on acts rendered at several dates (sample data): what a legal service
# would refuse to sign. Sources: loi n° 2023-1196 du 18 décembre 2023 pour le plein emploi (Pôle emploi becomes
# France Travail on 1 January 2024; the contrat d'engagement replaces the CER and the PPAE from 1 January 2025).
LEGAL_DATES = (dt.date(2023, 6, 1), dt.date(2024, 6, 1), dt.date(2025, 6, 1))
ACT_KINDS = ("convention", "avenant", "renouvellement", "denonciation")
_ANACHRONISMS = (
    (periods.FRANCE_TRAVAIL_SINCE, re.compile(r"Pôle emploi", re.IGNORECASE),
     "l'opérateur s'appelle France Travail depuis le 1er janvier 2024 (loi n° 2023-1196 du 18 décembre 2023) : "
     "écrivez {{ operateur }}, qui suit la date de l'acte"),
    (periods.CONTRAT_ENGAGEMENT_SINCE,
     re.compile(r"\b(CER|PPAE)\b|contrat d['’]engagements? réciproques?|projet personnalisé d['’]accès à l['’]emploi",
                re.IGNORECASE),
     "depuis le 1er janvier 2025, le contrat d'engagement remplace le CER et le PPAE (loi n° 2023-1196) : "
     "écrivez {% if contrat_engagement %}…{% else %}…{% endif %}"),
)
_DENONCIATION = re.compile(r"\bdénonc", re.IGNORECASE)
# What a drafter leaves to fill in: « XXX », « [à compléter] », « ____ », « <NOM> », « TODO ».
_PLACEHOLDER = re.compile(r"\bX{3,}\b|\[[^\]\n]{0,40}(?:compléter|completer|remplir|définir|preciser|préciser)"
                          r"[^\]\n]{0,40}\]|_{4,}|<[A-ZÉÈ][A-ZÉÈ _-]{1,30}>|\b(?:TODO|A COMPLETER|À COMPLÉTER)\b",
                          re.IGNORECASE)


def _sample_convention(template: str, day: dt.date, renouvellement: str, association: bool = False) -> Convention:
    """The documented sample convention, its act dated *day*; a France Travail partner for that template, an
    association given a subsidy above the threshold of décret n° 2001-495 when *association*."""
    c = context.sample_convention()
    c.deliberation_date, c.date_signature, c.date_effet = (day - dt.timedelta(days=45), day - dt.timedelta(days=15),
                                                           day)
    c.renouvellement = renouvellement
    if template == "convention_france_travail":
        c.type = "france_travail"
        partner = c.partenaires[0]
        partner.type, partner.nom, partner.code = "france_travail", "France Travail Exemple", "FT-EXEMPLE"
    elif association or template == "convention_subvention":
        c.type = "autre"
        partner = c.partenaires[0]
        partner.type, partner.nom, partner.code = "association", "Association Exemple", "ASSO-EXEMPLE"
        c.montant, c.taux_fse = Decimal("96000.00"), None
        c.versements = ["40 % à la signature de la convention", "le solde sur production du compte rendu financier"]
    return c


def _act_context(kind: str, c: Convention, day: dt.date) -> dict[str, Any]:
    if kind == "avenant":
        return context.avenant_context(c, 1, "Objet de l'avenant.", day, None)
    if kind == "renouvellement":
        c.renouvellements = [Renouvellement(numero=1, date=day, deliberation_numero="CP-2")]
        return context.renouvellement_context(c, 1)
    if kind == "denonciation":
        c.date_denonciation, c.motif_denonciation = day, "Motif."
        return context.denonciation_context(c)
    return context.convention_context(c)


def _rendered_text(data: bytes) -> str:
    document = DocxDocument(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return plain("\n".join(parts))


def legal_findings(path: Path, name: str, kind: str, env: Any) -> list[Finding]:
    """Render the template as an act of each date of LEGAL_DATES (and, for a convention, not renewable) and report
    what the law of that date forbids: names and contracts that no longer exist, missing visas, text left to fill in
    (« XXX », « [à compléter] »), a dénonciation clause in a convention that cannot be renewed."""
    if kind not in ACT_KINDS:
        return []
    try:
        template = CompiledTemplate(path, env)
    except TemplateError:
        return []  # reported by the analysis
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    cases = [(day, "expresse", False) for day in LEGAL_DATES]
    if kind == "convention":
        cases.append((LEGAL_DATES[-1], "aucun", False))
        if name != "convention_france_travail":
            cases.append((LEGAL_DATES[-1], "expresse", True))
    for day, renouvellement, association in cases:
        try:
            ctx = _act_context(kind, _sample_convention(name, day, renouvellement, association), day)
            text = _rendered_text(template.render(ctx))
        except (TemplateError, ValueError, KeyError):
            return findings  # a template that does not render is reported by the analysis
        if kind == "convention":
            flat = " ".join(text.replace("\u00a0", " ").split())
            for visa in ctx.get("visas", []):
                wanted = " ".join(f"Vu {visa}".replace("\u00a0", " ").split())
                if wanted not in flat and ("visa", visa) not in seen:
                    seen.add(("visa", visa))
                    findings.append(Finding("erreur", "texte rendu", None, "", f"visa manquant dans un acte du "
                                            f"{date_longue(day)} : « {wanted} » — les visas viennent de la table "
                                            "des textes : écrivez-les par {%p for v in visas %}Vu {{ v }} ;"
                                            "{%p endfor %}"))
        for since, pattern, why in _ANACHRONISMS:
            found = _anachronism(text, pattern) if day >= since else None
            if found and (found.group(0), why) not in seen:
                seen.add((found.group(0), why))
                findings.append(Finding("erreur", "texte rendu", None, _sentence(text, found.start()),
                                        f"« {found.group(0)} » dans un acte du {date_longue(day)} : {why}"))
        for placeholder in _PLACEHOLDER.finditer(text):
            if ("placeholder", placeholder.group(0)) in seen:
                continue
            seen.add(("placeholder", placeholder.group(0)))
            findings.append(Finding("erreur", "texte rendu", None, _sentence(text, placeholder.start()),
                                    f"texte à compléter resté dans le modèle (« {placeholder.group(0)} ») : "
                                    "remplacez-le par la variable qui convient ({{ … }}) ou par le texte définitif"))
        if renouvellement == "aucun" and _DENONCIATION.search(text):
            where = _DENONCIATION.search(text)
            assert where is not None
            findings.append(Finding("erreur", "texte rendu", None, _sentence(text, where.start()),
                                    "une convention qui n'est pas renouvelable ne se dénonce pas : réservez "
                                    "l'article de dénonciation à convention.renouvellement != 'aucun'"))
    return findings


def _anachronism(text: str, pattern: re.Pattern[str]) -> re.Match[str] | None:
    """The first use of an old name or contract as a current one: a visa (« Vu … ») cites a text by its own title
    and date, and « anciennement … » or « ex-… » recalls a former name; neither is an anachronism."""
    for found in pattern.finditer(text):
        line_start = text.rfind("\n", 0, found.start()) + 1
        before = text[line_start:found.start()]
        if text.startswith("Vu ", line_start) or before.rstrip().endswith(("anciennement", "ex-", "ex")):
            continue
        return found
    return None


def _sentence(text: str, position: int) -> str:
    start = max(text.rfind("\n", 0, position), text.rfind(". ", 0, position)) + 1
    end = min((i for i in (text.find("\n", position), text.find(". ", position)) if i != -1), default=len(text))
    return text[start:end].strip()


def write_workbook(path: Path, replace: bool = False) -> Path:
    """The blank import workbook (`intake.workbook`) written to *path*; a file already there is kept unless
    *replace*: it may be a workbook being filled in."""
    from pacte_docs.errors import PacteError
    from pacte_docs.files import write_atomic
    from pacte_docs.intake import workbook

    if path.suffix.lower() != ".xlsx":
        raise PacteError(f"{path} : un classeur se nomme en « .xlsx » (par exemple classeur-pacte.xlsx).")
    if path.exists() and not replace:
        raise PacteError(f"{path} existe déjà : rien n'a été écrit. C'est peut-être un classeur en cours de "
                         "saisie ; donnez un autre nom, ou ajoutez --remplacer pour l'écraser.")
    if path.is_dir():
        raise PacteError(f"{path} est un dossier : donnez un nom de fichier .xlsx.")
    write_atomic(path, workbook.blank())
    return path

