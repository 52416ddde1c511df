"""`pacte demo`: a workspace built from the bundled data, every convention generated in DOCX and PDF."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pacte_docs import generation, importer
from pacte_docs.generation import GenerationReport, Progress
from pacte_docs.importer import ImportReport
from pacte_docs.workspace import InitReport, Workspace, init_workspace


@dataclass
class DemoReport:
    root: Path
    init: InitReport
    imported: ImportReport
    generated: GenerationReport


def demo_files() -> list[tuple[str, bytes]]:
    folder = resources.files("pacte_docs") / "donnees"
    return [(e.name, e.read_bytes()) for e in sorted(folder.iterdir(), key=lambda e: e.name)
            if e.name.startswith("demo-") and e.name.endswith(".yaml")]


def run(root: Path, base_url: str | None = None, progress: Progress | None = None) -> DemoReport:
    init = init_workspace(root, base_url)
    ws = Workspace(root, base_url)
    try:
        with tempfile.TemporaryDirectory(prefix="pacte-demo-") as tmp:
            paths = []
            for name, data in demo_files():
                path = Path(tmp) / name
                path.write_bytes(data)
                paths.append(path)
            with ws.db.session() as session:
                imported = importer.import_files(session, paths, default_departement=ws.config.departement)
        generated = generation.generate(ws, [], all_=True, with_pdf=True, progress=progress)
    finally:
        ws.close()
    return DemoReport(ws.root, init, imported, generated)
