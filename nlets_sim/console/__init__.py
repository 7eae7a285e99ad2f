"""What every command line shares, the switch's tools and the LESC's alike: a user's mistake
as one sentence (``errors``), a terminal's TLS options (``tls``), logging set up once
(``logging_setup``), and the preparation and lint of a typed message (``lint``). Below the
switch and the LESC; imports only ``formats`` and ``nlets_sim.link``."""
