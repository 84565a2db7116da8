"""The toolkit version, from the installed distribution's metadata (one source: pyproject.toml)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("var-bench")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
