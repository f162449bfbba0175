"""BmffStreamParser: what Chromium's MP4 stream parser does, on ffmpeg media and on bytes built by hand."""

from __future__ import annotations

import itertools
import random
import struct
from pathlib import Path

import pytest

from msetool.bmff.stream import CHROMIUM_SLICE, BmffStreamParser
from msetool.mime import parse_mime
from msetool.model import CodedFrame
from msetool.stream import (
    FramesParsed,
    InitSegmentParsed,
    MediaSegmentEnded,
    MediaSegmentStarted,
    ParseFailed,
    ParserEvent,
    ParseWarning,
    Profile,
)
from tests import media
from tests.unit.bmff import builder as B

AVC = 'video/mp4; codecs="avc1.42C00D"'
AVC_AAC = 'video/mp4; codecs="avc1.42C00D,mp4a.40.2"'
AAC = 'audio/mp4; codecs="mp4a.40.2"'


def parser(mime: str = AVC, profile: Profile = "chromium") -> BmffStreamParser:
    return BmffStreamParser(mime=parse_mime(mime), profile=profile)


def feed_all(p: BmffStreamParser, data: bytes, chunk: int | None = None) -> list[ParserEvent]:
    if chunk is None:
        return p.feed(data)
    out: list[ParserEvent] = []
    for i in range(0, len(data), chunk):
        out += p.feed(data[i : i + chunk])
    return out


def frames(events: list[ParserEvent]) -> list[CodedFrame]:
    return [f for e in events if isinstance(e, FramesParsed) for f in e.frames]


def structure(events: list[ParserEvent]) -> list[ParserEvent]:
    """Events other than frame batches (whose grouping follows the appends, as in Chromium)."""
    return [e for e in events if not isinstance(e, FramesParsed)]


def failure(events: list[ParserEvent]) -> ParseFailed:
    fails = [e for e in events if isinstance(e, ParseFailed)]
    assert fails, f"expected a ParseFailed, got {events}"
    assert events[-1] is fails[0], "nothing may follow ParseFailed"
    return fails[0]


@pytest.fixture(scope="module")
def short_avc_aac() -> Path:
    return media.make("avc-aac-1s", [*media.VIDEO_SRC, *media.AUDIO_SRC, "-t", "1", *media.H264, *media.AAC,
                                     "-movflags", "+frag_keyframe+empty_moov+default_base_moof",
                                     "-frag_duration", "500000"])


# --- real media


def test_real_muxed_stream_events(avc_aac_fmp4: Path) -> None:
    data = avc_aac_fmp4.read_bytes()
    events = parser(AVC_AAC).feed(data)
    kinds = [type(e).__name__ for e in structure(events)]
    assert kinds[0] == "InitSegmentParsed"
    assert kinds.count("MediaSegmentStarted") == kinds.count("MediaSegmentEnded") >= 4
    init = events[0]
    assert isinstance(init, InitSegmentParsed)
    assert [(t.kind, t.codec, t.timescale) for t in init.init.tracks] == [
        ("video", "avc1.42C00D", 15360), ("audio", "mp4a.40.2", 48000)]
    fr = frames(events)
    video = [f for f in fr if f.track_id == 1]
    audio = [f for f in fr if f.track_id == 2]
    assert len(video) == 4 * 30
    # per track: decode order, contiguous DTS, first frame of each fragment a keyframe (1 s GOPs)
    for track in (video, audio):
        for a, b in itertools.pairwise(track):
            assert b.dts == a.dts + a.duration
    assert [f.keyframe for f in video].count(True) == 4
    assert all(f.keyframe for f in audio)
    # offsets point at the sample bytes: the first video sample is an AVC NAL stream (length-prefixed)
    first = video[0]
    nal_len = struct.unpack(">I", data[first.offset : first.offset + 4])[0]
    assert nal_len < first.size


