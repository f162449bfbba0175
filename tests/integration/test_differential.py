"""Differential end-to-end test: the same scenarios in real headless Chromium and in msetool's simulator.

The browser is the judge. Each scenario runs through msetool.browser's harness (a new page in the session's
Chromium) and through the simulator with the ``chromium`` profile; after every operation the two must agree
the way the oracle's scorer compares them (buffered ranges within 1 ms per source buffer, failed-or-not,
MediaSource readyState and duration). Nothing expected is written down here: only agreement is asserted,
plus a sanity check that each scenario really exercises what its name says (so a harness that recorded
nothing could not pass). Media: small ffmpeg-made files cached by tests/media.py, cut into segments and
patched byte by byte here. scripts/difftest.py runs a much larger corpus of the same kind.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from msetool.browser import ChromiumHarness, Settle
from msetool.browser.compare import failed, step_differences
from msetool.cli.verify_cmd import run_simulator
from msetool.scenario import Scenario, parse_scenario
from tests import media

pytestmark = pytest.mark.browser

AAC = 'audio/mp4; codecs="mp4a.40.2"'


def _avc(init: bytes) -> str:
    at = init.index(b"avcC") + 4
    return f"avc1.{init[at + 1 : at + 4].hex().upper()}"


def _avc_type(init: bytes) -> str:
    return f'video/mp4; codecs="{_avc(init)}"'


def _write(d: Path, files: dict[str, bytes]) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (d / name).write_bytes(data)


def _fmp4_files(path: Path, prefix: str = "") -> dict[str, bytes]:
    init, segs = b"", []
    cur = b""
    for typ, _off, data in media.split_top_level(path.read_bytes()):
        if typ in ("ftyp", "moov"):
            init += data
        elif typ == "moof" and b"mdat" in cur:
            segs.append(cur)
            cur = data
        elif typ != "mfra":
            cur += data
    segs.append(cur)
    out = {f"{prefix}init.mp4": init}
    out.update({f"{prefix}seg{i}.m4s": s for i, s in enumerate(segs, 1)})
    return out


def _vint(data: bytes, pos: int) -> tuple[int, int]:
    n = 1
    while not data[pos] & (0x80 >> (n - 1)):
        n += 1
    val = data[pos] & (0xFF >> n)
    for b in data[pos + 1 : pos + n]:
        val = (val << 8) | b
    return val, n


def _id_len(first: int) -> int:
    n = 1
    while not first & (0x80 >> (n - 1)):
        n += 1
    return n


def _webm_files(path: Path) -> dict[str, bytes]:
    """init (EBML header + Segment header, unknown size, + elements before the first Cluster), clusters
    rewritten with unknown sizes (live style)."""
    data = path.read_bytes()
    n = _id_len(data[0])
    size, sn = _vint(data, n)
    seg = n + sn + size
    n = _id_len(data[seg])
    _, sn = _vint(data, seg + n)
    unknown = bytes([0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
    init = data[: seg + n] + unknown
    clusters: list[bytes] = []
    p = seg + n + sn
    while p < len(data):
        en = _id_len(data[p])
        esz, esn = _vint(data, p + en)
        eid = data[p : p + en]
        if eid == b"\x1f\x43\xb6\x75":
            clusters.append(eid + unknown + data[p + en + esn : p + en + esn + esz])
        elif not clusters and eid not in (b"\x1c\x53\xbb\x6b", b"\x12\x54\xc3\x67"):  # no Cues, Tags
            init += data[p : p + en + esn + esz]
        p += en + esn + esz
    out = {"init.webm": init}
    out.update({f"c{i}.webm": c for i, c in enumerate(clusters, 1)})
    return out


def _scenario(d: Path, sbs: list[tuple[str, str]], ops: list[dict[str, Any]]) -> Scenario:
    return parse_scenario(
        {"id": d.name, "sourceBuffers": [{"id": i, "type": t} for i, t in sbs], "ops": ops}, d
    )


def ap(file: str, **kw: Any) -> dict[str, Any]:
    return {"op": "append", "file": file, **kw}


# --- media (session-cached by tests/media.py) --------------------------------------------------------------

V_B = [*media.VIDEO_SRC[:-1], "testsrc2=size=320x180:rate=25"]
H264_BF = [
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-profile:v",
    "main",
    "-pix_fmt",
    "yuv420p",
    "-g",
    "25",
    "-keyint_min",
    "25",
    "-sc_threshold",
    "0",
    "-bf",
    "2",
]
AUDIO_44K = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]


@pytest.fixture(scope="module")
def harness(browser: Any) -> Iterator[ChromiumHarness]:
    h = ChromiumHarness(browser=browser, settle=Settle(media_log_ms=0, quiet_ms=150, max_ms=800))
    yield h
    h.close()


def _muxed_bframes(tmp: Path) -> Scenario:
    """H.264 with B-frames + AAC 44.1 kHz muxed: equal DTS across tracks, appendWindow trims mid-frame."""
    src = media.make("diff-avcbf-aac44", [*V_B, *AUDIO_44K, "-t", "3", *H264_BF, *media.AAC, *media.FRAG])
    files = _fmp4_files(src)
    _write(tmp, files)
    init = files["init.mp4"]
    ops = [
        ap("init.mp4"),
        ap("seg1.m4s"),
        {"op": "set", "appendWindowStart": 1.3, "appendWindowEnd": 2.51},
        ap("seg2.m4s"),
        ap("seg3.m4s"),
        {"op": "remove", "start": 0.5, "end": 1.0},
        {"op": "endOfStream"},
    ]
    return _scenario(tmp, [("sb0", f'video/mp4; codecs="{_avc(init)},mp4a.40.2"')], ops)


def _audio_sequence(tmp: Path) -> Scenario:
    """AAC in sequence mode, out of order, with a fractional timestampOffset and an abort mid-segment."""
    files = _fmp4_files(media.fmp4_aac())
    _write(tmp, files)
    n = len(files["seg2.m4s"])
    ops = [
        {"op": "set", "mode": "sequence"},
        ap("init.mp4"),
        ap("seg3.m4s"),
        ap("seg1.m4s"),
        {"op": "set", "timestampOffset": 4.0123},
        ap("seg2.m4s", range=[0, n // 2]),
        {"op": "abort"},
        ap("seg2.m4s"),
        {"op": "remove", "start": 1.01, "end": 1.5},
    ]
    return _scenario(tmp, [("sb0", AAC)], ops)


def _two_buffers(tmp: Path) -> Scenario:
    """Separate video and audio SourceBuffers, a gap, a duration change below the buffered end, eos."""
    files = {**_fmp4_files(media.fmp4_avc(), "v_"), **_fmp4_files(media.fmp4_aac(), "a_")}
    _write(tmp, files)
    ops = [
        ap("v_init.mp4", sb="v"),
        ap("a_init.mp4", sb="a"),
        ap("v_seg1.m4s", sb="v"),
        ap("a_seg1.m4s", sb="a"),
        ap("v_seg3.m4s", sb="v"),
        ap("a_seg2.m4s", sb="a"),
        {"op": "set", "duration": 1.5},
        {"op": "set", "duration": 10},
        {"op": "endOfStream"},
    ]
    return _scenario(tmp, [("v", _avc_type(files["v_init.mp4"])), ("a", AAC)], ops)


def _broken_track_id(tmp: Path) -> Scenario:
    """seg2's tfhd names a track the init segment does not have: append error, then InvalidStateError."""
    files = _fmp4_files(media.fmp4_avc())
    seg = bytearray(files["seg2.m4s"])
    at = seg.index(b"tfhd") + 8
    seg[at : at + 4] = struct.pack(">I", 9)
    files["seg2.m4s"] = bytes(seg)
    _write(tmp, files)
    ops = [ap("init.mp4"), ap("seg1.m4s"), ap("seg2.m4s"), ap("seg3.m4s"), {"op": "endOfStream"}]
    return _scenario(tmp, [("sb0", _avc_type(files["init.mp4"]))], ops)


