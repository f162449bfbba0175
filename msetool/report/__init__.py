"""Renderers and exit codes. Only :mod:`msetool.report.text` and the CLI import rich."""
