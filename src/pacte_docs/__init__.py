"""pacte_docs — conventions, PDI/PTI et bilans de la politique d'insertion d'un département.

The public API, the one the `pacte` command line, the demo and a user's script call. Open a workspace, then
call the service functions with it; each takes its locks and transactions itself:

    import pacte_docs as pacte

    with pacte.Workspace.open("~/insertion") as ws:
        pacte.import_files(ws, [Path("conventions.yaml")])
        pacte.generate_conventions(ws, ["CCAS-2024-001"])
        for alerte in pacte.due_alerts(ws, dt.date(2027, 1, 15)):
            print(alerte.reference, alerte.action)

Every failure the user can fix is a `PacteError` (exit code in `exit_code`); see `pacte_docs.errors`.
The names are loaded on first use, so that `import pacte_docs` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

# public name → (module, name in that module)
_EXPORTS: dict[str, tuple[str, str]] = {
    # the workspace
    "Workspace": ("pacte_docs.workspace", "Workspace"),
    "init_workspace": ("pacte_docs.workspace", "init_workspace"),
    # the registry's records
    "import_files": ("pacte_docs.services.records", "import_files"),
    "export_registry": ("pacte_docs.services.records", "export_registry"),
    "list_partenaires": ("pacte_docs.services.records", "list_partenaires"),
    "list_conventions": ("pacte_docs.services.records", "list_conventions"),
    "show_convention": ("pacte_docs.services.records", "show_convention"),
    "list_pactes": ("pacte_docs.services.records", "list_pactes"),
    "verify_archives": ("pacte_docs.services.records", "verify_archives"),
    # documents
    "generate_conventions": ("pacte_docs.services.generation", "generate"),
    "generate_avenant": ("pacte_docs.services.generation", "generate_avenant"),
    "generate_pdi_pti": ("pacte_docs.services.pdi_pti", "generate_pacte"),
    "compile_bilan": ("pacte_docs.services.bilan", "compile_bilan"),
    "export_bilan_figures": ("pacte_docs.services.bilan", "export_figures"),
    "list_templates": ("pacte_docs.services.templates", "list_templates"),
    "check_templates": ("pacte_docs.services.templates", "check_templates"),
    # the life of a convention
    "sign_convention": ("pacte_docs.services.lifecycle", "signer"),
    "renew_convention": ("pacte_docs.services.lifecycle", "renouveler"),
    "add_avenant": ("pacte_docs.services.lifecycle", "avenant"),
    "denounce_convention": ("pacte_docs.services.lifecycle", "denoncer"),
    # alerts
    "due_alerts": ("pacte_docs.services.notify", "due"),
    "run_alerts": ("pacte_docs.services.notify", "run_alerts"),
    "write_calendar": ("pacte_docs.services.notify", "write_calendar"),
    # the directors' pages and their personal links
    "create_access": ("pacte_docs.services.access", "create"),
    "list_access": ("pacte_docs.services.access", "list_links"),
    "revoke_access": ("pacte_docs.services.access", "revoke"),
    "web_app": ("pacte_docs.web.app", "create_app"),
    # the whole job on bundled data
    "run_demo": ("pacte_docs.services.demo", "run"),
    # errors
    "PacteError": ("pacte_docs.errors", "PacteError"),
    "ValidationError": ("pacte_docs.errors", "ValidationError"),
    "Problem": ("pacte_docs.errors", "Problem"),
    "UnknownReferenceError": ("pacte_docs.errors", "UnknownReferenceError"),
    "LifecycleError": ("pacte_docs.errors", "LifecycleError"),
    "TemplateError": ("pacte_docs.errors", "TemplateError"),
    "ExternalError": ("pacte_docs.errors", "ExternalError"),
}

__all__ = ["__version__", "Workspace", "init_workspace", "import_files", "export_registry", "list_partenaires",
          "list_conventions", "show_convention", "list_pactes", "verify_archives", "generate_conventions",
          "generate_avenant", "generate_pdi_pti", "compile_bilan", "export_bilan_figures", "list_templates",
          "check_templates", "sign_convention", "renew_convention", "add_avenant", "denounce_convention",
          "due_alerts", "run_alerts", "write_calendar", "create_access", "list_access", "revoke_access", "web_app",
          "run_demo", "PacteError", "ValidationError", "Problem",
          "UnknownReferenceError", "LifecycleError", "TemplateError", "ExternalError"]

if TYPE_CHECKING:
    from pacte_docs.errors import (
        ExternalError,
        LifecycleError,
        PacteError,
        Problem,
        TemplateError,
        UnknownReferenceError,
        ValidationError,
    )
    from pacte_docs.services.access import create as create_access
    from pacte_docs.services.access import list_links as list_access
    from pacte_docs.services.access import revoke as revoke_access
    from pacte_docs.services.bilan import compile_bilan
    from pacte_docs.services.bilan import export_figures as export_bilan_figures
    from pacte_docs.services.demo import run as run_demo
    from pacte_docs.services.generation import generate as generate_conventions
    from pacte_docs.services.generation import generate_avenant
    from pacte_docs.services.lifecycle import avenant as add_avenant
    from pacte_docs.services.lifecycle import denoncer as denounce_convention
    from pacte_docs.services.lifecycle import renouveler as renew_convention
    from pacte_docs.services.lifecycle import signer as sign_convention
    from pacte_docs.services.notify import due as due_alerts
    from pacte_docs.services.notify import run_alerts, write_calendar
    from pacte_docs.services.pdi_pti import generate_pacte as generate_pdi_pti
    from pacte_docs.services.records import (
        export_registry,
        import_files,
        list_conventions,
        list_pactes,
        list_partenaires,
        show_convention,
        verify_archives,
    )
    from pacte_docs.services.templates import check_templates, list_templates
    from pacte_docs.web.app import create_app as web_app
    from pacte_docs.workspace import Workspace, init_workspace


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'pacte_docs' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
