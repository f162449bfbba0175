"""mse.json's segment lists are formatted without json's indenting encoder: the text must be byte for byte
what json.dumps(indent=1) writes; and text made per segment beforehand must write the same manifests."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.fragment.manifests import (
    SCHEMA_VERSION,
    Presentation,
    RenditionEntry,
    SegmentEntry,
    SegmentTexts,
    _r6,
    all_manifests,
    mse_json,
    playlist_base,
)


def reference_mse_json(p: Presentation) -> str:
    """mse_json as it was: json.dumps(indent=1) of the whole document (the reference)."""
    doc: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "generator": p.generator,
        "duration": _r6(p.duration),
        "segment_duration": _r6(p.segment_duration),
        "renditions": [],
    }
    for r in p.renditions:
        entry: dict[str, Any] = {
            "id": r.id,
            "kind": r.kind,
            "type": r.type,
            "mime": r.mime,
            "codecs": list(r.codecs),
            "bandwidth": r.bandwidth,
            "average_bandwidth": r.average_bandwidth,
            "timescale": r.timescale,
            "init": r.init,
            "init_size": r.init_size,
            "duration": _r6(r.duration),
        }
        for key in ("width", "height", "sample_rate", "channels", "target_bitrate"):
            val = getattr(r, key)
            if val is not None:
                entry[key] = val
        entry["segments"] = [
            {"file": s.file, "start": _r6(s.start), "duration": _r6(s.duration), "size": s.size,
             "start_ticks": s.start_ticks, "duration_ticks": s.duration_ticks}
            for s in r.segments
        ]
        doc["renditions"].append(entry)
    return json.dumps(doc, indent=1) + "\n"



TEXT = st.text(min_size=1, max_size=12)
TICKS = st.integers(-(1 << 40), 1 << 40)


@st.composite
def rendition(draw: Any) -> RenditionEntry:
    ts = draw(st.sampled_from([1, 1000, 15360, 44100, 48000, 90000]))
    segs = tuple(
        SegmentEntry(draw(TEXT), draw(TICKS), draw(TICKS), ts, draw(st.integers(0, 1 << 40)))
        for _ in range(draw(st.integers(0, 4)))
    )
    kind = draw(st.sampled_from(["video", "audio", "muxed"]))
    return RenditionEntry(
        draw(TEXT), kind, "audio/mp4" if kind == "audio" else "video/mp4",
        tuple(draw(st.lists(TEXT, max_size=2))),
        draw(TEXT), draw(st.integers(0, 5000)), ts, segs,
        width=draw(st.none() | st.integers(1, 4096)), sample_rate=draw(st.none() | st.integers(8000, 96000)),
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(rendition(), max_size=3), st.floats(0, 1e6), st.sampled_from([2.0, 1.5, 4]))
def test_mse_json_is_json_dumps_indent_1(
    renditions: list[RenditionEntry], duration: float, seg: float
) -> None:
    p = Presentation(duration, seg, tuple(renditions), generator="msetool test")
    assert mse_json(p) == reference_mse_json(p)


@settings(max_examples=150, deadline=None)
@given(st.lists(rendition(), max_size=3, unique_by=lambda r: r.id), st.data())
def test_segment_texts_made_beforehand_write_the_same_manifests(
    renditions: list[RenditionEntry], data: st.DataObject
) -> None:
    """Packaging formats each segment's lines while ffmpeg runs (SegmentTexts); the manifests written
    from them are those written from the entries alone, and texts made from other entries (equal or not)
    or for another folder are not used."""
    p = Presentation(12.5, 2.0, tuple(renditions), generator="msetool test")
    texts = {}
    for r in renditions:
        t = SegmentTexts(playlist_base(r))
        for s in r.segments:
            t.add(s)
        texts[r.id] = t
    assert all_manifests(p, texts) == all_manifests(p)
    stale = {}
    for r in renditions:
        base = data.draw(st.sampled_from([playlist_base(r), "elsewhere/"]))
        t = SegmentTexts(base)
        for s in r.segments[: data.draw(st.integers(0, len(r.segments)))]:
            # an equal but distinct entry, or a different one
            t.add(replace(s, size=s.size + data.draw(st.integers(0, 1))))
        stale[r.id] = t
    assert all_manifests(p, stale) == all_manifests(p)
