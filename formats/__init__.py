"""Bytes to objects and back for the simulated Nlets link and its messages.

Pure: no sockets, no clock, no logging. See ``shared/PROTOCOL.md`` (copied in the README).
"""
