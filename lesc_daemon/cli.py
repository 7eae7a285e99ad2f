"""``lesc-daemon``: the LESC's command line."""

from __future__ import annotations

import click

from nlets_sim import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lesc-daemon")
def main() -> None:
    """The automated ICE Law Enforcement Support Center: answers IAQ, YQ and AM over the
    simulated Nlets switch."""
