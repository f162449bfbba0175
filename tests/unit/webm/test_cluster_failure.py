"""A Cluster whose parse fails hands none of the frames parsed with it on (chromium profile).

Chromium's WebMStreamParser::ParseCluster passes a Cluster's ready buffers to the frame processor only
after the cluster parser's call succeeds; when it fails, the frames completed in that call are dropped
(engineer H measured this in Chromium 156: brk_webm_cut_300, a Cluster cut short and then the next one:
the failing append adds nothing to buffered)."""

from __future__ import annotations

from msetool.stream import FramesParsed, MediaSegmentStarted, ParseFailed, ParserEvent
from msetool.webm.stream import WebmStreamParser
from tests.unit.webm import builder as B

VIDEO = B.Track(1, 1, "V_VP9")
VP9_KEY = b"\x82\x49\x83\x42" + b"\0" * 4
VP9_INTER = b"\x86" + b"\0" * 7
#: EBMLVersion: an element Chromium does not allow inside a Cluster
NOT_IN_CLUSTER = B.el(0x4286, b"\x01")


def cluster_events(profile: str, *, earlier_cluster: bool = False) -> list[ParserEvent]:
    """The events of the append that completes a large block of a Cluster that then fails."""
    p = WebmStreamParser(profile=profile)  # type: ignore[arg-type]
    p.feed(B.init_segment([VIDEO]))
    big = VP9_INTER + b"\0" * 4000
    blocks = [B.simple_block(1, 0, VP9_KEY), B.simple_block(1, 40, big, key=False),
              B.simple_block(1, 80, VP9_INTER, key=False)]
    good = B.Cluster(0, blocks).bytes() if earlier_cluster else b""
    bad = B.Cluster(120 if earlier_cluster else 0, [*blocks, NOT_IN_CLUSTER]).bytes()
    data = good + bad
    cut = len(good) + bad.find(big) + 1000  # inside the large block of the failing Cluster
    p.feed(data[:cut])
    return p.feed(data[cut:])


def test_frames_of_the_failing_cluster_are_dropped_in_chromium() -> None:
    events = cluster_events("chromium")
    assert isinstance(events[-1], ParseFailed)
    assert not [e for e in events if isinstance(e, FramesParsed)]


def test_frames_of_an_earlier_cluster_in_the_same_append_are_kept() -> None:
    p = WebmStreamParser(profile="chromium")
    p.feed(B.init_segment([VIDEO]))
    blocks = [B.simple_block(1, 0, VP9_KEY), B.simple_block(1, 40, VP9_INTER, key=False)]
    good = B.Cluster(0, blocks).bytes()
    bad = B.Cluster(80, [*blocks, NOT_IN_CLUSTER]).bytes()
    events = p.feed(good + bad)
    assert isinstance(events[-1], ParseFailed)
    second = max(i for i, e in enumerate(events) if isinstance(e, MediaSegmentStarted))
    assert [e for e in events[:second] if isinstance(e, FramesParsed)]