def _webm(tmp: Path) -> Scenario:
    """VP9 WebM with unknown-size clusters, one skipped, one split over two appends, a timestampOffset."""
    src = _vp9_webm()
    files = _webm_files(src)
    _write(tmp, files)
    n = len(files["c3.webm"])
    ops = [
        ap("init.webm"),
        ap("c1.webm"),
        ap("c3.webm", range=[0, 9]),
        ap("c3.webm", range=[9, n]),
        {"op": "set", "timestampOffset": 0.5},
        ap("c4.webm"),
        {"op": "endOfStream"},
    ]
    return _scenario(tmp, [("sb0", 'video/webm; codecs="vp9"')], ops)


def _ts(tmp: Path) -> Scenario:
    """MPEG-2 TS H.264+AAC: in two packet-aligned halves, then the first half again 5 s later, a remove."""
    src = media.make(
        "diff-ts",
        [*media.VIDEO_SRC, *media.AUDIO_SRC, "-t", "2", *media.H264, *media.AAC, "-f", "mpegts"],
        suffix=".ts",
    )
    data = src.read_bytes()
    _write(tmp, {"a.ts": data})
    cut = (len(data) // 188 // 2) * 188
    ops = [
        ap("a.ts", range=[0, cut]),
        ap("a.ts", range=[cut, len(data)]),
        {"op": "set", "timestampOffset": 5},
        ap("a.ts", range=[0, cut]),
        {"op": "remove", "start": 0, "end": 1.6},
    ]
    return _scenario(tmp, [("sb0", 'video/mp2t; codecs="avc1.4D401E,mp4a.40.2"')], ops)


def _adts(tmp: Path) -> Scenario:
    """Raw ADTS cut at arbitrary bytes (frames span appends), appendWindowEnd mid-frame, endOfStream."""
    src = media.make("diff-adts", [*AUDIO_44K, "-t", "2", *media.AAC, "-f", "adts"], suffix=".aac")
    data = src.read_bytes()
    _write(tmp, {"a.aac": data})
    n = len(data)
    ops = [
        {"op": "set", "appendWindowEnd": 1.23},
        ap("a.aac", range=[0, 1001]),
        ap("a.aac", range=[1001, n]),
        {"op": "endOfStream"},
    ]
    return _scenario(tmp, [("sb0", "audio/aac")], ops)


def _vp9_webm() -> Path:
    args = [*media.VIDEO_SRC, "-t", "4", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"]
    args += ["-b:v", "200k", "-g", "30", "-keyint_min", "30", "-an", "-f", "webm", "-dash", "1"]
    return media.make("diff-vp9", args, suffix=".webm")


def _changetype(tmp: Path) -> Scenario:
    """H.264 fMP4 then changeType() to WebM VP9 with a timestampOffset, overlapping the H.264 data."""
    files = {**_fmp4_files(media.fmp4_avc()), **{f"w_{k}": v for k, v in _webm_files(_vp9_webm()).items()}}
    _write(tmp, files)
    ops = [
        ap("init.mp4"),
        ap("seg1.m4s"),
        ap("seg2.m4s"),
        {"op": "changeType", "type": 'video/webm; codecs="vp9"'},
        {"op": "set", "timestampOffset": 1.5},
        ap("w_init.webm"),
        ap("w_c1.webm"),
        ap("w_c2.webm"),
        {"op": "remove", "start": 0.2, "end": 0.4},
    ]
    return _scenario(tmp, [("sb0", _avc_type(files["init.mp4"]))], ops)


def _error_then_eos(tmp: Path) -> Scenario:
    """An append error (seg3's moof declares a size of 16), then remove() reopens the MediaSource, appends
    throw, and endOfStream() runs on a demuxer that already failed."""
    files = _fmp4_files(media.fmp4_avc())
    files["seg3.m4s"] = struct.pack(">I", 16) + files["seg3.m4s"][4:]
    _write(tmp, files)
    ops = [
        ap("init.mp4"),
        ap("seg1.m4s"),
        ap("seg2.m4s"),
        ap("seg3.m4s"),
        {"op": "remove", "start": 0, "end": 0.5},
        ap("seg4.m4s"),
        {"op": "endOfStream"},
    ]
    return _scenario(tmp, [("sb0", _avc_type(files["init.mp4"]))], ops)


SCENARIOS: dict[str, Callable[[Path], Scenario]] = {
    "muxed_bframes_appendwindow": _muxed_bframes,
    "audio_sequence_abort": _audio_sequence,
    "two_source_buffers_duration": _two_buffers,
    "broken_track_id": _broken_track_id,
    "broken_then_end_of_stream": _error_then_eos,
    "changetype_mp4_to_webm": _changetype,
    "webm_unknown_size_clusters": _webm,
    "ts_halves_offset": _ts,
    "adts_unaligned_window": _adts,
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_simulator_agrees_with_chromium(
    name: str, harness: ChromiumHarness, tmp_path_factory: pytest.TempPathFactory
) -> None:
    scenario = SCENARIOS[name](tmp_path_factory.mktemp(name))
    browser = harness.run(scenario)
    sim = run_simulator(scenario, "chromium")
    bsteps, ssteps = browser["steps"], sim["steps"]
    assert len(bsteps) == len(ssteps) == len(scenario.ops)
    # The browser really did something: media got buffered (or, for the broken case, an append failed).
    assert any(
        sb.get("buffered") for st in bsteps for sb in (st["state"].get("sourceBuffers") or {}).values()
    )
    if name.startswith("broken"):
        assert any(failed(st) for st in bsteps)
    diffs = {i: step_differences(s, b) for i, (s, b) in enumerate(zip(ssteps, bsteps, strict=True))}
    bad = {i: (bsteps[i]["op"], why) for i, why in diffs.items() if why}
    assert not bad, f"simulator vs Chromium: {bad}"
