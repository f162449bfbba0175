"""``msetool fragment`` runs with the cycle collector off and turns it back on for whoever runs next,
except in the console script, which exits right after (a collection would only delay the exit); and with
a 1 ms switch interval, put back after."""

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


def test_the_switch_interval_is_short_during_the_run_and_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1 ms while the command runs (the self-check thread holds the GIL; see run_fragment), the caller's
    value afterwards."""
    import sys

    from msetool.fragment import package

    seen: list[float] = []

    def spy(*_a: object, **_k: object) -> None:
        seen.append(sys.getswitchinterval())
        raise KeyboardInterrupt  # ends the command as Ctrl-C would

    monkeypatch.setattr(package, "fragment", spy)
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.004)
        with contextlib.suppress(BaseException):
            run_fragment(tmp_path / "in.mp4", tmp_path / "out", False, 2.0, True, False, (), False, "h264",
                         "aac", 128, "veryfast", True, False)
        assert seen == [pytest.approx(0.001)]
        assert sys.getswitchinterval() == pytest.approx(0.004)
    finally:
        sys.setswitchinterval(before)
        gc.enable()
