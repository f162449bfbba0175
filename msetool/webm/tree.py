"""The WebM element tree over a ByteSource, walked in constant memory.

:func:`walk` yields every element header in document order with its offset, sizes, depth and a path such as
``Segment/Cluster[4]/SimpleBlock[12]`` (the index counts same-named siblings, 1-based). Only headers are
read; block payloads are never read (callers ask for the few header bytes they need with
:func:`read_payload`). Problems — a malformed header, an element overrunning its parent, an element cut by
the end of the source, nesting deeper than :data:`~msetool.webm.ebml.MAX_DEPTH` — are yielded as
:class:`Problem` records and the walk resumes where it safely can, so a checker can report them all.

Unknown sizes are allowed for Segment and Cluster (live streams). An unknown-size element ends where an
element that cannot be its child starts (for a Cluster: another Cluster or any Segment child, Segment or
EBML header), or at the end of its parent / of the source.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from msetool.source import ByteSource
from msetool.webm import schema as S
from msetool.webm.ebml import MAX_DEPTH, EbmlError, parse_header

#: Bytes read per header probe: the longest header is 4 (id) + 8 (size).
_PROBE = 12


@dataclass(frozen=True, slots=True)
class Element:
    id: int
    name: str
    offset: int
    header_size: int
    #: Payload size; None for an unknown-size element (then ``end`` is where it was found to end).
    size: int | None
    end: int
    depth: int
    path: str
    parent: str

    @property
    def payload_offset(self) -> int:
        return self.offset + self.header_size


@dataclass(frozen=True, slots=True)
class Problem:
    """A structural problem: ``kind`` is "header", "overrun", "truncated", "depth", "unknown-size",
    "misplaced" or "segment-size"."""

    kind: str
    message: str
    offset: int
    path: str


@dataclass(frozen=True, slots=True)
class EndOf:
    """The end of a master element (lets callers close per-Cluster state)."""

    element: Element


Event = Element | Problem | EndOf


def _ends_unknown(parent_id: int, child_id: int) -> bool:
    """True when ``child_id`` cannot be inside an unknown-size ``parent_id`` and so closes it."""
    if parent_id == S.CLUSTER:
        return child_id in S.SEGMENT_CHILDREN or child_id in (S.SEGMENT, S.EBML)
    if parent_id == S.SEGMENT:
        return child_id in (S.SEGMENT, S.EBML)
    return False


class _Frame:
    __slots__ = ("counts", "element", "end", "id", "name", "path")

    def __init__(self, element: Element | None, end: int, path: str, name: str, eid: int) -> None:
        self.element = element
        self.end = end
        self.path = path
        self.name = name
        self.id = eid
        self.counts: dict[str, int] = {}


def walk(source: ByteSource, start: int = 0, end: int | None = None) -> Iterator[Event]:
    """Every element header of ``source[start:end]`` in document order (see module docstring)."""
    limit = source.size if end is None else min(end, source.size)
    root = _Frame(None, limit, "", "", -1)
    stack: list[_Frame] = [root]
    pos = start
    while True:
        top = stack[-1]
        # Close every master whose bytes are used up.
        while len(stack) > 1 and pos >= top.end:
            stack.pop()
            assert top.element is not None
            yield EndOf(top.element)
            top = stack[-1]
        if pos >= limit:
            break
        head = source.read_at(pos, min(_PROBE, top.end - pos))
        try:
            h = parse_header(head, 0, len(head), pos)
        except EbmlError as e:
            yield Problem("header", e.reason, e.offset, top.path or "/")
            # Resynchronise: skip to the end of the enclosing master (or give up at top level).
            if len(stack) == 1:
                return
            pos = top.end
            continue
        if h is None:
            yield Problem("truncated", "element header cut short", pos, top.path or "/")
            if len(stack) == 1:
                return
            pos = top.end
            continue
        # An unknown-size parent ends where a non-child starts.
        if len(stack) > 1 and top.element is not None and top.element.size is None and _ends_unknown(
                top.id, h.id):
            stack.pop()
            closed = top.element
            yield EndOf(Element(closed.id, closed.name, closed.offset, closed.header_size, None, pos,
                                closed.depth, closed.path, closed.parent))
            continue
        name = S.name_of(h.id)
        n = top.counts.get(name, 0) + 1
        top.counts[name] = n
        path = f"{top.path}/{name}[{n}]" if top.path else (name if name in ("EBML", "Segment") else
                                                           f"{name}[{n}]")
        if name in ("EBML", "Segment") and not top.path and n > 1:
            path = f"{name}[{n}]"
        payload = pos + h.header_size
        master = S.is_master(h.id)
        if h.size is None:
            if h.id not in (S.SEGMENT, S.CLUSTER):
                yield Problem("unknown-size", f"{name} has unknown size (only Segment and Cluster may)", pos,
                              path)
                if not master:
                    return
            el_end = top.end
        elif h.id == S.SEGMENT:
            # Browsers ignore a Segment's size (appends continue the Segment); keep walking to the end.
            el_end = top.end
            if payload + h.size < top.end:
                yield Problem("segment-size", f"Segment size {h.size} ends before the appended data does",
                              pos, path)
        else:
            el_end = payload + h.size
            if el_end > top.end:
                kind = "truncated" if top.end == limit else "overrun"
                msg = (f"{name} needs {h.size} bytes but only {top.end - payload} remain"
                       if kind == "truncated" else f"{name} of {h.size} bytes overruns its parent")
                yield Problem(kind, msg, pos, path)
                el_end = top.end
        el = Element(h.id, name, pos, h.header_size, h.size, el_end, len(stack) - 1, path, top.name)
        spec = S.BY_ID.get(h.id)
        # At the top level, Segment children are fine too: an append continues the Segment (a media
        # segment is a bare Cluster).
        if spec is not None and spec.parent not in ("*", top.name) and not (
                top.name == "" and spec.parent in ("", "Segment")):
            yield Problem("misplaced", f"{name} is not allowed in {top.name or 'the top level'}", pos, path)
        yield el
        if master and spec is not None:
            if len(stack) > MAX_DEPTH:
                yield Problem("depth", f"elements nested deeper than {MAX_DEPTH} levels", pos, path)
                pos = el_end
                continue
            stack.append(_Frame(el, el_end, path, name, h.id))
            pos = payload
        else:
            pos = el_end


def read_payload(source: ByteSource, el: Element, limit: int = 64) -> bytes:
    """The first ``limit`` payload bytes of ``el`` (all of a small leaf)."""
    n = el.end - el.payload_offset
    return source.read_at(el.payload_offset, max(0, min(n, limit)))
