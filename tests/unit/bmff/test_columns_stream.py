"""BmffStreamParser hands its frames out as columns: each FramesParsed holds FrameColumns that are slices of
the runs' sample tables, with sparse keyframe corrections and decode errors, instead of one CodedFrame per
sample.

The reference is the parser's own sample-by-sample path (``_enqueue_sample``, which the batch path skips
for every sample that needs nothing special): with the batch path switched off, every sample goes through
it. Both must give the same events, the same frames in the same FramesParsed groups, whether bytes are fed
in one piece, in small chunks, or skipped the way the validate engine skips them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from msetool.bmff.stream import BmffStreamParser
from msetool.mime import parse_mime
from msetool.stream import FrameColumns, FramesParsed, ParserEvent, Profile
from tests import media
from tests.skipdrive import drive_skipping
from tests.unit.bmff import builder as B

AVC = 'video/mp4; codecs="avc1.42C00D"'
AVC_AAC = 'video/mp4; codecs="avc1.42C00D,mp4a.40.2"'


class PerSample(BmffStreamParser):
    """The parser with its batch path off: every sample takes the sample-by-sample path."""

    def _emit_batch(self, events: list[ParserEvent], run: object, i: int) -> int:
        return i


def make(cls: type[BmffStreamParser], mime: str, profile: Profile, checks: str) -> BmffStreamParser:
    p = cls(mime=parse_mime(mime), profile=profile)
    p.sample_checks = checks
    return p


def fed(p: BmffStreamParser, data: bytes, chunk: int) -> list[ParserEvent]:
    out: list[ParserEvent] = []
    for i in range(0, len(data), chunk):
        out += p.feed(data[i : i + chunk])
    return out


Frame = tuple[int, int, int, int, int, bool, int, int, bool, str | None]


def batches(events: list[ParserEvent]) -> list[list[Frame]]:
    """Every FramesParsed as its frames' fields, in order (the grouping is part of the contract)."""
    return [
        [(f.track_id, f.dts, f.pts, f.duration, f.timescale, f.keyframe, f.size, f.offset,
          f.duration_estimated, f.decode_error) for f in e.frames]
        for e in events if isinstance(e, FramesParsed)
    ]


def others(events: list[ParserEvent]) -> list[ParserEvent]:
    return [e for e in events if not isinstance(e, FramesParsed)]


# --- inputs


def nal_sample(*nals: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(n)) + n for n in nals)


def with_samples(frag: bytes, samples: list[bytes]) -> bytes:
    """``frag`` (one mdat after the moof) with its sample bytes replaced."""
    at = frag.find(b"mdat") + 4
    return frag[:at] + b"".join(samples)


def _tracks() -> list[B.Track]:
    return [B.Track(), B.Track(track_id=2, handler="soun", timescale=48000, entry=B.audio_entry())]


def muxed_runs() -> bytes:
    """Muxed fragments, two truns per traf, samples spanning several 128 KiB slices."""
    def frag(seq: int, t0: int) -> bytes:
        v = B.Traf(track_id=1, decode_time=t0 * 512, runs=[
            B.Run([90_000, 30_000, 70_000], [512] * 3, [B.SYNC, B.NON_SYNC, B.NON_SYNC]),
            B.Run([50_000, 40_000], [512] * 2, [B.NON_SYNC, B.SYNC])])
        a = B.Traf(track_id=2, decode_time=t0 * 1024, runs=[B.Run([300] * 5, [1024] * 5),
                                                          B.Run([200] * 3, [1024] * 3)])
        return B.fragment([v, a], sequence_number=seq)
    return B.init_segment(_tracks()) + frag(1, 0) + frag(2, 5)


def zero_sizes() -> bytes:
    run = B.Run([10, 0, 10, 0, 0, 30, 12], [512] * 7, [B.SYNC] + [B.NON_SYNC] * 6)
    return B.init_segment() + B.fragment([B.Traf(runs=[run])]) + B.fragment(
        [B.Traf(decode_time=7 * 512, runs=[run])], sequence_number=2)


