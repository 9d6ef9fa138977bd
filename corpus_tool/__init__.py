"""corpus-tool: raw web crawls and text in, a clean Chinese pretraining corpus and token shards out."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("corpus-tool")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"
