"""What both daemons and every command line share, the switch's tools and the LESC's alike:
a user's mistake as one sentence (``errors``), a terminal's TLS options (``tls``), logging set
up once (``logging_setup``), a typed message made into the bytes a terminal sends
(``message_file``), and settings read from a TOML file and flags (``config_file``). Below the
switch and the LESC; imports only ``formats`` and ``nlets_sim.link``."""
