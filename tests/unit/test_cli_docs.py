from __future__ import annotations

from msetool.cli import docgen


def test_cli_md_is_up_to_date() -> None:
    assert docgen.main(["--check"]) == 0, "docs/cli.md is out of date: run `python -m msetool.cli.docgen`"


def test_every_command_is_documented() -> None:
    text = docgen.render()
    for name in docgen.COMMANDS:
        assert f"## msetool {name}\n" in text
