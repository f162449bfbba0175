"""The held-back frames and the endless media segment, checked in real Chromium (browser fixture)."""

from __future__ import annotations

import base64
from fractions import Fraction
from typing import Any

import pytest

from msetool.mime import parse_mime
from msetool.stream import FramesParsed, InitSegmentParsed, ParserEvent
from msetool.ts.stream import TsStreamParser

PAGE_JS = """
async ([b64, mime]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const video = document.createElement('video');
  document.body.appendChild(video);
  const ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  await new Promise(r => ms.addEventListener('sourceopen', r, {once: true}));
  const sb = ms.addSourceBuffer(mime);
  const done = () => new Promise(r => sb.addEventListener('updateend', r, {once: true}));
  const end = () => sb.buffered.length ? sb.buffered.end(sb.buffered.length - 1) : null;
  sb.appendBuffer(bytes); await done();
  const afterAppend = end();
  let setError = null;
  try { sb.timestampOffset = 1; } catch (e) { setError = e.name; }
  sb.abort();
  const afterAbort = end();
  let setAfterAbort = null;
  try { sb.timestampOffset = 0; } catch (e) { setAfterAbort = e.name; }
  return {afterAppend, afterAbort, setError, setAfterAbort};
}
"""


def _ends(events: list[ParserEvent]) -> Fraction:
    """Where the intersection of the audio and video ranges ends (both are contiguous here)."""
    last: dict[int, Fraction] = {}
    for e in events:
        if isinstance(e, FramesParsed):
            for f in e.frames:
                end = Fraction(f.pts + f.duration, f.timescale)
                last[f.track_id] = max(last.get(f.track_id, Fraction(0)), end)
    return min(last.values())


@pytest.mark.browser
def test_abort_flushes_held_back_frames_like_chromium(browser: Any, ts_bytes: bytes) -> None:
    p = TsStreamParser(parse_mime("video/mp2t"))
    events = p.feed(ts_bytes)
    (init,) = [e for e in events if isinstance(e, InitSegmentParsed)]
    mime = f'video/mp2t; codecs="{",".join(t.codec for t in init.init.tracks)}"'
    appended = _ends(events)
    in_segment = p.in_media_segment
    p.reset()
    flushed = _ends(events + p.take_reset_events())
    assert flushed > appended  # the model says abort() buffers more

    page = browser.new_page()
    try:
        got = page.evaluate(PAGE_JS, [base64.b64encode(ts_bytes).decode(), mime])
    finally:
        page.close()
    assert abs(got["afterAppend"] - float(appended)) < 0.001
    assert abs(got["afterAbort"] - float(flushed)) < 0.001
    # the TS media segment never ends until abort(): Chromium refuses timestampOffset meanwhile
    assert in_segment and got["setError"] == "InvalidStateError"
    assert got["setAfterAbort"] is None
