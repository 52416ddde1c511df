"""`pacte modeles`: the workspace's DOCX templates, listed and checked against the documented context."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pacte_docs.documents import context
from pacte_docs.documents.rendering import Finding, analyse, make_environment, missing_paths
from pacte_docs.errors import UnknownReferenceError
from pacte_docs.files import sha256_bytes, sha256_file
from pacte_docs.workspace import Workspace, package_templates

# The context each template is checked against; every other template renders a convention.
KIND = {"avenant": "avenant", "pdi_pti": "pdi_pti", "bilan_annuel": "bilan_annuel"}


@dataclass
class TemplateInfo:
    name: str
    path: str
    origine: str  # "par défaut" | "modifié" | "ajouté"
    taille: int


def list_templates(ws: Workspace) -> list[TemplateInfo]:
    defaults = {name: sha256_bytes(data) for name, data in package_templates().items()}
    result = []
    for path in sorted(ws.modeles.glob("*.docx")):
        if path.name.startswith(("~$", ".")):
            continue  # Word's lock files
        name = path.stem
        origin = "ajouté" if name not in defaults else (
            "par défaut" if sha256_file(path) == defaults[name] else "modifié")
        result.append(TemplateInfo(name, ws.relative(path), origin, path.stat().st_size))
    return result


@dataclass
class TemplateCheck:
    name: str
    path: str
    used: list[str]
    unknown: list[str]
    findings: list[Finding]

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
        results.append(TemplateCheck(name, ws.relative(path), sorted(analysis.paths),
                                     missing_paths(analysis.paths, documented), analysis.findings))
    return results
