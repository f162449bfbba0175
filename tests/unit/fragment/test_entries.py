"""A track's segment entries are made one segment behind while the watcher reads (package._Entries): each
duration runs to the next segment's start when that is within a tenth of a second of its own end, the
last keeps its own, and a segment without the main track is a warning. Made incrementally or all at once
(_rendition's fallback), the entries and the manifests written from them are the same."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.fragment.layout import SegmentTiming, TrackLayout
from msetool.fragment.manifests import Presentation, all_manifests
from msetool.fragment.package import _Entries, _rendition
from msetool.fragment.plan import TrackOutput

VIDEO = TrackLayout(1, "video", 90_000, "avc1", "avc1.64001f", 1280, 720)
AUDIO = TrackLayout(2, "audio", 48_000, "mp4a", "mp4a.40.2", sample_rate=48_000, channels=2)


def timing(i: int, start: int, dur: int, track: int = 1) -> SegmentTiming:
    return SegmentTiming(f"video/seg-{i:05d}.m4s", 1000 + i, {track: (start, start, dur)})


def test_durations_snap_to_the_next_start_within_a_tenth_of_a_second() -> None:
    e = _Entries("video", [AUDIO, VIDEO])  # the video track is the main one, wherever it is listed
    for t in (timing(1, 0, 180_000), timing(2, 180_900, 180_000), timing(3, 370_000, 180_000),
              timing(4, 0, 1, track=2), timing(5, 550_000, 90_000)):
        e.add(t)
    got = [(s.file[-9:], s.start_ticks, s.duration_ticks, s.size) for s in e.close()]
    assert got == [
        ("00001.m4s", 0, 180_900, 1001),  # a 10 ms gap to the next start: closed
        ("00002.m4s", 180_900, 180_000, 1002),  # 101 ms to the next start (over 9,000 ticks): kept
        ("00003.m4s", 370_000, 180_000, 1003),
        ("00005.m4s", 550_000, 90_000, 1005),  # the last: its own duration
    ]
    assert e.warnings == ["video/seg-00004.m4s: no samples of track 1"]
    assert e.close() == e.entries  # closing twice changes nothing
    assert [x for x in e.texts.entries] == e.entries


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200_000), st.integers(1, 200_000), st.booleans()), max_size=12))
def test_fed_while_reading_or_made_after_give_the_same_rendition(rows: list[tuple[int, int, bool]]) -> None:
    timings, start = [], 0
    for i, (step, dur, main) in enumerate(rows, 1):
        start += step
        timings.append(timing(i, start, dur, track=1 if main else 2))
    mon: Any = SimpleNamespace(tracks=[VIDEO], timings=timings, init_bytes=b"init")
    track = TrackOutput("video", "video", None)
    fed = _Entries("video", [VIDEO])
    for t in timings:
        fed.add(t)
    made, made_warnings = _rendition(track, mon)  # no entries made while reading: made here
    watched, watched_warnings = _rendition(track, mon, fed)
    assert watched.segments == made.segments and watched_warnings == made_warnings
    assert all(a is b for a, b in zip(watched.segments, fed.entries, strict=True))  # fed's were used
    p, q = Presentation(9.0, 2.0, (made,)), Presentation(9.0, 2.0, (watched,))
    assert all_manifests(q, {"video": fed.texts}) == all_manifests(p)
    # fed fewer timings than the monitor read: not used, the entries are made again
    partial = _Entries("video", [VIDEO])
    for t in timings[:-1]:
        partial.add(t)
    again, _w = _rendition(track, mon, partial)
    assert again.segments == made.segments


def test_a_muxed_renditions_end_is_its_last_tracks_end() -> None:
    """The timeline follows the video; the AAC that ends a frame later sets where the media ends, so the
    presentation duration (and the MPD's) covers it."""
    timings = [
        SegmentTiming("m/seg-00001.m4s", 10, {1: (0, 0, 180_000), 2: (0, 0, 94_208)}),
        SegmentTiming("m/seg-00002.m4s", 10, {1: (180_000, 180_000, 180_000), 2: (94_208, 94_208, 98_304)}),
        # no audio in the last segment: the audio's end is read from the one before
        SegmentTiming("m/seg-00003.m4s", 10, {1: (360_000, 360_000, 3_000)}),
    ]
    mon: Any = SimpleNamespace(tracks=[VIDEO, AUDIO], timings=timings[:2], init_bytes=b"init")
    r, _ = _rendition(TrackOutput("m", "muxed", None), mon)
    assert r.duration == 4.0 and r.media_end == 192_512 / 48_000 and r.end == 192_512 / 48_000
    mon.timings = timings
    r, _ = _rendition(TrackOutput("m", "muxed", None), mon)
    assert r.end == r.media_end == 363_000 / 90_000  # the video's last frames now end after the audio
