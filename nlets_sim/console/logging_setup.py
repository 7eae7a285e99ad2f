"""structlog, configured once by each command line: JSON lines when standard error is not a
terminal, readable console lines when it is."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(*, verbose: bool = False, quiet: bool = False) -> None:
    """``verbose``: debug lines too; ``quiet``: warnings and errors only."""
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer()
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
