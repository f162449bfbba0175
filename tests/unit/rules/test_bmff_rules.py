"""Each ISO BMFF rule: a tiny byte-built case that triggers it, and the clean stream that does not."""

from __future__ import annotations

import pytest

from msetool.rules.engine import Reset
from msetool.rules.findings import Severity
from tests.unit.rules import fmp4

from .conftest import RunValidation

CLEAN_INIT = fmp4.init()


def rules(v: object, severity: Severity | None = None) -> set[str]:
    return {f.rule for f in v.findings if severity is None or f.severity == severity}  # type: ignore[attr-defined]


def test_clean_stream_has_no_errors_or_warnings(run: RunValidation) -> None:
    v = run([CLEAN_INIT, fmp4.fragment(decode_time=0), fmp4.fragment(decode_time=120, sequence=2)])
    assert [f for f in v.findings if f.severity != Severity.INFO] == []
    assert len(v.model.segments) == 2
    assert v.model.inits[0].init.tracks[0].codec.startswith("avc1.4D")


CASES = [
    # (name, parts, rule, severity)
    ("no mvex", [fmp4.init(mvex=False)], "BMFF-INIT-05", Severity.ERROR),
    (
        "samples in moov",
        [fmp4.init([fmp4.trak(stts_entries=2)]), fmp4.fragment()],
        "BMFF-INIT-04",
        Severity.WARNING,
    ),
    ("moov without ftyp", [fmp4.init(ftyp=False), fmp4.fragment()], "BMFF-INIT-01", Severity.WARNING),
    ("trex missing", [fmp4.init(track_ids=[]), fmp4.fragment()], "BMFF-INIT-06", Severity.ERROR),
    ("mdhd timescale 0", [fmp4.init([fmp4.trak(timescale=0)])], "BMFF-INIT-12", Severity.ERROR),
    (
        "avc1 without avcC",
        [fmp4.init([fmp4.trak(entry=fmp4.avc1(config=False))])],
        "BMFF-INIT-14",
        Severity.ERROR,
    ),
    (
        "unknown sample entry",
        [fmp4.init([fmp4.trak(entry=fmp4.avc1(fourcc="xyz1"))])],
        "BMFF-INIT-13",
        Severity.ERROR,
    ),
    (
        "two edits",
        [fmp4.init([fmp4.trak(elst=[(100, -1), (0, 0)])]), fmp4.fragment()],
        "BMFF-INIT-07",
        Severity.WARNING,
    ),
    ("no audio or video track", [fmp4.init([fmp4.trak(handler="meta")])], "GEN-13", Severity.ERROR),
    ("media before init", [fmp4.fragment()], "GEN-11", Severity.ERROR),
    ("traf without tfdt", [CLEAN_INIT, fmp4.fragment(decode_time=None)], "BMFF-MEDIA-10", Severity.ERROR),
    ("base-data-offset", [CLEAN_INIT, fmp4.fragment(base_data_offset=True)], "BMFF-MEDIA-07", Severity.ERROR),
    ("unknown track", [CLEAN_INIT, fmp4.fragment(track_id=7)], "BMFF-MEDIA-13", Severity.ERROR),
    (
        "data offset past the mdat",
        [CLEAN_INIT, fmp4.fragment(data_offset_delta=16), fmp4.fragment(sequence=2, decode_time=120)],
        "BMFF-MEDIA-11",
        Severity.WARNING,
    ),
    (
        "mdat too short",
        [CLEAN_INIT, fmp4.fragment(mdat_shortfall=10), fmp4.fragment(sequence=2, decode_time=120)],
        "BMFF-MEDIA-11",
        Severity.WARNING,
    ),
    ("mdat size 0", [CLEAN_INIT, fmp4.fragment(mdat_size_zero=True)], "BMFF-INIT-10", Severity.ERROR),
    (
        "garbage between boxes",
        [CLEAN_INIT, bytes(range(200, 256)), fmp4.fragment()],
        "BMFF-BOX-01",
        Severity.ERROR,
    ),
    (
        "reserved sample_depends_on",
        [CLEAN_INIT, fmp4.fragment(flags=(0x03000000, 0x03000000, 0x03000000))],
        "BMFF-MEDIA-16",
        Severity.ERROR,
    ),
    (
        "later trun without data_offset",
        [CLEAN_INIT, fmp4.fragment(second_trun_without_offset=True)],
        "BMFF-MEDIA-08",
        Severity.WARNING,
    ),
    (
        "moof without traf",
        [CLEAN_INIT, fmp4.box("moof", fmp4.full("mfhd", 0, 0, b"\0\0\0\1"))],
        "BMFF-MEDIA-06",
        Severity.WARNING,
    ),
    (
        "decreasing sequence numbers",
        [CLEAN_INIT, fmp4.fragment(sequence=5), fmp4.fragment(sequence=4, decode_time=120)],
        "BMFF-MEDIA-23",
        Severity.INFO,
    ),
    (
        "top-level box a browser rejects",
        [CLEAN_INIT, fmp4.box("junk", b"1234"), fmp4.fragment()],
        "BMFF-INIT-09",
        Severity.ERROR,
    ),
    (
        "two trafs reading the same bytes",
        [CLEAN_INIT, fmp4.fragment(trafs=2)],
        "BMFF-MEDIA-31",
        Severity.ERROR,
    ),
]


