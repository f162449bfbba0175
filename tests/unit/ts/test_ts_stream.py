"""TsStreamParser on an ffmpeg-made H.264 + AAC transport stream and on byte-built damage."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

from msetool.mime import parse_mime
from msetool.stream import FramesParsed, MediaSegmentStarted
from msetool.ts.h264 import parse_sps, split_nalus
from msetool.ts.stream import AUDIO_TRACK_ID, VIDEO_TRACK_ID, TsStreamParser, Unroller
from tests.unit.ts.helpers import (
    MIME,
    failures,
    feed_all,
    frames,
    inits,
    packets,
    pat_section,
    payload_start,
    pid_of,
    psi_packet,
    pusi,
)


def _secs(f: object) -> Fraction:
    return Fraction(f.pts, f.timescale)  # type: ignore[attr-defined]


def _video_pid(data: bytes) -> int:
    for pkt in packets(data):
        if pusi(pkt):
            pay = pkt[payload_start(pkt) :]
            if pay[:3] == b"\x00\x00\x01" and pay[3] & 0xF0 == 0xE0:
                return pid_of(pkt)
    raise AssertionError("no video PES")


def _all_frames(data: bytes) -> tuple[list, list]:
    """Frames of one append plus those an abort() flushes out (held back by Chromium's parser)."""
    p, events = feed_all(data)
    p.reset()
    return frames(events), frames(p.take_reset_events())


def test_init_segment_tracks_and_codec_string(ts_bytes: bytes) -> None:
    _, events = feed_all(ts_bytes)
    (init,) = inits(events)
    kinds = {t.kind: t for t in init.init.tracks}
    assert set(kinds) == {"audio", "video"}
    assert kinds["audio"].codec == "mp4a.40.2" and kinds["audio"].sample_rate == 48000
    v = kinds["video"]
    assert (v.width, v.height) == (320, 180)
    # The codec string is the SPS's profile_idc / constraint byte / level_idc, read independently here.
    first_idr = next(pk for pk in packets(ts_bytes) if pid_of(pk) == _video_pid(ts_bytes) and pusi(pk))
    pay = first_idr[payload_start(first_idr) :]
    es = pay[9 + pay[8] :]
    sps_nal = next(n for n in split_nalus(es) if n and n[0] & 0x1F == 7)
    assert v.codec == f"avc1.{sps_nal[1]:02X}{sps_nal[2]:02X}{sps_nal[3]:02X}"
    assert parse_sps(sps_nal).coded_height == 192  # 180 rounded up to macroblocks, then cropped


def test_frames_timestamps_and_keyframes(ts_bytes: bytes) -> None:
    emitted, flushed = _all_frames(ts_bytes)
    video = [f for f in emitted + flushed if f.track_id == VIDEO_TRACK_ID]
    audio = [f for f in emitted + flushed if f.track_id == AUDIO_TRACK_ID]
    assert len(video) == 60
    assert [i for i, f in enumerate(video) if f.keyframe] == [0, 30]  # IDR every 30 frames (-g 30)
    # 30 fps: each frame lasts until the next presentation time, in 90 kHz ticks (truncated to µs).
    for a, b in itertools.pairwise(video):
        assert abs(_secs(b) - _secs(a) - Fraction(1, 30)) < Fraction(2, 10**6)
        assert a.pts + a.duration == b.pts
    assert all(f.keyframe for f in audio)
    assert all(abs(Fraction(f.duration, f.timescale) - Fraction(1024, 48000)) <= Fraction(1, 10**6)
               for f in audio)
    assert abs(_secs(video[0]) - _secs(audio[0])) < Fraction(1, 10)  # both start near ffmpeg's 1.4 s


def test_chromium_holds_back_the_last_frames_until_the_next_append(ts_bytes: bytes) -> None:
    emitted, flushed = _all_frames(ts_bytes)
    v_emitted = [f for f in emitted if f.track_id == VIDEO_TRACK_ID]
    v_flushed = [f for f in flushed if f.track_id == VIDEO_TRACK_ID]
    # last PES (waits for the next start) + one access unit (waits for the next AUD) + 5 in the adapter
    assert len(v_flushed) == 7 and len(v_emitted) == 53
    # the last frame has no successor: it takes the previous frame's duration
    assert v_flushed[-1].duration == v_flushed[-2].duration


def test_in_media_segment_stays_true_until_reset(ts_bytes: bytes) -> None:
    p, events = feed_all(ts_bytes[: 188 * 200])
    assert any(isinstance(e, MediaSegmentStarted) for e in events)
    assert p.in_media_segment
    p.reset()
    assert not p.in_media_segment


def test_feeding_is_independent_of_cut_points(ts_bytes: bytes) -> None:
    # Batches follow the appends (as in Chromium), so compare each track's frame sequence.
    def per_track(chunks: list[int] | None, data: bytes = ts_bytes) -> dict[int, list]:
        events = feed_all(data, chunks)[1]
        return {t: frames(events, t) for t in (AUDIO_TRACK_ID, VIDEO_TRACK_ID)}

    rng = random.Random(7)
    cuts = [rng.randint(1, 5000) for _ in range(200)]
    assert per_track(cuts) == per_track(None)
    prefix = ts_bytes[: 188 * 300]
    assert per_track([1] * len(prefix), prefix) == per_track(None, prefix)
    assert per_track(None, prefix)[VIDEO_TRACK_ID]


def test_after_abort_a_pat_and_pmt_are_needed_again(ts_bytes: bytes) -> None:
    p, _ = feed_all(ts_bytes)
    p.reset()
    p.take_reset_events()
    vpid = _video_pid(ts_bytes)
    media_only = b"".join(pk for pk in packets(ts_bytes) if pid_of(pk) not in (0, 0x1000, 0x11))
    assert vpid not in (0, 0x1000)
    assert frames(p.feed(media_only)) == []
    p.reset()
    again = p.feed(ts_bytes)
    assert len(inits(again)) == 1 and frames(again)


def test_out_of_order_append_fails_like_chromium(ts_bytes: bytes) -> None:
    p, first = feed_all(ts_bytes)
    assert not failures(first)
    # Appending the same segment again: frames held back from the first append (t ≈ 3.2 s) are sent in
    # the same batch as the new ones (t = 1.4 s): Chromium's "Parsed buffers not in DTS sequence".
    (fail,) = failures(p.feed(ts_bytes))
    assert fail.rule == "TS-MEDIA-05" and "DTS sequence" in fail.message
    assert p.feed(ts_bytes) == []  # after an append error the parser accepts nothing


def test_lost_sync_and_missing_packets_are_tolerated(ts_bytes: bytes) -> None:
    pk = packets(ts_bytes)
    damaged = bytearray(ts_bytes)
    for i in range(60, len(pk), 40):
        damaged[i * 188] = 0x00  # like brk_ts_corrupted_sync_bytes: no append error, data lost
    _, events = feed_all(bytes(damaged))
    assert not failures(events)
    good = frames(feed_all(ts_bytes)[1], AUDIO_TRACK_ID)
    assert 0 < len(frames(events, AUDIO_TRACK_ID)) < len(good)


def test_video_pes_without_pts_fails_mid_stream(ts_bytes: bytes) -> None:
    vpid = _video_pid(ts_bytes)
    data = bytearray(ts_bytes)
    starts = [i for i, pk in enumerate(packets(ts_bytes)) if pid_of(pk) == vpid and pusi(pk)]
    k = starts[20]
    at = k * 188 + payload_start(packets(ts_bytes)[k]) + 7
    data[at] &= 0x3F  # PTS_DTS_flags = '00'; the timestamp bytes become header stuffing
    (fail,) = failures(feed_all(bytes(data))[1])
    assert fail.rule == "TS-MEDIA-02"


def test_psi_crc_is_only_a_warning_but_bad_fields_and_two_programs_fail(ts_bytes: bytes) -> None:
    pk = packets(ts_bytes)
    pat_i = next(i for i, p in enumerate(pk) if pid_of(p) == 0)
    bad_crc = bytearray(ts_bytes)
    bad_crc[pat_i * 188 + 10] ^= 0xFF  # version/current_next_indicator: the CRC no longer matches
    events = feed_all(bytes(bad_crc))[1]
    assert not failures(events)  # Chromium 156 logs a bad CRC_32 and parses the section anyway
    assert any(getattr(e, "rule", None) == "TS-PSI-02" for e in events)
    assert frames(events)  # current_next_indicator 0: that PAT is ignored, the next one is used
    bad_table = bytearray(ts_bytes)
    bad_table[pat_i * 188 + 5] = 0x01  # table_id 1 on PID 0
    (fail,) = failures(feed_all(bytes(bad_table))[1])
    assert fail.rule == "TS-PSI-01"
    two = psi_packet(0, pat_section([(1, 0x1000), (2, 0x1100)]))
    (fail,) = failures(feed_all(two + ts_bytes)[1])
    assert fail.rule == "TS-GEN-04"


def test_codecs_parameter_filters_streams(ts_bytes: bytes) -> None:
    _, events = feed_all(ts_bytes, mime='video/mp2t; codecs="avc1.4D401F"')
    (init,) = inits(events)
    assert [t.kind for t in init.init.tracks] == ["video"]
    assert frames(events, AUDIO_TRACK_ID) == []


def test_unroller_continues_across_the_33_bit_wrap() -> None:
    u = Unroller()
    top = (1 << 33) - 3000
    seq = [u.unroll(t % (1 << 33)) for t in range(top, top + 9000, 3000)]
    assert seq == [top, top + 3000, top + 6000]
    assert u.unroll(top) == top  # going back is the nearer candidate too


def test_spec_profile_keeps_exact_90khz_ticks(ts_bytes: bytes) -> None:
    p = TsStreamParser(parse_mime(MIME), "spec")
    video = [f for e in p.feed(ts_bytes) if isinstance(e, FramesParsed) for f in e.frames
             if f.track_id == VIDEO_TRACK_ID]
    assert video[0].timescale == 90000 and video[0].duration == 3000


def test_append_error_reset_still_flushes_the_other_streams(ts_bytes: bytes) -> None:
    # An audio PES with an empty payload fails the append (checked in Chromium 156). The append error
    # algorithm resets the parser; Chromium's flush then still emits what the video stream had parsed.
    pk = packets(ts_bytes)
    apid = next(pid_of(p) for p in pk if pusi(p) and p[payload_start(p) + 3] & 0xE0 == 0xC0)
    k = [i for i, p in enumerate(pk) if pid_of(p) == apid and pusi(p)][3]
    pts = pk[k][payload_start(pk[k]) + 9 : payload_start(pk[k]) + 14]
    empty = bytes([0x47, 0x40 | apid >> 8, apid & 0xFF, 0x30, 169, 0x00]) + b"\xff" * 168 + bytes(
        [0, 0, 1, 0xC0, 0, 8, 0x80, 0x80, 5]) + pts
    p, events = feed_all(b"".join(pk[:k]) + empty + b"".join(pk[k:]))
    assert [f.rule for f in failures(events)] == ["TS-PES-02"]
    p.reset()
    flushed = frames(p.take_reset_events())
    assert flushed and {f.track_id for f in flushed} == {VIDEO_TRACK_ID}
    # ... but a batch refused for its DTS order is refused again: nothing more is buffered.
    p2, _ = feed_all(ts_bytes)
    assert failures(p2.feed(ts_bytes))
    p2.reset()
    assert p2.take_reset_events() == []


def test_reset_parser_helper_returns_the_flush(ts_bytes: bytes) -> None:
    from msetool.stream import reset_parser

    p, _ = feed_all(ts_bytes)
    flushed = reset_parser(p)
    assert len(frames(flushed, VIDEO_TRACK_ID)) == 7
    assert reset_parser(p) == []  # nothing left after the first reset
