"""``--format json``: the Report as one JSON document (schema in docs/validate.md)."""

from __future__ import annotations

import json

from msetool.report.summary import Report


def render(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