@pytest.mark.parametrize(("name", "parts", "rule", "severity"), CASES, ids=[c[0] for c in CASES])
def test_rule_triggers(
    run: RunValidation, name: str, parts: list[bytes], rule: str | None, severity: Severity | None
) -> None:
    v = run(parts)
    if rule is None:
        assert not [
            f for f in v.findings if f.severity == Severity.ERROR and f.rule.startswith("BMFF-MEDIA-1")
        ]
        return
    hits = [f for f in v.findings if f.rule == rule]
    assert hits, f"{rule} not reported; got {[(f.rule, f.message) for f in v.findings]}"
    assert any(f.severity == severity for f in hits)
    # every finding is located in a file that exists, at an offset inside it
    sizes = {f"part{i}.m4s": len(p) for i, p in enumerate(parts)}
    for f in v.findings:
        assert f.file in sizes
        assert f.offset is None or 0 <= f.offset <= sizes[f.file]


def test_misplaced_h264_samples_fail_in_the_parser(run: RunValidation) -> None:
    # Chromium reads the bytes the offsets point at; H.264 samples that do not parse fail the append.
    v = run([CLEAN_INIT, fmp4.fragment(data_offset_delta=16)])
    assert rules(v, Severity.ERROR)


def test_offsets_are_relative_to_the_file_holding_the_byte(run: RunValidation) -> None:
    v = run([CLEAN_INIT, fmp4.fragment(), fmp4.fragment(decode_time=None, sequence=2)])
    hit = next(f for f in v.findings if f.rule == "BMFF-MEDIA-10")
    assert hit.file == "part2.m4s"
    # the traf sits right after moof header (8) + mfhd (16)
    assert hit.offset == 24
    assert "traf" in hit.box


def test_truncated_stream_end_is_a_warning_not_an_error(run: RunValidation) -> None:
    seg = fmp4.fragment()
    v = run([CLEAN_INIT, seg[: len(seg) - 30]])
    assert not rules(v, Severity.ERROR)
    assert "GEN-TRUNC-01" in rules(v, Severity.WARNING)


def test_abort_makes_a_cut_segment_expected(run: RunValidation) -> None:
    seg = fmp4.fragment()
    v = run([CLEAN_INIT, seg[: len(seg) - 30], Reset("abort"), fmp4.fragment(decode_time=200, sequence=2)])
    assert not rules(v, Severity.ERROR)
    assert "GEN-TRUNC-01" not in rules(v)


