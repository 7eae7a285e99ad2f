"""The link and the terminal library: the I/O-free link protocol of both ends (``protocol`` for
the switch's side, ``terminal_link`` for the terminal's, each a table of transitions with its
timers as deadlines), the one asyncio timer their shells arm (``deadline_timer``), the asyncio
``Terminal`` that the LESC, the command lines and users' tests log on with (``terminal``), where
it finds the switch (``switch_address``: ``HOST:PORT``, TLS), and the simulated clock both
daemons run on (``simclock``). Below the switch and the LESC; imports only ``formats``."""