def test_whole_vs_byte_by_byte_is_identical(short_avc_aac: Path) -> None:
    data = short_avc_aac.read_bytes()
    whole = parser(AVC_AAC).feed(data)
    one = feed_all(parser(AVC_AAC), data, 1)
    assert frames(one) == frames(whole)
    assert structure(one) == structure(whole)
    assert len(frames(whole)) > 40


@pytest.mark.parametrize("seed", range(4))
def test_random_cut_points_do_not_change_the_result(avc_aac_fmp4: Path, seed: int) -> None:
    data = avc_aac_fmp4.read_bytes()
    whole = parser(AVC_AAC).feed(data)
    rnd = random.Random(seed)
    p = parser(AVC_AAC)
    events: list[ParserEvent] = []
    pos = 0
    while pos < len(data):
        n = rnd.choice([1, 7, 8, 9, 100, 4096, 70_000])
        events += p.feed(data[pos : pos + n])
        pos += n
    assert frames(events) == frames(whole)
    assert structure(events) == structure(whole)


def test_spec_profile_reads_the_same_clean_stream(avc_aac_fmp4: Path) -> None:
    data = avc_aac_fmp4.read_bytes()
    chromium = frames(parser(AVC_AAC).feed(data))
    spec = frames(parser(AVC_AAC, "spec").feed(data))
    def key(f: CodedFrame) -> tuple[int, int]:
        return (f.track_id, f.dts)

    assert sorted(chromium, key=key) == sorted(spec, key=key)


# --- built streams: timing, flags, addressing


def test_frames_from_tfdt_durations_and_composition_offsets() -> None:
    run = B.Run([10, 11, 12], [512, 512, 512], [B.SYNC, B.NON_SYNC, B.NON_SYNC], ctos=[1024, -512, 0],
                version=1)
    data = B.init_segment([B.Track(elst_media_time=512)]) + B.fragment([B.Traf(decode_time=9000, runs=[run])])
    fr = frames(parser().feed(data))
    assert [(f.dts, f.pts, f.duration, f.size, f.keyframe) for f in fr] == [
        (9000, 9000 + 1024 - 512, 512, 10, True),
        (9512, 9512 - 512 - 512, 512, 11, False),
        (10024, 10024 - 512, 512, 12, False),
    ]
    assert all(f.timescale == 15360 for f in fr)


def test_sample_bytes_are_where_the_frames_say() -> None:
    data = B.init_segment() + B.fragment(payload_byte=0x5A)
    for f in frames(parser().feed(data)):
        assert data[f.offset : f.offset + f.size] == B.sample_payload(f.size, 0x5A)


def test_trun_v0_offsets_are_signed_in_chromium_unsigned_in_spec() -> None:
    run = B.Run([10], [512], [B.SYNC], ctos=[0xFFFFFE00], version=0)
    data = B.init_segment() + B.fragment([B.Traf(runs=[run])])
    assert frames(parser().feed(data))[0].pts == -512
    assert frames(parser(profile="spec").feed(data))[0].pts == 0xFFFFFE00


def test_defaults_fall_back_from_trun_to_tfhd_to_trex() -> None:
    track = B.Track(trex_duration=300, trex_size=7, trex_flags=B.NON_SYNC)
    run = B.Run([7, 7], None, None, first_flags=B.SYNC)
    traf = B.Traf(runs=[run], default_duration=0)  # tfhd default 0 falls through to trex
    fr = frames(parser().feed(B.init_segment([track]) + B.fragment([traf])))
    assert [(f.duration, f.keyframe) for f in fr] == [(300, True), (300, False)]
    traf2 = B.Traf(runs=[B.Run([7, 7])], default_duration=40, default_flags=B.SYNC)
    fr2 = frames(parser().feed(B.init_segment([track]) + B.fragment([traf2])))
    assert [(f.duration, f.keyframe) for f in fr2] == [(40, True), (40, True)]