def test_every_broken_segment_is_reported_not_only_the_first(run: RunValidation) -> None:
    v = run([CLEAN_INIT] + [fmp4.fragment(decode_time=None, sequence=i) for i in range(1, 4)])
    assert sorted(f.file for f in v.findings if f.rule == "BMFF-MEDIA-10") == [
        "part1.m4s",
        "part2.m4s",
        "part3.m4s",
    ]


def test_abort_after_a_partial_init_segment_reports_nothing_about_the_cut_moov(run: RunValidation) -> None:
    # Chromium parses a top-level box only once all of it is there: a moov cut short and then aborted never
    # reached its parser, so neither the missing mvex nor the missing stsd is a finding.
    v = run([CLEAN_INIT[:150], Reset("abort"), CLEAN_INIT, fmp4.fragment()])
    assert not rules(v, Severity.ERROR), [(f.rule, f.message) for f in v.findings]
    assert "GEN-TRUNC-01" not in rules(v)


def test_abort_inside_a_moof_reports_nothing_about_its_missing_fields(run: RunValidation) -> None:
    seg = fmp4.fragment(sequence=2, decode_time=120)
    # moof header (8) + mfhd (16) + traf header (8) + tfhd header (8): cut inside the tfhd payload
    v = run([CLEAN_INIT, fmp4.fragment(), seg[:42], Reset("abort"), seg])
    assert not rules(v, Severity.ERROR), [(f.rule, f.message) for f in v.findings]


def test_stream_ending_inside_a_moov_waits_it_does_not_fail(run: RunValidation) -> None:
    v = run([CLEAN_INIT[:150]])
    assert not rules(v, Severity.ERROR)
    assert "GEN-TRUNC-01" in rules(v, Severity.WARNING)


def _garbage(size_field: int, total: int, kind: bytes = b"\x8a\x01\xfe\x02") -> bytes:
    return (size_field.to_bytes(4, "big") + kind + bytes(range(256)) * 40)[:total]


def test_garbage_whose_size_runs_past_the_data_makes_the_browser_wait(run: RunValidation) -> None:
    # Chromium's BoxReader checks the size before the type: a "box" declared bigger than what was appended
    # is waited for (every later append disappears into it), not rejected.
    v = run(
        [CLEAN_INIT, fmp4.fragment(), _garbage(950_000_000, 100), fmp4.fragment(sequence=2, decode_time=120)]
    )
    assert not rules(v, Severity.ERROR), [(f.rule, f.message) for f in v.findings]
    hit = next(f for f in v.findings if f.rule == "GEN-TRUNC-01")
    assert hit.file == "part2.m4s" and hit.offset == 0
    # a printable but invalid top-level type is waited for the same way
    v = run([CLEAN_INIT, fmp4.fragment(), b"\0\x10\0\0junk" + b"x" * 50])
    assert not rules(v, Severity.ERROR)


@pytest.mark.parametrize(
    ("size_field", "total"),
    [(100, 200), (0, 100), (4, 100), (0x80000000, 100)],
    ids=["complete", "size 0", "smaller than header", "above 2^31-1"],
)
def test_garbage_the_browser_rejects_at_once(run: RunValidation, size_field: int, total: int) -> None:
    v = run(
        [CLEAN_INIT, fmp4.fragment(), _garbage(size_field, total), fmp4.fragment(sequence=2, decode_time=120)]
    )
    errs = [f for f in v.findings if f.severity == Severity.ERROR]
    assert errs and errs[0].file == "part2.m4s", [(f.rule, f.message) for f in v.findings]


