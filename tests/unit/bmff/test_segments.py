"""The segment model: init tracks and per-sample tables from fragments (ISO and Chromium addressing)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from msetool.bmff.reader import parse_bytes
from msetool.bmff.segments import expand_fragment, iter_segments, read_init
from msetool.source import BytesSource, FileSource
from tests.unit.bmff import builder as B


def init_of(tracks: list[B.Track]) -> tuple[bytes, object]:
    data = B.init_segment(tracks)
    boxes = parse_bytes(data)
    return data, read_init(boxes[1], boxes[0])


def test_init_tracks() -> None:
    tracks = [B.Track(1, elst_media_time=1024, trex_duration=512),
              B.Track(2, "soun", 48000, B.audio_entry(channels=1, rate=44100))]
    data = B.init_segment(tracks)
    boxes = parse_bytes(data)
    init = read_init(boxes[1], boxes[0])
    v, a = init.init.tracks
    assert (v.track_id, v.kind, v.codec, v.timescale, v.width, v.height) == (1, "video", "avc1.42C00D", 15360,
                                                                              320, 180)
    assert v.presentation_offset == 1024 and v.default_duration == 512
    assert (a.kind, a.codec, a.sample_rate, a.channels, a.language) == ("audio", "mp4a.40.2", 44100, 1, "und")
    assert init.init.offset == 0 and init.init.size == len(data)
    assert init.track(2) is not None and init.track(2).trex["track_ID"] == 2  # type: ignore[union-attr]


def test_empty_edit_is_ignored_like_chromium() -> None:
    data = B.init_segment([B.Track(elst_media_time=-1)])
    boxes = parse_bytes(data)
    assert read_init(boxes[1]).init.tracks[0].presentation_offset == 0


def test_fragment_tables_iso_addressing_with_two_trafs_without_default_base_is_moof() -> None:
    tracks = [B.Track(1), B.Track(2, "soun", 48000, B.audio_entry())]
    data = B.init_segment(tracks)
    boxes = parse_bytes(data)
    init = read_init(boxes[1], boxes[0])
    # second traf: no default-base-is-moof and no data_offset -> ISO continues after traf 1's data
    t2 = B.Traf(2, runs=[B.Run([7, 7], [1024, 1024], [B.SYNC, B.SYNC], data_offset=False)],
                default_base_is_moof=False)
    frag = B.fragment([B.Traf(1), t2])
    moof = parse_bytes(frag, base=1000)[0]
    iso = expand_fragment(moof, init, dialect="iso")
    v, a = iso.tables
    assert v.data_end == a.data_start
    assert a.offset == [v.data_end, v.data_end + 7]  # type: ignore[list-item,operator]
    chromium = expand_fragment(moof, init, dialect="chromium")
    assert chromium.tables[1].offset[0] == 1000  # moof start + 0


def test_unknown_track_is_a_problem() -> None:
    data = B.init_segment()
    boxes = parse_bytes(data)
    init = read_init(boxes[1])
    frag = expand_fragment(parse_bytes(B.fragment([B.Traf(9)]))[0], init)
    assert frag.tables == [] and frag.problems[0][3] == "BMFF-MEDIA-13"


def test_iter_segments_on_a_real_file(avc_aac_fmp4: Path) -> None:
    with FileSource(avc_aac_fmp4) as src:
        events = list(iter_segments(src))
    assert events[0].kind == "init"
    frags = [e.fragment for e in events if e.fragment is not None]
    assert len(frags) >= 4
    end = {1: 0, 2: 0}
    for f in frags:
        assert f.mdats, "each fragment is followed by its mdat"
        for t in f.tables:
            # tfdt continuity, sample data inside the following mdat
            assert t.base_media_decode_time == end[t.track_id]
            end[t.track_id] = t.end_dts  # type: ignore[assignment]
            mdat = f.mdats[0]
            assert mdat.payload_offset <= t.data_start and t.data_end <= mdat.end  # type: ignore[operator]
    seg = frags[0].to_media_segment()
    assert seg.offset == frags[0].moof.offset and seg.size == frags[0].mdats[0].end - seg.offset
    assert seg.sequence_number == 1


def test_iter_segments_reports_media_before_init() -> None:
    events = list(iter_segments(BytesSource(B.fragment())))
    assert [e.kind for e in events] == ["problem"] and events[0].problem[3] == "GEN-11"  # type: ignore[index]


def test_duration_from_mehd_or_mvhd() -> None:
    data = B.init_segment(timescale=1000)
    boxes = parse_bytes(data)
    assert read_init(boxes[1]).init.duration is None
    mvex = boxes[1].child("mvex")
    assert mvex is not None
    # an mvhd duration of 0 means unknown; a mehd fragment_duration wins when present
    boxes[1].child("mvhd").fields["duration"] = 2500  # type: ignore[union-attr]
    assert read_init(boxes[1]).init.duration == Fraction(5, 2)
