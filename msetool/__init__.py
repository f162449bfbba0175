"""msetool: prepare media for Media Source Extensions and prove, offline, that it will play."""

__version__ = "0.1.0"