def _muxed_fragment(
    *, iso: bool, base_is_moof: bool = False, audio_size: int = 12, decode_time: int = 0
) -> bytes:
    """moof with a video traf (track 1) then an audio traf (track 2), one mdat: video samples, then audio.

    ``iso``: the audio data_offset counts from the end of the video data (ISO/IEC 14496-12 8.8.7.1 without
    default-base-is-moof); otherwise from the moof start (what Chromium always does)."""
    video = (40, 20)
    vflags = (fmp4.KEY, fmp4.NONKEY)
    mfhd = fmp4.full("mfhd", 0, 0, b"\0\0\0\1")

    def traf(tid: int, sizes: tuple[int, ...], flags: tuple[int, ...], off: int) -> bytes:
        tfhd = fmp4.full("tfhd", 0, 0x020000 if base_is_moof else 0, tid.to_bytes(4, "big"))
        tfdt = fmp4.full("tfdt", 1, 0, decode_time.to_bytes(8, "big"))
        body = len(sizes).to_bytes(4, "big") + off.to_bytes(4, "big", signed=True)
        body += b"".join(
            d.to_bytes(4, "big") + s.to_bytes(4, "big") + f.to_bytes(4, "big")
            for d, s, f in zip((40,) * len(sizes), sizes, flags, strict=True)
        )
        return fmp4.box("traf", tfhd + tfdt + fmp4.full("trun", 0, 0x701, body))

    def moof(voff: int, aoff: int) -> bytes:
        return fmp4.box(
            "moof", mfhd + traf(1, video, vflags, voff) + traf(2, (audio_size,), (fmp4.KEY,), aoff)
        )

    head = len(moof(0, 0)) + 8
    aoff = 0 if iso else head + sum(video)
    payload = (
        b"".join(fmp4.sample(s, f) for s, f in zip(video, vflags, strict=True)) + (GOOD_AAC * 40)[:audio_size]
    )
    return moof(head, aoff) + fmp4.box("mdat", payload)


MUXED_INIT = fmp4.init([fmp4.trak(1), fmp4.trak(2, handler="soun")])


def test_trafs_addressed_per_iso_are_a_decode_error_in_chromium(run: RunValidation) -> None:
    # Audio small enough that Chromium's moof-relative read stays inside the moof: no two runs overlap, yet
    # Chromium decodes the moof's own bytes as audio (PIPELINE_ERROR_DECODE in the browser).
    v = run([MUXED_INIT, _muxed_fragment(iso=True)], 'video/mp4; codecs="avc1.4D400D,mp4a.40.2"')
    hit = next(f for f in v.findings if f.rule == "BMFF-MEDIA-32")
    assert hit.severity == Severity.ERROR and hit.file == "part1.m4s" and hit.offset == 0
    assert "BMFF-MEDIA-31" not in rules(v)


def test_trafs_addressed_from_the_moof_without_the_flag_only_warn(run: RunValidation) -> None:
    # Chromium reads the right bytes; an ISO-following UA would not.
    v = run([MUXED_INIT, _muxed_fragment(iso=False)], 'video/mp4; codecs="avc1.4D400D,mp4a.40.2"')
    assert not rules(v, Severity.ERROR), [(f.rule, f.message) for f in v.findings]
    assert "BMFF-MEDIA-07W" in rules(v, Severity.WARNING)
    v = run(
        [MUXED_INIT, _muxed_fragment(iso=False, base_is_moof=True)],
        'video/mp4; codecs="avc1.4D400D,mp4a.40.2"',
    )
    assert not rules(v, Severity.ERROR) and "BMFF-MEDIA-07W" not in rules(v)


def _break_first_slice(frag: bytes, byte: int) -> bytes:
    """``frag`` with the byte after the first sample's IDR NAL header replaced (the slice header start)."""
    moof_size = int.from_bytes(frag[:4], "big")
    at = moof_size + 8 + 4  # mdat header, then the first sample's NAL length
    assert frag[at] == 0x65
    return frag[: at + 1] + bytes([byte]) + frag[at + 2 :]


