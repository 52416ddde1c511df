"""The `pacte` command line: option parsing, one call into the services, printing."""

from pacte_docs.cli.commands import cli, main

__all__ = ["cli", "main"]
