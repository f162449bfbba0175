"""Cross-segment rules on the segment model (placeholder until the timeline rules land)."""

from __future__ import annotations

from msetool.rules.engine import StreamModel, ValidateOptions
from msetool.rules.findings import Finding


def check(model: StreamModel, options: ValidateOptions) -> list[Finding]:
    return []
