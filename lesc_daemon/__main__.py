"""``python -m lesc_daemon`` runs the ``lesc-daemon`` command."""

from lesc_daemon.cli import main

main()
