"""`msetool simulate` end to end on ffmpeg-made fragmented MP4 (tests/media.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from msetool.cli.simulate_cmd import simulate
from tests import media


@pytest.fixture(scope="module")
def muxed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """init.mp4 + seg*.m4s of 4 s H.264 (1 s GOP) + AAC, one fragment per second."""
    return media.split_fmp4(media.fmp4_avc_aac(), tmp_path_factory.mktemp("avc-aac-segs"))


def run(*args: str) -> tuple[int, Any, str]:
    res = CliRunner().invoke(simulate, list(args), catch_exceptions=False)
    try:
        data = json.loads(res.output)
    except ValueError:
        data = None
    return res.exit_code, data, res.output


def final_buffered(data: dict[str, Any], sb: str = "sb0") -> list[list[float]]:
    return data["steps"][-1]["state"]["sourceBuffers"][sb]["buffered"]  # type: ignore[no-any-return]


def test_in_order_segments_buffer_one_range(avc_segments: tuple[Path, list[Path]]) -> None:
    init, segs = avc_segments
    code, data, _ = run(str(init), *map(str, segs), "--format", "json")
    assert code == 0
    (rng,) = final_buffered(data)
    assert rng[0] == 0
    assert 3.9 < rng[1] < 4.1  # ffmpeg made 4 s of video
    assert all(s["error"] is None and s["exception"] is None for s in data["steps"])
    assert data["steps"][0]["state"]["mediaSource"]["duration"] == "Infinity"  # empty_moov: no duration


def test_missing_segment_leaves_a_gap_and_a_stall_warning(avc_segments: tuple[Path, list[Path]]) -> None:
    init, segs = avc_segments
    code, data, _ = run(str(init), str(segs[0]), *map(str, segs[2:]), "--format", "json")
    assert code == 0
    ranges = final_buffered(data)
    assert len(ranges) == 2
    gap_warnings = [w for s in data["steps"] for w in s["warnings"] if w["kind"] == "gap"]
    assert gap_warnings and gap_warnings[0]["start"] == pytest.approx(ranges[0][1])


def test_profiles_differ_in_microsecond_truncation(avc_segments: tuple[Path, list[Path]]) -> None:
    init, segs = avc_segments
    _, chromium, _ = run(str(init), *map(str, segs), "--format", "json")
    _, spec, _ = run(str(init), *map(str, segs), "--format", "json", "--profile", "spec")
    c_end, s_end = final_buffered(chromium)[0][1], final_buffered(spec)[0][1]
    assert c_end < s_end <= c_end + 2e-6  # Chromium truncates PTS and duration to µs separately


def test_muxed_audio_video_and_end_of_stream(muxed: tuple[Path, list[Path]], tmp_path: Path) -> None:
    init, segs = muxed
    scenario = {
        "sourceBuffers": [{"id": "av", "type": 'video/mp4; codecs="avc1.4D401E,mp4a.40.2"'}],
        "ops": [{"op": "append", "file": str(init), "sb": "av"}]
        + [{"op": "append", "file": str(s), "sb": "av"} for s in segs]
        + [{"op": "endOfStream"}],
    }
    path = tmp_path / "case.json"
    path.write_text(json.dumps(scenario))
    code, data, _ = run("--scenario", str(path), "--format", "json")
    assert code == 0, data["steps"]
    before, after = data["steps"][-2], data["steps"][-1]
    assert after["state"]["mediaSource"]["readyState"] == "ended"
    # ended: the last range reaches the highest end of either track; duration follows it
    end_before = before["state"]["sourceBuffers"]["av"]["buffered"][-1][1]
    end_after = after["state"]["sourceBuffers"]["av"]["buffered"][-1][1]
    assert end_after >= end_before
    assert after["state"]["mediaSource"]["duration"] == pytest.approx(end_after)
    assert {"target": "mediaSource", "type": "sourceended"} in after["events"]


def test_split_appends_equal_whole_appends(avc_segments: tuple[Path, list[Path]], tmp_path: Path) -> None:
    init, segs = avc_segments
    ops: list[dict[str, Any]] = [{"op": "append", "file": str(init)}]
    for s in segs:
        size = s.stat().st_size
        ops += [
            {"op": "append", "file": str(s), "range": [0, size // 3]},
            {"op": "append", "file": str(s), "range": [size // 3, size]},
        ]
    path = tmp_path / "split.yaml"
    import yaml

    path.write_text(
        yaml.safe_dump(
            {"sourceBuffers": [{"id": "sb0", "type": 'video/mp4; codecs="avc1.4D401E"'}], "ops": ops}
        )
    )
    code, data, _ = run("--scenario", str(path), "--format", "json")
    _, whole, _ = run(str(init), *map(str, segs), "--format", "json")
    assert code == 0
    assert final_buffered(data) == final_buffered(whole)


def test_garbage_before_init_closes_the_media_source(
    avc_segments: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    init, segs = avc_segments
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x00\x00\x10zzzz" + bytes(8) + bytes(range(256)))  # no such top-level box
    code, data, _ = run(
        str(junk), str(init), str(segs[0]), "--type", 'video/mp4; codecs="avc1.4D401E"', "--format", "json"
    )
    assert code == 1
    first, second = data["steps"][0], data["steps"][1]
    assert first["error"] is not None and first["error"]["file"] == str(junk.resolve())
    assert first["state"]["mediaSource"]["readyState"] == "closed"
    assert second["exception"] == "InvalidStateError"


def test_unsupported_type_is_reported_per_operation(avc_segments: tuple[Path, list[Path]]) -> None:
    init, segs = avc_segments
    code, data, _ = run(
        str(init), str(segs[0]), "--type", 'video/mp4; codecs="hvc1.1.6.L93.B0"', "--format", "json"
    )
    assert code == 1
    assert data["setup"]["addSourceBuffer"][0]["exception"] == "NotSupportedError"
    assert all(s["exception"] == "NotSupportedError" for s in data["steps"])


def test_folder_and_text_output(avc_segments: tuple[Path, list[Path]]) -> None:
    init, _ = avc_segments
    code, _, out = run(str(init.parent))
    assert code == 0
    assert "sb0" in out and "█" in out and "append seg1.m4s" in out


@pytest.mark.parametrize("args", [["/nonexistent/init.mp4"], [], ["--scenario", "/nonexistent/case.json"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    code, _, out = run(*args)
    assert code == 2
    assert "msetool: error:" in out


def test_manifest_one_source_buffer_per_kind(avc_segments: tuple[Path, list[Path]], tmp_path: Path) -> None:
    init, segs = avc_segments
    for p in [init, *segs]:
        (tmp_path / p.name).write_bytes(p.read_bytes())
    video = {
        "id": "v1",
        "kind": "video",
        "type": 'video/mp4; codecs="avc1.4D401E"',
        "init": init.name,
        "segments": [{"file": s.name, "start": float(i), "duration": 1.0} for i, s in enumerate(segs)],
    }
    ladder = {**video, "id": "v2", "segments": []}  # a second rendition of the same kind is not appended
    (tmp_path / "mse.json").write_text(json.dumps({"duration": 4.0, "renditions": [video, ladder]}))
    code, data, _ = run(str(tmp_path), "--format", "json")
    assert code == 0
    assert [s["id"] for s in data["setup"]["addSourceBuffer"]] == ["v1"]
    assert len(data["steps"]) == 1 + len(segs)
    assert final_buffered(data, "v1")[0][0] == 0


def test_batch_calls_while_an_append_is_pending(
    avc_segments: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    init, segs = avc_segments
    t = 'video/mp4; codecs="avc1.4D401E"'
    ops = [
        {"op": "append", "file": str(init)},
        {
            "op": "batch",
            "ops": [
                {"op": "append", "file": str(segs[0]), "wait": False},
                {"op": "set", "timestampOffset": 5},
                {"op": "remove", "start": 0, "end": 1},
            ],
        },
        {"op": "batch", "ops": [{"op": "append", "file": str(segs[1]), "wait": False}, {"op": "abort"}]},
        {"op": "waitIdle"},
    ]
    path = tmp_path / "batch.json"
    path.write_text(json.dumps({"sourceBuffers": [{"id": "sb0", "type": t}], "ops": ops}))
    code, data, _ = run("--scenario", str(path), "--format", "json")
    assert code == 0  # inner exceptions are reported per call, the batch itself did not throw
    first, second = data["steps"][1], data["steps"][2]
    assert [b["exception"] for b in first["batch"]] == [None, "InvalidStateError", "InvalidStateError"]
    assert first["state"]["sourceBuffers"]["sb0"]["timestampOffset"] == 0
    seg1_range = first["state"]["sourceBuffers"]["sb0"]["buffered"]
    assert len(seg1_range) == 1
    # abort() right after appendBuffer(): the append never runs
    assert [e["type"] for e in second["events"]] == ["updatestart", "abort", "updateend"]
    assert second["state"]["sourceBuffers"]["sb0"]["buffered"] == seg1_range


def test_moof_relative_misaddressed_audio_is_a_decode_error_not_an_append_error() -> None:
    """samples/segments/muxed-no-base-flag (ffmpeg-made, byte surgery in samples/make_samples.py): the
    audio traf addressed per ISO 14496-12, which Chromium reads from the moof. Chromium 156 appends every
    byte, then the element fails with PIPELINE_ERROR_DECODE and later appends throw."""
    d = Path(__file__).resolve().parents[2] / "samples" / "segments" / "muxed-no-base-flag"
    files = [str(d / "init.mp4")] + [str(d / f"seg-0000{i}.m4s") for i in (1, 2)]
    res = CliRunner().invoke(simulate, [*files, "--format", "json"])
    steps = json.loads(res.stdout)["steps"]
    assert steps[1]["error"] is None and steps[1]["exception"] is None
    err = steps[1]["state"]["video"]["error"]
    assert err["code"] == 3 and "Failed to send audio packet for decoding" in err["message"]
    assert steps[1]["state"]["mediaSource"]["readyState"] == "open"
    assert any(w["kind"] == "decodeError" for w in steps[1]["warnings"])
    assert steps[2]["exception"] == "InvalidStateError"


def test_opus_head_the_decoder_refuses_closes_the_media_source_after_the_init(tmp_path: Path) -> None:
    """ffmpeg's mono Opus WebM with the OpusHead channel count patched to 2: Chromium 156 appends the init
    segment (updateend), then decoder initialization fails (DECODER_ERROR_NOT_SUPPORTED, code 4) and the
    element detaches the MediaSource."""
    src = media.make("opus-mono", ["-f", "lavfi", "-i", "sine=f=440:r=48000", "-t", "1", "-c:a", "libopus",
                                   "-ac", "1"], suffix=".webm")
    data = bytearray(src.read_bytes())
    head = data.find(b"OpusHead")
    assert head > 0 and data[head + 9] == 1
    data[head + 9] = 2
    cluster = bytes(data).find(b"\x1f\x43\xb6\x75")
    (tmp_path / "init.webm").write_bytes(data[:cluster])
    (tmp_path / "media.webm").write_bytes(data[cluster:])
    code, out, _ = run(str(tmp_path / "init.webm"), str(tmp_path / "media.webm"), "--format", "json")
    first, second = out["steps"]
    assert first["error"] is None and first["exception"] is None
    assert first["state"]["video"]["error"]["code"] == 4
    assert "DECODER_ERROR_NOT_SUPPORTED" in first["state"]["video"]["error"]["message"]
    assert first["state"]["mediaSource"]["readyState"] == "closed"
    assert second["exception"] == "InvalidStateError" and code == 1


@pytest.mark.parametrize(
    ("head", "append_fails"),
    [
        ("muxed-no-base-flag", True),  # the decoders' first frames are bad: the error stops the append
        ("clean-muxed", False),  # the first frames were good: the error comes after the append completed
    ],
)
def test_decode_error_between_parse_slices_of_a_large_append(
    tmp_path: Path, head: str, append_fails: bool
) -> None:
    """One 161 KB append (more than Chromium's 128 KiB parse slice): segments 1-4 of ``head`` then the
    misaddressed segments 1-2 again. Measured in Chromium 156: with a bad first frame the element's error
    arrives before the second slice, which fails (SourceBuffer error, readyState "ended"); behind good
    first frames the append completes and the element errors after it."""
    segs = Path(__file__).resolve().parents[2] / "samples" / "segments"
    bad = segs / "muxed-no-base-flag"
    parts = [segs / head / f"seg-0000{i}.m4s" for i in (1, 2, 3, 4)]
    parts += [bad / f"seg-0000{i}.m4s" for i in (1, 2)]
    (tmp_path / "big.m4s").write_bytes(b"".join(p.read_bytes() for p in parts))
    (tmp_path / "init.mp4").write_bytes((bad / "init.mp4").read_bytes())
    code, out, _ = run(str(tmp_path / "init.mp4"), str(tmp_path / "big.m4s"), "--format", "json")
    step = out["steps"][1]
    assert step["state"]["video"]["error"]["code"] == 3
    assert bool(step["error"]) is append_fails
    assert step["state"]["mediaSource"]["readyState"] == ("ended" if append_fails else "open")
    types = [e["type"] for e in step["events"]]
    assert types[-2:] == (["updateend", "sourceended"] if append_fails else ["updateend", "error"])
    assert code == 1


@pytest.mark.parametrize(("keyframe", "fails"), [(0, True), (2, False)])
def test_vp9_key_frame_without_sync_code_is_a_decode_error_at_preroll(
    tmp_path: Path, keyframe: int, fails: bool
) -> None:
    """ffmpeg's VP9 WebM (a key frame per second) with one byte of a key frame's sync code changed.
    Measured in Chromium 156: the first key frame -> PIPELINE_ERROR_DECODE after the append (which
    itself succeeds); the third (2 s, beyond the paused element's preroll) -> no error."""
    args = ["-f", "lavfi", "-i", "testsrc2=s=160x90:r=25", "-t", "3", "-c:v", "libvpx-vp9", "-g", "25",
            "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"]
    src = media.make("vp9-3s", args, suffix=".webm")
    data = bytearray(src.read_bytes())
    cluster = bytes(data).find(b"\x1f\x43\xb6\x75")
    syncs = [i for i in range(cluster, len(data) - 2) if data[i : i + 3] == b"\x49\x83\x42"]
    assert len(syncs) >= 3
    data[syncs[keyframe]] = 0x48
    (tmp_path / "init.webm").write_bytes(data[:cluster])
    (tmp_path / "media.webm").write_bytes(data[cluster:])
    code, out, _ = run(str(tmp_path / "init.webm"), str(tmp_path / "media.webm"), "--format", "json")
    step = out["steps"][1]
    assert step["error"] is None and step["state"]["sourceBuffers"]["sb0"]["buffered"] == [[0, 3]]
    err = step["state"]["video"]["error"]
    assert (err is not None and err["code"] == 3) is fails
    assert code == (1 if fails else 0)


@pytest.mark.parametrize(("segment", "fails"), [(0, True), (2, False)])
def test_aac_payload_garbage_is_a_decode_error_only_where_the_element_prerolls(
    tmp_path: Path, segment: int, fails: bool
) -> None:
    """ffmpeg's fragmented AAC with one segment's mdat payload replaced by seeded random bytes (sizes and
    boxes intact: valid MP4). Engineer H measured this in Chromium 156: garbage in the first segment fails
    the element (PIPELINE_ERROR_DECODE) after the append succeeds; garbage in a later one is never
    decoded while the element is paused at 0."""
    import random

    init, segs = media.split_fmp4(media.fmp4_aac(), tmp_path / "segs")
    data = bytearray(segs[segment].read_bytes())
    mdat = data.find(b"mdat")
    rnd = random.Random(7)
    data[mdat + 4 :] = bytes(rnd.randrange(256) for _ in range(len(data) - mdat - 4))
    segs[segment].write_bytes(data)
    code, out, _ = run(str(init), *map(str, segs[:3]), "--format", "json")
    after = out["steps"][1 + segment]
    assert after["error"] is None and after["exception"] is None
    err = after["state"]["video"]["error"]
    assert (err is not None and "Failed to send audio packet" in err["message"]) is fails
    assert code == (1 if fails else 0)


def test_avc1_without_sps_is_a_decode_error_of_the_first_frame(tmp_path: Path) -> None:
    """ffmpeg's H.264 fMP4 whose avcC declares no SPS (the PPS moved up, the record padded to its size):
    valid MP4 that Chromium 156 appends, but FFmpeg cannot decode the first frame (engineer H's
    brk_avcc_no_sps: PIPELINE_ERROR_DECODE after the init and first media segment)."""
    init, segs = media.split_fmp4(media.fmp4_avc(), tmp_path / "segs")
    data = bytearray(init.read_bytes())
    at = data.find(b"avcC") + 4
    n_sps = data[at + 5] & 0x1F
    assert n_sps == 1
    pos = at + 6
    sps_len = int.from_bytes(data[pos : pos + 2], "big")
    pps_part_start = pos + 2 + sps_len
    n_pps = data[pps_part_start]
    end = pps_part_start + 1
    for _ in range(n_pps):
        end += 2 + int.from_bytes(data[end : end + 2], "big")
    moved = bytes(data[pps_part_start:end])
    data[at + 5] = 0xE0
    data[pos:end] = moved + b"\0" * (end - pos - len(moved))
    init.write_bytes(data)
    code, out, _ = run(str(init), str(segs[0]), "--format", "json")
    assert out["steps"][0]["state"]["video"]["error"] is None
    err = out["steps"][1]["state"]["video"]["error"]
    assert err is not None and "Failed to send video packet" in err["message"] and code == 1