def test_video_depending_on_others_is_not_a_keyframe_but_audio_is() -> None:
    sync_but_dependent = 0x01000000
    v = B.Track(1)
    a = B.Track(2, "soun", 48000, B.audio_entry())
    runs_v = [B.Run([5], [512], [sync_but_dependent])]
    runs_a = [B.Run([5], [1024], [sync_but_dependent])]
    data = B.init_segment([v, a]) + B.fragment([B.Traf(1, runs=runs_v), B.Traf(2, runs=runs_a)])
    fr = frames(parser(AVC_AAC).feed(data))
    assert {f.track_id: f.keyframe for f in fr} == {1: False, 2: True}


def test_chromium_reads_every_trun_from_the_moof_start_iso_continues() -> None:
    # Second trun without data_offset: Chromium reads it at moof start + 0, ISO right after run 1.
    runs = [B.Run([4, 4], [512, 512], [B.SYNC, B.SYNC]),
            B.Run([4], [512], [B.SYNC], data_offset=False)]
    aac = [B.Track(1, "soun", 48000, B.audio_entry())]
    data = B.init_segment(aac) + B.fragment([B.Traf(runs=runs)])
    init_len = len(B.init_segment(aac))
    chromium = frames(parser(AAC).feed(data))
    spec = frames(parser(AAC, profile="spec").feed(data))
    by_dts = {f.dts: f for f in chromium}
    assert by_dts[1024].offset == init_len  # moof start
    # Chromium visits runs in data offset order, so that run's frame comes out first
    assert chromium[0].dts == 1024
    assert [f.dts for f in spec] == [0, 512, 1024]
    assert spec[2].offset == by_dts[0].offset + 8


def test_video_run_read_from_the_moof_fails_sample_preparation() -> None:
    # H.264 samples read from moof bytes do not parse as length-prefixed NAL units: Chromium fails
    runs = [B.Run([8], [512], [B.SYNC]), B.Run([8], [512], [B.NON_SYNC], data_offset=False)]
    f = failure(parser().feed(B.init_segment() + B.fragment([B.Traf(runs=runs)])))
    assert f.message == "Failed to prepare video sample for decode" and f.rule == "BMFF-MEDIA-30"


def nal_sample(*nals: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(n)) + n for n in nals)


def custom_fragment(samples: list[bytes], flags: list[int]) -> bytes:
    frag = B.fragment([B.Traf(runs=[B.Run([len(x) for x in samples], [512] * len(samples), flags)])])
    mdat = frag.find(b"mdat") + 4
    return frag[:mdat] + b"".join(samples)


def test_h264_bitstream_overrides_the_container_sync_flag() -> None:
    idr = nal_sample(b"\x09\xf0", b"\x67\x42", b"\x65\x88\x80")
    non_idr = nal_sample(b"\x41\x9a\x02")
    stream = B.init_segment() + custom_fragment([idr, non_idr, idr], [B.NON_SYNC, B.SYNC, B.SYNC])
    events = parser().feed(stream)
    assert [f.keyframe for f in frames(events)] == [True, False, True]
    warnings = [e for e in events if isinstance(e, ParseWarning)]
    assert [w.rule for w in warnings] == ["BMFF-MEDIA-21", "BMFF-MEDIA-21"]
    assert warnings[0].message.startswith("ISO-BMFF container metadata for video frame indicates that the "
                                          "frame is not a keyframe")
    # the spec profile trusts the container
    spec = frames(parser(profile="spec").feed(stream))
    assert [f.keyframe for f in spec] == [False, True, True]


@pytest.mark.parametrize(
    "sample",
    [nal_sample(b"\x65\x88") + b"\x00\x00", struct.pack(">I", 0) + b"\x65\x88",
     struct.pack(">I", 99) + b"\x65", nal_sample(b"\xe5\x88")],
    ids=["trailing-bytes", "zero-length", "overrun", "forbidden-bit-on-keyframe"],
)
def test_h264_samples_chromium_cannot_prepare(sample: bytes) -> None:
    f = failure(parser().feed(B.init_segment() + custom_fragment([sample], [B.SYNC])))
    assert f.message == "Failed to prepare video sample for decode"


