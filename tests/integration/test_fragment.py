"""``msetool fragment`` end to end: real ffmpeg, msetool's own validation, and real headless Chromium.

Each input is a few seconds of ffmpeg-made media with one property that has broken MSE packaging before
(B-frames, a GOP that does not divide the segment, audio starting late, 44.1 kHz, one track only).
The output must validate clean, and Chromium must buffer one range per track that covers the media.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from msetool.rules.engine import validate_stream
from msetool.rules.findings import Severity
from msetool.source import FileSource
from tests import media
from tests.integration.test_fragment_support import (
    INPUTS,
    ROOT,
    Server,
    append_in_chromium,
    fragment,
    http_root,
    load_manifest,
    make_input,
    msetool,
    publish,
)

__all__ = ["http_root"]

SAMPLE = ROOT / "samples" / "sample.mp4"

#: case -> (input name or "sample", extra fragment flags, expected duration)
CASES: dict[str, tuple[str, tuple[str, ...], float]] = {
    "sample": ("sample", (), 10.0),
    "bframes-copy": ("bframes", ("--copy",), 4.0),
    "bframes-transcode": ("bframes", ("--segment-duration", "1"), 4.0),
    "oddgop-copy": ("oddgop", ("--copy",), 4.0),
    "latestart": ("latestart", (), 4.0),
    "audio44k-muxed": ("audio44k", ("--muxed",), 4.0),
    "audio44k": ("audio44k", (), 4.0),
    "videoonly": ("videoonly", (), 4.0),
    "audioonly": ("audioonly", (), 4.0),
    "vp9-opus": ("audio44k", ("--video-codec", "vp9", "--audio-codec", "opus"), 4.0),
    "av1": ("videoonly", ("--video-codec", "av1"), 4.0),
    "ts-copy": ("ts", ("--copy",), 4.0),
    "adts-copy": ("adts", ("--copy",), 4.0),
}


@pytest.fixture(scope="session")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str, str]]:
    """Every case fragmented once: case -> (output folder, stdout, stderr)."""
    base = tmp_path_factory.mktemp("fragment")
    done = {}
    for case, (src_name, flags, _) in CASES.items():
        src = SAMPLE if src_name == "sample" else make_input(src_name)
        r = fragment(src, base / case, *flags)
        done[case] = (base / case, r.stdout, r.stderr)
    return done


def error_findings(out: Path) -> list[str]:
    doc = load_manifest(out)
    bad = []
    for r in doc["renditions"]:
        files = [out / r["init"], *(out / s["file"] for s in r["segments"])]
        sources = [FileSource(f, name=str(f.relative_to(out))) for f in files]
        try:
            v = validate_stream(sources, r["type"])
        finally:
            for s in sources:
                s.close()
        bad += [f"{f.rule} {f.file}@{f.offset}: {f.message}"
                for f in v.findings if f.severity is Severity.ERROR]
    return bad


@pytest.mark.parametrize("case", list(CASES))
def test_output_validates_clean(outputs: dict[str, tuple[Path, str, str]], case: str) -> None:
    out, stdout, _ = outputs[case]
    assert error_findings(out) == []
    assert "self-check (msetool validate): 0 error(s)" in stdout


@pytest.mark.parametrize("case", ["sample", "bframes-copy", "audio44k-muxed", "vp9-opus"])
def test_msetool_validate_cli_passes(outputs: dict[str, tuple[Path, str, str]], case: str) -> None:
    """What a user runs on the output: `msetool validate <track folder> --type <mse.json type>`."""
    out = outputs[case][0]
    for r in load_manifest(out)["renditions"]:
        res = msetool("validate", out / r["id"], "--type", r["type"], "--target-duration", "2")
        assert res.returncode == 0, f"{r['id']}: {res.stdout}{res.stderr}"
        assert "PASS" in res.stdout


@pytest.mark.parametrize("case", list(CASES))
def test_layout_and_manifest(outputs: dict[str, tuple[Path, str, str]], case: str) -> None:
    out, _, _ = outputs[case]
    doc = load_manifest(out)
    src_name, flags, expected = CASES[case]
    kinds = sorted(r["kind"] for r in doc["renditions"])
    if "--muxed" in flags:
        assert kinds == ["muxed"] and len(doc["renditions"][0]["codecs"]) == 2
    elif src_name == "videoonly":
        assert kinds == ["video"]
    elif src_name in ("audioonly", "adts"):
        assert kinds == ["audio"]
    else:
        assert kinds == ["audio", "video"]
    assert doc["duration"] == pytest.approx(expected, abs=0.1)
    for r in doc["renditions"]:
        # one track per init (CMAF) unless muxed; codecs string as derived from the init segment
        assert r["type"].startswith(("video/mp4; codecs=", "audio/mp4; codecs="))
        assert (out / r["init"]).is_file()
        segs = r["segments"]
        assert segs and all((out / s["file"]).is_file() for s in segs)
        for a, b in itertools.pairwise(segs):
            assert b["start"] == pytest.approx(a["start"] + a["duration"], abs=0.03)
    assert (out / "manifest.mpd").is_file() and (out / "master.m3u8").is_file()
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_codec_strings_come_from_the_init_segments(outputs: dict[str, tuple[Path, str, str]]) -> None:
    def codecs(case: str) -> dict[str, list[str]]:
        return {r["kind"]: r["codecs"] for r in load_manifest(outputs[case][0])["renditions"]}

    vp9 = codecs("vp9-opus")
    assert vp9["video"][0].startswith("vp09.00.") and vp9["audio"] == ["opus"]
    assert codecs("av1")["video"][0].startswith("av01.0.")
    assert codecs("sample") == {"video": ["avc1.64001E"], "audio": ["mp4a.40.2"]}  # High@3.0, AAC-LC
    assert codecs("audio44k")["audio"] == ["mp4a.40.2"]
    audio = next(r for r in load_manifest(outputs["audio44k"][0])["renditions"] if r["kind"] == "audio")
    assert (audio["sample_rate"], audio["channels"]) == (44100, 1)  # the sine source is mono
    # ADTS sources in --copy: aac_adtstoasc gave the esds its AudioSpecificConfig
    for case in ("ts-copy", "adts-copy"):
        assert codecs(case)["audio"] == ["mp4a.40.2"]


def test_transcoded_segments_hit_the_target(outputs: dict[str, tuple[Path, str, str]]) -> None:
    doc = load_manifest(outputs["bframes-transcode"][0])
    video = next(r for r in doc["renditions"] if r["kind"] == "video")
    assert [round(s["duration"], 3) for s in video["segments"]] == [1.0, 1.0, 1.0, 1.0]


def test_copy_warns_when_the_gop_does_not_fit(outputs: dict[str, tuple[Path, str, str]]) -> None:
    _, _, stderr = outputs["oddgop-copy"]
    assert "keyframes do not fit --segment-duration 2" in stderr
    _, _, stderr = outputs["bframes-copy"]
    assert "keyframes do not fit" not in stderr


@pytest.mark.browser
@pytest.mark.parametrize("case", list(CASES))
def test_appends_in_chromium(browser: Any, http_root: Server, outputs: dict[str, tuple[Path, str, str]],
                             case: str) -> None:
    out, _, _ = outputs[case]
    expected = CASES[case][2]
    result = append_in_chromium(browser, publish(http_root, out, case))
    assert all(result["supported"].values()), result
    assert result["errors"] == [] and result["mediaError"] is None, result
    assert result["buffered"], result
    # the presentation's duration is where its media ends for Chromium, its muxed audio included: a DASH
    # player takes mediaPresentationDuration as the end (dash.js pauses short of a later one)
    doc = load_manifest(out)
    assert doc["duration"] == pytest.approx(result["endedDuration"], abs=1e-3), result
    mpd = re.search(r'mediaPresentationDuration="PT([\d.]+)S"', (out / "manifest.mpd").read_text())
    assert mpd and float(mpd.group(1)) >= result["endedDuration"] - 1e-6, result
    predicted = predicted_ranges(outputs[case][1])
    for rid, ranges in result["buffered"].items():
        assert len(ranges) == 1, f"{rid}: {ranges}"
        start, end = ranges[0]
        assert start == pytest.approx(0.0, abs=0.05), f"{rid}: {ranges}"
        assert end == pytest.approx(expected, abs=0.1), f"{rid}: {ranges}"
        # the self-check's summary predicted what Chromium buffered (muxed: the intersection of tracks)
        spans = predicted[rid]
        assert len(spans) == 1 or CASES[case][1] == ("--muxed",)
        p_start = max(sp[0][0] for sp in spans)
        p_end = min(sp[-1][1] for sp in spans)
        assert (p_start, p_end) == (pytest.approx(start, abs=0.03), pytest.approx(end, abs=0.03)), spans


def predicted_ranges(summary: str) -> dict[str, list[list[tuple[float, float]]]]:
    """rendition id -> per-track ranges, from the 'buffered <kind>: [a, b) ...' lines of the summary."""
    out: dict[str, list[list[tuple[float, float]]]] = {}
    current = ""
    for line in summary.splitlines():
        m = re.match(r"^  (\S+)\s+\d+ segments", line)
        if m:
            current = m.group(1)
            out[current] = []
        m = re.match(r"^\s+buffered \w+: (.*)$", line)
        if m and current:
            pairs = re.findall(r"\[([-\d.]+), ([-\d.]+)\)", m.group(1))
            out[current].append([(float(a), float(b)) for a, b in pairs])
    return out


def test_bad_input_exit_codes(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not media\n")
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    mpeg2 = media.make("frag-in-mpeg2", ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "1",
                                         "-c:v", "mpeg2video"], suffix=".ts")
    cases = {
        "missing file": ([tmp_path / "nope.mp4", "--out", tmp_path / "o1"], "no such file"),
        "not media": ([text, "--out", tmp_path / "o2"], "not a media file"),
        "unsupported codec": ([mpeg2, "--out", tmp_path / "o3", "--copy"], "mpeg2video"),
        "unwritable output": ([SAMPLE, "--out", blocker / "o4"], "cannot create"),
        "bad rendition": ([SAMPLE, "--out", tmp_path / "o5", "--rendition", "720p"], "bad rendition"),
        "unknown encoder": ([SAMPLE, "--out", tmp_path / "o6", "--video-codec", "mpeg4"],
                            "unsupported video codec"),
        "output exists": ([SAMPLE, "--out", tmp_path], "already exists"),
    }
    for what, (args, message) in cases.items():
        r = msetool("fragment", *args)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 2, f"{what}: {r.returncode} {r.stderr}"
        assert len(lines) == 1 and lines[0].startswith("msetool: error:") and message in lines[0], what
        assert "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "notes.txt"]


def test_ffmpeg_failure_prints_its_stderr_and_leaves_nothing(tmp_path: Path) -> None:
    """A wrapper ffmpeg that probes fine but fails mid-packaging after writing a partial segment."""
    real = media.ffmpeg_exe()
    fake = tmp_path / "ffmpeg"
    fake.write_text(
        "#!/bin/sh\n"
        # the segment goes next to the MPD ffmpeg was asked for, in msetool's temporary folder
        'case "$*" in *-progress*) for a; do case "$a" in *.mpd) d="${a%/*}";; esac; done;'
        ' [ -d "$d" ] || exit 3; echo partial > "$d/seg-0-00001.m4s"; echo partial > "$d/../.seen-$$";'
        ' echo "[dash @ 0x1] Error: disk on fire" >&2; exit 1;; esac\n'
        f'exec "{real}" "$@"\n'
    )
    fake.chmod(0o755)
    out = tmp_path / "out"
    r = msetool("fragment", SAMPLE, "--out", out, env={"MSETOOL_FFMPEG": str(fake)})
    assert r.returncode == 2
    assert "disk on fire" in r.stderr and "Traceback" not in r.stderr
    # the fake wrote its partial segment (it leaves a note beside the temporary folder), which is gone
    seen = [p.name for p in tmp_path.iterdir() if p.name.startswith(".seen-")]
    assert len(seen) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ffmpeg", *seen])


def test_verbose_names_the_ffmpeg(tmp_path: Path) -> None:
    r = msetool("fragment", make_input("audioonly"), "--out", tmp_path / "o", "--verbose", "--no-check")
    assert r.returncode == 0, r.stderr
    assert f"ffmpeg: {media.ffmpeg_exe()} (from MSETOOL_FFMPEG)" in r.stderr
    assert "self-check: skipped" in r.stdout
    assert json.loads((tmp_path / "o" / "mse.json").read_text())["renditions"][0]["id"] == "audio"


def test_inputs_table_is_used() -> None:
    assert {c[0] for c in CASES.values()} - {"sample"} == set(INPUTS)


def test_ctrl_c_mid_ffmpeg_leaves_nothing(tmp_path: Path) -> None:
    """SIGINT to the whole process group, as a terminal's Ctrl-C sends it, while ffmpeg is encoding."""
    env = {**os.environ, "MSETOOL_FFMPEG": os.environ.get("MSETOOL_FFMPEG", media.ffmpeg_exe())}
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "msetool", "fragment", str(SAMPLE), "--out", str(out), "--preset", "veryslow",
         "--ladder", "--no-check"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    # wait until ffmpeg has started writing into the temporary folder
    while time.monotonic() < deadline and not any(p.name.startswith(".out.msetool-")
                                                  for p in tmp_path.iterdir()):
        time.sleep(0.05)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


def test_self_check_reports_a_duration_short_of_the_muxed_audio(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """With the presentation's duration taken from the video's timeline alone (the bug that made dash.js
    pause short of the end), the self-check's simulator sees the muxed AAC run past it and says so."""
    from msetool.fragment import package
    from msetool.fragment.plan import FragmentOptions
    from msetool.fragment.runner import FfmpegBinary

    monkeypatch.setattr(package, "_media_end", lambda tracks, timings: None)
    opts = FragmentOptions(make_input("audio44k"), tmp_path / "out", muxed=True, preset="ultrafast")
    result = package.fragment(opts, binary=FfmpegBinary(media.ffmpeg_exe(), "test"))
    assert result.presentation.duration == 4.0  # the video's end
    assert result.check is not None
    found = [f for f in result.check.findings if f.rule == "fragment-duration"]
    assert [f.message.split(" is buffered")[0] for f in found] == ["muxed audio"], found
