"""`pacte modeles`: the workspace's DOCX templates, listed and checked against the documented context."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from docx import Document as DocxDocument

from pacte_docs.documents import context
from pacte_docs.documents.rendering import Finding, analyse, make_environment, missing_paths
from pacte_docs.errors import UnknownReferenceError
from pacte_docs.files import sha256_bytes, sha256_file
from pacte_docs.workspace import Workspace, default_template_fingerprints, package_templates

# The context each template is checked against; every other template renders a convention.
KIND = {"avenant": "avenant", "pdi_pti": "pdi_pti", "bilan_annuel": "bilan_annuel"}


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
    results = []
    for name in selected:
        path: Path = available[name]
        analysis = analyse(path, env)
        documented = context.documented_context(KIND.get(name, "convention"))
        findings = analysis.findings + _missing_headings(path, REQUIRED_HEADINGS.get(name, ()))
        results.append(TemplateCheck(name, ws.relative(path), sorted(analysis.paths),
                                     missing_paths(analysis.paths, documented), findings,
                                     sorted(context.leaf_paths(documented))))
    return results


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