def test_skipped_top_level_boxes() -> None:
    extra = (B.box("styp", b"msdh\0\0\0\0msdh") + B.full("sidx", 0, 0, b"\0" * 20)
             + B.full("emsg", 0, 0, b"a\0b\0" + b"\0" * 16) + B.full("prft", 0, 0, b"\0" * 16)
             + B.box("free", b"x" * 10))
    data = B.init_segment() + extra + B.fragment() + extra + B.fragment(sequence_number=2)
    events = parser().feed(data)
    assert not [e for e in events if isinstance(e, ParseFailed | ParseWarning)]
    assert len(frames(events)) == 6


def test_partial_fragment_emits_complete_samples_then_reset_drops_the_rest() -> None:
    init = B.init_segment()
    frag = B.fragment()
    p = parser()
    p.feed(init)
    cut = len(frag) - 60  # samples are 100, 50, 50 bytes: the last two are cut
    events = p.feed(frag[:cut])
    assert [f.size for f in frames(events)] == [100]
    assert p.in_media_segment
    p.reset()
    assert not p.in_media_segment
    events = p.feed(B.fragment(sequence_number=2))
    assert [f.size for f in frames(events)] == [100, 50, 50]


def test_muxed_fragment_waits_for_all_its_samples() -> None:
    tracks = [B.Track(1), B.Track(2, "soun", 48000, B.audio_entry())]
    frag = B.fragment([B.Traf(1), B.Traf(2)])
    p = parser(AVC_AAC)
    p.feed(B.init_segment(tracks))
    assert frames(p.feed(frag[:-1])) == []
    assert len(frames(p.feed(frag[-1:]))) == 6


def test_zero_size_samples_are_skipped_with_a_warning() -> None:
    run = B.Run([10, 0, 10], [512, 512, 512], [B.SYNC, B.NON_SYNC, B.NON_SYNC])
    events = parser().feed(B.init_segment() + B.fragment([B.Traf(runs=[run])]))
    assert [f.size for f in frames(events)] == [10, 10]
    assert [e.rule for e in events if isinstance(e, ParseWarning)] == ["BMFF-MEDIA-19"]


# --- append errors


def test_garbage_first_append() -> None:
    junk = bytes(random.Random(1).randrange(256) for _ in range(4096))
    f = failure(parser().feed(b"\xfa" + junk[1:]))  # a size field above 2^31-1
    assert f.offset == 0 and f.rule == "BMFF-INIT-10"
    # garbage whose size field is plausible waits for that many bytes, like Chromium
    assert parser().feed(bytes(range(256))) == []


def test_garbage_with_plausible_size_fails_once_complete() -> None:
    junk = struct.pack(">I4s", 64, b"\x01\x02\x03\x04") + b"\0" * 56
    p = parser()
    assert p.feed(junk[:40]) == []
    f = failure(p.feed(junk[40:]))
    assert f.rule == "BMFF-INIT-09" and "Invalid top-level ISO BMFF box type" in f.message


def test_media_segment_before_init() -> None:
    f = failure(parser().feed(B.fragment()))
    assert f.rule == "GEN-11" and f.offset == 0


def test_unfragmented_moov_without_mvex() -> None:
    f = failure(parser().feed(B.init_segment(mvex=False)))
    assert f.rule == "BMFF-INIT-05"
    assert f.message.startswith("Failure parsing MP4: Detected unfragmented MP4.")


def test_box_size_zero_in_a_media_segment_fails_and_drops_the_slice_frames() -> None:
    init = B.init_segment()
    data = init + B.fragment(mdat_size_zero=True)
    events = parser().feed(data)
    f = failure(events)
    assert f.message == "ISO BMFF boxes that run to EOS are not supported"
    assert f.rule == "BMFF-INIT-10"
    assert frames(events) == []  # Chromium drops the buffers of the failing Parse() slice
    spec_events = parser(profile="spec").feed(data)
    assert len(frames(spec_events)) == 1  # the spec processes frames as they complete
    failure(spec_events)


