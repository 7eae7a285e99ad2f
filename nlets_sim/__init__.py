"""The simulated Nlets message switch and its tools."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nlets-sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