def keyframe_overrides() -> bytes:
    """The H.264 bytes say otherwise than the container's sync flags (Chromium believes the bytes)."""
    idr = nal_sample(b"\x09\xf0", b"\x67\x42", b"\x65\x88\x80")
    non_idr = nal_sample(b"\x41\x9a\x02")
    samples = [idr, non_idr, idr, non_idr, idr]
    flags = [B.NON_SYNC, B.SYNC, B.SYNC, B.NON_SYNC, B.NON_SYNC]
    frag = B.fragment([B.Traf(runs=[B.Run([len(s) for s in samples], [512] * 5, flags)])])
    return B.init_segment() + with_samples(frag, samples)


def misaddressed() -> bytes:
    """Video then audio traf, no default-base-is-moof, the audio data_offset counted from the end of the
    video data (ISO): Chromium reads the audio from inside the moof, every audio frame carries the error."""
    video = nal_sample(b"\x65\x88\x80" + b"\x11" * 40)
    mfhd = B.full("mfhd", 0, 0, struct.pack(">I", 1))

    def traf(tid: int, sizes: list[int], off: int) -> bytes:
        tfhd = B.full("tfhd", 0, 0, struct.pack(">I", tid))
        tfdt = B.full("tfdt", 1, 0, struct.pack(">Q", 0))
        body = struct.pack(">Ii", len(sizes), off)
        body += b"".join(struct.pack(">III", 512, s, B.SYNC) for s in sizes)
        return B.box("traf", tfhd + tfdt + B.full("trun", 0, 0x701, body))

    def moof(voff: int, aoff: int) -> bytes:
        return B.box("moof", mfhd + traf(1, [len(video)], voff) + traf(2, [12, 12], aoff))

    head = len(moof(0, 0)) + 8
    return B.init_segment(_tracks()) + moof(head, 0) + B.box("mdat", video + b"\x21\x10" * 12)


def broken_first_slice() -> bytes:
    """The first IDR's slice header names slice_type 135: the paused element's preroll cannot decode it."""
    good = nal_sample(b"\x65\x88\x84" + b"\x21" * 30)
    bad = nal_sample(b"\x65\x80\x88" + b"\x21" * 30)
    samples = [bad, good, good, good, good, good]
    flags = [B.SYNC] + [B.NON_SYNC] * 5
    frag = B.fragment([B.Traf(runs=[B.Run([len(s) for s in samples], [512] * 6, flags)])])
    return B.init_segment() + with_samples(frag, samples)


def dts_back_across_runs() -> bytes:
    """Two trafs of one track in one moof, the second earlier in time, data across several slices: the
    coalesced pass must keep the slice boundary where the DTS steps back."""
    first = B.Traf(decode_time=10 * 512, runs=[B.Run([100_000, 60_000], [512] * 2, [B.SYNC, B.NON_SYNC])])
    second = B.Traf(decode_time=0, runs=[B.Run([80_000, 90_000], [512] * 2, [B.SYNC, B.NON_SYNC])])
    return B.init_segment() + B.fragment([first, second]) + B.fragment(
        [B.Traf(decode_time=20 * 512)], sequence_number=2)


def audio_dts_back_in_one_pass() -> bytes:
    """The same with audio (nothing to analyse): the skipping drive parses each moof's samples in one pass,
    and the pass must hand them out split where the 128 KiB slices put the step back."""
    tracks = [B.Track(track_id=1, handler="soun", timescale=48000, entry=B.audio_entry())]
    first = B.Traf(decode_time=10 * 1024, runs=[B.Run([100_000, 20_000], [1024] * 2)])
    second = B.Traf(decode_time=0, runs=[B.Run([80_000, 90_000], [1024] * 2)])
    later = B.Traf(decode_time=20 * 1024, runs=[B.Run([300] * 3, [1024] * 3)])
    return (B.init_segment(tracks) + B.fragment([first, second])
            + B.fragment([later], sequence_number=2))


def ffmpeg_muxed() -> bytes:
    return media.fmp4_avc_aac().read_bytes()


CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    "muxed-runs": (muxed_runs, AVC_AAC),
    "zero-sizes": (zero_sizes, AVC),
    "keyframe-overrides": (keyframe_overrides, AVC),
    "misaddressed": (misaddressed, AVC_AAC),
    "broken-first-slice": (broken_first_slice, AVC),
    "dts-back-across-runs": (dts_back_across_runs, AVC),
    "audio-dts-back": (audio_dts_back_in_one_pass, 'audio/mp4; codecs="mp4a.40.2"'),
    "ffmpeg": (ffmpeg_muxed, 'video/mp4; codecs="avc1.64001F,mp4a.40.2"'),
}


@pytest.fixture(scope="module")
def inputs() -> dict[str, bytes]:
    return {name: build() for name, (build, _mime) in CASES.items()}


@pytest.mark.parametrize("profile", ["chromium", "spec"])
@pytest.mark.parametrize("name", list(CASES))
def test_batches_equal_the_sample_by_sample_path(
    inputs: dict[str, bytes], name: str, profile: Profile
) -> None:
    data, mime = inputs[name], CASES[name][1]
    for chunk in (len(data), 4096, 1000):
        if chunk < 4096 and len(data) > 400_000:
            continue  # small chunks on the big inputs cost time and add nothing
        want = fed(make(PerSample, mime, profile, "all"), data, chunk)
        got = fed(make(BmffStreamParser, mime, profile, "all"), data, chunk)
        assert batches(got) == batches(want), (name, chunk)
        assert others(got) == others(want), (name, chunk)
        # (the spec profile refuses several trafs without default-base-is-moof before any frame)
        assert batches(want) or (name == "misaddressed" and profile == "spec")


@pytest.mark.parametrize("checks", ["all", "rap"])
@pytest.mark.parametrize("name", list(CASES))
def test_skipping_equals_the_sample_by_sample_path(inputs: dict[str, bytes], name: str, checks: str) -> None:
    data, mime = inputs[name], CASES[name][1]
    want, _ = drive_skipping(make(PerSample, mime, "chromium", checks), data)
    got, _ = drive_skipping(make(BmffStreamParser, mime, "chromium", checks), data)
    assert batches(got) == batches(want)
    assert others(got) == others(want)
    if checks == "all":  # the same frames as feeding every byte (grouped as coalescing groups them)
        every = fed(make(PerSample, mime, "chromium", checks), data, len(data))
        assert [f for g in batches(got) for f in g] == [f for g in batches(every) for f in g]


def _columns_of(events: list[ParserEvent]) -> list[FrameColumns]:
    return [c for e in events if isinstance(e, FramesParsed) for c in e.columns]


def test_frames_come_as_slices_of_the_runs(inputs: dict[str, bytes]) -> None:
    # skipped like validate does: each moof's samples are parsed in one pass, one FramesParsed per moof
    events, _ = drive_skipping(make(BmffStreamParser, AVC_AAC, "chromium", "rap"), inputs["muxed-runs"])
    parsed = [e for e in events if isinstance(e, FramesParsed)]
    # built from columns: no frame object exists until a consumer asks for .frames
    assert len(parsed) == 2 and all(e._frames is None for e in parsed)
    cols = _columns_of(events)
    # one column per run (two truns per traf, two trafs, two fragments), in data order
    assert [(c.track_id, len(c)) for c in cols] == [(1, 3), (1, 2), (2, 5), (2, 3)] * 2
    assert all(not c.decode_errors and not c.estimated for c in cols)
    v = cols[0]
    assert list(v.size) == [90_000, 30_000, 70_000] and list(v.dts) == [0, 512, 1024]
    assert list(v.keyframe) == [True, False, False]
    assert [o - v.offset[0] for o in v.offset] == [0, 90_000, 120_000]
    assert sum(map(len, cols)) == sum(e.count for e in parsed) == len([f for e in parsed for f in e.frames])


