"""The link and the terminal library: the I/O-free link protocol of both ends (``protocol``),
the asyncio ``Terminal`` that the LESC, the command lines and users' tests log on with
(``terminal``), and the simulated clock both daemons run on (``simclock``). Below the switch and
the LESC; imports only ``formats``."""
