"""msetool verify in real headless Chromium: the harness on ffmpeg-made segments, an append error on a
byte-built broken segment, explain on the browser's own message, and the CLI's exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from msetool.browser import ChromiumHarness, Settle
from msetool.browser.compare import same_number, same_ranges, step_differences
from msetool.scenario import Scenario, parse_scenario

pytestmark = pytest.mark.browser

TYPE = 'video/mp4; codecs="avc1.4D400D"'


def _scenario(base: Path, ops: list[dict[str, Any]]) -> Scenario:
    return parse_scenario({"id": base.name, "sourceBuffers": [{"id": "sb0", "type": TYPE}], "ops": ops}, base)


def _tfhd_track_id_offset(data: bytes) -> int:
    """Byte offset of the track_ID field of the first tfhd (box header, then version+flags, then it)."""
    at = data.index(b"tfhd")
    return at + 4 + 4


@pytest.fixture(scope="module")
def harness(browser: Any) -> Iterator[ChromiumHarness]:
    """The session's Chromium, driven through msetool's harness (no second browser is started)."""
    h = ChromiumHarness(browser=browser, settle=Settle(media_log_ms=0, quiet_ms=150))
    yield h
    h.close()


@pytest.fixture(scope="module")
def broken_dir(tmp_path_factory: pytest.TempPathFactory, avc_segments: tuple[Path, list[Path]]) -> Path:
    """init + seg1 + a seg2 whose tfhd names track 7 (the init segment only has track 1) + seg3."""
    init, segs = avc_segments
    d = tmp_path_factory.mktemp("broken")
    (d / "init.mp4").write_bytes(init.read_bytes())
    (d / "seg1.m4s").write_bytes(segs[0].read_bytes())
    data = bytearray(segs[1].read_bytes())
    off = _tfhd_track_id_offset(bytes(data))
    assert int.from_bytes(data[off : off + 4], "big") == 1
    data[off : off + 4] = (7).to_bytes(4, "big")
    (d / "seg2.m4s").write_bytes(bytes(data))
    (d / "seg3.m4s").write_bytes(segs[2].read_bytes())
    return d


def _buffered(step: dict[str, Any]) -> Any:
    return step["state"]["sourceBuffers"]["sb0"]["buffered"]


def test_harness_reproduces_buffered_ranges(
    harness: ChromiumHarness, avc_segments: tuple[Path, list[Path]]
) -> None:
    init, segs = avc_segments
    base = init.parent
    ops = (
        [{"op": "append", "file": "init.mp4"}]
        + [{"op": "append", "file": segs[i].name} for i in (0, 2, 1)]
        + [{"op": "remove", "start": 0, "end": 0.5}, {"op": "endOfStream"}]
    )
    rec = harness.run(_scenario(base, ops))
    steps = rec["steps"]
    assert [s["exception"] for s in steps] == [None] * len(ops)
    assert all(not (s.get("wait") or {}).get("error") for s in steps)
    # init: metadata but nothing buffered; the MediaSource is open with an unknown duration.
    assert _buffered(steps[0]) == []
    assert steps[0]["state"]["video"]["readyState"] == 1
    assert steps[0]["state"]["video"]["videoWidth"] == 320
    # 1 s fragments: seg1 -> [0,1); seg3 leaves a hole at [1,2); seg2 fills it.
    assert same_ranges(_buffered(steps[1]), [[0, 1]])
    assert same_ranges(_buffered(steps[2]), [[0, 1], [2, 3]])
    assert same_ranges(_buffered(steps[3]), [[0, 3]])
    # Removing [0, 0.5) of a 1 s GOP drops the whole GOP up to the next keyframe.
    assert same_ranges(_buffered(steps[4]), [[1, 3]])
    # endOfStream: the duration becomes the highest end time and readyState 'ended'.
    ms = steps[5]["state"]["mediaSource"]
    assert ms["readyState"] == "ended"
    assert same_number(ms["duration"], 3)
    kinds = [e["type"] for e in steps[1]["events"]]
    assert kinds[:3] == ["updatestart", "update", "updateend"]
    assert "sourceended" in [e["type"] for e in steps[5]["events"]]


def test_harness_records_append_error(browser: Any, broken_dir: Path) -> None:
    # The default settle waits for Chromium's batched media log, so the parser's own words land in the step.
    h = ChromiumHarness(browser=browser)
    ops = [{"op": "append", "file": f} for f in ("init.mp4", "seg1.m4s", "seg2.m4s", "seg3.m4s")]
    rec = h.run(_scenario(broken_dir, ops))
    _, s1, s2, s3 = rec["steps"]
    assert not s1["wait"]["error"] and same_ranges(_buffered(s1), [[0, 1]])
    assert s2["wait"] == {"how": "updateend", "error": True, "abort": False}
    assert s2["sbErrorEvent"] is True
    types = [e["type"] for e in s2["events"]]
    assert types.index("error") < types.index("updateend")
    err = s2["state"]["video"]["error"]
    assert err is not None and "CHUNK_DEMUXER_ERROR_APPEND_FAILED" in err["message"]
    assert same_ranges(_buffered(s2), [[0, 1]])
    assert any(m["kind"] == "error" for m in s2["mediaLog"]), s2["mediaLog"]
    # The append error algorithm: every later append throws.
    assert s3["exception"]["name"] == "InvalidStateError"
    assert "wait" not in s3
    # The whole record keeps the media log with the step that caused each entry.
    assert any(m["op"] == 2 and m["kind"] == "error" for m in rec["mediaLog"])

    # explain: the browser's own message, pointed back at the patched bytes.
    from msetool.browser.explain import explain

    result = explain(err["message"], _scenario(broken_dir, ops))
    assert result["located"], result
    assert result["cause"]["file"] == "seg2.m4s"
    assert result["status"] == "CHUNK_DEMUXER_ERROR_APPEND_FAILED"


def test_compare_flags_differences_beyond_one_millisecond() -> None:
    ref = {
        "state": {
            "sourceBuffers": {"sb0": {"buffered": [[0, 1.999999]]}},
            "mediaSource": {"readyState": "open", "duration": "Infinity"},
        }
    }
    near = {
        "state": {
            "sourceBuffers": {"sb0": {"buffered": [[0, 2.0]]}},
            "mediaSource": {"readyState": "open", "duration": "Infinity"},
        }
    }
    far = {
        "state": {
            "sourceBuffers": {"sb0": {"buffered": [[0, 2.0015]]}},
            "mediaSource": {"readyState": "open", "duration": "Infinity"},
        }
    }
    assert step_differences(near, ref) == []
    assert any("buffered" in w for w in step_differences(far, ref))
    assert any("failed" in w for w in step_differences({**near, "error": {"message": "x"}}, ref))
    assert any(
        "duration" in w
        for w in step_differences(
            {"state": {**near["state"], "mediaSource": {"readyState": "open", "duration": 5}}}, ref
        )
    )


def _msetool(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "msetool", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_verify_cli_without_chromium_says_how_to_install(broken_dir: Path, tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(
        json.dumps(
            {
                "sourceBuffers": [{"id": "sb0", "type": TYPE}],
                "ops": [{"op": "append", "file": str(broken_dir / "init.mp4")}],
            }
        )
    )
    p = _msetool("verify", "--scenario", str(case), env={"MSETOOL_CHROMIUM": str(tmp_path / "no-chromium")})
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "apt-get install -y chromium" in lines[0]
    assert p.stdout == ""


def test_verify_cli_json_browser_only(broken_dir: Path) -> None:
    case = broken_dir / "case.json"
    case.write_text(
        json.dumps(
            {
                "id": "broken",
                "sourceBuffers": [{"id": "sb0", "type": TYPE}],
                "ops": [{"op": "append", "file": f} for f in ("init.mp4", "seg1.m4s", "seg2.m4s")],
            }
        )
    )
    p = _msetool("verify", "--scenario", str(case), "--browser-only", "--fast", "--format", "json")
    assert p.returncode == 1, p.stderr  # an append failed in the browser
    doc = json.loads(p.stdout)
    assert doc["simulator"] is None and doc["differences"] == []
    steps = doc["browser"]["steps"]
    assert [s["error"] is not None for s in steps] == [False, False, True]
    assert "CHUNK_DEMUXER_ERROR_APPEND_FAILED" in steps[2]["error"]["message"]
    assert same_ranges(steps[2]["state"]["sourceBuffers"]["sb0"]["buffered"], [[0, 1]])


def test_harness_batch_runs_calls_back_to_back(
    harness: ChromiumHarness, avc_segments: tuple[Path, list[Path]]
) -> None:
    init, segs = avc_segments
    ops = [
        {"op": "append", "file": "init.mp4"},
        {"op": "append", "file": segs[0].name},
        {
            "op": "batch",
            "ops": [
                {"op": "append", "file": segs[1].name, "wait": False},
                {"op": "set", "timestampOffset": 5},
                {"op": "abort"},
            ],
        },
        {"op": "waitIdle"},
        {"op": "set", "mode": "sequence", "timestampOffset": 10},
        {"op": "append", "file": segs[2].name},
    ]
    rec = harness.run(_scenario(init.parent, ops))
    batch = rec["steps"][2]["batch"]
    assert batch[0]["exception"] is None and batch[0]["bytes"] == segs[1].stat().st_size
    assert batch[1]["exception"]["name"] == "InvalidStateError"  # still updating
    assert batch[2]["exception"] is None
    types = [e["type"] for e in rec["steps"][2]["events"] if e["target"] == "sb:sb0"]
    assert types == ["updatestart", "abort", "updateend"]
    sb = rec["steps"][3]["state"]["sourceBuffers"]["sb0"]
    assert sb["updating"] is False and sb["timestampOffset"] == 0
    assert same_ranges(sb["buffered"], [[0, 1]])  # the aborted append added nothing
    # Settable again once idle; sequence mode places seg3 right after what is buffered, shifted by 10 s.
    last = rec["steps"][5]["state"]["sourceBuffers"]["sb0"]
    assert last["mode"] == "sequence"
    assert same_ranges(last["buffered"], [[0, 1], [10, 11]])


def test_verify_cli_exit_code_follows_the_comparison(
    avc_segments: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    """An HEVC type this Chromium cannot play: the chromium profile predicts the refusal (exit 0, same),
    the spec profile accepts the type and so differs from the browser (exit 1)."""
    init, segs = avc_segments
    case = tmp_path / "case.json"
    case.write_text(
        json.dumps(
            {
                "sourceBuffers": [{"id": "sb0", "type": 'video/mp4; codecs="hvc1.1.6.L93.B0"'}],
                "ops": [{"op": "append", "file": str(p)} for p in (init, segs[0])],
            }
        )
    )
    same = _msetool("verify", "--scenario", str(case), "--fast", "--format", "json")
    assert same.returncode == 0, same.stdout[-2000:] + same.stderr
    doc = json.loads(same.stdout)
    assert doc["same"] is True and doc["differences"] == []
    assert doc["browser"]["setup"]["addSourceBuffer"][0]["ok"] is False
    diff = _msetool("verify", "--scenario", str(case), "--fast", "--profile", "spec")
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "≠" in diff.stdout and "different at" in diff.stdout.splitlines()[-1]
