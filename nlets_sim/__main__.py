"""``python -m nlets_sim`` runs the ``nlets-sim`` command."""

from nlets_sim.tools.cli import main

main()
