"""Generate docs/cli.md from the click commands, so the CLI reference cannot drift from the code.

  python -m msetool.cli.docgen           rewrite docs/cli.md
  python -m msetool.cli.docgen --check   exit 1 when docs/cli.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from msetool.cli.main import COMMANDS, cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"

HEADER = """# CLI reference

Generated from the commands' own help by `python -m msetool.cli.docgen`; do not edit by hand.

Every command turns bad input into one line on stderr and a documented exit code, never a traceback:

| exit code | meaning |
|---|---|
| 0 | clean: nothing at or above the failing severity, every operation succeeded |
| 1 | findings: errors (warnings too with `--strict`), an append error or a throwing call, a verify mismatch |
| 2 | usage or I/O: bad flags, missing or unreadable files, missing ffmpeg or Chromium, ffmpeg failure |
| 3 | internal error: a bug in msetool (`MSETOOL_DEBUG=1` shows the traceback) |

Set `MSETOOL_FFMPEG` to choose the ffmpeg binary (default: an ffmpeg on PATH, else the imageio-ffmpeg
wheel's), `MSETOOL_CHROMIUM` for the browser (default `/usr/bin/chromium`).
"""


_CTX: dict[str, Any] = {
    "terminal_width": 100,
    "max_content_width": 100,
    "help_option_names": ["-h", "--help"],
}


def _help(name: str, cmd: click.Command) -> str:
    ctx = click.Context(cmd, info_name=f"msetool {name}", **_CTX)
    return cmd.get_help(ctx)


def render() -> str:
    parts = [HEADER]
    group_ctx = click.Context(cli, info_name="msetool", **_CTX)
    parts.append("## msetool\n\n```text\n" + cli.get_help(group_ctx) + "\n```\n")
    for name in COMMANDS:
        cmd = cli.get_command(group_ctx, name)
        if cmd is None:
            continue
        parts.append(f"## msetool {name}\n\n```text\n{_help(name, cmd)}\n```\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in args:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is out of date: run `python -m msetool.cli.docgen`", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
