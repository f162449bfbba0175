"""``--format github``: GitHub Actions workflow commands, one annotation per finding.

``::error file=PATH,title=RULE::MESSAGE`` makes each finding show up on the run summary (and on the file
when it is in the repository). Property values and messages are escaped as the runner requires.
"""

from __future__ import annotations

from msetool.report.summary import Report
from msetool.rules.findings import Severity

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(s: str) -> str:
    return _data(s).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    lines: list[str] = []
    for f in report.findings:
        where = []
        if f.offset is not None:
            where.append(f"offset {f.offset}")
        if f.box:
            where.append(f.box)
        suffix = f" ({', '.join(where)})" if where else ""
        props = [f"file={_prop(f.file)}"] if f.file else []
        props.append(f"title={_prop(f.rule)}")
        lines.append(f"::{_LEVEL[f.severity]} {','.join(props)}::{_data(f.message + suffix)}")
    s = report.summary
    lines.append(
        f"msetool validate: {s['errors']} errors, {s['warnings']} warnings, {s['infos']} infos "
        f"in {s['files']} files"
    )
    return "\n".join(lines) + "\n"