def test_first_h264_frame_without_a_decodable_slice_is_a_decode_error(run: RunValidation) -> None:
    # 0x80 0x88: first_mb_in_slice 0, then slice_type 135 (Chromium 156: PIPELINE_ERROR_DECODE "Failed to send
    # video packet for decoding" right after this append, the same with a PPS id that does not exist).
    v = run(
        [CLEAN_INIT, _break_first_slice(fmp4.fragment(), 0x80), fmp4.fragment(decode_time=120, sequence=2)]
    )
    hit = next(f for f in v.findings if f.rule == "BMFF-MEDIA-33")
    assert hit.severity == Severity.ERROR and hit.file == "part1.m4s" and "slice_type 135" in hit.message
    # 0x88 0x10...: slice_type 7 (I), pic_parameter_set_id 7: avcC only has PPS 0
    frag = _break_first_slice(fmp4.fragment(), 0x88)
    at = int.from_bytes(frag[:4], "big") + 8 + 6
    frag = frag[:at] + b"\x10" + frag[at + 1 :]
    v = run([CLEAN_INIT, frag])
    assert "pic_parameter_set_id 7" in next(f.message for f in v.findings if f.rule == "BMFF-MEDIA-33")


def test_only_the_first_frame_is_decoded_while_paused(run: RunValidation) -> None:
    # The same broken slice in a later fragment is never decoded by a paused element: Chromium reports
    # nothing (verified), so neither does validate.
    v = run(
        [CLEAN_INIT, fmp4.fragment(), _break_first_slice(fmp4.fragment(decode_time=120, sequence=2), 0x80)]
    )
    assert "BMFF-MEDIA-33" not in rules(v)
    v = run([CLEAN_INIT, fmp4.fragment(), fmp4.fragment(decode_time=120, sequence=2)])
    assert "BMFF-MEDIA-33" not in rules(v)


