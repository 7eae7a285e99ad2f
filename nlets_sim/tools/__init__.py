"""Everything that starts or drives the daemons: the ``nlets-sim`` command line, ``up``,
``replay``, ``record``, ``load`` and ``screen``. Above the switch and the
LESC; nothing below imports them."""
