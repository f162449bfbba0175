"""Declared codecs parameter vs content (placeholder until the codec rules land)."""

from __future__ import annotations

from msetool.mime import MimeType
from msetool.rules.engine import StreamModel
from msetool.rules.findings import Finding


def check(model: StreamModel, declared: MimeType | None) -> list[Finding]:
    return []
