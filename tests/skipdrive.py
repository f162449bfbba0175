"""Drive a parser the way the validate engine does: skip what it says it will not read, feed the rest."""

from __future__ import annotations

from typing import Any

from msetool.stream import ParserEvent


def drive_skipping(p: Any, data: bytes, chunk: int = 1 << 22) -> tuple[list[ParserEvent], int]:
    """Events of ``p`` over ``data`` via ``skippable()``/``skip()``/``wanted()``, and the bytes it read."""
    events: list[ParserEvent] = []
    pos = read = 0
    while pos < len(data):
        n = p.skippable()
        if n:
            n = min(n, len(data) - pos)
            events += p.skip(n)
            pos += n
            continue
        want = p.wanted() or chunk
        piece = data[pos : pos + min(want, chunk)]
        events += p.feed(piece)
        pos += len(piece)
        read += len(piece)
    return events, read
