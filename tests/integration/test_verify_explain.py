"""msetool explain without a browser: Chromium's messages mapped to rules and located in ffmpeg-made or
byte-patched files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from msetool.browser.explain import catalog_rules, explain, parse_message
from msetool.scenario import parse_scenario
from tests import media

UNFRAGMENTED = (
    "PipelineStatus::CHUNK_DEMUXER_ERROR_APPEND_FAILED: Failure parsing MP4: Detected unfragmented MP4. "
    "Media Source Extensions require ISO BMFF moov to contain mvex to indicate that Movie Fragments are "
    "to be expected."
)


def test_parse_message_splits_status_and_detail() -> None:
    m = parse_message(
        "  PipelineStatus::CHUNK_DEMUXER_ERROR_APPEND_FAILED:   Found Cluster element\nbefore Info. "
    )
    assert m["status"] == "CHUNK_DEMUXER_ERROR_APPEND_FAILED"
    assert m["detail"] == "Found Cluster element before Info."
    assert parse_message("Found Cluster element before Info.")["status"] is None


@pytest.mark.parametrize(
    ("detail", "rule_prefix"),
    [
        ("Found Cluster element before Info.", "WEBM-"),
        ("Reserved value used in sample dependency info.", "BMFF-"),
        ("Video stream codec h264 doesn't match SourceBuffer codecs.", ("CODEC-", "BMFF-INIT-")),
    ],
)
def test_catalog_quotes_map_messages_to_rules(detail: str, rule_prefix: str | tuple[str, ...]) -> None:
    rules = catalog_rules(detail)
    assert rules and all(r.startswith(rule_prefix) for r in rules)
    assert catalog_rules("RunSegmentParserLoop: stream parsing failed.") == []


def test_explain_locates_unfragmented_mp4(tmp_path: Path) -> None:
    plain = media.make("plain-avc", [*media.VIDEO_SRC, "-t", "1", *media.H264, "-an"])
    sc = parse_scenario(
        {
            "sourceBuffers": [{"id": "sb0", "type": 'video/mp4; codecs="avc1.4D400D"'}],
            "ops": [{"op": "append", "file": plain.name}],
        },
        plain.parent,
    )
    r = explain(UNFRAGMENTED, sc)
    assert r["located"] and r["cause"]["file"] == plain.name
    assert r["cause"]["box"].startswith("moov")
    assert r["cause"]["rule"] in r["rules"]


def test_explain_cli_exit_codes(avc_segments: tuple[Path, list[Path]], tmp_path: Path) -> None:
    init, segs = avc_segments

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "msetool", "explain", *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )

    # Clean files: nothing explains an append failure -> exit 1, and says so.
    p = run(UNFRAGMENTED, str(init), str(segs[0]))
    assert p.returncode == 1 and "not located" in p.stdout
    # No files: the meaning and the rules, and how to locate it.
    p = run(UNFRAGMENTED)
    assert p.returncode == 1 and "BMFF-INIT-05" in p.stdout
    # Empty message: usage error.
    p = run("  ")
    assert p.returncode == 2 and p.stderr.count("\n") == 1