def test_frames_of_earlier_slices_survive_a_later_failure() -> None:
    init = B.init_segment()
    big = B.Run([CHROMIUM_SLICE // 2] * 3, [512] * 3, [B.SYNC, B.NON_SYNC, B.NON_SYNC])
    data = init + B.fragment([B.Traf(runs=[big])]) + b"\0\0\0\0" + b"junk" * 4
    events = parser().feed(data)
    failure(events)
    assert len(frames(events)) == 3


def test_unknown_track_id() -> None:
    f = failure(parser().feed(B.init_segment() + B.fragment([B.Traf(track_id=7)])))
    assert f.rule == "BMFF-MEDIA-13"


def test_base_data_offset_is_rejected() -> None:
    f = failure(parser().feed(B.init_segment() + B.fragment([B.Traf(base_data_offset=0)])))
    assert f.rule == "BMFF-MEDIA-07" and "TFHD base-data-offset not allowed by MSE" in f.message


def test_several_trafs_without_default_base_is_moof_fail_only_in_the_spec_profile() -> None:
    tracks = [B.Track(1), B.Track(2, "soun", 48000, B.audio_entry())]
    data = B.init_segment(tracks) + B.fragment([B.Traf(1, default_base_is_moof=False), B.Traf(2)])
    assert not [e for e in parser(AVC_AAC).feed(data) if isinstance(e, ParseFailed)]
    assert failure(parser(AVC_AAC, "spec").feed(data)).rule == "BMFF-MEDIA-07"


def test_missing_tfdt() -> None:
    f = failure(parser().feed(B.init_segment() + B.fragment([B.Traf(decode_time=None)])))
    assert f.rule == "BMFF-MEDIA-10"


def test_reserved_sample_depends_on() -> None:
    run = B.Run([10], [512], [0x03000000])
    f = failure(parser().feed(B.init_segment() + B.fragment([B.Traf(runs=[run])])))
    assert f.message == "Reserved value used in sample dependency info."
    assert f.rule == "BMFF-MEDIA-16"


def test_child_box_overrunning_the_moof() -> None:
    frag = bytearray(B.fragment())
    i = frag.find(b"mfhd") - 4
    frag[i : i + 4] = struct.pack(">I", 5000)
    f = failure(parser().feed(B.init_segment() + bytes(frag)))
    assert f.rule == "BMFF-BOX-02"


def test_box_larger_than_int32_is_rejected() -> None:
    data = B.init_segment() + struct.pack(">I4sQ", 1, b"free", 1 << 33)
    assert failure(parser().feed(data)).rule == "BMFF-INIT-10"


def test_codec_family_must_match_the_type() -> None:
    f = failure(parser('video/mp4; codecs="vp09.00.10.08"').feed(B.init_segment()))
    assert f.message == "Video stream codec h264 doesn't match SourceBuffer codecs."
    assert f.rule == "BMFF-INIT-16"
    g = failure(parser(AVC_AAC).feed(B.init_segment()))
    assert g.message == "Initialization segment misses expected aac track."
    # profile/level differences are not checked, only the family
    assert not [e for e in parser('video/mp4; codecs="avc1.640028"').feed(B.init_segment())
                if isinstance(e, ParseFailed)]


def test_audio_object_type_must_match_the_type() -> None:
    tracks = [B.Track(1, "soun", 48000, B.audio_entry(children=B.esds(oti=0x6B)))]
    f = failure(parser('audio/mp4; codecs="mp4a.40.2"').feed(B.init_segment(tracks)))
    assert f.message == "audio object type 0x6b does not match what is specified in the mimetype."


def encrypted_track(scheme: bytes = b"cenc", iv_size: int = 8) -> B.Track:
    tenc = B.full("tenc", 0, 0, b"\0\0" + bytes([1, iv_size]) + b"\x11" * 16
                  + (b"\x10" + b"\0" * 16 if iv_size == 0 else b""))
    sinf = B.box("sinf", B.box("frma", b"avc1") + B.full("schm", 0, 0, scheme + b"\0\1\0\0")
                 + B.box("schi", tenc))
    return B.Track(entry=B.visual_entry("encv", B.avcc() + sinf))


def test_encrypted_track_needs_a_supported_scheme_and_sample_encryption_info() -> None:
    assert failure(parser().feed(B.init_segment([encrypted_track(b"abcd")]))).rule == "BMFF-INIT-17"
    init = B.init_segment([encrypted_track()])
    events = parser().feed(init)
    assert isinstance(events[0], InitSegmentParsed) and events[0].init.tracks[0].encrypted
    assert events[0].init.tracks[0].codec == "avc1.42C00D"
    f = failure(parser().feed(init + B.fragment()))
    assert f.message == "Sample encryption info is not available." and f.rule == "BMFF-MEDIA-22"
    # cbcs with a constant IV needs no per-sample info
    cbcs = B.init_segment([encrypted_track(b"cbcs", iv_size=0)])
    assert len(frames(parser().feed(cbcs + B.fragment()))) == 3


def test_unrepresentable_timestamps() -> None:
    traf = B.Traf(decode_time=1 << 62)
    init = B.init_segment([B.Track(timescale=1)])
    f = failure(parser().feed(init + B.fragment([traf])))
    assert f.message == "Frame PTS exceeds representable limit" and f.rule == "BMFF-MEDIA-17"
    assert len(frames(parser().feed(init + B.fragment([B.Traf(decode_time=1 << 40)])))) == 3


def test_quicktime_v1_sound_description_fails_in_chromium() -> None:
    body = (b"\0" * 6 + struct.pack(">H", 1) + struct.pack(">H", 1) + b"\0" * 6 + struct.pack(">HH", 2, 16)
            + b"\0" * 4 + struct.pack(">I", 48000 << 16) + struct.pack(">IIII", 1024, 1536, 4, 2) + B.esds())
    tracks = [B.Track(1, "soun", 48000, B.box("mp4a", body))]
    assert failure(parser(AAC).feed(B.init_segment(tracks))).rule == "BMFF-INIT-14"
    assert not [e for e in parser(AAC, "spec").feed(B.init_segment(tracks)) if isinstance(e, ParseFailed)]


def test_track_without_trex() -> None:
    f = failure(parser().feed(B.init_segment([B.Track(trex=False)])))
    assert f.rule == "BMFF-INIT-06"


def test_non_empty_sample_tables_fail_only_in_the_spec_profile() -> None:
    data = B.init_segment([B.Track(stts_entries=2)])
    assert not [e for e in parser().feed(data) if isinstance(e, ParseFailed)]
    assert failure(parser(profile="spec").feed(data)).rule == "BMFF-INIT-04"


def test_nothing_after_a_failure() -> None:
    p = parser()
    failure(p.feed(B.fragment()))
    assert p.feed(B.init_segment()) == []
    p.reset()
    assert p.feed(B.init_segment()) == []


def test_reinit_and_segment_events_offsets() -> None:
    init = B.init_segment()
    frag = B.fragment()
    events = parser().feed(init + frag + init + frag)
    starts = [e.offset for e in events if isinstance(e, MediaSegmentStarted)]
    ends = [e.offset for e in events if isinstance(e, MediaSegmentEnded)]
    inits = [e.offset for e in events if isinstance(e, InitSegmentParsed)]
    n = len(init) + len(frag)
    assert inits == [0, n]
    assert starts == [len(init), n + len(init)]
    assert ends == [n, 2 * n]  # the end of the last sample's data
