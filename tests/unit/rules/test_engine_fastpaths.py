"""Shortcuts the validate engine and the BMFF checker take on the common shapes must mean exactly what the
general code means.

- :func:`~msetool.rules.engine._keep_events` checks Chromium's DTS order in the same pass as the batch
  summary, takes shorter builtin passes for columns in decode order, without reordering or with one frame
  duration, and adds a batch that directly follows another to the other's summary: the segment model built
  from its events is the one built from the frame-by-frame reference, the failure the same.
- The BMFF checker does not decode a styp or sidx whose lengths say the decoder would read it without an
  issue (:func:`~msetool.rules.bmff._decodes_cleanly`): that must agree with the decoder on every length.
- The BMFF checker walks a fragment's top-level boxes itself (:func:`~msetool.rules.bmff._top_boxes`):
  the boxes, issues and ``take`` calls must be :func:`~msetool.bmff.reader.iter_boxes`' on any byte
  stream, however it is cut into appends.
- :class:`~msetool.source.PrefixSource` reads what :class:`~msetool.source.FileSource` reads.
"""

from __future__ import annotations

import itertools
import struct

from hypothesis import given
from hypothesis import strategies as st

from msetool.bmff.reader import decode_payload, iter_boxes
from msetool.bmff.tree import Box, BoxIssue
from msetool.model import CodedFrame
from msetool.rules.bmff import _decodes_cleanly, _top_boxes
from msetool.rules.engine import Slice, StreamSource, _FrameSummary, _keep_events, _OffsetMap
from msetool.source import BytesSource, FileSource, PrefixSource
from msetool.stream import FrameColumns, FramesParsed, MediaSegmentEnded, MediaSegmentStarted, ParserEvent

from . import fmp4
from .test_columns_engine import frame, omap_with_priming, reference_dts_order, reference_summary


@st.composite
def regular_frames(draw: st.DrawFn) -> list[CodedFrame]:
    """Frames in the shapes the shortcuts take: per track DTS ascending, PTS = DTS, one duration (with a
    few exceptions drawn in)."""
    out: list[CodedFrame] = []
    next_dts = {1: draw(st.integers(0, 50)), 2: draw(st.integers(0, 50))}
    dur = {1: draw(st.integers(0, 30)), 2: draw(st.integers(0, 30))}
    for _ in range(draw(st.integers(1, 40))):
        tid = draw(st.sampled_from([1, 2]))
        d = dur[tid] if draw(st.integers(0, 9)) else draw(st.integers(0, 40))
        dts = next_dts[tid] - (draw(st.integers(1, 5)) if not draw(st.integers(0, 14)) else 0)
        pts = dts if draw(st.integers(0, 9)) else dts + draw(st.integers(-10, 10))
        next_dts[tid] = dts + d
        out.append(CodedFrame(tid, dts, pts, d, 1000, draw(st.booleans()), 10, draw(st.integers(0, 2000))))
    return out


def batches_of(frames: list[CodedFrame], cuts: list[int]) -> list[FramesParsed]:
    """The frames as batches of columns, cut where ``cuts`` say (a batch of one track run per column)."""
    edges = sorted({0, len(frames), *(c for c in cuts if 0 < c < len(frames))})
    out = []
    for a, b in itertools.pairwise(edges):
        part = frames[a:b]
        cols = []
        start = 0
        for i in range(1, len(part) + 1):
            if i == len(part) or part[i].track_id != part[start].track_id:
                cols.append(FrameColumns.of(part[start:i]))
                start = i
        out.append(FramesParsed(columns=cols))
    return out


def merged(spans: list[dict[int, tuple[int, ...]]]) -> dict[int, tuple[int, ...]]:
    """Summaries added up the way the segment model adds batches (first values from the first)."""
    out: dict[int, tuple[int, ...]] = {}
    for s in spans:
        for tid, v in s.items():
            p = out.get(tid)
            out[tid] = v if p is None else (
                p[0], p[1], p[2], p[3], p[4], p[5] + v[5], min(p[6], v[6]), max(p[7], v[7]), v[8],
                p[9] + v[9], v[10], p[11] + v[11], max(p[12], v[12]))
    return out


