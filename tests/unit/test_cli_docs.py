from __future__ import annotations

import difflib

from msetool.cli import docgen


def test_cli_md_is_up_to_date() -> None:
    current = docgen.DOC.read_text(encoding="utf-8").splitlines()
    fresh = docgen.render().splitlines()
    diff = "\n".join(list(difflib.unified_diff(current, fresh, "docs/cli.md", "generated", lineterm=""))[:40])
    assert not diff, f"docs/cli.md is out of date: run `python -m msetool.cli.docgen`\n{diff}"


def test_every_command_is_documented() -> None:
    text = docgen.render()
    for name in docgen.COMMANDS:
        assert f"## msetool {name}\n" in text


def test_every_command_takes_dash_h_on_its_own() -> None:
    """Invoked directly (as tests do), a command must still offer -h: click caches the help option."""
    import importlib

    from click.testing import CliRunner

    for ref, _ in docgen.COMMANDS.values():
        module, _, attr = ref.partition(":")
        cmd = getattr(importlib.import_module(module), attr)
        result = CliRunner().invoke(cmd, ["-h"])
        assert result.exit_code == 0, (ref, result.output)
        assert "-h, --help" in result.output