def test_slice_header_reading() -> None:
    from msetool.rules.bmff import TrackDefaults, undecodable_avc_frame

    td = TrackDefaults(1, avc_length=4, avc_pps=frozenset({0}), avc_mbs=240)

    def nal(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b

    assert undecodable_avc_frame(nal(b"\x65\x88\x84\x00\x00"), td) is None  # I slice, PPS 0
    # a P slice (slice_type 5) in an IDR NAL unit
    assert "non-intra" in (undecodable_avc_frame(nal(b"\x65\x9b\x00"), td) or "")
    # a PPS carried in-band (id 1) makes pic_parameter_set_id 1 valid: 0x68 0x40 = PPS id 1
    assert undecodable_avc_frame(nal(b"\x65\x88\x40\x00"), td) is not None
    assert undecodable_avc_frame(nal(b"\x68\x50\x00") + nal(b"\x65\x88\x40\x00"), td) is None
    # avcC without SPS (its PPS names SPS 0, which does not exist): no usable PPS (Chromium 156:
    # PIPELINE_ERROR_DECODE), unless the sample carries the SPS and PPS in-band
    bare = TrackDefaults(1, avc_length=4, avc_pps=frozenset(), avc_mbs=240, avc_sps=frozenset())
    assert "does not exist" in (undecodable_avc_frame(nal(b"\x65\x88\x84\x00\x00"), bare) or "")
    inband = nal(b"\x67\x42\xc0\x0d\x80") + nal(b"\x68\xce\x00") + nal(b"\x65\x88\x84\x00\x00")
    assert undecodable_avc_frame(inband, bare) is None
    # one good slice among bad ones is enough to make a frame
    assert undecodable_avc_frame(nal(b"\x65\x80\x00") + nal(b"\x65\x88\x84\x00"), td) is None
    # emulation prevention bytes are removed before the bits are read: 00 00 03 01 -> 00 00 01
    assert undecodable_avc_frame(nal(b"\x65\x00\x00\x03\x01\x00"), td) is not None


def test_a_first_range_starting_after_one_second_is_not_prerolled(run: RunValidation) -> None:
    # Chromium starts a paused element from the first buffered range only when it begins before 1 s
    # (kSeekToStartFudgeRoom); verified: the broken first frame of a stream starting at 1 s or 2 s is no
    # error.
    late = _break_first_slice(fmp4.fragment(decode_time=1000), 0x80)
    assert "BMFF-MEDIA-33" not in rules(run([CLEAN_INIT, late]))
    early = _break_first_slice(fmp4.fragment(decode_time=999), 0x80)
    assert "BMFF-MEDIA-33" in rules(run([CLEAN_INIT, early]))


def _bits(*fields: tuple[int, int]) -> bytes:
    """Pack (value, width) fields MSB first, padded with zero bits to a whole byte."""
    acc, n = 0, 0
    for value, width in fields:
        acc, n = (acc << width) | value, n + width
    pad = -n % 8
    return (acc << pad).to_bytes((n + pad) // 8, "big")


FIL0 = [(6, 3), (0, 4)]  # a fill element with no payload (ffmpeg writes one first)
ICS_LONG = [(0, 1), (0, 2), (0, 1), (49, 6), (0, 1)]  # reserved, ONLY_LONG, shape, max_sfb 49, no prediction
GOOD_AAC = _bits(*FIL0, (1, 3), (0, 4), (0, 1), (128, 8), *ICS_LONG) + b"\x55" * 20


def _aac_fragment(frames: list[bytes], decode_time: int = 0, sequence: int = 1) -> bytes:
    mfhd = fmp4.full("mfhd", 0, 0, sequence.to_bytes(4, "big"))
    tfhd = fmp4.full("tfhd", 0, 0x020000, (1).to_bytes(4, "big"))
    tfdt = fmp4.full("tfdt", 1, 0, decode_time.to_bytes(8, "big"))

    def moof(off: int) -> bytes:
        body = len(frames).to_bytes(4, "big") + off.to_bytes(4, "big")
        body += b"".join((1024).to_bytes(4, "big") + len(f).to_bytes(4, "big") for f in frames)
        return fmp4.box("moof", mfhd + fmp4.box("traf", tfhd + tfdt + fmp4.full("trun", 0, 0x301, body)))

    return moof(len(moof(0)) + 8) + fmp4.box("mdat", b"".join(frames))


AAC_INIT = fmp4.init([fmp4.trak(1, handler="soun", timescale=48000)])
AAC_TYPE = 'audio/mp4; codecs="mp4a.40.2"'


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (_bits((3, 3), (0, 4)) + b"\0" * 8, "LFE element"),  # stereo config allocates no LFE
        (_bits(*FIL0, (1, 3), (0, 4), (0, 1), (128, 8), (1, 1)) + b"\0" * 8, "reserved bit"),
        (_bits((0, 3), (0, 4), (128, 8), (0, 1), (0, 2), (0, 1), (60, 6)) + b"\0" * 8, "max_sfb 60"),
        (_bits((1, 3), (0, 4), (1, 1), *ICS_LONG, (3, 2)) + b"\0" * 8, "ms_mask_present 3"),
    ],
    ids=["lfe", "reserved", "max_sfb", "ms_mask"],
)
def test_aac_frames_decoded_at_preroll_must_decode(run: RunValidation, bad: bytes, why: str) -> None:
    # Chromium 156 (verified for an LFE element and a reserved bit, in frame 0 and in frame 2 at 43 ms):
    # PIPELINE_ERROR_DECODE "Failed to send audio packet for decoding" right after the append.
    frames = [GOOD_AAC, GOOD_AAC, bad, GOOD_AAC]
    v = run([AAC_INIT, _aac_fragment(frames)], AAC_TYPE)
    hit = next(f for f in v.findings if f.rule == "BMFF-MEDIA-33")
    assert hit.severity == Severity.ERROR and "frame 2" in hit.message and why in hit.message


def test_aac_frames_after_the_preroll_are_not_judged(run: RunValidation) -> None:
    # A broken frame at 512 ms is never decoded by a paused element (verified: no error in Chromium).
    lfe = _bits((3, 3), (0, 4)) + b"\0" * 8
    v = run([AAC_INIT, _aac_fragment([GOOD_AAC] * 24 + [lfe])], AAC_TYPE)
    assert "BMFF-MEDIA-33" not in rules(v)
    v = run([AAC_INIT, _aac_fragment([GOOD_AAC] * 8)], AAC_TYPE)
    assert not rules(v, Severity.ERROR), [(f.rule, f.message) for f in v.findings]