def check_keep_events(frames: list[CodedFrame], cuts: list[int], primed: int) -> None:
    omap = omap_with_priming(primed)
    batches = batches_of(frames, cuts)
    evs: list[ParserEvent] = [MediaSegmentStarted(primed), *batches, MediaSegmentEnded(primed + 5)]
    events: list[ParserEvent] = []
    _init, failed = _keep_events(evs, omap, events, [], True)
    # the reference: the first batch (in order) whose frames step back ends the events with the failure
    seen: list[CodedFrame] = []
    want_fail = None
    kept = []
    for b in batches:
        kept.append(b)
        fail = reference_dts_order(b.frames, omap)
        seen += b.frames
        if fail is not None:
            want_fail = fail
            break
    assert failed == (want_fail is not None)
    assert isinstance(events[0], MediaSegmentStarted)
    summaries = [e for e in events if isinstance(e, _FrameSummary)]
    assert len(summaries) == 1  # every batch of the segment added to the first one's summary
    assert summaries[0].spans == merged([reference_summary(b.frames) for b in kept])
    assert summaries[0].spans == reference_summary(seen)
    if want_fail is None:
        assert isinstance(events[-1], MediaSegmentEnded) and len(events) == 3
    else:
        # the failure as kept: at its run offset
        assert events[-1] == want_fail.replace(offset=omap.to_run(want_fail.offset)) and len(events) == 3


@given(regular_frames(), st.lists(st.integers(1, 40), max_size=4), st.sampled_from([0, 300]))
def test_keep_events_on_regular_columns(frames: list[CodedFrame], cuts: list[int], primed: int) -> None:
    check_keep_events(frames, cuts, primed)


@given(st.lists(frame, min_size=1, max_size=40), st.lists(st.integers(1, 40), max_size=4),
       st.sampled_from([0, 300, 5000]))
def test_keep_events_on_any_columns(frames: list[CodedFrame], cuts: list[int], primed: int) -> None:
    check_keep_events([f.replace(decode_error=None) for f in frames], cuts, primed)


def test_keep_events_does_not_merge_across_segment_bounds() -> None:
    omap = omap_with_priming(0)
    a = FramesParsed(columns=[FrameColumns(1, 1000, [0, 10], [0, 10], [10, 10], [5, 5], [100, 200],
                                           [True, False])])
    b = FramesParsed(columns=[FrameColumns(1, 1000, [20], [20], [10], [5], [300], [True])])
    events: list[ParserEvent] = []
    evs = [MediaSegmentStarted(0), a, MediaSegmentEnded(50), MediaSegmentStarted(60), b]
    _keep_events(evs, omap, events, [])
    assert [type(e).__name__ for e in events] == [
        "MediaSegmentStarted", "_FrameSummary", "MediaSegmentEnded", "MediaSegmentStarted", "_FrameSummary"]
    assert events[1].spans[1][5] == 2 and events[4].spans[1][5] == 1  # type: ignore[attr-defined]


def decoder_issues(kind: str, payload: bytes) -> list[BoxIssue]:
    data = struct.pack(">I4s", 8 + len(payload), kind.encode()) + payload
    box = Box(kind, 0, len(data), 8, kind)
    issues: list[BoxIssue] = []
    decode_payload(box, data, 0, len(data), base=0, issues=issues, depth=0, declared_end=len(data))
    return issues


@given(st.sampled_from(["styp", "sidx"]), st.integers(0, 3), st.integers(0, 5), st.integers(0, 70),
       st.binary(max_size=4))
def test_decodes_cleanly_agrees_with_the_decoder(
    kind: str, version: int, refs: int, length: int, tail: bytes
) -> None:
    head = bytes([version]) + b"\0\0\0" + b"\1" * 4 + b"\0\0\3\xe8"
    head += b"\0" * (8 if version == 0 else 16) + b"\0\0" + struct.pack(">H", refs)
    payload = (head + b"\xaa" * (12 * refs) + tail)[:length] if kind == "sidx" else b"msdh" * 20
    payload = payload[:length]
    data = struct.pack(">I4s", 8 + len(payload), kind.encode()) + payload
    box = Box(kind, 0, len(data), 8, kind)
    assert _decodes_cleanly(box, data) == (not decoder_issues(kind, payload))


def sidx(refs: int = 1) -> bytes:
    return fmp4.full("sidx", 0, 0, struct.pack(">IIIIHH", 1, 1000, 0, 0, 0, refs) + b"\0" * 12 * refs)


