"""``nlets-sim load``: a load generator for any switch that speaks ``shared/PROTOCOL.md``.

Pure cores (the rate schedule, the correlator of requests and replies, the profile sampler,
the ``--fail-if`` parser) with a thin asyncio shell (``runner``) over the terminal library.
Nothing in the switch or the LESC imports this package.
"""
