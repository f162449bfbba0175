"""MPEG audio batches, tags and junk: the parser's frame times against real Chromium (browser fixture)."""

from __future__ import annotations

import base64
from fractions import Fraction
from typing import Any

import pytest

from msetool.mime import parse_mime
from msetool.mpeg.stream import MpegAudioStreamParser
from msetool.stream import FramesParsed

PAGE_JS = """
async ([parts, mime]) => {
  const video = document.createElement('video');
  document.body.appendChild(video);
  const ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  await new Promise(r => ms.addEventListener('sourceopen', r, {once: true}));
  const sb = ms.addSourceBuffer(mime);
  const ends = [];
  for (const b64 of parts) {
    sb.appendBuffer(Uint8Array.from(atob(b64), c => c.charCodeAt(0)));
    await new Promise(r => sb.addEventListener('updateend', r, {once: true}));
    ends.push(sb.buffered.length ? sb.buffered.end(sb.buffered.length - 1) : null);
  }
  return {ends, mode: sb.mode};
}
"""


def _frames(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos + 7 <= len(data):
        n = ((data[pos + 3] & 3) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
        out.append(data[pos : pos + n])
        pos += n
    return out


@pytest.mark.browser
def test_batches_tags_and_junk_match_chromium(browser: Any, adts_bytes: bytes) -> None:
    fr = _frames(adts_bytes)
    id3 = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10)
    parts = [
        b"garbage!" * 3 + fr[0] + fr[1],  # junk, then only two frames: nothing is parsed yet
        b"".join(fr[2:20]) + id3 + b"".join(fr[20:30]) + fr[30][:40],  # a tag mid-append, a split frame
        fr[30][40:] + b"".join(fr[31:45]),
    ]
    p = MpegAudioStreamParser(parse_mime("audio/aac"))
    expected: list[float | None] = []
    offset = Fraction(0)  # sequence mode: each batch is placed at the end of the previous one
    for part in parts:
        for e in p.feed(part):
            if isinstance(e, FramesParsed):
                last = e.frames[-1]
                offset += Fraction(last.pts + last.duration, last.timescale)
        expected.append(float(offset) if offset else None)
    assert expected[0] is None

    page = browser.new_page()
    try:
        got = page.evaluate(PAGE_JS, [[base64.b64encode(x).decode() for x in parts], "audio/aac"])
    finally:
        page.close()
    assert got["mode"] == "sequence"
    assert got["ends"][0] is None
    for ours, theirs in zip(expected[1:], got["ends"][1:], strict=True):
        assert ours is not None and abs(ours - theirs) < 0.001