#: top-level pieces: a fragment's boxes (walked by the checker itself) and others (left to iter_boxes)
PIECES = [
    fmp4.box("styp", b"msdh\0\0\0\0msdh"), fmp4.box("styp", b"ms"), sidx(), sidx(3), sidx(0)[:-4],
    fmp4.fragment(), fmp4.fragment(sequence=2, sizes=(30, 10)), fmp4.fragment(trafs=2),
    fmp4.box("mdat", b"\0" * 50), fmp4.box("free", b"xx"), fmp4.init(), fmp4.box("moof", b"\0" * 12),
    struct.pack(">I4sQ", 1, b"mdat", 24) + b"\1" * 8, struct.pack(">I4s", 0, b"mdat") + b"\2" * 9,
    struct.pack(">I4s", 4, b"moof"), struct.pack(">I4s", 9999, b"sidx") + b"\0" * 20,
    b"\0\0\0\x0cju\x01k\0\0\0\0", b"\0\0\0",
]


def walk(boxes: object, issues: list[BoxIssue], calls: list[tuple[int, bytes, bool]]) -> list[str]:
    return [repr(b) for b in boxes] + [repr(i) for i in issues] + [repr(c) for c in calls]  # type: ignore[attr-defined]


@given(st.lists(st.sampled_from(range(len(PIECES))), max_size=12), st.lists(st.integers(0, 3000), max_size=4),
       st.integers(0, 3000), st.booleans())
def test_top_boxes_is_iter_boxes(picks: list[int], cuts: list[int], trim: int, takes: bool) -> None:
    data = b"".join(PIECES[i] for i in picks)
    data = data[: max(0, len(data) - trim)] if trim < 200 else data
    edges = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    whole = BytesSource(data)
    run = StreamSource([Slice(whole, a, b) for a, b in itertools.pairwise(edges)] or [Slice(whole)])
    results = []
    for walker in (lambda src, iss, tk: iter_boxes(src, issues=iss, take=tk), _top_boxes):
        issues: list[BoxIssue] = []
        calls: list[tuple[int, bytes, bool]] = []

        def take(box: Box, raw: bytes, calls: list[tuple[int, bytes, bool]] = calls) -> bool:
            said = takes and box.type in ("styp", "sidx") and len(raw) > 20
            calls.append((box.offset, raw, said))
            return said

        results.append(walk(walker(run, issues, take), issues, calls))
    assert results[0] == results[1]


def test_prefix_source_reads_what_the_file_holds(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "seg.m4s"
    data = bytes(range(256)) * 40
    path.write_bytes(data)
    with FileSource(path) as f:
        for prefix in (b"", data[:100], data[:4096], data):
            with PrefixSource(path, len(data), prefix, name="seg") as p:
                assert p.size == f.size and p.name == "seg"
                for offset, length in [(0, 32), (0, 4096), (90, 20), (4000, 200), (len(data) - 5, 50),
                                       (len(data), 4), (0, 0), (17, len(data) * 2)]:
                    assert p.read_at(offset, length) == f.read_at(offset, length)


def reference_to_run(omap: _OffsetMap, parser_offset: int) -> int | None:
    """_OffsetMap.to_run as the general search (without the shortcut for maps of equal offsets)."""
    import bisect

    if not omap.parser_starts:
        return None
    if parser_offset < omap.parser_starts[0]:
        return 0
    i = max(0, bisect.bisect_right(omap.parser_starts, parser_offset) - 1)
    base = omap.run_starts[i]
    return None if base is None else base + (parser_offset - omap.parser_starts[i])


@given(st.integers(0, 50), st.lists(st.tuples(st.sampled_from([None, "next", "other"]), st.integers(0, 30)),
                                    max_size=6), st.lists(st.integers(-5, 300), max_size=20))
def test_offset_map_shortcut(fed: int, pieces: list[tuple[str | None, int]], probes: list[int]) -> None:
    omap = _OffsetMap(fed)
    run = 0
    for kind, n in pieces:
        omap.add(None if kind is None else (omap.fed if kind == "next" else run), n)
        run += n if kind is not None else 0
        for p in probes:
            assert omap.to_run(p) == reference_to_run(omap, p)
