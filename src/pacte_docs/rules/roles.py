"""What each role of the staff pages may do (pure). Roles are ordered: each does what the one before it does.

lecture         what a director sees: the registry, the deadlines, the documents
redaction       partners, draft conventions, imports, generation, downloads
juriste         what redaction does, plus signatures, renewals, avenants, dénonciations, acts withdrawn, templates
administration  accounts and settings, and everything else
"""

from __future__ import annotations

ROLES = ("lecture", "redaction", "juriste", "administration")
LIBELLES = {"lecture": "lecture", "redaction": "rédaction", "juriste": "juriste", "administration": "administration"}


def allows(role: str, needed: str) -> bool:
    """Whether an agent of *role* may do what needs *needed*; an unknown role may do nothing."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def failed_delay(failures: int) -> float:
    """Seconds a sign-in waits after *failures* failed attempts in a row: nothing for the first two, then
    doubling from one second, at most thirty (slows a password guesser, not a person who mistyped)."""
    return 0.0 if failures < 3 else float(min(30, 2 ** (failures - 3)))