def test_vp9_and_av1_frame_headers() -> None:
    # Chromium 156 fails a first frame with a frame_marker other than 2 or a broken key frame sync code
    # (libvpx), and one whose OBU header sets obu_forbidden_bit (dav1d): PIPELINE_ERROR_DECODE.
    from msetool.rules.bmff import undecodable_av1_frame, undecodable_vp9_frame

    key = bytes.fromhex("824983420013f00b36063824")  # profile 0 key frame, as libvpx writes it
    assert undecodable_vp9_frame(key) is None
    assert undecodable_vp9_frame(bytes([0x82 & 0x3F]) + key[1:]) == "frame_marker is not 2"
    assert "sync code" in (undecodable_vp9_frame(key[:2] + b"\0" + key[3:]) or "")
    assert undecodable_vp9_frame(bytes([0x86]) + key[1:]) is None  # an inter frame: not judged
    # AV1: sequence header OBU (type 1, has_size) of 3 bytes, then a frame OBU running to the end
    tu = bytes([0x0A, 3, 0, 0, 0, 0x32, 0x10]) + b"\x55" * 16
    assert undecodable_av1_frame(tu) is None
    assert "forbidden" in (undecodable_av1_frame(bytes([0x8A]) + tu[1:]) or "")
    assert "past the end" in (undecodable_av1_frame(bytes([0x0A, 100]) + tu[2:]) or "")


def test_video_frames_before_the_first_sync_sample_are_dropped_not_decoded(run: RunValidation) -> None:
    # Coded frame processing drops frames until a random access point: a broken leading non-sync frame
    # never reaches the decoder; the first sync frame does.
    frag = fmp4.fragment(flags=(fmp4.NONKEY, fmp4.KEY, fmp4.NONKEY))
    at = int.from_bytes(frag[:4], "big") + 8 + 4
    assert frag[at] == 0x41
    lead_broken = frag[: at + 1] + b"\x80" + frag[at + 2 :]
    assert "BMFF-MEDIA-33" not in rules(run([CLEAN_INIT, lead_broken]))
    key_at = at + 40  # the first sample is 40 bytes
    assert frag[key_at] == 0x65
    key_broken = frag[: key_at + 1] + b"\x80" + frag[key_at + 2 :]
    assert "frame 1" in next(
        f.message for f in run([CLEAN_INIT, key_broken]).findings if f.rule == "BMFF-MEDIA-33"
    )


def test_frames_the_reader_marks_undecodable_fail_the_preroll(run: RunValidation) -> None:
    # The audio is larger than the moof: Chromium's moof-relative reading overlaps the video samples, and
    # the BMFF reader marks those audio frames decode_error; the engine reports the one the paused element
    # decodes first (GEN-DECODE-01), only when the track starts before 1 s.
    mime = 'video/mp4; codecs="avc1.4D400D,mp4a.40.2"'
    v = run([MUXED_INIT, _muxed_fragment(iso=True, audio_size=400)], mime)
    hit = next(f for f in v.findings if f.rule == "GEN-DECODE-01")
    assert hit.severity == Severity.ERROR and hit.file == "part1.m4s" and "track 2" in hit.message
    v = run([MUXED_INIT, _muxed_fragment(iso=True, audio_size=400, decode_time=1000)], mime)
    assert "GEN-DECODE-01" not in rules(v) and "BMFF-MEDIA-32" in rules(v, Severity.ERROR)


