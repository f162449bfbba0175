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


def test_change_type_the_browser_refuses_changes_nothing(tmp_path: Path) -> None:
    # changeType('') throws TypeError, an unsupported type NotSupportedError (MP3 is no MSE codec in MP4
    # for Chromium): the SourceBuffer keeps its type and parser, so the stream is not cut.
    got = streams(
        tmp_path,
        [
            {"op": "append", "file": "a"},
            {"op": "changeType", "type": "video/x-nope"},
            {"op": "changeType", "type": ""},
            {"op": "changeType", "type": 'audio/mp4; codecs="mp4a.6B"'},
            {"op": "append", "file": "b"},
            {"op": "changeType", "type": 'audio/mp4; codecs="mp4a.40.2"'},
            {"op": "append", "file": "c"},
        ],
    )
    assert got["s0"] == [("a", 0, None), ("b", 0, None), "changeType", ("c", 0, None)]


def test_add_source_buffer_type_that_is_no_mime_type_is_a_finding(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from msetool.cli.main import cli

    (tmp_path / "a").write_bytes(b"\0\0\0\x08free")
    (tmp_path / "case.json").write_text(
        json.dumps({"sourceBuffers": [{"id": "s", "type": ";;"}], "ops": [{"op": "append", "file": "a"}]})
    )
    r = CliRunner().invoke(cli, ["validate", "--scenario", str(tmp_path / "case.json"), "--format", "json"])
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    assert [x["rule"] for f in doc["files"] for x in f["findings"]] == ["GEN-MIME-01"]


def test_scenario_checks_every_h264_sample(tmp_path: Path) -> None:
    # Chromium converts every H.264 sample to Annex B and fails the append on a NAL length that runs past
    # its sample, key frame or not: a scenario gets that check on every sample (as --deep).
    import json

    from click.testing import CliRunner

    from msetool.cli.main import cli
    from tests.unit.rules import fmp4

    frag = fmp4.fragment()
    at = int.from_bytes(frag[:4], "big") + 8 + 40  # the second (non-sync) sample's NAL length
    frag = frag[:at] + (0x7FFF).to_bytes(4, "big") + frag[at + 4 :]
    (tmp_path / "init.mp4").write_bytes(fmp4.init())
    (tmp_path / "seg1.m4s").write_bytes(frag)
    (tmp_path / "case.json").write_text(
        json.dumps(
            {
                "sourceBuffers": [{"id": "s", "type": 'video/mp4; codecs="avc1.4D400D"'}],
                "ops": [{"op": "append", "file": "init.mp4"}, {"op": "append", "file": "seg1.m4s"}],
            }
        )
    )
    r = CliRunner().invoke(cli, ["validate", "--scenario", str(tmp_path / "case.json"), "--format", "json"])
    doc = json.loads(r.stdout)
    errs = [
        (Path(f["path"]).name, x["rule"])
        for f in doc["files"]
        for x in f["findings"]
        if x["severity"] == "error"
    ]
    assert ("seg1.m4s", "BMFF-MEDIA-30") in errs, doc
