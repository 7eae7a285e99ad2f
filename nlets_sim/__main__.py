"""``python -m nlets_sim`` runs the ``nlets-sim`` command."""

from nlets_sim.cli import main

main()
