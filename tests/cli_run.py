"""Running either command line as a user does, and checking how it failed."""

from __future__ import annotations

from click import Command
from click.testing import CliRunner


def mistake(cli: Command, *args: str, stdin: bytes | None = None) -> str:
    """Run the command, check it failed as a user's mistake should; its one stderr line."""
    result = CliRunner().invoke(cli, list(args), input=stdin)
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]
