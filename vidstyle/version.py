"""The package version (one place; ``vidstyle.__version__`` and the build read it)."""

__version__ = "0.1.0"
