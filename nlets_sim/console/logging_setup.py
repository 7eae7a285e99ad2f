"""structlog, configured once by each command line: JSON lines when standard error is not a
terminal, readable console lines when it is (``--log-format`` chooses). Names, dates of birth,
identifiers and message text are taken out of every line unless ``--log-with-text``."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any

import click
import orjson
import structlog

LOG_FORMATS = ("console", "json")
# Fields that may hold names, dates of birth, identifiers or message text: taken out of every
# line unless --log-with-text. The switch logs its bus events' fields, so this holds at least
# the event stream's private fields (a test keeps it so).
PRIVATE_LOG_FIELDS = frozenset({"text", "subject", "dob", "nic", "names"})


def redact(_logger: object, _method: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """The line without the fields that may hold names, DOBs, identifiers or message text."""
    for key in PRIVATE_LOG_FIELDS.intersection(event):
        del event[key]
    return event


class UtcStamp:
    """``timestamp``: UTC, ISO 8601 with microseconds and ``Z``, as structlog's ``TimeStamper``
    writes it, for a fifth of its cost (the date and time formatted once a second)."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(
        self, _logger: object, _method: str, event: MutableMapping[str, Any]
    ) -> Mapping[str, Any]:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        event["timestamp"] = f"{self._prefix}.{int((now - second) * 1_000_000):06d}Z"
        return event


def json_line(event: dict[str, Any], **options: Any) -> str:
    """One JSON line (orjson: the switch writes one per routed message)."""
    return orjson.dumps(event, **options).decode()


def configure_logging(
    *,
    verbose: bool = False,
    quiet: bool = False,
    log_format: str | None = None,
    with_text: bool = False,
) -> None:
    """``verbose``: debug lines too; ``quiet``: warnings and errors only; ``log_format``
    ``console`` or ``json`` (``None``: console on a terminal, else JSON); ``with_text``: keep
    names, DOBs, identifiers and message text in the lines."""
    console = sys.stderr.isatty() if log_format is None else log_format == "console"
    processors: list[structlog.typing.Processor] = [] if with_text else [redact]
    processors += [
        structlog.processors.add_log_level,
        UtcStamp(),
    ]
    if console:
        processors.append(structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    else:
        processors += [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=json_line),
        ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
        ),
        logger_factory=structlog.WriteLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def log_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--log-format``, ``--log-with-text`` and ``--quiet``, handed to the command as
    ``log_format``, ``log_with_text`` and ``quiet``."""
    command = click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="Warnings and errors only: no line per message (for load tests and benchmarks).",
    )(command)
    command = click.option(
        "--log-with-text",
        is_flag=True,
        help="Debugging: keep names, DOBs, identifiers and message text in the log.",
    )(command)
    return click.option(
        "--log-format",
        type=click.Choice(LOG_FORMATS),
        help="Log lines for people or as JSON [default: console on a terminal, else JSON].",
    )(command)
