"""sharepack: provision Databricks Delta Sharing from declarative share pack files."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sharepack")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