def test_iso_addressed_trafs_in_real_muxed_segments(run: RunValidation) -> None:
    # samples/segments/clean-muxed (ffmpeg, default-base-is-moof) rewritten: the flag cleared and the audio
    # traf cut to 2 samples addressed per ISO BMFF (data_offset 0 after the video data). Chromium reads the
    # audio from inside the moof (no overlap with the video data) and fails with PIPELINE_ERROR_DECODE
    # (verified in Chromium 156).
    from pathlib import Path

    from msetool.bmff.reader import iter_boxes
    from msetool.source import BytesSource

    root = Path(__file__).resolve().parents[3] / "samples" / "segments" / "clean-muxed"
    init = (root / "init.mp4").read_bytes()
    seg = bytearray((root / "seg-00001.m4s").read_bytes())
    moof = next(b for b in iter_boxes(BytesSource(bytes(seg), "s"), issues=[]) if b.type == "moof")
    video, audio = (t.child("trun") for t in moof.all("traf"))
    assert video is not None and audio is not None
    for traf in moof.all("traf"):
        tfhd = traf.child("tfhd")
        assert tfhd is not None and tfhd.get("default_base_is_moof")
        flags_at = tfhd.offset + 9
        seg[flags_at : flags_at + 3] = (tfhd.flags & ~0x020000).to_bytes(3, "big")  # type: ignore[operator]
    video_end = moof.offset + video.get("data_offset") + sum(video.get("sample_size"))
    audio_start = moof.offset + audio.get("data_offset")
    seg[audio.offset + 12 : audio.offset + 16] = (2).to_bytes(4, "big")
    seg[audio.offset + 16 : audio.offset + 20] = (audio_start - video_end).to_bytes(4, "big", signed=True)
    v = run([init, bytes(seg)], 'video/mp4; codecs="avc1.4D400D,mp4a.40.2"')
    assert "BMFF-MEDIA-32" in rules(v, Severity.ERROR)
    assert "BMFF-MEDIA-31" not in rules(v)  # no overlap: the old rule alone would not have caught it
    clean = run([init, (root / "seg-00001.m4s").read_bytes()], 'video/mp4; codecs="avc1.4D400D,mp4a.40.2"')
    assert not rules(clean, Severity.ERROR)


def test_opus_packet_framing() -> None:
    # Chromium 156 (OpusAudioDecoder, libopus) fails a prerolled packet that breaks RFC 6716 §3.4 framing:
    # verified for a code 3 packet with 0 frames and a code 1 packet with an odd payload.
    from msetool.rules.bmff import undecodable_opus_frame as bad

    celt20 = 0xF8  # config 31: CELT fullband 20 ms, code 0
    assert bad(bytes([celt20]) + b"\x11" * 100) is None
    assert bad(b"") is None  # packet loss concealment
    assert "odd" in (bad(bytes([celt20 | 1]) + b"\x11" * 99) or "")
    assert bad(bytes([celt20 | 1]) + b"\x11" * 100) is None
    assert "runs past" in (bad(bytes([celt20 | 2, 200]) + b"\x11" * 50) or "")
    assert bad(bytes([celt20 | 2, 20]) + b"\x11" * 50) is None
    assert "0 frames" in (bad(bytes([celt20 | 3, 0x00]) + b"\x11" * 10) or "")
    assert "frames of 20 ms" in (bad(bytes([celt20 | 3, 7]) + b"\x11" * 70) or "")  # 140 ms
    assert bad(bytes([celt20 | 3, 6]) + b"\x11" * 60) is None  # 6 x 20 ms CBR, 10 bytes each
    assert "equal frames" in (bad(bytes([celt20 | 3, 6]) + b"\x11" * 61) or "")
    assert bad(bytes([celt20 | 3, 0x80 | 2, 10]) + b"\x11" * 30) is None  # VBR: 10 + 20
    assert "past" in (bad(bytes([celt20 | 3, 0x80 | 2, 40]) + b"\x11" * 30) or "")
    assert bad(bytes([celt20 | 3, 0x40 | 1, 5]) + b"\x11" * 20) is None  # 5 bytes of padding
    assert "padding" in (bad(bytes([celt20 | 3, 0x40 | 1, 255, 255])) or "")
    assert "1275" in (bad(bytes([celt20]) + b"\x11" * 1300) or "")
