"""Third-party warnings that must never reach a user: each one named by its category and by the module that
raises it, with the reason it is harmless. `pacte` (every command) and `pacte serveur` install these filters
when they start; nothing else is silenced, so a new warning from a library still shows in the tests
(`filterwarnings = error`) before it reaches a user."""

from __future__ import annotations

import importlib
import warnings
from typing import NamedTuple


class Silenced(NamedTuple):
    category: str  # "package.module.ClassName", imported only to install the filter
    module: str  # regular expression on the module the warning is attributed to
    reason: str


SILENCED = (
    Silenced("cryptography.utils.CryptographyDeprecationWarning", r"pyhanko(\..*)?",
             "pyHanko imports cryptography's DSA key classes to recognise every kind of signature; cryptography "
             "47+ flags DSA as deprecated at that import. The copies the tool verifies are checked whatever the "
             "algorithm, and the user can do nothing about the warning (English, on every `signer`)."),
    Silenced("authlib.deprecate.AuthlibDeprecationWarning", r"authlib(\..*)?",
             "Authlib 1.9 announces, when its Starlette client is imported, that its httpx integration will be "
             "renamed; the sign-in works the same, and the staff's server log is no place for it."),
)


# Libraries that log in English what the tool then says in French: their messages go to a configured log (the
# server's), never straight to the user's terminal through Python's last-resort handler.
QUIET_LOGGERS = {
    "pypdf": "pypdf logs « EOF marker not found », « incorrect startxref » … while it reads a damaged PDF; the "
             "tool then refuses the file with a French message that names it.",
}


def silence_third_party_warnings() -> None:
    """Install one narrow « ignore » filter per entry of SILENCED (category and module, never a blanket filter),
    and keep the loggers of QUIET_LOGGERS off the terminal."""
    import logging

    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
    for entry in SILENCED:
        module_name, _, class_name = entry.category.rpartition(".")
        try:
            category = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):  # the library is absent or renamed its warning: nothing to silence
            continue
        warnings.filterwarnings("ignore", category=category, module=entry.module)
