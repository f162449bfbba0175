"""How a scenario becomes byte streams: batches, aborts, changeType, ranges, several SourceBuffers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from msetool.cli.validate_cmd import scenario_streams
from msetool.errors import UsageError
from msetool.rules.engine import Reset, Slice
from msetool.scenario import parse_scenario


def streams(tmp_path: Path, ops: list[dict[str, Any]], sbs: int = 1) -> dict[str, list[object]]:
    for name in ("a", "b", "c"):
        (tmp_path / name).write_bytes(name.encode() * 10)
    sc = parse_scenario(
        {"sourceBuffers": [{"id": f"s{i}", "type": "video/mp4"} for i in range(sbs)], "ops": ops}, tmp_path
    )
    out: dict[str, list[object]] = {}
    for st in scenario_streams(sc):
        out[st.id] = [
            (Path(x.label).name, x.start, x.end) if isinstance(x, Slice) else x.kind
            for x in st.items
            if isinstance(x, Slice | Reset)
        ]
    return out


def test_plain_appends_ranges_and_resets(tmp_path: Path) -> None:
    got = streams(
        tmp_path,
        [
            {"op": "append", "file": "a"},
            {"op": "append", "file": "b", "range": [2, 5]},
            {"op": "abort"},
            {"op": "changeType", "type": 'video/mp4; codecs="avc1.4D400D"'},
            {"op": "append", "file": "c"},
            {"op": "endOfStream"},
        ],
    )
    assert got["s0"] == [("a", 0, None), ("b", 2, 5), "abort", "changeType", ("c", 0, None), "endOfStream"]


def test_batch_semantics(tmp_path: Path) -> None:
    got = streams(
        tmp_path,
        [
            {"op": "append", "file": "a"},
            {
                "op": "batch",
                "ops": [
                    {"op": "append", "file": "b", "wait": False},
                    {"op": "append", "file": "c", "wait": False},  # throws: still updating
                    {"op": "changeType", "type": "video/webm"},  # throws too
                ],
            },
            {
                "op": "batch",
                "ops": [
                    {"op": "append", "file": "c", "wait": False},
                    {"op": "abort"},  # the queued append never runs
                ],
            },
        ],
    )
    assert got["s0"] == [("a", 0, None), ("b", 0, None), "abort"]


def test_ops_go_to_their_source_buffer(tmp_path: Path) -> None:
    got = streams(
        tmp_path,
        [
            {"op": "append", "file": "a", "sb": "s1"},
            {"op": "append", "file": "b"},
            {"op": "abort", "sb": "s1"},
        ],
        sbs=2,
    )
    assert got == {"s0": [("b", 0, None)], "s1": [("a", 0, None), "abort"]}
    with pytest.raises(UsageError):
        streams(tmp_path, [{"op": "append", "file": "a", "sb": "nope"}])
    with pytest.raises(UsageError):
        streams(tmp_path, [{"op": "append", "file": "missing"}])
