"""The switch: directory, routing core, journal and queues, the asyncio server shell, faults,
HELP files, the admin socket, and switch nodes over the bus (``cluster``). Imports ``formats``,
``nlets_sim.link``, ``nlets_sim.bus``, ``nlets_sim.console``; never the LESC or the tools."""
