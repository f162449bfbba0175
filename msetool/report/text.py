"""``--format text``: a rich report grouped by file, one line per finding (rule, severity, offset, box).

The only report module that imports rich; it renders to a Console the CLI passes in (so tests can record
it and pipes get plain text).
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from msetool.report.summary import Report
from msetool.rules.findings import Severity

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render(report: Report, console: Console) -> None:
    for fr in report.files:
        counts = []
        for sev, word in ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "info")):
            n = fr.count(sev)
            if n:
                counts.append(f"[{_STYLE[sev]}]{n} {word}{'s' if n > 1 else ''}[/]")
        status = ", ".join(counts) if counts else "[green]ok[/]"
        console.print(f"[bold]{escape(fr.path or '<stream>')}[/]  {status}")
        if not fr.findings:
            continue
        table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 1))
        table.add_column("severity", no_wrap=True)
        table.add_column("rule", no_wrap=True)
        table.add_column("where", no_wrap=True)
        table.add_column("message", overflow="fold")
        for f in fr.findings:
            where = "" if f.offset is None else f"@{f.offset}"
            if f.box:
                where += f" {f.box}"
            table.add_row(
                f"  [{_STYLE[f.severity]}]{f.severity.value}[/]",
                escape(f.rule),
                escape(where),
                escape(f.message),
            )
        console.print(table)
    s = report.summary
    verdict = "[bold red]FAIL[/]" if report.exit_code else "[bold green]PASS[/]"
    console.print(
        f"{verdict}  {s['errors']} errors, {s['warnings']} warnings, {s['infos']} infos in "
        f"{s['files']} file{'s' if s['files'] != 1 else ''}"
    )
