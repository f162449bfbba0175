"""``msetool fragment`` runs with the cycle collector off and turns it back on for whoever runs next,
except in the console script, which exits right after (a collection would only delay the exit)."""

from __future__ import annotations

import contextlib
import gc
from pathlib import Path

import pytest

from msetool.cli import main as cli_main
from msetool.cli.fragment_run import run_fragment


def _run(tmp_path: Path) -> None:
    # a missing input fails at once, through the same code as a whole run
    with contextlib.suppress(BaseException):
        run_fragment(tmp_path / "missing.mp4", tmp_path / "out", False, 2.0, True, False, (), False, "h264",
                     "aac", 128, "veryfast", True, False)


@pytest.mark.parametrize("exits", [False, True])
def test_the_collector_is_back_on_unless_the_process_exits_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exits: bool
) -> None:
    monkeypatch.setattr(cli_main.Process, "exits_after_main", exits)
    assert gc.isenabled()
    try:
        _run(tmp_path)
        assert gc.isenabled() is not exits
    finally:
        gc.enable()
