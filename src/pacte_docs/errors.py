"""Domain errors; each carries the exit code the CLI returns (ARCHITECTURE §3)."""

from __future__ import annotations

from dataclasses import dataclass


class PacteError(Exception):
    """Base class: the user's data or request is wrong (exit 1)."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One precise problem in the user's data: where, which field, what, and how to fix it."""

    source: str
    location: str | None
    field: str | None
    message: str
    fix: str | None = None

    def __str__(self) -> str:
        where = ", ".join(p for p in (self.source, self.location) if p)
        if self.field:
            where += f", champ « {self.field} »"
        text = f"{where} : {self.message}"
        if self.fix:
            text += f" — {self.fix}"
        return text


class Invalid(ValueError):
    """One value of the import format is wrong; the importer turns it into a Problem for its field."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


class AddressError(ValueError):
    """An e-mail address or a header text that cannot be written in a message; the message says why, in French."""


SHOWN_PROBLEMS = 50  # a file with a hundred thousand faulty rows is told its first problems, not all of them


class ValidationError(PacteError):
    """Input data do not satisfy the import format; carries every problem found."""

    def __init__(self, problems: list[Problem], summary: str | None = None) -> None:
        self.problems = problems
        count = len(problems)
        head = summary or (
            f"{count} problème{'s' if count > 1 else ''} dans les données ; rien n'a été enregistré."
        )
        shown = problems[:SHOWN_PROBLEMS]
        more = count - len(shown)
        tail = (f"\n  … et {more} autre{'s' if more > 1 else ''} : corrigez d'abord ceux-ci, puis relancez."
                if more else "")
        super().__init__(head + "\n" + "\n".join(f"  • {p}" for p in shown) + tail)


class WorkspaceError(PacteError):
    """The workspace is missing or incomplete."""


class UnknownReferenceError(PacteError):
    """A convention reference, partner code or template name is not in the registry."""


class TemplateError(PacteError):
    """A template cannot be rendered: missing variables, syntax error, unsafe construct."""


class RenderLimitError(Exception):
    """A template expression would build a value past the sandbox's size limits (the message says which)."""


class RenderTimeout(Exception):
    """A template's render deadline passed (raised from the SIGALRM handler, between two Python instructions)."""


class LifecycleError(PacteError):
    """The requested step does not fit where the convention is in its life."""


class InputFileError(PacteError):
    """A file the user gives cannot be taken: not a regular file, too large, or its content exceeds a limit."""


class IntegrityError(PacteError):
    """A recorded file was altered, removed, or an unknown file appeared."""


class ExternalError(PacteError):
    """An external component failed (exit 3)."""

    exit_code = 3


class ConverterError(ExternalError):
    """LibreOffice is missing, timed out or did not produce the expected PDF."""


class DatabaseUnavailableError(ExternalError):
    """The database cannot be reached."""


class SmtpError(ExternalError):
    """The SMTP server cannot be reached or refused a message."""


class SmtpDeadlineError(TimeoutError):
    """The SMTP server took longer than [smtp] delai_secondes for one message (a server answering a byte at a time
    never trips the socket's own timeout)."""


class SignatureError(PacteError):
    """The Département's electronic signature cannot be made with what was configured or given (exit 1)."""


class AuthorityError(ExternalError):
    """A timestamping authority, a revocation service or a PKCS#11 module did not answer (exit 3)."""