def test_empty_samples_split_the_columns(inputs: dict[str, bytes]) -> None:
    cols = _columns_of(make(BmffStreamParser, AVC, "chromium", "all").feed(inputs["zero-sizes"]))
    assert [list(c.size) for c in cols] == [[10], [10], [30, 12]] * 2


def test_keyframe_corrections_are_in_the_column(inputs: dict[str, bytes]) -> None:
    (col,) = _columns_of(make(BmffStreamParser, AVC, "chromium", "all").feed(inputs["keyframe-overrides"]))
    assert list(col.keyframe) == [True, False, True, False, True]  # the bytes, not the sync flags
    (spec,) = _columns_of(make(BmffStreamParser, AVC, "spec", "all").feed(inputs["keyframe-overrides"]))
    assert list(spec.keyframe) == [False, True, True, False, False]


def test_decode_errors_are_sparse(inputs: dict[str, bytes]) -> None:
    (col,) = _columns_of(make(BmffStreamParser, AVC, "chromium", "all").feed(inputs["broken-first-slice"]))
    assert list(col.decode_errors) == [0] and "slice_type 135" in col.decode_errors[0]
    # the frames view agrees
    frames = FramesParsed(columns=[col]).frames
    assert [f.decode_error is not None for f in frames] == [True] + [False] * 5
    # rap checks do not run the preroll decode check (validate's engine predicts it from --deep only)
    (rap,) = _columns_of(make(BmffStreamParser, AVC, "chromium", "rap").feed(inputs["broken-first-slice"]))
    assert not rap.decode_errors


def test_a_misaddressed_traf_marks_every_frame_of_its_track(inputs: dict[str, bytes]) -> None:
    cols = _columns_of(make(BmffStreamParser, AVC_AAC, "chromium", "all").feed(inputs["misaddressed"]))
    # Chromium reads the audio first (its data offset points into the moof)
    assert [(c.track_id, len(c)) for c in cols] == [(2, 2), (1, 1)]
    assert not cols[1].decode_errors
    assert sorted(cols[0].decode_errors) == [0, 1]
    # (a frame whose own bytes fail the preroll decode check says so instead)
    assert "relative to the moof" in cols[0].decode_errors[0]


def test_a_dts_step_back_keeps_its_slice_boundary_when_skipping(inputs: dict[str, bytes]) -> None:
    data = inputs["audio-dts-back"]
    p = make(BmffStreamParser, CASES["audio-dts-back"][1], "chromium", "rap")
    got, read = drive_skipping(p, data)
    assert read < 2000  # every sample byte was skipped: one pass per moof
    # first moof: frames ending at ~100 K and ~120 K (first 128 KiB slice), ~200 K, ~290 K (later slices);
    # the DTS steps back between the first two slices, so they stay apart; the later ones merge
    groups = [[f[1] for f in g] for g in batches(got)]
    assert groups == [[10 * 1024, 11 * 1024], [0, 1024], [20 * 1024, 21 * 1024, 22 * 1024]]
    # (this rare split hands out frame objects; their columns view is one column per group and track)
    first = [e for e in got if isinstance(e, FramesParsed)][:2]
    assert [[len(c) for c in e.columns] for e in first] == [[2], [2]]


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_appended_buffers_are_held_safely(inputs: dict[str, bytes], kind: type) -> None:
    # an appended bytes object is held as it is (no copy); a mutable buffer the caller reuses must not be
    data, mime = inputs["muxed-runs"], AVC_AAC
    want = fed(make(BmffStreamParser, mime, "chromium", "all"), data, 50_000)
    p = make(BmffStreamParser, mime, "chromium", "all")
    got: list[ParserEvent] = []
    for i in range(0, len(data), 50_000):
        piece = data[i : i + 50_000]
        if kind is bytes:
            got += p.feed(piece)
            continue
        buf = bytearray(piece)
        got += p.feed(buf if kind is bytearray else memoryview(buf))  # type: ignore[arg-type]
        buf[:] = b"\xee" * len(buf)  # the caller reuses its buffer
    assert batches(got) == batches(want) and others(got) == others(want)
